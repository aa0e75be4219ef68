package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCasesShowTellsAmountsInWholeUnits: a specialist reads the deposit
// as 0.1 BTC and a listed token as 1,000.5 USDT, the quote and credit
// grouped; -o json keeps the API's base units as they are.
func TestCasesShowTellsAmountsInWholeUnits(t *testing.T) {
	cases := map[string]string{
		"btc.a.0": `{"appeal_id":"btc.a.0","status":"awaiting_acceptance","network":"btc","tx_hash":"ab",
			"deposit":{"kind":"output","to":"bc1q","amount":"10000000","asset":"BTC"},
			"quote":{"id":"q1","asset":"BTC","deposit":"0.1","fee":"0.0012","fee_usd":"1234.50","net":"0.0988","advice":{"action":"proceed"}},
			"timeline":[]}`,
		"eth.b.1": `{"appeal_id":"eth.b.1","status":"under_review","network":"eth","tx_hash":"cd",
			"deposit":{"kind":"token","to":"0x1","token":"0xdac17f958d2ee523a2206206994597c13d831ec7","amount":"1000500000","asset":"USDT"},
			"timeline":[]}`,
		"eth.c.2": `{"appeal_id":"eth.c.2","status":"under_review","network":"eth","tx_hash":"ef",
			"deposit":{"kind":"token","to":"0x1","token":"0xabc","amount":"2500000","asset":"0xabc"},
			"timeline":[]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/networks" {
			_, _ = w.Write([]byte(`{"networks":[{"id":"btc","native_asset":"BTC","decimals":8},
				{"id":"eth","native_asset":"ETH","decimals":18,"tokens":[{"symbol":"USDT","contract":"0xdAC17F958D2ee523a2206206994597C13D831ec7","decimals":6}]}]}`))
			return
		}
		body, ok := cases[strings.TrimPrefix(r.URL.Path, "/v1/cases/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	getenv := func(k string) string {
		if k == "RECOVERY_TOKEN" {
			return "x-0123456789abcdef"
		}
		return ""
	}
	casectl := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"--api", srv.URL, "--token", "x-0123456789abcdef"}, args...), getenv, &out, &errOut); err != nil {
			t.Fatalf("%v: %v (%s)", args, err, errOut.String())
		}
		return out.String()
	}
	for _, tc := range []struct {
		id   string
		want []string
	}{
		{"btc.a.0", []string{"Deposit   0.1 BTC to bc1q (output)", "fee 0.0012 BTC (1,234.50 USD), net 0.0988 BTC"}},
		{"eth.b.1", []string{"Deposit   1,000.5 USDT (token 0xdac17f958d2ee523a2206206994597c13d831ec7) to 0x1 (token)"}},
		{"eth.c.2", []string{"Deposit   2,500,000 base units of 0xabc to 0x1 (token)"}},
	} {
		out := casectl("cases", "show", tc.id)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("cases show %s:\n%s\nwant %q in it", tc.id, out, w)
			}
		}
		if tc.id != "eth.c.2" && strings.Contains(out, "base units of") {
			t.Errorf("cases show %s reads base units:\n%s", tc.id, out)
		}
	}
	if out := casectl("-o", "json", "cases", "show", "btc.a.0"); !strings.Contains(out, `"amount":"10000000"`) {
		t.Errorf("-o json changed the API's base units:\n%s", out)
	}
}
