package api

import (
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
)

func TestQuoteAnswers(t *testing.T) {
	cases := []struct {
		body, field string
		accept      bool
	}{
		{`{"quote_id":"eth.0xab.v.q1","accept":true}`, "", true},
		{`{"quote_id":" eth.0xab.v.q2 ","accept":false}`, "", false},
		{`{"quote_id":"eth.0xab.v.q1"}`, "accept", false},
		{`{"accept":true}`, "quote_id", false},
		{`{"quote_id":"a b","accept":true}`, "quote_id", false},
		{`{"quote_id":"q1","accept":"yes"}`, "accept", false},
		{`{"quote_id":"q1","accept":true,"fee":"0"}`, "", false},
	}
	for _, c := range cases {
		a, err := parseQuoteAnswer(strings.NewReader(c.body))
		switch {
		case c.field == "" && strings.Contains(c.body, "fee"):
			if recovery.ErrorCode(err) != recovery.EInvalid {
				t.Errorf("%s: an unknown field is accepted", c.body)
			}
		case c.field == "":
			if err != nil || a.Accept != c.accept || strings.TrimSpace(a.QuoteID) != a.QuoteID {
				t.Errorf("%s: %+v, %v", c.body, a, err)
			}
		default:
			if e, ok := err.(*recovery.Error); !ok || e.Field != c.field {
				t.Errorf("%s: %v, want a refusal naming %s", c.body, err, c.field)
			}
		}
	}
}

// Whatever a user sends as a quote answer is an answer with a quote id of
// the allowed shape, or a refusal with a code; never a panic.
func FuzzQuoteAnswer(f *testing.F) {
	for _, s := range []string{`{"quote_id":"a.q1","accept":true}`, `{"accept":false}`, `{}`, `[`, `{"quote_id":1}`, "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		a, err := parseQuoteAnswer(strings.NewReader(body))
		if err != nil {
			if code := recovery.ErrorCode(err); code != recovery.EInvalid && code != recovery.ETooLarge {
				t.Fatalf("%q: refusal with code %s", body, code)
			}
			return
		}
		if !quoteIDPattern.MatchString(a.QuoteID) {
			t.Fatalf("%q: accepted quote id %q", body, a.QuoteID)
		}
	})
}
