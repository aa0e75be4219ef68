package ledger

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
)

// A return pays the credit's net out of the hot wallet to the user's own
// address: the user is owed nothing more, the hot wallet keeps the fees,
// the return's gas is an expense; posted once.
func TestReturns(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := usdtOnBSC()
		gas := NetworkCost{Asset: "BNB", Decimals: 18, Amount: units("0.0002", 18), PriceUSD: price("600")}
		if err := s.PostReturn(ctx, r.CaseID, credited, gas); recovery.ErrorCode(err) != recovery.ENotFound {
			t.Fatalf("return without a credit: %v, want not found", err)
		}
		if err := s.PostRecovery(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.PostReturn(ctx, r.CaseID, credited.Add(-time.Second), gas); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Fatalf("return before the credit: %v, want invalid", err)
		}
		bad := gas
		bad.Asset = "not an asset!"
		if err := s.PostReturn(ctx, r.CaseID, credited, bad); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Fatalf("return with a bad cost asset: %v, want invalid", err)
		}
		returned := credited.Add(time.Hour)
		for range 2 { // the second is a retry: a no-op
			if err := s.PostReturn(ctx, r.CaseID, returned, gas); err != nil {
				t.Fatal(err)
			}
		}
		lines, err := s.CaseLines(ctx, r.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		checkBalanced(t, lines)
		want := []string{
			"Dr liabilities:users:alice 244700000000000000000 USDT = 244.72447 USD",
			"Cr assets:hot_wallet 244700000000000000000 USDT = 244.72447 USD",
			"Dr expenses:network_cost 200000000000000 BNB = 0.12 USD",
			"Cr assets:hot_wallet 200000000000000 BNB = 0.12 USD",
		}
		if got := lineTexts(lines[6:]); !slices.Equal(got, want) {
			t.Fatalf("return lines:\n%q\nwant\n%q", got, want)
		}
		owed := new(big.Int)
		for _, l := range lines {
			if l.Account == UserAccount("alice") {
				owed.Add(owed, l.Credit).Sub(owed, l.Debit)
			}
		}
		if owed.Sign() != 0 {
			t.Fatalf("the user is still owed %s after the return", owed)
		}
		report, err := s.FeeReport(ctx, credited, returned.Add(time.Hour), GroupByNetwork)
		if err != nil {
			t.Fatal(err)
		}
		if tot := report.Total; tot.Cases != 1 || !tot.CreditedUSD.Equal(tot.RecoveredUSD.Sub(tot.FeesChargedUSD)) {
			t.Fatalf("report after the return: %+v", tot)
		}
	})
}
