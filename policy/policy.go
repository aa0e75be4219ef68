// Package policy owns the versioned recovery policy: for every network and
// category (DESIGN §2), whether a deposit is recoverable directly, under
// conditions, parked until the network is supported, or rejected; the
// conditions, the sign-offs, the SLA and the fee schedule. Decide turns a
// policy and the facts of a case into a Decision that records the policy
// version it used.
//
// A policy is a YAML or JSON document:
//
//	version: "2026-11-23.1"
//	defaults:                     # one rule per category, for every network
//	  unlisted_token: {action: conditional, conditions: {min_usd: 50}, signoffs: [wallet, settlement], sla_hours: 168, fee: {...}}
//	  ...
//	networks:
//	  eth: {recoverable: direct}
//	  etc:
//	    recoverable: conditional  # the network-level default action
//	    default:                  # the network default rule: overrides the defaults' fields on this network
//	      conditions: {security_signoff_above_usd: 1000}
//	      fee: {...}
//	    categories:               # network category rules
//	      retired_address: {action: park}
//
// # Resolution
//
// The rule for (network, category) is resolved in this order, the most
// specific first: the network category rule > the network default > the
// document defaults.
//
//   - Fields: start from defaults[category]; every field the network's
//     `default` rule sets replaces it; then every field the network's
//     `categories[category]` rule sets replaces that. Conditions are merged
//     condition by condition; a fee schedule and a sign-off list are
//     replaced whole (`signoffs: []` means none).
//   - Action: an action set by the network category rule is taken as is:
//     it is an explicit decision for this network. Otherwise the action of
//     defaults[category] applies, made stricter by the network's
//     `recoverable` (direct < conditional < park < reject): a direct
//     category on a conditional network is conditional, everything
//     recoverable on a parked network is parked, and a rejected category
//     (failed_tx) stays rejected everywhere.
//   - A network absent from the policy is the category unsupported_network,
//     at least parked.
package policy

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/fees"
)

// Action is how a deposit is recoverable.
type Action string

const (
	Direct      Action = "direct"      // recover with the rule's sign-offs
	Conditional Action = "conditional" // recover if the conditions hold, with the extra sign-offs and fee
	Park        Action = "park"        // wait: for support of the network, a price, a larger batch
	Reject      Action = "reject"      // not recoverable; explain why
)

// Actions lists the actions from the most permissive to the strictest.
func Actions() []Action { return []Action{Direct, Conditional, Park, Reject} }

// Recoverable reports whether the action leads to a recovery.
func (a Action) Recoverable() bool { return a == Direct || a == Conditional }

// strictness orders actions; an unknown action counts as Park, so that a
// broken policy parks cases rather than recovering them.
func (a Action) strictness() int {
	switch a {
	case Direct:
		return 0
	case Conditional:
		return 1
	case Reject:
		return 3
	default:
		return 2
	}
}

func stricter(a, b Action) Action {
	if !a.valid() {
		a = Park
	}
	if !b.valid() {
		b = Park
	}
	if b.strictness() > a.strictness() {
		return b
	}
	return a
}

func (a Action) valid() bool { return slices.Contains(Actions(), a) }

// Policy is one version of the recovery policy. It is read-only once
// parsed; Decide is safe for concurrent use.
type Policy struct {
	Version  string                   `json:"version" yaml:"version"`
	Defaults map[string]Rule          `json:"defaults" yaml:"defaults"`
	Networks map[string]NetworkPolicy `json:"networks" yaml:"networks"`
}

// NetworkPolicy is how one network is recoverable.
type NetworkPolicy struct {
	// Recoverable is the network-level default action, and the most
	// permissive action a document default can have on this network.
	Recoverable Action `json:"recoverable" yaml:"recoverable"`
	// Default is the network default rule: the fields it sets override the
	// document defaults for every category on this network. It cannot set
	// an action (that is Recoverable).
	Default *Rule `json:"default,omitempty" yaml:"default,omitempty"`
	// Categories are the network category rules, the most specific.
	Categories map[string]Rule `json:"categories,omitempty" yaml:"categories,omitempty"`
}

// Rule says how one category is handled. In a network default or a
// network category rule every field is optional: an unset field inherits
// (see the package documentation).
type Rule struct {
	Action     Action     `json:"action,omitempty" yaml:"action,omitempty"`
	Conditions Conditions `json:"conditions,omitzero" yaml:"conditions,omitempty"`
	// Signoffs are the teams that must agree before the recovery is
	// executed. Security is added by Decide above the security threshold
	// or on risk flags.
	Signoffs []recovery.Team `json:"signoffs,omitempty" yaml:"signoffs,omitempty"`
	// SLAHours is how long the desk has to carry out the decision.
	SLAHours int `json:"sla_hours,omitempty" yaml:"sla_hours,omitempty"`
	// Fee is the fee schedule of a recovery under this rule.
	Fee *fees.Schedule `json:"fee,omitempty" yaml:"fee,omitempty"`
	// Explanation is the message key shown to the user (e.g.
	// "policy.already_credited").
	Explanation string `json:"explanation,omitempty" yaml:"explanation,omitempty"`
}

// Conditions a recoverable decision is subject to. Nil means not set.
type Conditions struct {
	// MinUSD is the deposit value below which the deposit is not
	// recovered on its own: it waits for a batch when Batchable, else it
	// is parked. It needs a USD price.
	MinUSD *decimal.Decimal `json:"min_usd,omitempty" yaml:"min_usd,omitempty"`
	// RequiresPrice parks a deposit without a USD price (unlisted tokens
	// nobody prices).
	RequiresPrice *bool `json:"requires_price,omitempty" yaml:"requires_price,omitempty"`
	// MaxAgeDays rejects deposits older than this.
	MaxAgeDays *int `json:"max_age_days,omitempty" yaml:"max_age_days,omitempty"`
	// SecuritySignoffAboveUSD adds the security team's sign-off for
	// deposits worth more, or without a price.
	SecuritySignoffAboveUSD *decimal.Decimal `json:"security_signoff_above_usd,omitempty" yaml:"security_signoff_above_usd,omitempty"`
	// Batchable deposits may be recovered together in one transaction,
	// sharing its network cost; BatchWindowHours is how long a batch
	// gathers. A batch also closes as soon as it holds BatchMaxCases
	// deposits or BatchMaxUSD of value, whichever comes first.
	Batchable        *bool            `json:"batchable,omitempty" yaml:"batchable,omitempty"`
	BatchWindowHours *int             `json:"batch_window_hours,omitempty" yaml:"batch_window_hours,omitempty"`
	BatchMaxCases    *int             `json:"batch_max_cases,omitempty" yaml:"batch_max_cases,omitempty"`
	BatchMaxUSD      *decimal.Decimal `json:"batch_max_usd,omitempty" yaml:"batch_max_usd,omitempty"`
}

// Format is the syntax of a policy document.
type Format string

const (
	FormatAuto Format = ""     // JSON when the document starts with '{', else YAML
	FormatYAML Format = "yaml" // YAML 1.2, one document
	FormatJSON Format = "json"
)

// MaxDocument is the largest policy document Parse reads.
const MaxDocument = 4 << 20

// Parse reads a policy document. It checks the syntax and the shape —
// unknown keys, values of the wrong type, duplicate keys — and reports
// every problem at once as a *ValidationError with the path (and line) of
// each. It does not check the meaning: call Validate for that.
func Parse(data []byte, format Format) (*Policy, error) {
	if len(data) > MaxDocument {
		return nil, invalid(Problem{Message: fmt.Sprintf("the document is larger than %d bytes", MaxDocument)})
	}
	if format == FormatAuto {
		format = FormatYAML
		if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
			format = FormatJSON
		}
	}
	var p Policy
	switch format {
	case FormatYAML:
		if err := decodeYAML(data, &p); err != nil {
			return nil, err
		}
	case FormatJSON:
		if err := decodeJSON(data, &p); err != nil {
			return nil, err
		}
	default:
		return nil, invalid(Problem{Message: fmt.Sprintf("unknown format %q: use yaml or json", format)})
	}
	return &p, nil
}

// Load reads the policy file at path. A .json file is JSON, a .yaml or
// .yml file YAML; any other name is recognised by its content.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	format := FormatAuto
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		format = FormatJSON
	case ".yaml", ".yml":
		format = FormatYAML
	}
	return Parse(data, format)
}

//go:embed default.yaml
var defaultDocument []byte

// DefaultDocument returns the text of the default policy, for writing it
// out as a starting point.
func DefaultDocument() []byte { return bytes.Clone(defaultDocument) }

// Default returns the default policy: the 32 networks of
// chains.DefaultNetworks, 16 direct and 16 conditional. Each call returns a
// new copy.
func Default() *Policy {
	p, err := Parse(defaultDocument, FormatYAML)
	if err != nil {
		panic("policy: embedded default.yaml: " + err.Error()) // a test keeps this from happening
	}
	return p
}

// RuleCount is the number of rules the document writes: defaults, network
// defaults and network category rules.
func (p *Policy) RuleCount() int {
	n := len(p.Defaults)
	for _, np := range p.Networks {
		n += len(np.Categories)
		if np.Default != nil {
			n++
		}
	}
	return n
}

// NetworkIDs returns the ids of the networks in the policy, sorted.
func (p *Policy) NetworkIDs() []string {
	ids := make([]string, 0, len(p.Networks))
	for id := range p.Networks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
