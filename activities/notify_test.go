package activities

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/misdeposit/recovery/workflows"
)

const notifySecret = "a-secret-of-at-least-32-characters!!"

// receiver is the exchange's notification service in a test: it answers
// each request with the next status of its script (200 once that runs
// out) and keeps what it got.
type receiver struct {
	mu     sync.Mutex
	script []int
	got    []received
}

type received struct {
	key, signature string
	body           []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, received{r.Header.Get("Idempotency-Key"), r.Header.Get("X-Recovery-Signature"), body})
	status := http.StatusOK
	if len(rc.script) > 0 {
		status, rc.script = rc.script[0], rc.script[1:]
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "120")
	}
	w.WriteHeader(status)
}

// verify checks a signature as a receiver does: the HMAC-SHA256 of
// "<t>.<body>" under the shared secret, at most five minutes old.
func verify(header string, body []byte, secret string, now time.Time) error {
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("signature %q has no time", header)
	}
	if d := now.Sub(time.Unix(sec, 0)); d < 0 || d > 5*time.Minute {
		return fmt.Errorf("signature time %s is not now (%s)", time.Unix(sec, 0), now)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	sig, err := hex.DecodeString(v1)
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("signature %q does not verify", header)
	}
	return nil
}

func notice() workflows.NotifyRequest {
	return workflows.NotifyRequest{
		AppealID: "eth.00ff.v", UserID: "u1", Contact: "u1@example.com", Lang: "fr",
		Event: "recovery.credited", Params: map[string]string{"net": "1.48", "asset": "ETH"},
		Status: "credited", At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Seq: 3,
	}
}

// texts stands in for the appeal API's catalogue.
func texts(lang, code string, params map[string]string) string {
	return lang + ":" + code + ":" + params["net"]
}

// notify runs NotifyUser as the worker does, with acts' notifier.
func notify(acts *Activities, req workflows.NotifyRequest) error {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	_, err := env.ExecuteActivity(acts.NotifyUser, req)
	return err
}

func retryable(err error) bool {
	var app *temporal.ApplicationError
	return err != nil && !(errors.As(err, &app) && app.NonRetryable())
}

// The notification service gets the notification with the case's text,
// signed with the shared secret and under a key that a retry keeps, so it
// can send it once.
func TestWebhookSignsAndKeepsTheKeyAcrossARetry(t *testing.T) {
	rc := &receiver{script: []int{http.StatusServiceUnavailable}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	clock := time.Now()
	acts := &Activities{Texts: texts, Notifier: &Webhook{URL: srv.URL + "/notify", Secret: []byte(notifySecret), Now: func() time.Time { return clock }}}

	err := notify(acts, notice())
	if !retryable(err) {
		t.Fatalf("a 503 answer: %v, want an error worth retrying", err)
	}
	clock = clock.Add(40 * time.Second)
	if err := notify(acts, notice()); err != nil {
		t.Fatalf("the retry: %v", err)
	}

	if len(rc.got) != 2 {
		t.Fatalf("the service got %d requests, want 2", len(rc.got))
	}
	first, retry := rc.got[0], rc.got[1]
	if first.key != "eth.00ff.v/recovery.credited/3" || retry.key != first.key {
		t.Errorf("idempotency keys %q then %q, want eth.00ff.v/recovery.credited/3 both times", first.key, retry.key)
	}
	for _, r := range rc.got {
		if err := verify(r.signature, r.body, notifySecret, clock); err != nil {
			t.Error(err)
		}
	}
	if first.signature == retry.signature {
		t.Error("the retry is signed with the first attempt's time")
	}
	var n Notification
	if err := json.Unmarshal(retry.body, &n); err != nil {
		t.Fatal(err)
	}
	want := Notification{
		IdempotencyKey: first.key, AppealID: "eth.00ff.v", UserID: "u1", Contact: "u1@example.com", Lang: "fr",
		Event: "recovery.credited", Message: "fr:recovery.credited:1.48", Params: notice().Params,
		Status: "credited", At: notice().At, Seq: 3,
	}
	if got, _ := json.Marshal(n); string(got) != mustJSON(t, want) {
		t.Errorf("the service got %s\nwant %s", got, mustJSON(t, want))
	}
	// The check has teeth: another secret, another body or an old
	// signature fail it.
	tampered := []byte(strings.Replace(string(retry.body), "1.48", "9.48", 1))
	for name, err := range map[string]error{
		"another secret": verify(retry.signature, retry.body, "another secret of at least 32 characters", clock),
		"another body":   verify(retry.signature, tampered, notifySecret, clock),
		"an hour later":  verify(retry.signature, retry.body, notifySecret, clock.Add(time.Hour)),
	} {
		if err == nil {
			t.Errorf("the signature verifies under %s", name)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A 4xx answer is the service refusing the notification: retrying cannot
// help, and the case goes on. A 5xx, a timeout, too many requests or no
// answer at all are worth retrying.
func TestWebhookAnswers(t *testing.T) {
	for _, tc := range []struct {
		status    int
		retryable bool
	}{
		{http.StatusOK, false},
		{http.StatusAccepted, false},
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusNotFound, false},
		{http.StatusUnprocessableEntity, false},
		{http.StatusRequestTimeout, true},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusFound, true}, // a redirect is not followed: the URL is wrong
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			rc := &receiver{script: []int{tc.status}}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			err := notify(&Activities{Notifier: &Webhook{URL: srv.URL, Secret: []byte(notifySecret)}}, notice())
			var app *temporal.ApplicationError
			switch {
			case tc.status < 300:
				if err != nil {
					t.Fatalf("delivered, yet: %v", err)
				}
			case tc.retryable && !retryable(err):
				t.Fatalf("%d: %v, want an error worth retrying", tc.status, err)
			case !tc.retryable && (!errors.As(err, &app) || !app.NonRetryable() || app.Type() != ErrNotificationRefused):
				t.Fatalf("%d: %v, want a non-retryable %s", tc.status, err, ErrNotificationRefused)
			}
			if tc.status == http.StatusTooManyRequests && (!errors.As(err, &app) || app.NextRetryDelay() != 2*time.Minute) {
				t.Errorf("429 with Retry-After: 120: %v, want the next attempt in 2m", err)
			}
			if len(rc.got) != 1 {
				t.Fatalf("%d requests, want 1", len(rc.got))
			}
		})
	}
	t.Run("no answer", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		err := notify(&Activities{Notifier: &Webhook{URL: "http://user:hunter2@" + strings.TrimPrefix(url, "http://"), Secret: []byte(notifySecret)}}, notice())
		if !retryable(err) {
			t.Fatalf("no answer: %v, want an error worth retrying", err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the URL's password: %v", err)
		}
	})
	t.Run("no notifier", func(t *testing.T) {
		if err := notify(&Activities{}, notice()); !retryable(err) {
			t.Fatalf("a worker without a notifier: %v, want an error another worker can retry", err)
		}
	})
}

// recovery dev writes each notification as one JSON line a developer can
// tail, once however often it is retried.
func TestOutboxWritesEachNotificationOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notifications.jsonl")
	acts := &Activities{Texts: texts, Notifier: &Outbox{Path: path}}
	offered := notice()
	offered.Event, offered.Seq, offered.Status = "quote.offered", 1, "awaiting_acceptance"
	for _, req := range []workflows.NotifyRequest{offered, notice(), notice(), offered} {
		if err := notify(acts, req); err != nil {
			t.Fatal(err)
		}
	}
	again := notice()
	again.Seq = 4 // the same event told again later is another notification
	if err := notify(acts, again); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys, messages []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var n Notification
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		keys, messages = append(keys, n.IdempotencyKey), append(messages, n.Message)
	}
	want := []string{"eth.00ff.v/quote.offered/1", "eth.00ff.v/recovery.credited/3", "eth.00ff.v/recovery.credited/4"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("outbox holds %v, want %v", keys, want)
	}
	if messages[1] != "fr:recovery.credited:1.48" {
		t.Errorf("outbox message %q", messages[1])
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("outbox mode %v (%v), want 0600: it holds contacts", fi.Mode(), err)
	}
}
