package ledger

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// refund is a PostRefund call of a scenario.
type refund struct {
	caseID string
	at     time.Time
}

// scenario is what a desk might post over a few months.
type scenario struct {
	credits []Recovery
	refunds []refund
}

// assetKind is a deposit asset of a network and the native asset its
// network cost is paid in.
type assetKind struct {
	network, asset string
	decimals       int32
	price          [2]int64 // cents, low and high
	native         string
	nativeDecimals int32
	nativePrice    [2]int64
}

var assetKinds = []assetKind{
	{"btc", "BTC", 8, [2]int64{5_500_000, 7_200_000}, "BTC", 8, [2]int64{5_500_000, 7_200_000}},
	{"ltc", "LTC", 8, [2]int64{6_000, 11_000}, "LTC", 8, [2]int64{6_000, 11_000}},
	{"eth", "ETH", 18, [2]int64{250_000, 400_000}, "ETH", 18, [2]int64{250_000, 400_000}},
	{"eth", "0xdac17f958d2ee523a2206206994597c13d831ec7", 6, [2]int64{99, 101}, "ETH", 18, [2]int64{250_000, 400_000}},
	{"bsc", "USDT", 18, [2]int64{99, 101}, "BNB", 18, [2]int64{50_000, 70_000}},
	{"polygon", "POL", 18, [2]int64{20, 70}, "POL", 18, [2]int64{20, 70}},
}

var recoverableCategories = []string{"below_minimum", "missing_or_wrong_memo", "unlisted_token",
	"wrong_network_evm", "cross_chain_utxo", "retired_address", "contract_deposit"}

// randomScenario makes n credits booked in [start, end), the first ones at
// the times pinned, and refunds of about a fifth of them, up to 40 days
// after their credit.
func randomScenario(rng *rand.Rand, n int, start, end time.Time, pinned ...time.Time) scenario {
	var sc scenario
	span := end.Sub(start)
	randPrice := func(cents [2]int64) decimal.Decimal {
		// Up to four more places than cents, as price feeds give.
		c := cents[0] + rng.Int64N(cents[1]-cents[0]+1)
		return decimal.New(c*10_000+rng.Int64N(10_000), -6)
	}
	randUnits := func(decimals int32, maxWhole int64) *big.Int {
		// A random amount below maxWhole whole units, at full precision.
		scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
		limit := new(big.Int).Mul(big.NewInt(maxWhole), scale)
		words := make([]big.Word, len(limit.Bits())+1)
		for i := range words {
			words[i] = big.Word(rng.Uint64())
		}
		n := new(big.Int).Mod(new(big.Int).SetBits(words), limit)
		return n.Add(n, big.NewInt(1))
	}
	for i := range n {
		k := assetKinds[rng.IntN(len(assetKinds))]
		at := start.Add(time.Duration(rng.Int64N(int64(span))))
		if i < len(pinned) {
			at = pinned[i]
		}
		deposit := randUnits(k.decimals, 1000)
		fee, charged := new(big.Int), new(big.Int)
		if rng.IntN(5) > 0 { // a fifth are free
			// Up to 5% of the deposit as fee, up to 1% as network cost.
			fee.Div(new(big.Int).Mul(deposit, big.NewInt(rng.Int64N(500))), big.NewInt(10_000))
			charged.Div(new(big.Int).Mul(deposit, big.NewInt(rng.Int64N(100))), big.NewInt(10_000))
		}
		if rng.IntN(50) == 0 {
			fee.Sub(deposit, charged) // the fee takes it all
		}
		id := fmt.Sprintf("%s.%064x.o%d", k.network, rng.Uint64(), i)
		r := Recovery{
			CaseID: id, DepositID: id, Step: StepCredit,
			At: at, FiledAt: at.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))),
			Network: k.network, Category: recoverableCategories[rng.IntN(len(recoverableCategories))],
			Asset: k.asset, Decimals: k.decimals, Deposit: deposit, ServiceFee: fee, NetworkCostCharged: charged,
			NetworkCostPaid: NetworkCost{Asset: k.native, Decimals: k.nativeDecimals,
				Amount: new(big.Int).Div(randUnits(k.nativeDecimals, 1), big.NewInt(1000)), PriceUSD: randPrice(k.nativePrice)},
			UserID:   fmt.Sprintf("user-%d", rng.IntN(40)),
			PriceUSD: randPrice(k.price),
		}
		if k.native == k.asset {
			r.NetworkCostPaid.PriceUSD = r.PriceUSD
		}
		sc.credits = append(sc.credits, r)
		if rng.IntN(5) == 0 {
			sc.refunds = append(sc.refunds, refund{r.CaseID, at.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))})
		}
	}
	return sc
}

func (sc scenario) post(t testing.TB, s *Store) {
	t.Helper()
	ctx := context.Background()
	for _, r := range sc.credits {
		if err := s.PostRecovery(ctx, r); err != nil {
			t.Fatalf("%s: %v", r.CaseID, err)
		}
	}
	for _, r := range sc.refunds {
		if err := s.PostRefund(ctx, r.caseID, r.at); err != nil {
			t.Fatalf("refund of %s: %v", r.caseID, err)
		}
	}
}

// expected is a report row computed from the inputs, in exact rationals,
// without the package's arithmetic.
type expected struct {
	cases, refunds                               int
	recovered, charged, refunded, cost, credited big.Rat
	times                                        []time.Duration
}

func value(amount *big.Int, decimals int32, price decimal.Decimal) *big.Rat {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	v := new(big.Rat).SetFrac(amount, scale)
	return v.Mul(v, price.Rat())
}

func groupKey(by GroupBy, r Recovery, at time.Time) string {
	switch by {
	case GroupByCategory:
		return r.Category
	case GroupByMonth:
		return at.UTC().Format("2006-01")
	}
	return r.Network
}

func expectedReport(sc scenario, from, to time.Time, by GroupBy) (map[string]*expected, *expected) {
	groups := map[string]*expected{}
	total := &expected{}
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	get := func(key string) *expected {
		if groups[key] == nil {
			groups[key] = &expected{}
		}
		return groups[key]
	}
	byCase := map[string]Recovery{}
	for _, r := range sc.credits {
		byCase[r.CaseID] = r
		if !in(r.At) {
			continue
		}
		fees := new(big.Int).Add(r.ServiceFee, r.NetworkCostCharged)
		user := new(big.Int).Sub(r.Deposit, fees)
		for _, e := range []*expected{get(groupKey(by, r, r.At)), total} {
			e.cases++
			e.recovered.Add(&e.recovered, value(r.Deposit, r.Decimals, r.PriceUSD))
			e.charged.Add(&e.charged, value(fees, r.Decimals, r.PriceUSD))
			e.cost.Add(&e.cost, value(r.NetworkCostPaid.Amount, r.NetworkCostPaid.Decimals, r.NetworkCostPaid.PriceUSD))
			e.credited.Add(&e.credited, value(user, r.Decimals, r.PriceUSD))
			e.times = append(e.times, r.At.Sub(r.FiledAt))
		}
	}
	for _, f := range sc.refunds {
		r := byCase[f.caseID]
		fees := new(big.Int).Add(r.ServiceFee, r.NetworkCostCharged)
		if !in(f.at) || fees.Sign() == 0 {
			continue
		}
		for _, e := range []*expected{get(groupKey(by, r, f.at)), total} {
			e.refunds++
			e.refunded.Add(&e.refunded, value(fees, r.Decimals, r.PriceUSD))
			e.credited.Add(&e.credited, value(fees, r.Decimals, r.PriceUSD))
		}
	}
	return groups, total
}

// expectedMedian is the median by its definition.
func expectedMedian(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Sorted(slices.Values(ds))
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

func checkRow(t *testing.T, row ReportRow, want *expected) {
	t.Helper()
	net := new(big.Rat).Sub(&want.charged, &want.refunded)
	net.Sub(net, &want.cost)
	for _, c := range []struct {
		name string
		got  decimal.Decimal
		want *big.Rat
	}{
		{"recovered", row.RecoveredUSD, &want.recovered},
		{"fees charged", row.FeesChargedUSD, &want.charged},
		{"fees refunded", row.FeesRefundedUSD, &want.refunded},
		{"network cost", row.NetworkCostUSD, &want.cost},
		{"net", row.NetUSD, net},
		{"credited", row.CreditedUSD, &want.credited},
	} {
		if c.got.Rat().Cmp(c.want) != 0 {
			t.Errorf("%s %s: %s, want %s", row.Group, c.name, c.got, c.want.FloatString(30))
		}
	}
	if row.Cases != want.cases || row.Refunds != want.refunds {
		t.Errorf("%s: %d cases and %d refunds, want %d and %d", row.Group, row.Cases, row.Refunds, want.cases, want.refunds)
	}
	if m := expectedMedian(want.times); row.MedianTimeToRecovery != m {
		t.Errorf("%s: median time to recovery %s, want %s", row.Group, row.MedianTimeToRecovery, m)
	}
}

func TestReportReconcilesWithJournalAndInputs(t *testing.T) {
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	// Credits from two weeks before the period to two weeks after it, one
	// at the first instant of the period (in it) and one at its end (not).
	sc := randomScenario(rand.New(rand.NewPCG(2026, 11)), 300, from.Add(-14*24*time.Hour), to.Add(14*24*time.Hour), from, to)
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		sc.post(t, s)

		lines, err := s.Lines(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		checkBalanced(t, lines)
		all, err := s.Lines(ctx, time.Time{}, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		checkBalanced(t, all)
		if len(all) <= len(lines) {
			t.Fatalf("the scenario has entries outside the period: %d lines in it, %d in all", len(lines), len(all))
		}

		// The report's total as the journal's lines give it.
		var journal ReportRow
		entries := map[int64]string{}
		for _, l := range lines {
			if !l.At.Before(to) || l.At.Before(from) {
				t.Fatalf("line booked at %s outside [%s, %s)", l.At, from, to)
			}
			entries[l.EntryID] = l.Step
			debit := l.Debit.Sign() > 0
			fee := l.Account == AccountServiceFees || l.Account == AccountNetworkCostRecovered
			switch {
			case l.Account == AccountHotWallet && debit:
				journal.RecoveredUSD = journal.RecoveredUSD.Add(l.USD)
			case fee && !debit:
				journal.FeesChargedUSD = journal.FeesChargedUSD.Add(l.USD)
			case fee && debit:
				journal.FeesRefundedUSD = journal.FeesRefundedUSD.Add(l.USD)
			case l.Account == AccountNetworkCost:
				journal.NetworkCostUSD = journal.NetworkCostUSD.Add(l.USD)
			case strings.HasPrefix(l.Account, "liabilities:users:"):
				journal.CreditedUSD = journal.CreditedUSD.Add(l.USD)
			}
		}
		for _, step := range entries {
			if step == StepCredit {
				journal.Cases++
			} else {
				journal.Refunds++
			}
		}

		for _, by := range []GroupBy{GroupByNetwork, GroupByCategory, GroupByMonth} {
			t.Run(string(by), func(t *testing.T) {
				report, err := s.FeeReport(ctx, from, to, by)
				if err != nil {
					t.Fatal(err)
				}
				groups, total := expectedReport(sc, from, to, by)
				checkRow(t, report.Total, total)

				tot := report.Total
				if tot.Group != TotalGroup || tot.Cases != journal.Cases || tot.Refunds != journal.Refunds ||
					!tot.RecoveredUSD.Equal(journal.RecoveredUSD) || !tot.FeesChargedUSD.Equal(journal.FeesChargedUSD) ||
					!tot.FeesRefundedUSD.Equal(journal.FeesRefundedUSD) || !tot.NetworkCostUSD.Equal(journal.NetworkCostUSD) ||
					!tot.CreditedUSD.Equal(journal.CreditedUSD) {
					t.Errorf("total %+v\ndiffers from the journal's lines %+v", tot, journal)
				}
				// Money in equals money out: what was recovered went to the
				// users or was kept as fees, less what was refunded.
				if !tot.RecoveredUSD.Sub(tot.FeesChargedUSD).Add(tot.FeesRefundedUSD).Equal(tot.CreditedUSD) {
					t.Errorf("recovered − charged + refunded = %s, credited %s",
						tot.RecoveredUSD.Sub(tot.FeesChargedUSD).Add(tot.FeesRefundedUSD), tot.CreditedUSD)
				}

				var keys []string
				var sum ReportRow
				for _, row := range report.Rows {
					keys = append(keys, row.Group)
					want := groups[row.Group]
					if want == nil {
						t.Fatalf("group %q in the report, not in the inputs", row.Group)
					}
					checkRow(t, row, want)
					sum.Cases += row.Cases
					sum.Refunds += row.Refunds
					for i, d := range sum.amounts() {
						*d = d.Add(*row.amounts()[i])
					}
				}
				if len(keys) != len(groups) || !slices.IsSorted(keys) {
					t.Errorf("groups %q, want the %d of the inputs in order", keys, len(groups))
				}
				if sum.Cases != tot.Cases || sum.Refunds != tot.Refunds {
					t.Errorf("rows count %d cases and %d refunds, the total %d and %d", sum.Cases, sum.Refunds, tot.Cases, tot.Refunds)
				}
				for i, d := range sum.amounts() {
					if !d.Equal(*tot.amounts()[i]) {
						t.Errorf("rows sum to %s in %s, the total is %s", d, columns[2+i], tot.amounts()[i])
					}
				}
				if total.cases < 200 || total.refunds < 20 || len(groups) < 3 {
					t.Fatalf("the scenario is too thin to test much: %d cases, %d refunds, %d groups", total.cases, total.refunds, len(groups))
				}
			})
		}
	})
}
