package fees

import (
	"math/big"
	mrand "math/rand"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/shopspring/decimal"
)

// checkInvariants asserts what must hold for every quote.
func checkInvariants(t testing.TB, in QuoteInput, q Quote) {
	t.Helper()
	if q.FeeBase.Sign() < 0 {
		t.Fatalf("negative fee %s", q.FeeBase)
	}
	if q.FeeBase.Cmp(in.Amount) > 0 {
		t.Fatalf("fee %s above the deposit %s", q.FeeBase, in.Amount)
	}
	if sum := new(big.Int).Add(q.FeeBase, q.NetBase); sum.Cmp(in.Amount) != 0 {
		t.Fatalf("fee %s + net %s = %s, not the deposit %s", q.FeeBase, q.NetBase, sum, in.Amount)
	}
	if !q.Fee.Add(q.Net).Equal(q.Deposit) || !q.FeeUSD.Add(q.NetUSD).Equal(q.DepositUSD) {
		t.Fatalf("fee + net is not the deposit: %s + %s vs %s; %s + %s vs %s USD", q.Fee, q.Net, q.Deposit, q.FeeUSD, q.NetUSD, q.DepositUSD)
	}
	exact := func(what string, v decimal.Decimal) {
		if !v.Shift(in.Decimals).IsInteger() {
			t.Fatalf("%s %s has digits beyond %d decimals", what, v, in.Decimals)
		}
	}
	exact("fee", q.Fee)
	exact("net", q.Net)
	lineSum := new(big.Int)
	for _, l := range q.Lines {
		exact("line "+l.Kind, l.Amount)
		if l.Base.Sign() < 0 || l.Amount.IsNegative() || l.USD.IsNegative() || l.RuleUSD.IsNegative() {
			t.Fatalf("negative line %+v", l)
		}
		if !l.Charged && l.Base.Sign() != 0 {
			t.Fatalf("an uncharged line takes %s", l.Base)
		}
		if l.Amount.Shift(in.Decimals).BigInt().Cmp(l.Base) != 0 {
			t.Fatalf("line amount %s and base %s disagree", l.Amount, l.Base)
		}
		lineSum.Add(lineSum, l.Base)
	}
	if lineSum.Cmp(q.FeeBase) != 0 {
		t.Fatalf("lines add up to %s, fee is %s", lineSum, q.FeeBase)
	}
	if q.Clamped != (q.UnclampedFeeBase != nil) || (q.Clamped && q.NetBase.Sign() != 0) {
		t.Fatalf("clamped %v with unclamped %v and net %s", q.Clamped, q.UnclampedFeeBase, q.NetBase)
	}
	if q.Advice.Action != AdviceProceed && q.Advice.Action != AdviceWait || (q.Advice.Action == AdviceWait) != (len(q.Advice.Reasons) > 0) {
		t.Fatalf("advice %+v", q.Advice)
	}
}

// randDec is a random non-negative decimal below max×10^-places with the
// given number of places.
func randDec(r *rand.Rand, max int64, places int32) decimal.Decimal {
	return decimal.New(r.Int64N(max), -places)
}

func randSchedule(r *rand.Rand) Schedule {
	s := Schedule{NetworkCost: ChargeNetworkCost}
	if r.IntN(3) == 0 {
		s.NetworkCost = AbsorbNetworkCost
	}
	if r.IntN(2) == 0 {
		s.Flat = randDec(r, 5000, 2)
	}
	if r.IntN(2) == 0 {
		n := 1 + r.IntN(4)
		upTo := decimal.Zero
		for i := range n {
			t := Tier{Percent: randDec(r, 10_001, 2)}
			if i < n-1 {
				upTo = upTo.Add(randDec(r, 100_000, 2)).Add(decimal.NewFromInt(1))
				t.UpTo = upTo
			}
			s.Tiers = append(s.Tiers, t)
		}
	} else {
		s.Percent = randDec(r, 100_001, 3)
	}
	if r.IntN(2) == 0 {
		s.Minimum = randDec(r, 10_000, 2)
	}
	if r.IntN(2) == 0 {
		s.Cap = s.Minimum.Add(randDec(r, 100_000, 2))
	}
	if r.IntN(3) == 0 {
		s.FreeBelow = randDec(r, 10_000, 2)
	}
	if r.IntN(2) == 0 {
		s.MaxShare = randDec(r, 1_000_001, 6)
	}
	if r.IntN(2) == 0 {
		s.SmallBelow = randDec(r, 100_000, 2)
	}
	return s
}

// randInput is a random valid input; the deposit is set by the caller.
func randInput(r *rand.Rand) QuoteInput {
	dec := int32(r.IntN(19))
	in := QuoteInput{
		ID: "q", Network: "n", Asset: "TOK", Decimals: dec,
		Price:    Price{Value: decimal.New(1+r.Int64N(1_000_000_000), -int32(r.IntN(10))), Source: "rand"},
		Schedule: randSchedule(r),
		Urgent:   r.IntN(2) == 0,
		Now:      time.Unix(1_800_000_000, 0), TTL: time.Duration(1+r.IntN(1000)) * time.Minute,
	}
	if r.IntN(5) > 0 || in.Schedule.NetworkCost == ChargeNetworkCost {
		c := &recovery.NetworkCost{Asset: "NAT", Decimals: 18, Amount: new(big.Int).Mul(big.NewInt(r.Int64N(1_000_000)), big.NewInt(r.Int64N(1_000_000_000)))}
		if r.IntN(2) == 0 {
			c.Asset, c.Decimals = in.Asset, in.Decimals // a native deposit
		}
		in.NetworkCost = c
		in.NativePrice = &Price{Value: decimal.New(1+r.Int64N(10_000_000), -3), Source: "rand"}
	}
	return in
}

func randAmount(r *rand.Rand, decimals int32) *big.Int {
	// Up to 10^9 whole units, with any number of base units.
	whole := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(r.IntN(10))+int64(decimals)), nil)
	return new(big.Int).Rand(mrand.New(randSource{r}), new(big.Int).Add(whole, big.NewInt(1)))
}

// randSource adapts math/rand/v2 to the math/rand source that big.Int.Rand
// takes, so one seeded generator drives the whole test.
type randSource struct{ r *rand.Rand }

func (s randSource) Int63() int64 { return s.r.Int64() }
func (s randSource) Seed(int64)   {}

func TestQuotePropertiesHoldForRandomInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 1))
	for i := range 3000 {
		in := randInput(r)
		if err := in.Schedule.Validate(); err != nil {
			t.Fatalf("case %d: generator made an invalid schedule: %v", i, err)
		}
		in.Amount = randAmount(r, in.Decimals)
		q, err := NewQuote(in)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkInvariants(t, in, q)
	}
}

func TestQuoteFeeIsMonotonicInTheDeposit(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 2))
	for i := range 300 {
		in := randInput(r)
		amounts := make([]*big.Int, 25)
		for j := range amounts {
			amounts[j] = randAmount(r, in.Decimals)
		}
		// Step across the schedule's edges too: free_below, minimum, cap
		// and tier bounds, converted to base units.
		for _, usd := range []decimal.Decimal{in.Schedule.FreeBelow, in.Schedule.Minimum, in.Schedule.Cap} {
			e := usdToBase(usd, in.Price.Value, in.Decimals)
			amounts = append(amounts, e, new(big.Int).Add(e, big.NewInt(1)), new(big.Int).Abs(new(big.Int).Sub(e, big.NewInt(1))))
		}
		slices.SortFunc(amounts, func(a, b *big.Int) int { return a.Cmp(b) })
		prev := new(big.Int)
		for _, a := range amounts {
			in.Amount = a
			q, err := NewQuote(in)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			checkInvariants(t, in, q)
			if q.FeeBase.Cmp(prev) < 0 {
				t.Fatalf("case %d: fee fell from %s to %s when the deposit grew to %s (schedule %+v)", i, prev, q.FeeBase, a, in.Schedule)
			}
			prev = q.FeeBase
		}
	}
}

func TestServiceFeeUSDIsMonotonic(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 3))
	for range 500 {
		s := randSchedule(r)
		values := make([]decimal.Decimal, 40)
		for j := range values {
			values[j] = randDec(r, 100_000_000_000, 4)
		}
		for _, tier := range s.Tiers {
			values = append(values, tier.UpTo, tier.UpTo.Add(decimal.New(1, -4)))
		}
		slices.SortFunc(values, func(a, b decimal.Decimal) int { return a.Cmp(b) })
		prev := decimal.Zero
		for _, v := range values {
			fee, rule := ServiceFeeUSD(s, v)
			if fee.IsNegative() || fee.LessThan(prev) {
				t.Fatalf("fee %s (%s) at %s after %s: schedule %+v", fee, rule, v, prev, s)
			}
			prev = fee
		}
	}
}
