package fees

import (
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
)

var (
	t0      = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	usdt    = Price{Value: d("1"), Source: "test", At: t0}
	ethUSD  = Price{Value: d("3000"), Source: "test", At: t0}
	btcUSD  = Price{Value: d("90000"), Source: "test", At: t0}
	charge  = ChargeNetworkCost
	absorb  = AbsorbNetworkCost
	noCost  = &recovery.NetworkCost{Asset: "ETH", Decimals: 18, Amount: new(big.Int), Method: recovery.MethodEIP1559}
	oneHour = time.Hour
)

// base parses a decimal amount into base units of decimals.
func base(t testing.TB, amount string, decimals int32) *big.Int {
	t.Helper()
	v := d(amount).Shift(decimals)
	if !v.IsInteger() {
		t.Fatalf("%s has more than %d decimals", amount, decimals)
	}
	return v.BigInt()
}

// usdtInput is a 6-decimal token deposit at 1 USD, no network cost charged.
func usdtInput(t testing.TB, amount string, s Schedule) QuoteInput {
	return QuoteInput{ID: "q1", Network: "eth", Asset: "USDT", Decimals: 6, Amount: base(t, amount, 6), Price: usdt,
		Schedule: s, NetworkCost: noCost, NativePrice: &ethUSD, Now: t0, TTL: oneHour}
}

func mustQuote(t testing.TB, in QuoteInput) Quote {
	t.Helper()
	q, err := NewQuote(in)
	if err != nil {
		t.Fatalf("NewQuote: %v", err)
	}
	checkInvariants(t, in, q)
	return q
}

func TestServiceFeeRules(t *testing.T) {
	tiers := []Tier{{UpTo: d("1000"), Percent: d("5")}, {UpTo: d("10000"), Percent: d("3")}, {Percent: d("1.5")}}
	for _, tc := range []struct {
		name    string
		s       Schedule
		deposit string // USD, the token is worth 1 USD
		fee     string
		rule    string
	}{
		{"nothing", Schedule{NetworkCost: charge}, "100", "0", RuleNone},
		{"flat", Schedule{Flat: d("5"), NetworkCost: charge}, "100", "5", RuleFlat},
		{"percent", Schedule{Percent: d("2.5"), NetworkCost: charge}, "1000", "25", RulePercent},
		{"flat and percent", Schedule{Flat: d("1"), Percent: d("1"), NetworkCost: charge}, "100", "2", RuleFlatPercent},
		{"tier inside the first band", Schedule{Tiers: tiers, NetworkCost: charge}, "500", "25", RuleTier},
		{"tiers are marginal", Schedule{Tiers: tiers, NetworkCost: charge}, "20000", "470", RuleTier}, // 50 + 270 + 150
		{"tier on a band edge", Schedule{Tiers: tiers, NetworkCost: charge}, "1000", "50", RuleTier},
		{"flat and tiers", Schedule{Flat: d("2"), Tiers: tiers, NetworkCost: charge}, "100", "7", RuleFlatTier},
		{"minimum", Schedule{Percent: d("1"), Minimum: d("10"), NetworkCost: charge}, "100", "10", RuleMinimum},
		{"above the minimum", Schedule{Percent: d("1"), Minimum: d("10"), NetworkCost: charge}, "2000", "20", RulePercent},
		{"cap", Schedule{Percent: d("10"), Cap: d("50"), NetworkCost: charge}, "1000", "50", RuleCap},
		{"free below", Schedule{Percent: d("5"), Minimum: d("10"), FreeBelow: d("20"), NetworkCost: charge}, "19.999999", "0", RuleFreeBelow},
		{"free below is exclusive", Schedule{Percent: d("5"), Minimum: d("10"), FreeBelow: d("20"), NetworkCost: charge}, "20", "10", RuleMinimum},
		{"fractional percent", Schedule{Percent: d("0.125"), NetworkCost: charge}, "123.45", "0.154313", RulePercent}, // 0.15431250 rounded up to the token's 6 decimals
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := mustQuote(t, usdtInput(t, tc.deposit, tc.s))
			svc := q.Lines[0]
			if svc.Kind != LineServiceFee || svc.Rule != tc.rule || !svc.Amount.Equal(d(tc.fee)) {
				t.Errorf("service line = %s %s %s (%s), want %s by %s", svc.Kind, svc.Amount, svc.Rule, svc.Detail, tc.fee, tc.rule)
			}
			if svc.Detail == "" {
				t.Error("the service line does not explain itself")
			}
		})
	}
}

func TestQuoteRoundsUpToTheBaseUnit(t *testing.T) {
	// 25 USD at 3000 USD/ETH is 0.0083333… ETH: the fee is rounded up to
	// the next wei, never down, and carries no digit beyond 18 decimals.
	in := QuoteInput{ID: "q", Network: "eth", Asset: "ETH", Decimals: 18, Amount: base(t, "1", 18), Price: ethUSD,
		Schedule: Schedule{Percent: d("2.5"), NetworkCost: absorb}, Now: t0, TTL: oneHour}
	q := mustQuote(t, in) // 1 ETH = 3000 USD → 75 USD
	if want := "0.025"; !q.Fee.Equal(d(want)) {
		t.Errorf("fee = %s, want %s exactly", q.Fee, want)
	}
	in.Amount = base(t, "0.333333333333333333", 18) // 999.999… USD → 24.999… USD
	q = mustQuote(t, in)
	// 0.333333333333333333 × 3000 × 2.5 % = 24.999999999999999975 USD
	// → / 3000 = 0.008333333333333333325 ETH → rounded up: …334.
	if want := "0.008333333333333334"; !q.Fee.Equal(d(want)) {
		t.Errorf("fee = %s, want %s", q.Fee, want)
	}
	if !q.Lines[0].RuleUSD.Equal(d("24.999999999999999975")) {
		t.Errorf("rule USD = %s", q.Lines[0].RuleUSD)
	}

	// 10 USD at 90000 USD/BTC = 11111.11 sat → 11112 sat.
	btc := QuoteInput{ID: "q", Network: "btc", Asset: "BTC", Decimals: 8, Amount: base(t, "0.1", 8), Price: btcUSD,
		Schedule: Schedule{Flat: d("10"), NetworkCost: absorb}, Now: t0, TTL: oneHour}
	if q := mustQuote(t, btc); q.FeeBase.Int64() != 11112 || q.Fee.String() != "0.00011112" {
		t.Errorf("btc fee = %s (%s sat), want 0.00011112", q.Fee, q.FeeBase)
	}
}

func TestQuoteNetworkCost(t *testing.T) {
	cost := &recovery.NetworkCost{Network: "eth", Asset: "ETH", Decimals: 18, Amount: big.NewInt(21000 * 2_000_000_000), Method: recovery.MethodEIP1559} // 0.000042 ETH
	t.Run("token deposit pays the cost converted at both prices", func(t *testing.T) {
		in := usdtInput(t, "1000", Schedule{Flat: d("5"), NetworkCost: charge})
		in.NetworkCost = cost
		q := mustQuote(t, in)
		if len(q.Lines) != 2 {
			t.Fatalf("lines = %+v", q.Lines)
		}
		n := q.Lines[1]
		// 0.000042 ETH × 3000 = 0.126 USD = 0.126 USDT.
		if n.Kind != LineNetworkCost || n.Rule != RuleChargeCost || !n.Charged || !n.Amount.Equal(d("0.126")) || !n.RuleUSD.Equal(d("0.126")) {
			t.Errorf("network line = %+v", n)
		}
		if !q.Fee.Equal(d("5.126")) || !q.Net.Equal(d("994.874")) {
			t.Errorf("fee %s net %s", q.Fee, q.Net)
		}
		if q.NativePrice == nil || !q.NativePrice.Value.Equal(ethUSD.Value) {
			t.Errorf("native price not on the quote: %+v", q.NativePrice)
		}
	})
	t.Run("native deposit pays the cost exactly", func(t *testing.T) {
		in := QuoteInput{ID: "q", Network: "eth", Asset: "ETH", Decimals: 18, Amount: base(t, "1", 18), Price: ethUSD,
			Schedule: Schedule{NetworkCost: charge}, NetworkCost: cost, Now: t0, TTL: oneHour}
		q := mustQuote(t, in)
		if q.FeeBase.Cmp(cost.Amount) != 0 || !q.Fee.Equal(d("0.000042")) || !q.FeeUSD.Equal(d("0.126")) {
			t.Errorf("fee %s (%s wei, %s USD)", q.Fee, q.FeeBase, q.FeeUSD)
		}
		if q.NativePrice != nil {
			t.Error("a native deposit needs no second price")
		}
	})
	t.Run("absorbed cost is shown, not taken", func(t *testing.T) {
		in := usdtInput(t, "1000", Schedule{Flat: d("5"), NetworkCost: absorb})
		in.NetworkCost = cost
		q := mustQuote(t, in)
		n := q.Lines[1]
		if n.Rule != RuleAbsorbedCost || n.Charged || n.Base.Sign() != 0 || !n.RuleUSD.Equal(d("0.126")) {
			t.Errorf("absorbed line = %+v", n)
		}
		if !q.Fee.Equal(d("5")) {
			t.Errorf("fee = %s, want 5", q.Fee)
		}
	})
	t.Run("fallback feerate is disclosed", func(t *testing.T) {
		c := &recovery.NetworkCost{Network: "btc", Asset: "BTC", Decimals: 8, Amount: big.NewInt(141), Method: recovery.MethodFeeRate, Fallback: true, Note: "no estimate"}
		in := QuoteInput{ID: "q", Network: "btc", Asset: "BTC", Decimals: 8, Amount: base(t, "0.01", 8), Price: btcUSD,
			Schedule: Schedule{NetworkCost: charge}, NetworkCost: c, Now: t0, TTL: oneHour}
		q := mustQuote(t, in)
		if q.Lines[1].Base.Int64() != 141 || q.NetworkCost == nil || !q.NetworkCost.Fallback {
			t.Errorf("quote %+v", q)
		}
	})
}

func TestQuoteClampsToTheDeposit(t *testing.T) {
	s := Schedule{Percent: d("1"), Minimum: d("10"), NetworkCost: charge, MaxShare: d("0.5")}
	t.Run("service fee gives way first", func(t *testing.T) {
		in := usdtInput(t, "6", s)
		in.NetworkCost = &recovery.NetworkCost{Asset: "ETH", Decimals: 18, Amount: base(t, "0.001", 18)} // 3 USD
		q := mustQuote(t, in)
		if !q.Clamped || !q.Fee.Equal(d("6")) || !q.Net.IsZero() {
			t.Fatalf("clamped=%v fee=%s net=%s", q.Clamped, q.Fee, q.Net)
		}
		if !q.Lines[0].Amount.Equal(d("3")) || !q.Lines[1].Amount.Equal(d("3")) {
			t.Errorf("service %s network %s, want 3 and 3", q.Lines[0].Amount, q.Lines[1].Amount)
		}
		if !q.Lines[0].RuleUSD.Equal(d("10")) {
			t.Errorf("the line still says what the rule asked: %s", q.Lines[0].RuleUSD)
		}
		if q.UnclampedFeeBase == nil || q.UnclampedFeeBase.Cmp(base(t, "13", 6)) != 0 {
			t.Errorf("unclamped = %v, want 13 USDT", q.UnclampedFeeBase)
		}
		if q.Advice.Action != AdviceWait || !slices.Equal(q.Advice.Reasons, []string{ReasonFeeAboveMaxShare, ReasonFeeExceedsDeposit}) {
			t.Errorf("advice = %+v", q.Advice)
		}
	})
	t.Run("network cost above the deposit", func(t *testing.T) {
		in := usdtInput(t, "2", s)
		in.NetworkCost = &recovery.NetworkCost{Asset: "ETH", Decimals: 18, Amount: base(t, "0.001", 18)} // 3 USD
		q := mustQuote(t, in)
		if !q.Lines[0].Amount.IsZero() || !q.Lines[1].Amount.Equal(d("2")) || !q.Net.IsZero() {
			t.Errorf("service %s network %s net %s", q.Lines[0].Amount, q.Lines[1].Amount, q.Net)
		}
	})
	t.Run("zero deposit", func(t *testing.T) {
		q := mustQuote(t, usdtInput(t, "0", s))
		if !q.Fee.IsZero() || !q.Clamped {
			t.Errorf("fee %s clamped %v", q.Fee, q.Clamped)
		}
	})
}

func TestQuoteAdvice(t *testing.T) {
	s := Schedule{Percent: d("2"), Minimum: d("10"), NetworkCost: charge, MaxShare: d("0.5"), SmallBelow: d("100")}
	for _, tc := range []struct {
		name    string
		deposit string
		urgent  bool
		want    Advice
	}{
		{"large deposit", "1000", false, Advice{Action: AdviceProceed}},
		{"small but urgent", "50", true, Advice{Action: AdviceProceed}},
		{"small and not urgent", "50", false, Advice{Action: AdviceWait, Reasons: []string{ReasonSmallAndNotUrgent}}},
		{"fee takes more than half", "19", true, Advice{Action: AdviceWait, Reasons: []string{ReasonFeeAboveMaxShare}}},
		{"fee takes exactly half", "20", true, Advice{Action: AdviceProceed}},
		{"both", "19", false, Advice{Action: AdviceWait, Reasons: []string{ReasonFeeAboveMaxShare, ReasonSmallAndNotUrgent}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := usdtInput(t, tc.deposit, s)
			in.Urgent = tc.urgent
			q := mustQuote(t, in)
			if q.Advice.Action != tc.want.Action || !slices.Equal(q.Advice.Reasons, tc.want.Reasons) {
				t.Errorf("advice = %+v, want %+v", q.Advice, tc.want)
			}
		})
	}
}

func TestQuoteExpiry(t *testing.T) {
	q := mustQuote(t, usdtInput(t, "100", Schedule{Flat: d("1"), NetworkCost: charge}))
	if !q.CreatedAt.Equal(t0) || !q.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("created %s expires %s", q.CreatedAt, q.ExpiresAt)
	}
	if q.Expired(q.ExpiresAt.Add(-time.Nanosecond)) || q.CheckAccept(t0) != nil {
		t.Error("expired before its time")
	}
	if !q.Expired(q.ExpiresAt) {
		t.Error("not expired at ExpiresAt")
	}
	err := q.CheckAccept(q.ExpiresAt.Add(time.Minute))
	if !errors.Is(err, ErrQuoteExpired) || recovery.ErrorCode(err) != recovery.EConflict {
		t.Errorf("accept after expiry: %v", err)
	}
}

func TestQuoteIsDeterministic(t *testing.T) {
	in := usdtInput(t, "1234.567891", Schedule{Percent: d("1.75"), Minimum: d("3"), NetworkCost: charge})
	in.NetworkCost = &recovery.NetworkCost{Asset: "ETH", Decimals: 18, Amount: big.NewInt(123456789012345)}
	a, b := mustQuote(t, in), mustQuote(t, in)
	if !a.Fee.Equal(b.Fee) || a.ID != b.ID || !a.ExpiresAt.Equal(b.ExpiresAt) || a.Lines[1].Detail != b.Lines[1].Detail {
		t.Errorf("two quotes of one input differ:\n%+v\n%+v", a, b)
	}
	// The quote does not alias its input.
	in.Amount.SetInt64(1)
	in.NetworkCost.Amount.SetInt64(1)
	if a.DepositBase.Int64() == 1 || a.NetworkCost.Amount.Int64() == 1 {
		t.Error("the quote shares big.Ints with its input")
	}
}

func TestQuoteRefusesBadInput(t *testing.T) {
	good := func() QuoteInput { return usdtInput(t, "100", Schedule{Flat: d("1"), NetworkCost: charge}) }
	for _, tc := range []struct {
		field string
		edit  func(*QuoteInput)
	}{
		{"id", func(in *QuoteInput) { in.ID = "" }},
		{"asset", func(in *QuoteInput) { in.Asset = " " }},
		{"amount", func(in *QuoteInput) { in.Amount = nil }},
		{"amount", func(in *QuoteInput) { in.Amount = big.NewInt(-1) }},
		{"decimals", func(in *QuoteInput) { in.Decimals = 37 }},
		{"price", func(in *QuoteInput) { in.Price.Value = d("0") }},
		{"schedule.percent", func(in *QuoteInput) { in.Schedule.Percent = d("101") }},
		{"network_cost", func(in *QuoteInput) { in.NetworkCost = nil }},
		{"native_price", func(in *QuoteInput) { in.NativePrice = nil }},
		{"network_cost.amount", func(in *QuoteInput) { in.NetworkCost = &recovery.NetworkCost{Asset: "ETH", Decimals: 18} }},
		{"now", func(in *QuoteInput) { in.Now = time.Time{} }},
		{"ttl", func(in *QuoteInput) { in.TTL = 0 }},
	} {
		in := good()
		tc.edit(&in)
		_, err := NewQuote(in)
		var fields []string
		for _, e := range FieldErrors(err) {
			fields = append(fields, e.Field)
		}
		if recovery.ErrorCode(err) != recovery.EInvalid || !slices.Contains(fields, tc.field) {
			t.Errorf("%s: err = %v", tc.field, err)
		}
	}
	// An absorbing schedule needs no estimate.
	in := good()
	in.Schedule.NetworkCost, in.NetworkCost = absorb, nil
	if q := mustQuote(t, in); len(q.Lines) != 1 {
		t.Errorf("lines = %+v", q.Lines)
	}
}
