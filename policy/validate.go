package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/fees"
)

// Problem is one thing wrong with a policy document.
type Problem struct {
	// Path is where, as dotted keys and [index]es:
	// "networks.bsc.categories.unlisted_token.fee.percent". Empty for a
	// problem of the whole document (a syntax error).
	Path    string `json:"path"`
	Message string `json:"message"`
	// Line is the line in the document when known (parse problems).
	Line int `json:"line,omitempty"`
}

// String is "path: message", with the line when known.
func (p Problem) String() string {
	switch {
	case p.Path == "" && p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	case p.Path == "":
		return p.Message
	case p.Line > 0:
		return fmt.Sprintf("%s: %s (line %d)", p.Path, p.Message, p.Line)
	default:
		return p.Path + ": " + p.Message
	}
}

// ValidationError lists every problem found in a policy. Its code is
// recovery.EInvalid (errors.As finds a *recovery.Error in it).
type ValidationError struct {
	Problems []Problem
}

func invalid(ps ...Problem) *ValidationError { return &ValidationError{Problems: ps} }

func (e *ValidationError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("policy: ")
	} else {
		fmt.Fprintf(&b, "policy: %d problems: ", len(e.Problems))
	}
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap gives the domain error, so that recovery.ErrorCode says EInvalid.
func (e *ValidationError) Unwrap() error {
	field := ""
	if len(e.Problems) > 0 {
		field = e.Problems[0].Path
	}
	return &recovery.Error{Code: recovery.EInvalid, Message: e.Error(), Field: field}
}

// Limits of policy values.
var (
	versionPattern     = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$`)
	explanationPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,99}$`)
	maxUSD             = decimal.New(1, 12)
)

const (
	maxHours = 24 * 366 // a year
	maxDays  = 3660     // ten years
	// maxBatchCases bounds a batch: a UTXO sweep of this many inputs stays
	// well under the standard transaction size.
	maxBatchCases = 500
)

// Validate checks the meaning of the policy against the networks the
// engine knows (chains.DefaultNetworks or the configured registry; nil
// skips the network id check) and returns every problem found as a
// *ValidationError, or nil.
//
// It checks: the version; a default rule with an action for every
// category and no unknown category; known network ids with a valid
// recoverable; rule values (actions, teams, money not negative, hours and
// days positive, fee schedules); and, for every network and category as
// Decide resolves them: an SLA, a fee schedule and at least one sign-off
// for a recoverable action, batch_window_hours only with batchable, and a
// security sign-off (threshold or team) on every recoverable category of a
// conditional network.
func (p *Policy) Validate(known []chains.Network) error {
	v := &validator{}
	v.version(p.Version)
	reported := v.defaults(p.Defaults)
	registered := networkIDs(known)
	for _, id := range p.NetworkIDs() {
		v.network(id, p.Networks[id], registered)
		v.resolvedNetwork(p, id, reported)
	}
	if len(v.problems) > 0 {
		return invalid(v.problems...)
	}
	return nil
}

func (v *validator) version(version string) {
	switch {
	case strings.TrimSpace(version) == "":
		v.add("version", "is required, e.g. \"2026-11-23.1\"")
	case !versionPattern.MatchString(version):
		v.add("version", "must be 1-64 letters, digits, dots, dashes, underscores or plus signs")
	}
}

// defaults checks the document's default rules: one per category, each
// with an action. It returns, per category, the fields whose problem as
// resolved it reported, so that a network inheriting the rule is not told
// the same again.
func (v *validator) defaults(defaults map[string]Rule) (reported map[string][]string) {
	for _, c := range sortedKeys(defaults) {
		if !recovery.IsCategory(c) {
			v.add("defaults."+c, "unknown category (known: %s)", strings.Join(recovery.Categories(), ", "))
		}
	}
	reported = map[string][]string{}
	for _, c := range recovery.Categories() {
		r, ok := defaults[c]
		if !ok {
			v.add("defaults."+c, "missing: every category needs a default rule")
			continue
		}
		reported[c] = v.defaultRule(c, r)
	}
	return reported
}

// defaultRule checks the default rule of category c, as written and as
// Decide applies it, and returns the fields with a problem as resolved.
func (v *validator) defaultRule(c string, r Rule) (fields []string) {
	path := "defaults." + c
	if r.Action == "" {
		v.add(path+".action", "is required in a default rule: one of %s", actionList())
	}
	v.rule(path, r)
	if c == recovery.CategoryUnsupportedNetwork && r.Action.Recoverable() {
		v.add(path+".action", "must be park or reject: a network outside the policy cannot be recovered")
	}
	if !r.Action.valid() {
		return nil
	}
	action := r.Action
	if c == recovery.CategoryUnsupportedNetwork {
		action = stricter(action, Park) // as Decide applies it
	}
	for _, pr := range resolvedProblems(r, action) {
		v.addOnce(path+"."+pr.field, "%s", pr.msg)
		fields = append(fields, pr.field)
	}
	return fields
}

// networkIDs is the set of ids of the known networks; nil when known is
// nil, which skips the check.
func networkIDs(known []chains.Network) map[string]bool {
	if known == nil {
		return nil
	}
	ids := map[string]bool{}
	for _, n := range known {
		ids[n.ID] = true
	}
	return ids
}

// network checks the values written for one network: its id, its
// recoverable action, its default rule and its category rules.
func (v *validator) network(id string, np NetworkPolicy, registered map[string]bool) {
	path := "networks." + id
	if registered != nil && !registered[id] {
		v.add(path, "unknown network (not in the network registry)")
	}
	switch {
	case np.Recoverable == "":
		v.add(path+".recoverable", "is required: one of %s", actionList())
	case !np.Recoverable.valid():
		v.add(path+".recoverable", "must be one of %s, not %q", actionList(), np.Recoverable)
	}
	if np.Default != nil {
		if np.Default.Action != "" {
			v.add(path+".default.action", "is not allowed: the network's action is recoverable")
		}
		v.rule(path+".default", *np.Default)
	}
	for _, c := range sortedKeys(np.Categories) {
		cp := path + ".categories." + c
		switch {
		case !recovery.IsCategory(c):
			v.add(cp, "unknown category (known: %s)", strings.Join(recovery.Categories(), ", "))
			continue
		case c == recovery.CategoryUnsupportedNetwork:
			v.add(cp, "cannot be set on a network in the policy: the network is supported")
		}
		v.rule(cp, np.Categories[c])
	}
}

// resolvedNetwork checks every category as Decide resolves it on network
// id. A problem the default rule already has was reported there (reported,
// from defaults); one coming from a network category rule is reported at
// that rule; one coming from the network default, once at the network
// default, naming the categories it affects.
func (v *validator) resolvedNetwork(p *Policy, id string, reported map[string][]string) {
	path := "networks." + id
	np := p.Networks[id]
	var noSecurity []string
	fromDefault := map[string][]string{} // field → categories
	var fromDefaultOrder []fieldProblem
	for _, c := range recovery.Categories() {
		if c == recovery.CategoryUnsupportedNetwork {
			continue
		}
		if _, ok := p.Defaults[c]; !ok {
			continue // reported as missing
		}
		r := p.resolve(id, c)
		_, own := np.Categories[c]
		for _, pr := range resolvedProblems(r.rule, r.action) {
			switch {
			case slices.Contains(reported[c], pr.field):
			case own:
				v.addOnce(path+".categories."+c+"."+pr.field, "%s", pr.msg)
			default:
				if _, seen := fromDefault[pr.field]; !seen {
					fromDefaultOrder = append(fromDefaultOrder, pr)
				}
				fromDefault[pr.field] = append(fromDefault[pr.field], c)
			}
		}
		if np.Recoverable == Conditional && lacksSecuritySignoff(r) {
			noSecurity = append(noSecurity, c)
		}
	}
	for _, pr := range fromDefaultOrder {
		v.addOnce(path+".default."+pr.field, "%s (categories %s)", pr.msg, strings.Join(fromDefault[pr.field], ", "))
	}
	if len(noSecurity) > 0 {
		v.add(path, "a conditional network needs the security team's sign-off on every recoverable category; missing for %s: set default.conditions.security_signoff_above_usd or add security to signoffs",
			strings.Join(noSecurity, ", "))
	}
}

// lacksSecuritySignoff is true for a recoverable resolution that never asks
// the security team: no threshold above which it signs, and not a sign-off
// team.
func lacksSecuritySignoff(r resolution) bool {
	return r.action.Recoverable() &&
		r.rule.Conditions.SecuritySignoffAboveUSD == nil && !slices.Contains(r.rule.Signoffs, recovery.TeamSecurity)
}

type validator struct {
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// addOnce adds a problem unless one is already reported at path: a value
// that is wrong where it is written needs no second message about what it
// does once resolved.
func (v *validator) addOnce(path, format string, args ...any) {
	if !slices.ContainsFunc(v.problems, func(p Problem) bool { return p.Path == path }) {
		v.add(path, format, args...)
	}
}

// rule checks the values one rule sets, wherever it is written.
func (v *validator) rule(path string, r Rule) {
	if r.Action != "" && !r.Action.valid() {
		v.add(path+".action", "must be one of %s, not %q", actionList(), r.Action)
	}
	c := r.Conditions
	v.usd(path+".conditions.min_usd", c.MinUSD)
	v.usd(path+".conditions.security_signoff_above_usd", c.SecuritySignoffAboveUSD)
	if c.MaxAgeDays != nil && (*c.MaxAgeDays <= 0 || *c.MaxAgeDays > maxDays) {
		v.add(path+".conditions.max_age_days", "must be between 1 and %d", maxDays)
	}
	if c.BatchWindowHours != nil && (*c.BatchWindowHours <= 0 || *c.BatchWindowHours > maxHours) {
		v.add(path+".conditions.batch_window_hours", "must be between 1 and %d", maxHours)
	}
	if c.BatchMaxCases != nil && (*c.BatchMaxCases < 2 || *c.BatchMaxCases > maxBatchCases) {
		v.add(path+".conditions.batch_max_cases", "must be between 2 and %d", maxBatchCases)
	}
	v.usd(path+".conditions.batch_max_usd", c.BatchMaxUSD)
	for i, t := range r.Signoffs {
		switch {
		case !slices.Contains(recovery.Teams(), t):
			v.add(fmt.Sprintf("%s.signoffs[%d]", path, i), "unknown team %q: one of wallet, settlement, security", t)
		case slices.Index(r.Signoffs, t) < i:
			v.add(fmt.Sprintf("%s.signoffs[%d]", path, i), "team %s is listed twice", t)
		}
	}
	if r.SLAHours < 0 || r.SLAHours > maxHours {
		v.add(path+".sla_hours", "must be greater than 0 and at most %d", maxHours)
	}
	if r.Fee != nil {
		for _, e := range fees.FieldErrors(r.Fee.Validate()) {
			v.add(path+".fee."+e.Field, "%s", e.Message)
		}
	}
	if r.Explanation != "" && !explanationPattern.MatchString(r.Explanation) {
		v.add(path+".explanation", "must be a message key: lower-case letters, digits, dots, dashes and underscores")
	}
}

func (v *validator) usd(path string, d *decimal.Decimal) {
	switch {
	case d == nil:
	case d.IsNegative():
		v.add(path, "must not be negative")
	case d.GreaterThan(maxUSD):
		v.add(path, "must be at most %s USD", maxUSD)
	case d.Exponent() < -8 && !d.Mul(decimal.New(1, 8)).IsInteger():
		v.add(path, "must have at most 8 decimal places")
	}
}

type fieldProblem struct{ field, msg string }

// resolvedProblems checks a rule as it applies (all layers merged) with
// the action it resolves to.
func resolvedProblems(r Rule, action Action) []fieldProblem {
	var out []fieldProblem
	if r.SLAHours <= 0 {
		out = append(out, fieldProblem{"sla_hours", "must be greater than 0 (set here or in the default rule)"})
	}
	if action.Recoverable() {
		if r.Fee == nil {
			out = append(out, fieldProblem{"fee", "a recoverable rule needs a fee schedule (network_cost: absorb and nothing else for free)"})
		}
		if len(r.Signoffs) == 0 {
			out = append(out, fieldProblem{"signoffs", "a recoverable rule needs at least one sign-off team"})
		}
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"batch_window_hours", r.Conditions.BatchWindowHours != nil},
		{"batch_max_cases", r.Conditions.BatchMaxCases != nil},
		{"batch_max_usd", r.Conditions.BatchMaxUSD != nil},
	} {
		if f.set && !isTrue(r.Conditions.Batchable) {
			out = append(out, fieldProblem{"conditions." + f.name, "is set but conditions.batchable is not true"})
		}
	}
	return out
}

func actionList() string {
	var s []string
	for _, a := range Actions() {
		s = append(s, string(a))
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
