package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backends are the stores every test runs against.
var backends = pgtest.Backends("ledger.db")

// eachBackend runs test once per backend, each time on an empty ledger.
func eachBackend(t *testing.T, test func(t *testing.T, s *Store)) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) { test(t, open(t, b.New(t))) })
	}
}

func open(t testing.TB, target string) *Store {
	t.Helper()
	s, err := Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var (
	filed    = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	credited = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
)

// caseID is the id of the n-th test case on a network.
func caseID(network string, n int) string { return fmt.Sprintf("%s.%064x.o1", network, n) }

// units is an amount written in whole units, in base units.
func units(amount string, decimals int32) *big.Int {
	d := decimal.RequireFromString(amount).Shift(decimals)
	if !d.IsInteger() {
		panic(amount + " has more places than the asset")
	}
	return d.BigInt()
}

func price(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// usdtOnBSC is 250 USDT sent on BNB Smart Chain to an address issued for
// Ethereum: a 5 USDT fee, 0.30 USDT of gas charged, 0.0005 BNB of gas paid.
func usdtOnBSC() Recovery {
	return Recovery{
		CaseID: caseID("bsc", 1), DepositID: caseID("bsc", 1), Step: StepCredit, At: credited, FiledAt: filed,
		Network: "bsc", Category: "wrong_network_evm", Asset: "USDT", Decimals: 18,
		Deposit: units("250", 18), ServiceFee: units("5", 18), NetworkCostCharged: units("0.3", 18),
		NetworkCostPaid: NetworkCost{Asset: "BNB", Decimals: 18, Amount: units("0.0005", 18), PriceUSD: price("600")},
		UserID:          "alice", PriceUSD: price("1.0001"),
	}
}

// ltcToBTC is LTC paid to a key the exchange holds for BTC, the network
// cost paid in the deposit's own asset.
func ltcToBTC() Recovery {
	return Recovery{
		CaseID: caseID("ltc", 2), DepositID: caseID("ltc", 2), Step: StepCredit, At: credited, FiledAt: filed,
		Network: "ltc", Category: "cross_chain_utxo", Asset: "LTC", Decimals: 8,
		Deposit: units("3.5", 8), ServiceFee: units("0.035", 8), NetworkCostCharged: units("0.0001", 8),
		NetworkCostPaid: NetworkCost{Asset: "LTC", Decimals: 8, Amount: units("0.00008", 8), PriceUSD: price("84.20")},
		UserID:          "bob", PriceUSD: price("84.20"),
	}
}

// lineText is a line as the tests expect it.
func lineText(l Line) string {
	side, amount := "Dr", l.Debit
	if l.Credit.Sign() != 0 {
		side, amount = "Cr", l.Credit
	}
	return fmt.Sprintf("%s %s %s %s = %s USD", side, l.Account, amount, l.Asset, l.USD)
}

func lineTexts(lines []Line) []string {
	var out []string
	for _, l := range lines {
		out = append(out, lineText(l))
	}
	return out
}

// checkBalanced fails the test unless every entry's debits equal its
// credits in every asset and every line has exactly one positive side.
func checkBalanced(t testing.TB, lines []Line) {
	t.Helper()
	type key struct {
		entry int64
		asset string
	}
	sums := map[key]*big.Int{}
	for _, l := range lines {
		if l.Debit.Sign() < 0 || l.Credit.Sign() < 0 || (l.Debit.Sign() == 0) == (l.Credit.Sign() == 0) {
			t.Fatalf("line without a single positive side: %s", lineText(l))
		}
		k := key{l.EntryID, l.Asset}
		if sums[k] == nil {
			sums[k] = new(big.Int)
		}
		sums[k].Add(sums[k], l.Debit)
		sums[k].Sub(sums[k], l.Credit)
	}
	for k, sum := range sums {
		if sum.Sign() != 0 {
			t.Fatalf("entry %d does not balance in %s: debits − credits = %s", k.entry, k.asset, sum)
		}
	}
}

func TestPostRecoveryWritesABalancedEntry(t *testing.T) {
	free := usdtOnBSC()
	free.ServiceFee, free.NetworkCostCharged, free.NetworkCostPaid = nil, nil, NetworkCost{}
	whole := ltcToBTC()
	whole.ServiceFee, whole.NetworkCostCharged = units("3.4999", 8), units("0.0001", 8)

	for _, c := range []struct {
		name string
		r    Recovery
		want []string
	}{{
		name: "token deposit, network cost in the native asset",
		r:    usdtOnBSC(),
		want: []string{
			"Dr assets:hot_wallet 250000000000000000000 USDT = 250.025 USD",
			"Cr liabilities:users:alice 244700000000000000000 USDT = 244.72447 USD",
			"Cr income:service_fees 5000000000000000000 USDT = 5.0005 USD",
			"Cr income:network_cost_recovered 300000000000000000 USDT = 0.30003 USD",
			"Dr expenses:network_cost 500000000000000 BNB = 0.3 USD",
			"Cr assets:hot_wallet 500000000000000 BNB = 0.3 USD",
		},
	}, {
		name: "native deposit, network cost in the same asset",
		r:    ltcToBTC(),
		want: []string{
			"Dr assets:hot_wallet 350000000 LTC = 294.7 USD",
			"Cr liabilities:users:bob 346490000 LTC = 291.74458 USD",
			"Cr income:service_fees 3500000 LTC = 2.947 USD",
			"Cr income:network_cost_recovered 10000 LTC = 0.00842 USD",
			"Dr expenses:network_cost 8000 LTC = 0.006736 USD",
			"Cr assets:hot_wallet 8000 LTC = 0.006736 USD",
		},
	}, {
		name: "free recovery: no fee, no network cost",
		r:    free,
		want: []string{
			"Dr assets:hot_wallet 250000000000000000000 USDT = 250.025 USD",
			"Cr liabilities:users:alice 250000000000000000000 USDT = 250.025 USD",
		},
	}, {
		name: "fees take the whole deposit: the user gets nothing and no line",
		r:    whole,
		want: []string{
			"Dr assets:hot_wallet 350000000 LTC = 294.7 USD",
			"Cr income:service_fees 349990000 LTC = 294.69158 USD",
			"Cr income:network_cost_recovered 10000 LTC = 0.00842 USD",
			"Dr expenses:network_cost 8000 LTC = 0.006736 USD",
			"Cr assets:hot_wallet 8000 LTC = 0.006736 USD",
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, s *Store) {
				ctx := context.Background()
				if err := s.PostRecovery(ctx, c.r); err != nil {
					t.Fatal(err)
				}
				lines, err := s.CaseLines(ctx, c.r.CaseID)
				if err != nil {
					t.Fatal(err)
				}
				if got := lineTexts(lines); !slices.Equal(got, c.want) {
					t.Fatalf("lines:\n%q\nwant\n%q", got, c.want)
				}
				checkBalanced(t, lines)
				for _, l := range lines {
					if l.CaseID != c.r.CaseID || l.Step != StepCredit || !l.At.Equal(c.r.At) || l.Network != c.r.Network || l.Category != c.r.Category {
						t.Fatalf("line of the wrong entry: %+v", l)
					}
				}
			})
		})
	}
}

func TestPostRecoveryRefusesInvalidInput(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(r *Recovery)
		field  string
	}{
		{"not a case id", func(r *Recovery) { r.CaseID = "bsc.1234.o1" }, "case_id"},
		{"no deposit id", func(r *Recovery) { r.DepositID = "" }, "deposit_id"},
		{"a case's fallback form as the deposit", func(r *Recovery) { r.DepositID = fmt.Sprintf("bsc.%064x.to-0123456789", 1) }, "deposit_id"},
		{"deposit id without an index", func(r *Recovery) { r.DepositID = fmt.Sprintf("bsc.%064x", 1) }, "deposit_id"},
		{"deposit id with an upper-case hash", func(r *Recovery) { r.DepositID = "bsc." + strings.Repeat("AB", 32) + ".o1" }, "deposit_id"},
		{"no step", func(r *Recovery) { r.Step = "" }, "step"},
		{"unknown step", func(r *Recovery) { r.Step = "credit2" }, "step"},
		{"a refund through PostRecovery", func(r *Recovery) { r.Step = StepRefund }, "step"},
		{"no credit time", func(r *Recovery) { r.At = time.Time{} }, "at"},
		{"no filing time", func(r *Recovery) { r.FiledAt = time.Time{} }, "filed_at"},
		{"filed after the credit", func(r *Recovery) { r.FiledAt = r.At.Add(time.Second) }, "filed_at"},
		{"credit in year 10000", func(r *Recovery) { r.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "at"},
		{"network not an id", func(r *Recovery) { r.Network = "BSC" }, "network"},
		{"unknown category", func(r *Recovery) { r.Category = "lost" }, "category"},
		{"no user", func(r *Recovery) { r.UserID = "" }, "user_id"},
		{"user with spaces", func(r *Recovery) { r.UserID = "a b" }, "user_id"},
		{"no asset", func(r *Recovery) { r.Asset = "" }, "asset"},
		{"negative decimals", func(r *Recovery) { r.Decimals = -1 }, "decimals"},
		{"37 decimals", func(r *Recovery) { r.Decimals = 37 }, "decimals"},
		{"no price", func(r *Recovery) { r.PriceUSD = decimal.Zero }, "price_usd"},
		{"negative price", func(r *Recovery) { r.PriceUSD = price("-1") }, "price_usd"},
		{"price with 40 places", func(r *Recovery) { r.PriceUSD = price("1e-40") }, "price_usd"},
		{"price of 10^18", func(r *Recovery) { r.PriceUSD = price("1e18") }, "price_usd"},
		{"no deposit", func(r *Recovery) { r.Deposit = nil }, "deposit"},
		{"zero deposit", func(r *Recovery) { r.Deposit = new(big.Int) }, "deposit"},
		{"negative deposit", func(r *Recovery) { r.Deposit = big.NewInt(-1) }, "deposit"},
		{"deposit above 2^256", func(r *Recovery) { r.Deposit = new(big.Int).Lsh(big.NewInt(1), 256) }, "deposit"},
		{"negative fee", func(r *Recovery) { r.ServiceFee = big.NewInt(-1) }, "service_fee"},
		{"negative network cost charged", func(r *Recovery) { r.NetworkCostCharged = big.NewInt(-1) }, "network_cost_charged"},
		{"fees above the deposit", func(r *Recovery) { r.ServiceFee = units("249.8", 18) }, "service_fee"},
		{"negative network cost paid", func(r *Recovery) { r.NetworkCostPaid.Amount = big.NewInt(-1) }, "network_cost_paid.amount"},
		{"network cost paid in no asset", func(r *Recovery) { r.NetworkCostPaid.Asset = "" }, "network_cost_paid.asset"},
		{"network cost paid without a price", func(r *Recovery) { r.NetworkCostPaid.PriceUSD = decimal.Zero }, "network_cost_paid.price_usd"},
		{"network cost paid with 40 decimals", func(r *Recovery) { r.NetworkCostPaid.Decimals = 40 }, "network_cost_paid.decimals"},
		{"one asset with two scales", func(r *Recovery) { r.NetworkCostPaid.Asset, r.NetworkCostPaid.Decimals = "USDT", 6 }, "network_cost_paid.decimals"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "ledger.db"))
			r := usdtOnBSC()
			c.change(&r)
			err := s.PostRecovery(context.Background(), r)
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != c.field {
				t.Fatalf("error %v, want invalid %s", err, c.field)
			}
			if lines, _ := s.Lines(context.Background(), time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); len(lines) != 0 {
				t.Fatalf("a refused credit wrote %d lines", len(lines))
			}
		})
	}
}

func TestPostingIsIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := usdtOnBSC()
		if err := s.PostRecovery(ctx, r); err != nil {
			t.Fatal(err)
		}
		// The retry of an activity, and the same credit written otherwise:
		// another time zone, the price with a trailing zero, fresh copies
		// of the amounts.
		same := usdtOnBSC()
		same.At = r.At.In(time.FixedZone("UTC+8", 8*3600))
		same.PriceUSD = price("1.00010")
		same.Deposit = new(big.Int).Set(r.Deposit)
		for _, again := range []Recovery{r, same} {
			if err := s.PostRecovery(ctx, again); err != nil {
				t.Fatalf("posting the same credit again: %v", err)
			}
		}
		for _, c := range []struct {
			field  string
			change func(r *Recovery)
		}{
			{"deposit", func(r *Recovery) { r.Deposit = new(big.Int).Add(r.Deposit, big.NewInt(1)) }},
			{"deposit_id", func(r *Recovery) { r.DepositID = caseID("bsc", 9) }},
			{"at", func(r *Recovery) { r.At = r.At.Add(time.Nanosecond) }},
			{"user_id", func(r *Recovery) { r.UserID = "mallory" }},
			{"price_usd", func(r *Recovery) { r.PriceUSD = price("1.0002") }},
			{"network_cost_paid.amount", func(r *Recovery) { r.NetworkCostPaid.Amount = big.NewInt(1) }},
		} {
			other := usdtOnBSC()
			c.change(&other)
			err := s.PostRecovery(ctx, other)
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EConflict || e.Field != c.field {
				t.Fatalf("a different %s under the same key: %v, want a conflict", c.field, err)
			}
		}
		lines, err := s.CaseLines(ctx, r.CaseID)
		if err != nil || len(lines) != 6 || lines[0].EntryID != lines[5].EntryID {
			t.Fatalf("one entry of six lines expected: %v %q", err, lineTexts(lines))
		}
		if lines[1].Account != "liabilities:users:alice" || lines[1].Credit.Cmp(units("244.7", 18)) != 0 {
			t.Fatalf("the user's credit changed: %s", lineText(lines[1]))
		}
	})
}

func TestConcurrentPostingsOfOneCaseCreditOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// Two workers race with two versions of one credit, five times
		// each: one version wins whole, the other is refused every time.
		a, b := usdtOnBSC(), usdtOnBSC()
		b.ServiceFee = units("6", 18)
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() {
				r := a
				if i%2 == 1 {
					r = b
				}
				errs[i] = s.PostRecovery(ctx, r)
			})
		}
		wg.Wait()
		lines, err := s.CaseLines(ctx, a.CaseID)
		if err != nil || len(lines) != 6 {
			t.Fatalf("%v %q", err, lineTexts(lines))
		}
		checkBalanced(t, lines)
		winner := 0 // a
		if lines[2].Credit.Cmp(b.ServiceFee) == 0 {
			winner = 1
		}
		for i, err := range errs {
			if i%2 == winner && err != nil {
				t.Errorf("posting %d of the stored credit: %v", i, err)
			}
			if i%2 != winner && recovery.ErrorCode(err) != recovery.EConflict {
				t.Errorf("posting %d of the other credit: %v, want a conflict", i, err)
			}
		}
	})
}

func TestRefunds(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := usdtOnBSC()
		if err := s.PostRefund(ctx, r.CaseID, credited); recovery.ErrorCode(err) != recovery.ENotFound {
			t.Fatalf("refund without a credit: %v, want not found", err)
		}
		if err := s.PostRecovery(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.PostRefund(ctx, r.CaseID, credited.Add(-time.Second)); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Fatalf("refund before the credit: %v, want invalid", err)
		}
		refunded := credited.Add(48 * time.Hour)
		for _, at := range []time.Time{refunded, refunded.Add(time.Hour)} {
			// The second is a retry, or a second refund: a no-op.
			if err := s.PostRefund(ctx, r.CaseID, at); err != nil {
				t.Fatal(err)
			}
		}
		lines, err := s.CaseLines(ctx, r.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		checkBalanced(t, lines)
		refund := lines[6:]
		want := []string{
			"Dr income:service_fees 5000000000000000000 USDT = 5.0005 USD",
			"Dr income:network_cost_recovered 300000000000000000 USDT = 0.30003 USD",
			"Cr liabilities:users:alice 5300000000000000000 USDT = 5.30053 USD",
		}
		if got := lineTexts(refund); !slices.Equal(got, want) {
			t.Fatalf("refund lines:\n%q\nwant\n%q", got, want)
		}
		for _, l := range refund {
			if l.Step != StepRefund || !l.At.Equal(refunded) || l.Network != "bsc" || l.Category != r.Category {
				t.Fatalf("refund line %+v", l)
			}
		}
		// The user now holds the whole deposit; the exchange is left with
		// the network cost it paid.
		owed := new(big.Int)
		for _, l := range lines {
			if l.Account == UserAccount("alice") {
				owed.Add(owed, l.Credit).Sub(owed, l.Debit)
			}
		}
		if owed.Cmp(r.Deposit) != 0 {
			t.Fatalf("user is owed %s, want the deposit %s", owed, r.Deposit)
		}
		report, err := s.FeeReport(ctx, credited, refunded.Add(time.Hour), GroupByNetwork)
		if err != nil {
			t.Fatal(err)
		}
		tot := report.Total
		if tot.Cases != 1 || tot.Refunds != 1 || !tot.FeesRefundedUSD.Equal(tot.FeesChargedUSD) ||
			!tot.NetUSD.Equal(price("-0.3")) || !tot.CreditedUSD.Equal(tot.RecoveredUSD) {
			t.Fatalf("report after the refund: %+v", tot)
		}

		// A credit that took no fee has nothing to refund.
		free := ltcToBTC()
		free.ServiceFee, free.NetworkCostCharged = nil, nil
		if err := s.PostRecovery(ctx, free); err != nil {
			t.Fatal(err)
		}
		if err := s.PostRefund(ctx, free.CaseID, refunded); err != nil {
			t.Fatal(err)
		}
		if lines, _ := s.CaseLines(ctx, free.CaseID); len(lines) != 4 {
			t.Fatalf("refund of nothing wrote lines: %q", lineTexts(lines))
		}
		if err := s.PostRefund(ctx, "not a case", refunded); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Fatalf("refund of a malformed case id: %v", err)
		}
	})
}

func TestLedgerSurvivesReopening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "ledger.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PostRecovery(ctx, usdtOnBSC()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path)
	if err := s.PostRecovery(ctx, usdtOnBSC()); err != nil {
		t.Fatalf("the credit posted before the restart: %v", err)
	}
	if lines, err := s.CaseLines(ctx, usdtOnBSC().CaseID); err != nil || len(lines) != 6 {
		t.Fatalf("%v %d lines", err, len(lines))
	}
}

func TestFeeReportRefusesABadRequest(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ledger.db"))
	ctx := context.Background()
	if _, err := s.FeeReport(ctx, credited, credited.Add(time.Hour), "user"); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("grouping by user: %v", err)
	}
	if _, err := s.FeeReport(ctx, credited, credited, GroupByMonth); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("an empty period: %v", err)
	}
	if _, err := s.Lines(ctx, credited, credited.Add(-time.Hour)); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("lines of a period that ends before it starts: %v", err)
	}
	if g, err := ParseGroupBy("category"); g != GroupByCategory || err != nil {
		t.Fatalf("ParseGroupBy: %v %v", g, err)
	}
}
