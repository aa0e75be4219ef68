package api

import (
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/diagnosis"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/workflows"
)

// btcAppeal is an appeal for a 0.1 BTC deposit (10,000,000 satoshi) as the
// workflow records it: amounts in base units, the quote's expiry in RFC 3339.
func btcAppeal() *workflows.AppealState {
	at := time.Date(2026, 11, 30, 5, 20, 9, 0, time.UTC)
	dep := &recovery.Transfer{Kind: recovery.KindOutput, To: "bc1qexample", Amount: big.NewInt(10_000_000)}
	return &workflows.AppealState{
		AppealID: "btc.a.0", Status: "awaiting_acceptance", Network: "btc", Deposit: dep,
		Diagnosis: &diagnosis.Diagnosis{Deposit: dep, Asset: "BTC", Explanation: diagnosis.Message{
			Code: "diagnosis.retired_address", Params: map[string]string{"network": "btc", "address": "bc1qexample", "amount": "10000000", "asset": "BTC"}}},
		Timeline: []workflows.Event{
			{At: at, Code: "confirmed", Params: map[string]string{"network": "btc", "block": "870000", "amount": "10000000", "to": "bc1qexample", "confirmations": "2"}},
			{At: at.Add(30 * time.Minute), Code: "quote.offered", Params: map[string]string{
				"fee": "1000.5", "net": "0.0999", "asset": "BTC", "fee_usd": "12345.60", "expires_at": "2026-11-30T05:50:13Z"}},
		},
	}
}

func TestAmountsReadInWholeUnitsOfTheAsset(t *testing.T) {
	reg := registry(t)
	v := publicView(btcAppeal(), "en", reg, time.Now())
	if !strings.Contains(v.Timeline[0].Message, ": 0.1 BTC to bc1qexample") {
		t.Errorf("en confirmed: %q, want 0.1 BTC", v.Timeline[0].Message)
	}
	if !strings.Contains(v.Explanation, "You sent 0.1 BTC on btc") {
		t.Errorf("en explanation: %q, want 0.1 BTC", v.Explanation)
	}
	for _, e := range append([]string{v.Explanation}, v.Timeline[0].Message, v.Timeline[1].Message) {
		if strings.Contains(e, "10000000") || strings.Contains(e, "base units") {
			t.Errorf("a text in base units: %q", e)
		}
	}
	if !strings.Contains(v.Timeline[1].Message, "Fee quote 1,000.5 BTC (about 12,345.60 USD)") {
		t.Errorf("en quote: %q, want grouped amounts", v.Timeline[1].Message)
	}
	// The raw field keeps base units.
	if v.Deposit.Amount != "10000000" {
		t.Errorf("deposit.amount = %q, want base units", v.Deposit.Amount)
	}

	de := publicView(btcAppeal(), "de", reg, time.Now())
	if !strings.Contains(de.Timeline[0].Message, "0,1 BTC an bc1qexample") {
		t.Errorf("de confirmed: %q, want 0,1 BTC", de.Timeline[0].Message)
	}
	if !strings.Contains(de.Timeline[1].Message, "1.000,5 BTC") || !strings.Contains(de.Timeline[1].Message, "12.345,60 USD") {
		t.Errorf("de quote: %q, want 1.000,5 and 12.345,60", de.Timeline[1].Message)
	}
	fr := publicView(btcAppeal(), "fr", reg, time.Now())
	if !strings.Contains(fr.Timeline[1].Message, "1\u00a0000,5 BTC") {
		t.Errorf("fr quote: %q, want 1 000,5", fr.Timeline[1].Message)
	}
	ar := publicView(btcAppeal(), "ar", reg, time.Now())
	if !strings.Contains(ar.Timeline[0].Message, "٠٫١ BTC") {
		t.Errorf("ar confirmed: %q, want ٠٫١ BTC", ar.Timeline[0].Message)
	}
}

func TestAmountsKeepEveryDecimal(t *testing.T) {
	for _, tc := range []struct {
		lang, base string
		decimals   int32
		want       string
	}{
		{"en", "1000500000", 6, "1,000.5"},
		{"en", "1", 18, "0.000000000000000001"},
		{"en", "123456789012345678901234567890", 6, "123,456,789,012,345,678,901,234.56789"},
		{"de", "1000500000", 6, "1.000,5"},
		{"pl", "100000000", 8, "1"},
	} {
		u := assetUnits{Asset: "X", Decimals: tc.decimals, Known: true}
		if got := u.amount(tc.lang, tc.base); got != tc.want {
			t.Errorf("%s %s/10^%d = %q, want %q", tc.lang, tc.base, tc.decimals, got, tc.want)
		}
	}
	// A token we do not list, before its quote: base units, said so.
	if got := (assetUnits{Asset: "0xabc"}).amount("fr", "1500000"); got != "1\u00a0500\u00a0000 (unités de base)" {
		t.Errorf("unknown decimals: %q", got)
	}
}

func TestUnlistedTokenReadsInWholeUnitsOnceQuoted(t *testing.T) {
	reg := registry(t)
	dep := &recovery.Transfer{Kind: recovery.KindToken, To: "0x1", Token: "0xabc", Amount: big.NewInt(2_500_000)}
	st := &workflows.AppealState{AppealID: "eth.b.0", Network: "eth", Deposit: dep,
		Diagnosis: &diagnosis.Diagnosis{Deposit: dep, Asset: "0xabc", Explanation: diagnosis.Message{
			Code: "diagnosis.unlisted_token", Params: map[string]string{"network": "eth", "address": "0x1", "amount": "2500000", "asset": "0xabc", "token": "0xabc"}}}}
	if got := publicView(st, "en", reg, time.Now()).Explanation; !strings.Contains(got, "You sent 2,500,000 (base units) of a token") {
		t.Errorf("before the quote: %q", got)
	}
	st.Quote = &fees.Quote{ID: "q", Network: "eth", Asset: "0xabc", Decimals: 6, Fee: decimal.RequireFromString("0.1"), Net: decimal.RequireFromString("2.4")}
	if got := publicView(st, "en", reg, time.Now()).Explanation; !strings.Contains(got, "You sent 2.5 of a token") {
		t.Errorf("after the quote: %q", got)
	}
}

// TestTimesReadOneWayPerLanguage: the quote's expiry inside a text is
// written in the reader's layout, the same one the form uses for every
// other time on the page, never RFC 3339.
func TestTimesReadOneWayPerLanguage(t *testing.T) {
	reg := registry(t)
	rfc3339 := regexp.MustCompile(`\d{4}-\d\d-\d\dT`)
	for _, tc := range []struct{ lang, want string }{
		{"en", "before 11/30/2026, 5:50 AM UTC."},
		{"fr", "30/11/2026 05:50 UTC"},
		{"de", "30.11.2026, 05:50 UTC"},
		{"ja", "2026/11/30 05:50 UTC"},
		{"ar", "٣٠/١١/٢٠٢٦، ٠٥:٥٠ UTC"},
	} {
		v := publicView(btcAppeal(), tc.lang, reg, time.Now())
		msg := v.Timeline[1].Message
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s quote: %q, want %q in it", tc.lang, msg, tc.want)
		}
		if rfc3339.MatchString(msg) {
			t.Errorf("%s quote carries RFC 3339: %q", tc.lang, msg)
		}
		// The form writes the timeline's own times with the same layout.
		if got := formatTime(tc.lang, time.Date(2026, 11, 30, 5, 50, 13, 0, time.UTC)); !strings.Contains(msg, got) {
			t.Errorf("%s: the form's layout gives %q, the text %q", tc.lang, got, msg)
		}
	}
	for lang := range catalog {
		if _, ok := timeLayouts[lang]; !ok {
			t.Errorf("no time layout for %s", lang)
		}
	}
	if got := formatTimeText("de", "2026-11-03"); got != "03.11.2026" {
		t.Errorf("a day in de: %q", got)
	}
}

// TestFormWritesTimesAndNumbersAsTheTexts: the form gets the language's
// layout and number symbols from the same tables the texts use, so that
// the times and amounts it writes from raw fields read as the texts do.
func TestFormWritesTimesAndNumbersAsTheTexts(t *testing.T) {
	srv := NewServer(Deps{Registry: registry(t)})
	for _, tc := range []struct{ lang, decimal, group, instant string }{
		{"en", ".", ",", "1/2/2006, 3:04 PM UTC"},
		{"de", ",", ".", "02.01.2006, 15:04 UTC"},
		{"fr", ",", "\u00a0", "02/01/2006 15:04 UTC"},
	} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/?lang="+tc.lang, nil))
		body := rec.Body.String()
		start := strings.Index(body, `id="formats"`)
		if start < 0 {
			t.Fatalf("%s: no formats on the form", tc.lang)
		}
		raw := body[strings.Index(body[start:], ">")+start+1:]
		raw = raw[:strings.Index(raw, "</script>")]
		var f formFormats
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			t.Fatalf("%s: %v in %q", tc.lang, err, raw)
		}
		if f.Decimal != tc.decimal || f.Group != tc.group || f.Instant != tc.instant || f.Digits[7] != "7" {
			t.Errorf("%s: the form writes numbers and times with %+v", tc.lang, f)
		}
	}
}
