package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium to drive; Debian's package is `chromium`.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium: .ci/run installs Debian's chromium package")
	}
	t.Skip("no Chromium (apt-get install chromium) to test the appeal form in")
	return ""
}

// The appeal form in a real headless Chromium: sign in (dev), file an
// appeal for a demo deposit, follow it to its quote, accept the quote, and
// read the status in another language; then follow a link that carries the
// token in its fragment. Under the form's Content-Security-Policy nothing the
// page needs is blocked, and the token does not stay in the address bar.
// In Arabic the page reads right to left and still fits its window.
// RECOVERY_UPDATE_SCREENSHOT=1 saves the page with its quote to
// testdata/appeal_form.png, and the Arabic page to
// testdata/appeal_form_ar.png.
func TestAppealFormInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole engine and a browser")
	}
	browser := chromium(t)
	dir := t.TempDir()
	args := []string{"dev", "--data-dir", dir, "--api-addr", "127.0.0.1:0",
		"--temporal-address", "127.0.0.1:" + freePort(t), "--ui-port", "-1", "--log-level", "warn"}
	e := startEngine(t, args)
	defer e.stop(t)
	token := staffToken(t, dir)
	var demo struct{ Deposits []demoDeposit }
	if code := call(t, "GET", e.api+"/v1/demo", token, nil, &demo); code != 200 {
		t.Fatalf("demo deposits: %d", code)
	}
	var btc demoDeposit
	for _, d := range demo.Deposits {
		if d.Name == "btc-deposit" {
			btc = d
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.WindowSize(1000, 1600), chromedp.Flag("lang", "en-US"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	problems := pageProblems(bctx)
	// The first run starts the browser, for as long as bctx lives; the
	// later steps get a deadline of their own.
	if err := chromedp.Do(bctx, chromedp.Navigate(e.api+"/?lang=en")); err != nil {
		t.Fatalf("open the form: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("read #%s: %v", id, err)
		}
		return strings.TrimSpace(s)
	}
	status := func(want string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(`#status[data-status="` + want + `"]`))
	}

	err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("dev-user"), btc.UserID),
		chromedp.Click(chromedp.CSS("#dev-form button")),
		chromedp.WaitVisible(chromedp.ID("signed-in")),
		chromedp.SendKeys(chromedp.ID("tx_hash"), btc.TxHash),
		chromedp.SendKeys(chromedp.ID("to_address"), btc.ToAddress),
		chromedp.Click(chromedp.ID("submit")),
		status("awaiting_acceptance"),
	)
	if err != nil {
		t.Fatalf("filing in the form: %v", err)
	}
	quoteRows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#quote-lines tr").length`))
	if err != nil {
		t.Fatal(err)
	}
	signedIn, shown, appealID, explanation := text("signed-in"), text("status"), text("appeal-id"), text("explanation")
	if !strings.Contains(signedIn, btc.UserID) || shown != "Waiting for your answer to the fee quote" || quoteRows != 2 ||
		!strings.HasPrefix(appealID, "btc.") || !strings.Contains(explanation, "old deposit address") {
		t.Fatalf("signed in %q; status %q; appeal %q; explanation %q; %d quote lines", signedIn, shown, appealID, explanation, quoteRows)
	}
	checkAccessibility(ctx, t, "en")
	readsOneWay(ctx, t)
	if os.Getenv("RECOVERY_UPDATE_SCREENSHOT") != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "testdata", "appeal_form.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Accept the quote; then, in Chinese, open the appeal again by its id.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("accept")), status("awaiting_signoffs")); err != nil {
		t.Fatalf("accepting in the form: %v", err)
	}
	accepted := text("status")
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.api+"/?lang=zh"),
		chromedp.WaitVisible(chromedp.ID("signed-in")), // the token is kept for the session
		chromedp.SendKeys(chromedp.ID("open-id"), appealID),
		chromedp.Click(chromedp.CSS("#open-form button")),
		status("awaiting_signoffs"),
	)
	if err != nil {
		t.Fatalf("opening the appeal in Chinese: %v", err)
	}
	if zh := text("status"); accepted != "Our teams are approving the recovery" || zh != "我们的团队正在审批找回" {
		t.Fatalf("after accepting: %q; in Chinese: %q", accepted, zh)
	}
	rightToLeftForm(ctx, t, e.api, appealID)
	if p := problems(); len(p) > 0 {
		t.Errorf("the form reported, under its Content-Security-Policy:\n%s", strings.Join(p, "\n"))
	}

	// A link with the token in its fragment, opened in a tab of its own
	// (nothing in its session yet), signs the user in; then the token leaves
	// the address bar and the tab's history, and the language stays.
	var issued struct{ Token string }
	if code := call(t, "POST", e.api+"/v1/dev/user-token", "", map[string]string{"user_id": btc.UserID}, &issued); code != 200 || issued.Token == "" {
		t.Fatalf("dev user token: %d", code)
	}
	tab, cancel := chromedp.NewContext(bctx)
	defer cancel()
	tabProblems := pageProblems(tab)
	tctx, cancel := context.WithTimeout(tab, time.Minute)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(e.api+"/?lang=en#token="+issued.Token), chromedp.WaitVisible(chromedp.ID("signed-in"))); err != nil {
		t.Fatalf("following a link with a token: %v", err)
	}
	signedIn, err = chromedp.Run(tctx, chromedp.Text(chromedp.ID("signed-in")))
	if err != nil {
		t.Fatal(err)
	}
	href, err := chromedp.Run(tctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	history, err := chromedp.Run(tctx, chromedp.NavigationEntries())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(signedIn, btc.UserID) || strings.Contains(href, issued.Token) || href != e.api+"/?lang=en" {
		t.Errorf("after a link with a token: signed in %q; the address is %q", signedIn, href)
	}
	for _, h := range history.Entries {
		if strings.Contains(h.URL, issued.Token) {
			t.Errorf("the token stays in the tab's history: %q", h.URL)
		}
	}
	if p := tabProblems(); len(p) > 0 {
		t.Errorf("the form opened by a link reported:\n%s", strings.Join(p, "\n"))
	}
}

// rightToLeftForm opens the appeal in Arabic in the signed-in tab at ctx:
// the page is laid out right to left (title, buttons and list markers on
// the right), nothing runs off the window, and the status is in Arabic.
func rightToLeftForm(ctx context.Context, t *testing.T, api, appealID string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(api+"/?lang=ar"),
		chromedp.WaitVisible(chromedp.ID("signed-in")),
		chromedp.SendKeys(chromedp.ID("open-id"), appealID),
		chromedp.Click(chromedp.CSS("#open-form button")),
		chromedp.WaitVisible(chromedp.CSS(`#status[data-status="awaiting_signoffs"]`)),
	)
	if err != nil {
		t.Fatalf("opening the appeal in Arabic: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const box = el => el.getBoundingClientRect();
		const form = box(document.getElementById("appeal-form")), submit = box(document.getElementById("submit"));
		const header = document.querySelector("header"), h1 = box(document.querySelector("h1"));
		const pad = parseFloat(getComputedStyle(header).paddingRight);
		const ol = getComputedStyle(document.getElementById("timeline"));
		return JSON.stringify({
			dir: document.dir,
			status: document.getElementById("status").textContent,
			width: window.innerWidth,
			scrollWidth: document.documentElement.scrollWidth,
			submitLeft: submit.left, submitRight: submit.right, submitWidth: submit.width,
			formLeft: form.left, formRight: form.right,
			h1Right: h1.right, headerRight: box(header).right - pad,
			olStart: ol.paddingRight, olEnd: ol.paddingLeft,
		});
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Dir, Status                               string
		Width, ScrollWidth                        float64
		SubmitLeft, SubmitRight, SubmitWidth      float64
		FormLeft, FormRight, H1Right, HeaderRight float64
		OlStart, OlEnd                            string
	}
	if err := json.Unmarshal([]byte(raw), &page); err != nil {
		t.Fatal(err)
	}
	near := func(a, b float64) bool { return a-b < 1 && b-a < 1 }
	if page.Dir != "rtl" || page.Status != "فرقنا توافق على الاسترداد" {
		t.Errorf("in Arabic: dir %q, status %q", page.Dir, page.Status)
	}
	if page.ScrollWidth > page.Width || page.SubmitWidth == 0 || page.SubmitLeft < 0 || page.SubmitRight > page.Width {
		t.Errorf("in Arabic the page runs off its window: %+v", page)
	}
	if !near(page.SubmitRight, page.FormRight) || page.SubmitLeft < page.FormLeft+(page.FormRight-page.FormLeft)/2 ||
		!near(page.H1Right, page.HeaderRight) || page.OlStart != "20px" || page.OlEnd != "0px" {
		t.Errorf("in Arabic the page is not laid out right to left: %+v", page)
	}
	checkAccessibility(ctx, t, "ar")
	if os.Getenv("RECOVERY_UPDATE_SCREENSHOT") != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "testdata", "appeal_form_ar.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkAccessibility runs axe-core (testdata/axe-core, injected by the
// test, never served by the engine) on the page at ctx, with the appeal
// and its quote on screen, and reports every rule the page breaks: labels,
// contrast, language, landmarks and the rest of axe's default rules.
func checkAccessibility(ctx context.Context, t *testing.T, lang string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(src)+"\n;typeof axe === \"object\"")); err != nil {
		t.Fatalf("injecting axe-core: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document).then((r) => JSON.stringify({passes: r.passes.length, incomplete: r.incomplete.map((v) => v.id),
		violations: r.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + "\n\t" +
			v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary.replace(/\n/g, " ")).join("\n\t"))}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	var result struct {
		Passes     int
		Incomplete []string // rules axe cannot decide alone (contrast over an image…)
		Violations []string
	}
	if err := json.Unmarshal([]byte(raw), &result); err != nil {
		t.Fatal(err)
	}
	violations := result.Violations
	t.Logf("axe-core on the form in %s: %d rules pass, %d broken, undecided: %v", lang, result.Passes, len(violations), result.Incomplete)
	if result.Passes == 0 {
		t.Errorf("axe-core checked nothing on the form in %s", lang)
	}
	if len(violations) > 0 {
		t.Errorf("the form in %s breaks accessibility rules:\n%s", lang, strings.Join(violations, "\n"))
	}
}

// readsOneWay checks that the page at ctx, in English, writes every time
// one way: the timeline's own times, the quote's expiry in the summary and
// the expiry inside the timeline's text; and its amounts in whole units.
func readsOneWay(ctx context.Context, t *testing.T) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		times: [...document.querySelectorAll("#timeline time")].map((e) => e.textContent),
		timeline: document.getElementById("timeline").textContent,
		explanation: document.getElementById("explanation").textContent,
		quote: document.getElementById("quote-summary").textContent,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Times                        []string
		Timeline, Explanation, Quote string
	}
	if err := json.Unmarshal([]byte(raw), &page); err != nil {
		t.Fatal(err)
	}
	t.Logf("the page reads: times %q; quote %q; explanation %q", page.Times, page.Quote, page.Explanation)
	layout := regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d\d [AP]M UTC$`)
	for _, s := range page.Times {
		if !layout.MatchString(s) {
			t.Errorf("a timeline time reads %q, not as the texts do", s)
		}
	}
	expiry := regexp.MustCompile(`before (\d{1,2}/\d{1,2}/\d{4}, \d{1,2}:\d\d [AP]M UTC)`)
	inText, inSummary := expiry.FindStringSubmatch(page.Timeline), expiry.FindStringSubmatch(page.Quote)
	if inText == nil || inSummary == nil || inText[1] != inSummary[1] {
		t.Errorf("the quote's expiry reads %q in the timeline and %q in the quote", inText, inSummary)
	}
	if regexp.MustCompile(`\d{4}-\d\d-\d\dT`).MatchString(page.Timeline + page.Quote) {
		t.Errorf("RFC 3339 on the page: %q %q", page.Timeline, page.Quote)
	}
	if strings.Contains(page.Timeline+page.Explanation, "base units") || !strings.Contains(page.Explanation, " BTC ") {
		t.Errorf("amounts not in whole units: %q; %q", page.Explanation, page.Timeline)
	}
}

// pageProblems follows the console of the tab at ctx, from before its page
// loads, and returns what it has seen go wrong so far: a script, handler or
// style the Content-Security-Policy blocked (the browser logs those from
// "security"), or an exception nothing caught.
func pageProblems(ctx context.Context) func() []string {
	var mu sync.Mutex
	var seen []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Source == "security" || m.IsException() {
				mu.Lock()
				seen = append(seen, m.String())
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// staffToken reads the dev staff token recovery dev keeps in its data
// directory.
func staffToken(t *testing.T, dataDir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dataDir, "staff-token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}
