package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery/ledger"
)

// The fee report answers from the ledger in each format, for finance only.
func TestFeeReportRoute(t *testing.T) {
	ctx := context.Background()
	journal, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer journal.Close()
	credited := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	// 0.1 BTC recovered at 90,000 USD: a 15 USD fee, 141 sat of network
	// cost charged and paid.
	err = journal.PostRecovery(ctx, ledger.Recovery{
		CaseID: "btc." + strings.Repeat("ab", 32) + ".o0", DepositID: "btc." + strings.Repeat("ab", 32) + ".o0", Step: ledger.StepCredit, At: credited, FiledAt: credited.Add(-26 * time.Hour),
		Network: "btc", Category: "retired_address", Asset: "BTC", Decimals: 8,
		Deposit: big.NewInt(10_000_000), ServiceFee: big.NewInt(16_667), NetworkCostCharged: big.NewInt(141),
		NetworkCostPaid: ledger.NetworkCost{Asset: "BTC", Decimals: 8, Amount: big.NewInt(141), PriceUSD: decimal.NewFromInt(90000)},
		UserID:          "dave", PriceUSD: decimal.NewFromInt(90000),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Deps{Registry: registry(t), Ledger: journal, StaffTokens: map[string]Staff{
		"finance-token-0123456789": {Person: "fay", Roles: []string{"finance"}},
		"special-token-0123456789": {Person: "sam", Roles: []string{"specialist"}},
	}, Now: func() time.Time { return time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC) }})
	get := func(token, query string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/v1/reports/fees"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	rec := get("finance-token-0123456789", "?from=2026-11-01&to=2026-12-01&group_by=category")
	var rep struct {
		Rows  []map[string]any `json:"rows"`
		Total map[string]any   `json:"total"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &rep) != nil {
		t.Fatalf("json: %d %s", rec.Code, rec.Body)
	}
	if len(rep.Rows) != 1 || rep.Rows[0]["group"] != "retired_address" || rep.Total["recovered_usd"] != "9000.00" ||
		rep.Total["median_time_to_recovery_seconds"] != float64(26*3600) {
		t.Fatalf("report %s", rec.Body)
	}
	// The default period is this month so far: the credit is in it.
	if rec := get("finance-token-0123456789", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"btc"`) {
		t.Errorf("default period: %d %s", rec.Code, rec.Body)
	}
	rec = get("finance-token-0123456789", "?from=2026-11-01&to=2026-12-01&format=csv")
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][0] != "btc" || rows[2][0] != ledger.TotalGroup {
		t.Errorf("csv: %v %v", err, rows)
	}
	if rec := get("finance-token-0123456789", "?from=2026-11-01&format=html"); !strings.Contains(rec.Body.String(), "<svg") || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("html: %s", rec.Header())
	}
	for query, status := range map[string]int{
		"?group_by=week":                 400,
		"?from=yesterday":                400,
		"?from=2026-12-01&to=2026-11-01": 400,
		"?format=xls":                    400,
	} {
		if rec := get("finance-token-0123456789", query); rec.Code != status {
			t.Errorf("%s: %d, want %d", query, rec.Code, status)
		}
	}
	if rec := get("special-token-0123456789", ""); rec.Code != 403 {
		t.Errorf("a specialist reads fee reports: %d", rec.Code)
	}
}
