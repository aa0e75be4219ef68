package policy

import (
	"slices"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/shopspring/decimal"
)

// DecideInput holds the facts of a case that conditions look at. Decide
// reads no clock: Now is the caller's (workflow.Now in a workflow).
type DecideInput struct {
	// USD is the deposit's value; meaningful only when Priced.
	USD    decimal.Decimal `json:"usd"`
	Priced bool            `json:"priced"`
	// DepositedAt is when the deposit was made (its block time); zero
	// when unknown, and then max_age_days is not applied.
	DepositedAt time.Time `json:"deposited_at,omitzero"`
	Now         time.Time `json:"now,omitzero"`
	// RiskFlags (sanctions hit, unusual pattern, …) require the security
	// team's sign-off whatever the amount.
	RiskFlags []string `json:"risk_flags,omitempty"`
}

// Reasons a decision gives, in the order they were applied. They are
// stable codes: the API localises them.
const (
	// Where the action came from.
	ReasonNetworkCategoryRule = "network_category_rule" // the network's own rule for the category
	ReasonNetworkDefault      = "network_default"       // the network's recoverable made the default stricter
	ReasonDocumentDefault     = "document_default"      // the document default for the category
	ReasonNetworkNotInPolicy  = "network_not_in_policy" // category became unsupported_network
	ReasonUnknownCategory     = "unknown_category"      // not a category of DESIGN §2: parked for a specialist
	ReasonNoRule              = "no_rule"               // the policy has no rule for the category: parked
	ReasonNoPolicy            = "no_policy"

	// What the conditions did.
	ReasonUnpriced          = "unpriced"            // no USD price and the rule needs one: parked
	ReasonOlderThanMaxAge   = "older_than_max_age"  // rejected
	ReasonBelowMinUSD       = "below_min_usd"       // parked: too small to recover alone, not batchable
	ReasonBelowMinUSDBatch  = "below_min_usd_batch" // waits for a batch
	ReasonSecurityThreshold = "security_above_threshold"
	ReasonSecurityUnpriced  = "security_unpriced" // no price to compare with the threshold
	ReasonSecurityRiskFlags = "security_risk_flags"
	// ReasonTwoPeople: the rule names one sign-off team, and a second
	// was added so that two people agree to every recovery.
	ReasonTwoPeople = "two_person_rule"
)

// Decision is what the policy says about one case.
type Decision struct {
	Network  string `json:"network"`
	Category string `json:"category"` // unsupported_network when the network is not in the policy
	Action   Action `json:"action"`
	// Rule is the resolved rule (defaults, network default and network
	// category rule merged); its Fee is the schedule to quote with.
	Rule          Rule     `json:"rule"`
	PolicyVersion string   `json:"policy_version"`
	Reasons       []string `json:"reasons"`
	// Signoffs are the teams that must sign before execution, security
	// included when a condition asked for it. Empty unless recoverable.
	Signoffs []recovery.Team `json:"signoffs,omitempty"`
	SLA      time.Duration   `json:"sla"`
	// Batch is true when the deposit must wait for a batch (below
	// min_usd on a batchable rule); Batchable when it may join one.
	Batch       bool          `json:"batch,omitempty"`
	Batchable   bool          `json:"batchable,omitempty"`
	BatchWindow time.Duration `json:"batch_window,omitempty"`
	// BatchMaxCases and BatchMaxUSD close a batch early when it holds that
	// many deposits or that much value; zero means no such limit.
	BatchMaxCases int             `json:"batch_max_cases,omitempty"`
	BatchMaxUSD   decimal.Decimal `json:"batch_max_usd,omitzero"`
	Explanation   string          `json:"explanation,omitempty"`
	// Outcome is "return" for a deposit that, once recovered, is sent
	// back to the address it came from rather than credited (a token the
	// exchange lists on no network); "" means it is credited.
	Outcome string `json:"outcome,omitempty"`
}

// OutcomeReturn is the Outcome of a deposit sent back once recovered.
const OutcomeReturn = "return"

// resolution is a rule resolved for one network and category, before the
// facts of a case are looked at.
type resolution struct {
	category string
	action   Action
	rule     Rule
	reasons  []string
}

func (p *Policy) resolve(network, category string) resolution {
	r := resolution{category: category}
	np, inPolicy := p.Networks[network]
	if !inPolicy {
		r.category = recovery.CategoryUnsupportedNetwork
		r.reasons = append(r.reasons, ReasonNetworkNotInPolicy)
	} else if !recovery.IsCategory(category) {
		// Parked for a specialist; the rest of the rule is the
		// network's default.
		r.action = Park
		r.reasons = append(r.reasons, ReasonUnknownCategory)
		if np.Default != nil {
			r.rule = merge(r.rule, *np.Default)
		}
		if r.rule.SLAHours <= 0 {
			r.rule.SLAHours = UnknownCategorySLAHours
		}
		r.rule.Action = r.action
		r.rule = r.rule.clone()
		return r
	}

	base, hasDefault := p.Defaults[r.category]
	r.rule = base
	var own Rule
	var hasOwn bool
	if inPolicy {
		if np.Default != nil {
			r.rule = merge(r.rule, *np.Default)
		}
		if own, hasOwn = np.Categories[r.category]; hasOwn {
			r.rule = merge(r.rule, own)
		}
	}

	switch {
	case hasOwn && own.Action != "":
		r.action = own.Action
		r.reasons = append(r.reasons, ReasonNetworkCategoryRule)
		if !r.action.valid() {
			r.action = Park
		}
	case !hasDefault || base.Action == "":
		r.action = Park
		r.reasons = append(r.reasons, ReasonNoRule)
	case !inPolicy:
		// A network the policy does not know is at least parked.
		r.action = stricter(base.Action, Park)
		r.reasons = append(r.reasons, ReasonDocumentDefault)
	default:
		r.action = stricter(base.Action, np.Recoverable)
		if r.action != base.Action {
			r.reasons = append(r.reasons, ReasonNetworkDefault)
		} else {
			r.reasons = append(r.reasons, ReasonDocumentDefault)
		}
	}
	r.rule.Action = r.action
	r.rule = r.rule.clone()
	return r
}

// UnknownCategorySLAHours is the SLA of a case whose category the policy
// does not know (a classifier newer than the policy), when the network
// default sets none: a specialist looks at it within a day.
const UnknownCategorySLAHours = 24

// clone returns a deep copy, so that a Decision never aliases the policy.
func (r Rule) clone() Rule {
	c := r
	c.Signoffs = slices.Clone(r.Signoffs)
	if r.Fee != nil {
		f := *r.Fee
		f.Tiers = slices.Clone(r.Fee.Tiers)
		c.Fee = &f
	}
	cp := func(p *decimal.Decimal) *decimal.Decimal {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	cb := func(p *bool) *bool {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	ci := func(p *int) *int {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	c.Conditions = Conditions{
		MinUSD: cp(r.Conditions.MinUSD), RequiresPrice: cb(r.Conditions.RequiresPrice), MaxAgeDays: ci(r.Conditions.MaxAgeDays),
		SecuritySignoffAboveUSD: cp(r.Conditions.SecuritySignoffAboveUSD), Batchable: cb(r.Conditions.Batchable),
		BatchWindowHours: ci(r.Conditions.BatchWindowHours), BatchMaxCases: ci(r.Conditions.BatchMaxCases),
		BatchMaxUSD: cp(r.Conditions.BatchMaxUSD),
	}
	return c
}

// merge returns base with every field over sets replaced.
func merge(base, over Rule) Rule {
	out := base
	if over.Action != "" {
		out.Action = over.Action
	}
	c, o := &out.Conditions, over.Conditions
	if o.MinUSD != nil {
		c.MinUSD = o.MinUSD
	}
	if o.RequiresPrice != nil {
		c.RequiresPrice = o.RequiresPrice
	}
	if o.MaxAgeDays != nil {
		c.MaxAgeDays = o.MaxAgeDays
	}
	if o.SecuritySignoffAboveUSD != nil {
		c.SecuritySignoffAboveUSD = o.SecuritySignoffAboveUSD
	}
	if o.Batchable != nil {
		c.Batchable = o.Batchable
	}
	if o.BatchWindowHours != nil {
		c.BatchWindowHours = o.BatchWindowHours
	}
	if o.BatchMaxCases != nil {
		c.BatchMaxCases = o.BatchMaxCases
	}
	if o.BatchMaxUSD != nil {
		c.BatchMaxUSD = o.BatchMaxUSD
	}
	if over.Signoffs != nil {
		out.Signoffs = over.Signoffs
	}
	if over.SLAHours != 0 {
		out.SLAHours = over.SLAHours
	}
	if over.Fee != nil {
		out.Fee = over.Fee
	}
	if over.Explanation != "" {
		out.Explanation = over.Explanation
	}
	return out
}

// Decide says how the case of a deposit of category on network is handled
// under this policy, given its facts. It never fails: a network the policy
// does not know is unsupported_network (parked), an unknown category is
// parked for a specialist. Every decision carries the policy version.
//
// On a recoverable action the conditions apply in this order: a missing
// price parks (requires_price, or min_usd which needs one); an old deposit
// is rejected (max_age_days); a deposit below min_usd waits for a batch
// when batchable, else is parked; security's sign-off is added above
// security_signoff_above_usd, when the deposit has no price to compare, or
// on risk flags.
func (p *Policy) Decide(network, category string, facts DecideInput) Decision {
	if p == nil {
		return Decision{Network: network, Category: category, Action: Park, Reasons: []string{ReasonNoPolicy}}
	}
	r := p.resolve(network, category)
	d := Decision{
		Network: network, Category: r.category, Action: r.action, Rule: r.rule,
		PolicyVersion: p.Version, Reasons: r.reasons,
		SLA: time.Duration(max(r.rule.SLAHours, 0)) * time.Hour, Explanation: r.rule.Explanation,
	}
	if !d.Action.Recoverable() {
		return d
	}
	c := r.rule.Conditions
	setAction := func(a Action, reason string) Decision {
		d.Action, d.Rule.Action = a, a
		d.Reasons = append(d.Reasons, reason)
		return d
	}
	if !facts.Priced && (isTrue(c.RequiresPrice) || c.MinUSD != nil) {
		return setAction(Park, ReasonUnpriced)
	}
	if c.MaxAgeDays != nil && !facts.DepositedAt.IsZero() && !facts.Now.IsZero() &&
		facts.Now.Sub(facts.DepositedAt) > time.Duration(*c.MaxAgeDays)*24*time.Hour {
		return setAction(Reject, ReasonOlderThanMaxAge)
	}
	d.Batchable = isTrue(c.Batchable)
	if d.Batchable && c.BatchWindowHours != nil {
		d.BatchWindow = time.Duration(*c.BatchWindowHours) * time.Hour
	}
	if d.Batchable && c.BatchMaxCases != nil {
		d.BatchMaxCases = *c.BatchMaxCases
	}
	if d.Batchable && c.BatchMaxUSD != nil {
		d.BatchMaxUSD = *c.BatchMaxUSD
	}
	if c.MinUSD != nil && facts.USD.LessThan(*c.MinUSD) {
		if !d.Batchable {
			d.Batchable, d.BatchWindow, d.BatchMaxCases, d.BatchMaxUSD = false, 0, 0, decimal.Decimal{}
			return setAction(Park, ReasonBelowMinUSD)
		}
		d.Batch = true
		d.Reasons = append(d.Reasons, ReasonBelowMinUSDBatch)
	}

	teams := slices.Clone(r.rule.Signoffs)
	if t := c.SecuritySignoffAboveUSD; t != nil {
		switch {
		case !facts.Priced:
			teams = append(teams, recovery.TeamSecurity)
			d.Reasons = append(d.Reasons, ReasonSecurityUnpriced)
		case facts.USD.GreaterThan(*t):
			teams = append(teams, recovery.TeamSecurity)
			d.Reasons = append(d.Reasons, ReasonSecurityThreshold)
		}
	}
	if len(facts.RiskFlags) > 0 {
		teams = append(teams, recovery.TeamSecurity)
		d.Reasons = append(d.Reasons, ReasonSecurityRiskFlags)
	}
	// Two people agree to every recovery, and one person signs for one
	// team only: a rule that names a single team gets a second, the
	// first of wallet, settlement and security it lacks.
	if d.Action.Recoverable() && len(distinctTeams(teams)) < 2 {
		for _, t := range recovery.Teams() {
			if len(distinctTeams(teams)) < 2 && !slices.Contains(teams, t) {
				teams = append(teams, t)
			}
		}
		d.Reasons = append(d.Reasons, ReasonTwoPeople)
	}
	// Canonical order, each team once: sign-off collection iterates this.
	for _, t := range recovery.Teams() {
		if slices.Contains(teams, t) {
			d.Signoffs = append(d.Signoffs, t)
		}
	}
	return d
}

func distinctTeams(teams []recovery.Team) []recovery.Team {
	var out []recovery.Team
	for _, t := range teams {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func isTrue(b *bool) bool { return b != nil && *b }

// NetworkCategory names one network and category pair.
type NetworkCategory struct {
	Network  string `json:"network"`
	Category string `json:"category"`
}

// NewlySupported lists the network and category pairs that p makes
// recoverable (direct or conditional) and old did not: parked under old, or
// on a network absent from old. For a network absent from old, the pair
// (network, unsupported_network) is listed too, since cases waiting for it
// were parked under that category. The cases parked for these pairs can be
// resumed when p is applied. A nil old is an empty policy. The list is
// sorted by network, then in category order.
//
// Only the rules are compared, not the facts of any case: a resumed case
// is decided again and may be parked again (no price, below min_usd).
func (p *Policy) NewlySupported(old *Policy) []NetworkCategory {
	var out []NetworkCategory
	for _, id := range p.NetworkIDs() {
		wasIn := false
		if old != nil {
			_, wasIn = old.Networks[id]
		}
		var newly []NetworkCategory
		for _, c := range recovery.Categories() {
			if c == recovery.CategoryUnsupportedNetwork {
				continue
			}
			if !p.resolve(id, c).action.Recoverable() {
				continue
			}
			before := Park
			if old != nil {
				before = old.resolve(id, c).action
			}
			if before == Park {
				newly = append(newly, NetworkCategory{Network: id, Category: c})
			}
		}
		if !wasIn && len(newly) > 0 {
			out = append(out, NetworkCategory{Network: id, Category: recovery.CategoryUnsupportedNetwork})
		}
		out = append(out, newly...)
	}
	return out
}
