package fees

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
)

// QuoteInput is everything a quote depends on. It holds no clock, no random
// source and no I/O: the caller passes the time, the id and the prices, so
// that a workflow replaying the activity gets the same quote.
type QuoteInput struct {
	ID       string   // the quote id, chosen by the caller (e.g. appeal id + attempt)
	Network  string   // network id
	Asset    string   // the deposited asset: native symbol, token symbol or contract
	Decimals int32    // of Asset
	Amount   *big.Int // the deposit, in base units of Asset
	Price    Price    // USD per whole unit of Asset
	Schedule Schedule
	// NetworkCost is the estimated cost of the recovery transaction; it is
	// required when the schedule charges it. Nil with an absorbing schedule
	// leaves the network cost off the quote.
	NetworkCost *recovery.NetworkCost
	// NativePrice is the USD price of NetworkCost.Asset; required when the
	// deposit is in another asset (a token), ignored otherwise.
	NativePrice *Price
	Urgent      bool // the user said they are in a hurry
	Now         time.Time
	TTL         time.Duration // how long the quote can be accepted
}

// Line kinds and the rules a service fee line can report.
const (
	LineServiceFee  = "service_fee"
	LineNetworkCost = "network_cost"

	RuleNone         = "none" // the schedule charges nothing
	RuleFlat         = "flat"
	RulePercent      = "percent"
	RuleFlatPercent  = "flat+percent"
	RuleTier         = "tier"
	RuleFlatTier     = "flat+tier"
	RuleMinimum      = "minimum"
	RuleCap          = "cap"
	RuleFreeBelow    = "free_below"
	RuleChargeCost   = "charge" // network cost passed on
	RuleAbsorbedCost = "absorb" // network cost paid by the exchange
)

// Line is one item of a quote.
//
// Amount and Base are what is taken from the deposit for this line, in the
// deposited asset; USD is their value at the quote's price. RuleUSD is what
// the rule asked for before rounding to the asset's base unit and before
// clamping to the deposit: it is what Detail explains.
type Line struct {
	Kind    string          `json:"kind"`
	Rule    string          `json:"rule"`
	Amount  decimal.Decimal `json:"amount"`
	Base    *big.Int        `json:"base"`
	USD     decimal.Decimal `json:"usd"`
	RuleUSD decimal.Decimal `json:"rule_usd"`
	// Charged is false for an absorbed network cost, shown but not taken.
	Charged bool   `json:"charged"`
	Detail  string `json:"detail"`
}

// Advice actions and reasons.
const (
	AdviceProceed = "proceed"
	AdviceWait    = "wait"

	ReasonFeeAboveMaxShare  = "fee_above_max_share"  // the fee would take more than Schedule.MaxShare of the deposit
	ReasonFeeExceedsDeposit = "fee_exceeds_deposit"  // the fee was clamped to the whole deposit
	ReasonSmallAndNotUrgent = "small_and_not_urgent" // below Schedule.SmallBelow and the user is not in a hurry
)

// Advice tells the user whether to accept now or wait for the network to
// be supported (DESIGN §4). It is advice: the user may accept anyway.
type Advice struct {
	Action  string   `json:"action"`
	Reasons []string `json:"reasons,omitempty"`
}

// Quote is an itemised, expiring fee quote. The invariants, checked by the
// property tests:
//   - Fee + Net == Deposit exactly, in base units and in USD;
//   - 0 <= Fee <= Deposit;
//   - every amount is exact to the asset's decimals;
//   - Fee is the sum of the charged lines.
type Quote struct {
	ID       string `json:"id"`
	Network  string `json:"network"`
	Asset    string `json:"asset"`
	Decimals int32  `json:"decimals"`

	Deposit     decimal.Decimal       `json:"deposit"`
	DepositBase *big.Int              `json:"deposit_base"`
	DepositUSD  decimal.Decimal       `json:"deposit_usd"`
	Price       Price                 `json:"price"`
	NativePrice *Price                `json:"native_price,omitempty"`
	NetworkCost *recovery.NetworkCost `json:"network_cost,omitempty"`

	Lines   []Line          `json:"lines"`
	Fee     decimal.Decimal `json:"fee"`
	FeeBase *big.Int        `json:"fee_base"`
	FeeUSD  decimal.Decimal `json:"fee_usd"`
	Net     decimal.Decimal `json:"net"`
	NetBase *big.Int        `json:"net_base"`
	NetUSD  decimal.Decimal `json:"net_usd"`
	// Clamped is true when the schedule asked for more than the deposit
	// and the fee was cut to the whole deposit; UnclampedFeeBase is what it
	// asked.
	Clamped          bool     `json:"clamped"`
	UnclampedFeeBase *big.Int `json:"unclamped_fee_base,omitempty"`

	Advice    Advice    `json:"advice"`
	Urgent    bool      `json:"urgent"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ErrQuoteExpired is returned when a user accepts a quote past ExpiresAt.
var ErrQuoteExpired = &recovery.Error{Code: recovery.EConflict, Message: "the fee quote has expired; ask for a new one", Field: "quote_id"}

// Expired reports whether the quote can no longer be accepted at now. The
// expiry instant itself is already too late.
func (q Quote) Expired(now time.Time) bool { return !now.Before(q.ExpiresAt) }

// CheckAccept returns ErrQuoteExpired when the quote has expired at now.
func (q Quote) CheckAccept(now time.Time) error {
	if q.Expired(now) {
		return ErrQuoteExpired
	}
	return nil
}

const maxDecimals = 36

// NewQuote computes a quote.
//
// Rounding: the service fee and the network cost are computed in USD
// exactly, then each is converted to the deposited asset and rounded UP to
// the asset's base unit, so the exchange never collects less than its
// published schedule; the difference is under one base unit per line. A
// network cost in the deposited asset itself (a native deposit) is taken
// exactly, with no conversion.
//
// Clamping: the fee never exceeds the deposit. When the lines add up to
// more, the service fee is cut first, then the network cost, until the fee
// equals the deposit; the quote is marked Clamped and advises waiting.
func NewQuote(in QuoteInput) (Quote, error) {
	if err := in.validate(); err != nil {
		return Quote{}, err
	}
	depositUSD := Units(in.Amount, in.Decimals).Mul(in.Price.Value)

	lines := []Line{in.serviceFeeLine(depositUSD)}
	var native *Price
	if in.NetworkCost != nil {
		var l Line
		l, native = in.networkCostLine()
		lines = append(lines, l)
	}
	unclamped, clamped := clampToDeposit(lines, in.Amount)
	fee := in.settle(lines)
	net := new(big.Int).Sub(in.Amount, fee)

	q := Quote{
		ID: in.ID, Network: in.Network, Asset: in.Asset, Decimals: in.Decimals,
		Deposit: Units(in.Amount, in.Decimals), DepositBase: new(big.Int).Set(in.Amount), DepositUSD: depositUSD,
		Price: in.Price, NativePrice: native, NetworkCost: cloneCost(in.NetworkCost),
		Lines: lines,
		Fee:   Units(fee, in.Decimals), FeeBase: fee, FeeUSD: Units(fee, in.Decimals).Mul(in.Price.Value),
		Net: Units(net, in.Decimals), NetBase: net, NetUSD: Units(net, in.Decimals).Mul(in.Price.Value),
		Clamped: clamped,
		Urgent:  in.Urgent, CreatedAt: in.Now, ExpiresAt: in.Now.Add(in.TTL),
	}
	if clamped {
		q.UnclampedFeeBase = unclamped
	}
	q.Advice = advise(in.Schedule, depositUSD, Units(unclamped, in.Decimals).Mul(in.Price.Value), clamped, in.Urgent)
	return q, nil
}

// serviceFeeLine is the schedule's service fee on a deposit worth
// depositUSD, rounded up to the deposited asset's base unit.
func (in QuoteInput) serviceFeeLine(depositUSD decimal.Decimal) Line {
	usd, rule, detail := serviceFee(in.Schedule, depositUSD)
	return Line{Kind: LineServiceFee, Rule: rule, Base: usdToBase(usd, in.Price.Value, in.Decimals), RuleUSD: usd, Charged: true, Detail: detail}
}

// networkCostLine is the line of the recovery transaction's cost, charged
// or absorbed as the schedule says. A cost in the deposited asset is taken
// exactly; one in the native asset of a token deposit is converted through
// USD and rounded up, and the native price it was converted at is
// returned.
func (in QuoteInput) networkCostLine() (Line, *Price) {
	c := in.NetworkCost
	var (
		costUSD  decimal.Decimal
		costBase *big.Int
		native   *Price
	)
	if in.sameAsset(c) {
		costBase = new(big.Int).Set(c.Amount)
		costUSD = Units(c.Amount, c.Decimals).Mul(in.Price.Value)
	} else {
		p := *in.NativePrice
		native = &p
		costUSD = Units(c.Amount, c.Decimals).Mul(p.Value)
		costBase = usdToBase(costUSD, in.Price.Value, in.Decimals)
	}
	l := Line{Kind: LineNetworkCost, RuleUSD: costUSD, Detail: fmt.Sprintf("%s %s", Units(c.Amount, c.Decimals), c.Asset)}
	if c.Method != "" {
		l.Detail += " (" + c.Method + ")"
	}
	if c.Fallback {
		l.Detail += ", floor feerate: " + c.Note
	}
	if in.Schedule.NetworkCost == ChargeNetworkCost {
		l.Rule, l.Charged, l.Base = RuleChargeCost, true, costBase
	} else {
		l.Rule, l.Base = RuleAbsorbedCost, new(big.Int)
		l.Detail += ", paid by the exchange"
	}
	return l, native
}

// clampToDeposit cuts the lines, in clampOrder, so that together they take
// no more than the deposit. It returns what they asked for in all, in base
// units, and whether they were cut.
func clampToDeposit(lines []Line, deposit *big.Int) (asked *big.Int, clamped bool) {
	asked = new(big.Int)
	for _, l := range lines {
		asked.Add(asked, l.Base)
	}
	if asked.Cmp(deposit) <= 0 {
		return asked, false
	}
	left := new(big.Int).Set(deposit)
	for _, i := range clampOrder(lines) {
		if lines[i].Base.Cmp(left) > 0 {
			lines[i].Base = new(big.Int).Set(left)
		}
		left.Sub(left, lines[i].Base)
	}
	return asked, true
}

// settle writes each line's amount in whole units of the deposited asset
// and in USD, and returns the fee: the base units the lines take.
func (in QuoteInput) settle(lines []Line) *big.Int {
	fee := new(big.Int)
	for i := range lines {
		l := &lines[i]
		l.Amount = Units(l.Base, in.Decimals)
		l.USD = l.Amount.Mul(in.Price.Value)
		fee.Add(fee, l.Base)
	}
	return fee
}

// clampOrder is the order in which lines are paid from the deposit when
// they add up to more than it: the real network cost first, so that the
// service fee is the first to give way.
func clampOrder(lines []Line) []int {
	var order []int
	for _, kind := range []string{LineNetworkCost, LineServiceFee} {
		for i, l := range lines {
			if l.Kind == kind {
				order = append(order, i)
			}
		}
	}
	return order
}

func advise(s Schedule, depositUSD, feeUSD decimal.Decimal, clamped, urgent bool) Advice {
	var reasons []string
	if s.MaxShare.IsPositive() && feeUSD.GreaterThan(depositUSD.Mul(s.MaxShare)) {
		reasons = append(reasons, ReasonFeeAboveMaxShare)
	}
	if clamped {
		reasons = append(reasons, ReasonFeeExceedsDeposit)
	}
	if !urgent && s.SmallBelow.IsPositive() && depositUSD.LessThan(s.SmallBelow) {
		reasons = append(reasons, ReasonSmallAndNotUrgent)
	}
	if len(reasons) > 0 {
		return Advice{Action: AdviceWait, Reasons: reasons}
	}
	return Advice{Action: AdviceProceed}
}

// ServiceFeeUSD is the service fee the schedule asks for a deposit worth
// value USD, and the rule that decided it. It is exact: no rounding.
func ServiceFeeUSD(s Schedule, value decimal.Decimal) (decimal.Decimal, string) {
	fee, rule, _ := serviceFee(s, value)
	return fee, rule
}

func serviceFee(s Schedule, v decimal.Decimal) (decimal.Decimal, string, string) {
	if s.FreeBelow.IsPositive() && v.LessThan(s.FreeBelow) {
		return decimal.Zero, RuleFreeBelow, fmt.Sprintf("waived: deposit worth less than %s USD", s.FreeBelow)
	}
	var fee decimal.Decimal
	var rule string
	var parts []string
	if !s.Flat.IsZero() {
		parts = append(parts, s.Flat.String()+" USD flat")
	}
	switch {
	case len(s.Tiers) > 0:
		pct := tiered(s.Tiers, v)
		fee = s.Flat.Add(pct)
		rule = RuleTier
		if !s.Flat.IsZero() {
			rule = RuleFlatTier
		}
		parts = append(parts, fmt.Sprintf("%s USD by tiers on %s USD", pct, v))
	case !s.Percent.IsZero():
		fee = s.Flat.Add(v.Mul(s.Percent).Shift(-2))
		rule = RulePercent
		if !s.Flat.IsZero() {
			rule = RuleFlatPercent
		}
		parts = append(parts, fmt.Sprintf("%s%% of %s USD", s.Percent, v))
	case !s.Flat.IsZero():
		fee, rule = s.Flat, RuleFlat
	default:
		fee, rule = decimal.Zero, RuleNone
		parts = append(parts, "no service fee")
	}
	detail := strings.Join(parts, " + ")
	if s.Minimum.IsPositive() && fee.LessThan(s.Minimum) {
		detail = fmt.Sprintf("minimum %s USD (%s = %s USD)", s.Minimum, detail, fee)
		fee, rule = s.Minimum, RuleMinimum
	}
	if s.Cap.IsPositive() && fee.GreaterThan(s.Cap) {
		detail = fmt.Sprintf("capped at %s USD (%s = %s USD)", s.Cap, detail, fee)
		fee, rule = s.Cap, RuleCap
	}
	return fee, rule, detail
}

// tiered is the marginal percentage fee of value v.
func tiered(tiers []Tier, v decimal.Decimal) decimal.Decimal {
	fee, lower := decimal.Zero, decimal.Zero
	for i, t := range tiers {
		upper := t.UpTo
		last := i == len(tiers)-1 || upper.IsZero()
		band := v.Sub(lower)
		if !last && v.GreaterThan(upper) {
			band = upper.Sub(lower)
		}
		if band.IsPositive() {
			fee = fee.Add(band.Mul(t.Percent).Shift(-2))
		}
		if last || !v.GreaterThan(upper) {
			break
		}
		lower = upper
	}
	return fee
}

// Units turns base units into whole units: exact, by moving the point.
func Units(base *big.Int, decimals int32) decimal.Decimal {
	return decimal.NewFromBigInt(base, -decimals)
}

// usdToBase converts usd to base units of an asset priced price USD per
// whole unit, rounded up. It divides big rationals, so the rounding is
// decided on the exact quotient.
func usdToBase(usd, price decimal.Decimal, decimals int32) *big.Int {
	if !usd.IsPositive() {
		return new(big.Int)
	}
	r := usd.Rat()
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(bigTen, big.NewInt(int64(decimals)), nil)))
	r.Quo(r, price.Rat())
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func (in QuoteInput) sameAsset(c *recovery.NetworkCost) bool {
	return strings.EqualFold(strings.TrimSpace(c.Asset), strings.TrimSpace(in.Asset)) && c.Decimals == in.Decimals
}

func (in QuoteInput) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, recovery.FieldError(field, format, args...))
	}
	if strings.TrimSpace(in.ID) == "" {
		bad("id", "a quote needs an id")
	}
	if strings.TrimSpace(in.Asset) == "" {
		bad("asset", "is required")
	}
	if in.Decimals < 0 || in.Decimals > maxDecimals {
		bad("decimals", "must be between 0 and %d", maxDecimals)
	}
	if in.Amount == nil || in.Amount.Sign() < 0 {
		bad("amount", "must be a deposit of zero or more base units")
	}
	if !in.Price.Value.IsPositive() {
		bad("price", "must be a positive USD price")
	}
	if err := in.Schedule.Validate(); err != nil {
		errs = append(errs, prefixed("schedule", err))
	}
	if c := in.NetworkCost; c != nil {
		switch {
		case c.Amount == nil || c.Amount.Sign() < 0:
			bad("network_cost.amount", "must be zero or more base units")
		case c.Decimals < 0 || c.Decimals > maxDecimals:
			bad("network_cost.decimals", "must be between 0 and %d", maxDecimals)
		case !in.sameAsset(c) && (in.NativePrice == nil || !in.NativePrice.Value.IsPositive()):
			bad("native_price", "the USD price of %s is needed to charge a network cost on a %s deposit", c.Asset, in.Asset)
		}
	} else if in.Schedule.NetworkCost == ChargeNetworkCost {
		bad("network_cost", "the schedule charges the network cost, but no estimate was given")
	}
	if in.Now.IsZero() {
		bad("now", "is required")
	}
	if in.TTL <= 0 {
		bad("ttl", "must be positive")
	}
	return errors.Join(errs...)
}

// prefixed puts path in front of the fields of the *recovery.Error values
// err joins.
func prefixed(path string, err error) error {
	var out []error
	for _, e := range FieldErrors(err) {
		f := path
		if e.Field != "" {
			f += "." + e.Field
		}
		out = append(out, &recovery.Error{Code: e.Code, Message: e.Message, Field: f})
	}
	return errors.Join(out...)
}

// FieldErrors flattens an error made by errors.Join of *recovery.Error
// values (as Schedule.Validate returns) into those values. Any other error
// becomes one EInvalid error without a field.
func FieldErrors(err error) []*recovery.Error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*recovery.Error
		for _, e := range j.Unwrap() {
			out = append(out, FieldErrors(e)...)
		}
		return out
	}
	var re *recovery.Error
	if errors.As(err, &re) {
		return []*recovery.Error{re}
	}
	return []*recovery.Error{{Code: recovery.EInvalid, Message: err.Error()}}
}

func cloneCost(c *recovery.NetworkCost) *recovery.NetworkCost {
	if c == nil {
		return nil
	}
	cp := *c
	for _, p := range []**big.Int{&cp.Amount, &cp.BaseFee, &cp.TipCap, &cp.MaxFeePerGas} {
		if *p != nil {
			*p = new(big.Int).Set(*p)
		}
	}
	return &cp
}
