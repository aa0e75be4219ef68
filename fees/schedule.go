// Package fees owns what a recovery costs the user: fee schedules, the USD
// prices they are computed with, and the itemised, expiring quote built
// from them. The on-chain cost of the recovery transaction comes in as a
// recovery.NetworkCost, estimated from the network's nodes by the chain
// adapters (chains.CostEstimator); fees never talks to a node.
//
// Money is decimal.Decimal (USD, display units) or *big.Int (base units of
// an asset: wei, satoshi) and never a binary floating-point number.
//
// Quotes and schedules are pure and deterministic, so that a workflow can
// call them through an activity and replay the same answer.
package fees

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
)

// NetworkCostMode says who pays the on-chain cost of the recovery
// transaction.
type NetworkCostMode string

const (
	// ChargeNetworkCost passes the estimated cost on to the user, as its own
	// line of the quote.
	ChargeNetworkCost NetworkCostMode = "charge"
	// AbsorbNetworkCost shows the cost on the quote but the exchange pays it.
	AbsorbNetworkCost NetworkCostMode = "absorb"
)

// Schedule is how the service fee of one network and category is computed.
// All money is in USD; percentages are of the deposit's USD value ("2.5"
// means 2.5 %). A zero field is "not used" unless said otherwise.
//
// The service fee is, in this order:
//  1. zero when the deposit is worth less than FreeBelow;
//  2. Flat plus Percent of the deposit value, or plus the Tiers (marginal
//     percentages, like income tax brackets) when Tiers is set;
//  3. raised to Minimum;
//  4. lowered to Cap.
//
// The network cost is added on top when NetworkCost is "charge".
type Schedule struct {
	Flat      decimal.Decimal `json:"flat,omitzero" yaml:"flat,omitempty"`
	Percent   decimal.Decimal `json:"percent,omitzero" yaml:"percent,omitempty"`
	Minimum   decimal.Decimal `json:"minimum,omitzero" yaml:"minimum,omitempty"`
	Cap       decimal.Decimal `json:"cap,omitzero" yaml:"cap,omitempty"`               // zero: no cap
	FreeBelow decimal.Decimal `json:"free_below,omitzero" yaml:"free_below,omitempty"` // service fee waived below this deposit value
	// Tiers replace Percent when present. Each tier charges its percentage
	// on the part of the deposit value between the previous tier's UpTo and
	// its own; the last tier has no UpTo and covers everything above.
	Tiers       []Tier          `json:"tiers,omitempty" yaml:"tiers,omitempty"`
	NetworkCost NetworkCostMode `json:"network_cost" yaml:"network_cost"`
	// MaxShare (e.g. "0.5") is the share of the deposit value above which
	// the fee (service fee plus charged network cost) makes the quote advise
	// waiting. Zero: never advise on the share.
	MaxShare decimal.Decimal `json:"max_share,omitzero" yaml:"max_share,omitempty"`
	// SmallBelow is the deposit value under which a deposit is "small": a
	// user who did not say they are in a hurry is advised to wait. Zero:
	// no deposit is small.
	SmallBelow decimal.Decimal `json:"small_below,omitzero" yaml:"small_below,omitempty"`
}

// Tier is one marginal bracket of a tiered schedule.
type Tier struct {
	UpTo    decimal.Decimal `json:"up_to,omitzero" yaml:"up_to,omitempty"` // USD; zero on the last tier: no upper bound
	Percent decimal.Decimal `json:"percent" yaml:"percent"`
}

// Bounds on schedule values. They keep a typo ("25000000000") or a hostile
// file ("1e-9000") from turning into a fee nobody meant, or into arithmetic
// on numbers with thousands of digits.
var (
	maxUSD         = decimal.New(1, 12) // one trillion USD
	hundred        = decimal.NewFromInt(100)
	one            = decimal.NewFromInt(1)
	maxUSDPlaces   = int32(8)
	maxRatioPlaces = int32(6)
)

// Validate checks the schedule. The error joins one *recovery.Error per
// problem (code EInvalid), each with the field path inside the schedule
// ("percent", "tiers[1].up_to"), so that a policy can prefix its own path.
func (s Schedule) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, recovery.FieldError(field, format, args...))
	}
	usd := func(field string, v decimal.Decimal) {
		switch {
		case v.IsNegative():
			bad(field, "must not be negative")
		case v.GreaterThan(maxUSD):
			bad(field, "must be at most %s USD", maxUSD)
		case places(v) > maxUSDPlaces:
			bad(field, "must have at most %d decimal places", maxUSDPlaces)
		}
	}
	percent := func(field string, v decimal.Decimal) {
		switch {
		case v.IsNegative() || v.GreaterThan(hundred):
			bad(field, "must be between 0 and 100")
		case places(v) > maxRatioPlaces:
			bad(field, "must have at most %d decimal places", maxRatioPlaces)
		}
	}
	usd("flat", s.Flat)
	percent("percent", s.Percent)
	usd("minimum", s.Minimum)
	usd("cap", s.Cap)
	usd("free_below", s.FreeBelow)
	usd("small_below", s.SmallBelow)
	if s.Cap.IsPositive() && s.Minimum.GreaterThan(s.Cap) {
		bad("minimum", "must not be above cap (%s)", s.Cap)
	}
	if len(s.Tiers) > 0 && !s.Percent.IsZero() {
		bad("percent", "must be empty when tiers are set: tiers replace it")
	}
	if len(s.Tiers) > 100 {
		bad("tiers", "must have at most 100 tiers")
	}
	prev := decimal.Zero
	for i, t := range s.Tiers {
		field := fmt.Sprintf("tiers[%d]", i)
		percent(field+".percent", t.Percent)
		last := i == len(s.Tiers)-1
		switch {
		case last && !t.UpTo.IsZero():
			bad(field+".up_to", "must be empty on the last tier, which covers everything above %s USD", prev)
		case last:
		case !t.UpTo.IsPositive():
			bad(field+".up_to", "is required on every tier but the last")
		case !t.UpTo.GreaterThan(prev):
			bad(field+".up_to", "must be above the previous tier's up_to (%s)", prev)
		default:
			usd(field+".up_to", t.UpTo)
			prev = t.UpTo
		}
	}
	switch s.NetworkCost {
	case ChargeNetworkCost, AbsorbNetworkCost:
	case "":
		bad("network_cost", "is required: charge or absorb")
	default:
		bad("network_cost", "must be charge or absorb, not %q", s.NetworkCost)
	}
	switch {
	case s.MaxShare.IsNegative() || s.MaxShare.GreaterThan(one):
		bad("max_share", "must be between 0 and 1")
	case places(s.MaxShare) > maxRatioPlaces:
		bad("max_share", "must have at most %d decimal places", maxRatioPlaces)
	}
	return errors.Join(errs...)
}

// places is the number of digits after the decimal point that matter
// ("2.50" has 1).
func places(d decimal.Decimal) int32 {
	p := -d.Exponent()
	if p <= 0 || d.IsZero() {
		return 0
	}
	c := new(big.Int).Abs(d.Coefficient())
	q, r := new(big.Int), new(big.Int)
	for p > 0 {
		q.QuoRem(c, bigTen, r)
		if r.Sign() != 0 {
			break
		}
		c, q = q, c
		p--
	}
	return p
}

var bigTen = big.NewInt(10)
