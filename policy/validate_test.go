package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/fees"
)

func ptr[T any](v T) *T { return &v }

func TestValidateReportsEveryProblemWithItsPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(p *Policy)
		want map[string]string // path → part of the message
	}{
		{"fee percent out of range", func(p *Policy) {
			p.Networks["bsc"] = NetworkPolicy{Recoverable: Direct, Categories: map[string]Rule{
				recovery.CategoryUnlistedToken: {Fee: &fees.Schedule{Percent: usd("150"), NetworkCost: fees.ChargeNetworkCost}},
			}}
		}, map[string]string{"networks.bsc.categories.unlisted_token.fee.percent": "must be between 0 and 100"}},
		{"version", func(p *Policy) { p.Version = "" }, map[string]string{"version": "required"}},
		{"version with spaces", func(p *Policy) { p.Version = "next week" }, map[string]string{"version": "letters"}},
		{"unknown network and category", func(p *Policy) {
			p.Networks["tron"] = NetworkPolicy{Recoverable: Direct}
			p.Networks["eth"] = NetworkPolicy{Recoverable: Direct, Categories: map[string]Rule{"lost_key": {}}}
			p.Defaults["wrong_coin"] = Rule{Action: Park, SLAHours: 1}
		}, map[string]string{
			"networks.tron":                    "unknown network",
			"networks.eth.categories.lost_key": "unknown category",
			"defaults.wrong_coin":              "unknown category",
		}},
		{"missing default", func(p *Policy) { delete(p.Defaults, recovery.CategoryPending) }, map[string]string{"defaults.pending": "missing"}},
		{"bad actions", func(p *Policy) {
			r := p.Defaults[recovery.CategoryFailedTx]
			r.Action = "maybe"
			p.Defaults[recovery.CategoryFailedTx] = r
			p.Networks["bsc"] = NetworkPolicy{Recoverable: "sometimes"}
			p.Networks["eth"] = NetworkPolicy{Recoverable: Direct, Default: &Rule{Action: Direct}}
			p.Networks["base"] = NetworkPolicy{}
		}, map[string]string{
			"defaults.failed_tx.action":   "must be one of",
			"networks.bsc.recoverable":    "must be one of",
			"networks.eth.default.action": "not allowed",
			"networks.base.recoverable":   "required",
		}},
		{"negative money and bad numbers", func(p *Policy) {
			r := p.Defaults[recovery.CategoryUnlistedToken]
			r.Conditions.MinUSD = ptr(usd("-1"))
			r.Conditions.SecuritySignoffAboveUSD = ptr(usd("0.000000001"))
			r.Conditions.MaxAgeDays = ptr(0)
			r.SLAHours = -5
			p.Defaults[recovery.CategoryUnlistedToken] = r
			p.Networks["etc"] = NetworkPolicy{Recoverable: Conditional, Default: &Rule{
				Conditions: Conditions{BatchWindowHours: ptr(-1), SecuritySignoffAboveUSD: ptr(usd("1000"))},
				Fee:        &fees.Schedule{Flat: usd("-3"), NetworkCost: "split"},
			}}
		}, map[string]string{
			"defaults.unlisted_token.conditions.min_usd":                    "negative",
			"defaults.unlisted_token.conditions.security_signoff_above_usd": "8 decimal places",
			"defaults.unlisted_token.conditions.max_age_days":               "between 1",
			"defaults.unlisted_token.sla_hours":                             "greater than 0",
			"networks.etc.default.conditions.batch_window_hours":            "between 1",
			"networks.etc.default.fee.flat":                                 "negative",
			"networks.etc.default.fee.network_cost":                         "charge or absorb",
		}},
		{"teams", func(p *Policy) {
			r := p.Defaults[recovery.CategoryRetiredAddress]
			r.Signoffs = []recovery.Team{recovery.TeamWallet, "legal", recovery.TeamWallet}
			p.Defaults[recovery.CategoryRetiredAddress] = r
		}, map[string]string{
			"defaults.retired_address.signoffs[1]": "unknown team",
			"defaults.retired_address.signoffs[2]": "twice",
		}},
		{"recoverable without fee or sign-off", func(p *Policy) {
			r := p.Defaults[recovery.CategoryContractDeposit]
			r.Fee, r.Signoffs = nil, nil
			p.Defaults[recovery.CategoryContractDeposit] = r
			// A parked default made direct on one network needs them too.
			p.Networks["eth"] = NetworkPolicy{Recoverable: Direct, Categories: map[string]Rule{recovery.CategoryNotFound: {Action: Direct}}}
		}, map[string]string{
			"defaults.contract_deposit.fee":              "fee schedule",
			"defaults.contract_deposit.signoffs":         "sign-off",
			"networks.eth.categories.not_found.fee":      "fee schedule",
			"networks.eth.categories.not_found.signoffs": "sign-off",
		}},
		{"batch window without batching", func(p *Policy) {
			r := p.Defaults[recovery.CategoryWrongNetworkEVM]
			r.Conditions.BatchWindowHours = ptr(24)
			r.Conditions.BatchMaxCases = ptr(10)
			r.Conditions.BatchMaxUSD = ptr(usd("100"))
			p.Defaults[recovery.CategoryWrongNetworkEVM] = r
		}, map[string]string{
			"defaults.wrong_network_evm.conditions.batch_window_hours": "batchable",
			"defaults.wrong_network_evm.conditions.batch_max_cases":    "batchable",
			"defaults.wrong_network_evm.conditions.batch_max_usd":      "batchable",
		}},
		{"batch sizes out of range", func(p *Policy) {
			r := p.Defaults[recovery.CategoryBelowMinimum]
			r.Conditions.BatchMaxCases = ptr(1)
			r.Conditions.BatchMaxUSD = ptr(usd("-5"))
			p.Defaults[recovery.CategoryBelowMinimum] = r
		}, map[string]string{
			"defaults.below_minimum.conditions.batch_max_cases": "between 2",
			"defaults.below_minimum.conditions.batch_max_usd":   "negative",
		}},
		{"conditional network without security", func(p *Policy) {
			// Direct networks need no threshold; celo's own is gone, and
			// only its unlisted tokens have security among the teams.
			for _, c := range []string{recovery.CategoryBelowMinimum, recovery.CategoryMissingOrWrongMemo, recovery.CategoryWrongNetworkEVM, recovery.CategoryUnlistedToken} {
				r := p.Defaults[c]
				r.Conditions.SecuritySignoffAboveUSD = nil
				p.Defaults[c] = r
			}
			np := p.Networks["celo"]
			np.Default.Conditions.SecuritySignoffAboveUSD = nil
			np.Categories = map[string]Rule{recovery.CategoryUnlistedToken: {Signoffs: []recovery.Team{recovery.TeamWallet, recovery.TeamSecurity}}}
			p.Networks["celo"] = np
		}, map[string]string{"networks.celo": "missing for below_minimum, missing_or_wrong_memo, wrong_network_evm"}},
		{"unsupported network", func(p *Policy) {
			r := p.Defaults[recovery.CategoryUnsupportedNetwork]
			r.Action = Direct
			p.Defaults[recovery.CategoryUnsupportedNetwork] = r
			p.Networks["eth"] = NetworkPolicy{Recoverable: Direct, Categories: map[string]Rule{recovery.CategoryUnsupportedNetwork: {Action: Park}}}
		}, map[string]string{
			"defaults.unsupported_network.action":         "park or reject",
			"networks.eth.categories.unsupported_network": "cannot be set",
		}},
		{"explanation key", func(p *Policy) {
			r := p.Defaults[recovery.CategoryFailedTx]
			r.Explanation = "Your transaction failed!"
			p.Defaults[recovery.CategoryFailedTx] = r
		}, map[string]string{"defaults.failed_tx.explanation": "message key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Default()
			tc.edit(p)
			ps := problems(t, p.Validate(chains.DefaultNetworks()))
			for path, msg := range tc.want {
				i := slices.IndexFunc(ps, func(p Problem) bool { return p.Path == path })
				if i < 0 {
					t.Errorf("no problem at %s; got:\n%s", path, joinProblems(ps))
					continue
				}
				if !strings.Contains(ps[i].Message, msg) {
					t.Errorf("%s: %q does not say %q", path, ps[i].Message, msg)
				}
			}
			if len(ps) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%s", len(ps), len(tc.want), joinProblems(ps))
			}
		})
	}
}

func TestValidateProblemString(t *testing.T) {
	p := Default()
	p.Networks["bsc"] = NetworkPolicy{Recoverable: Direct, Categories: map[string]Rule{
		recovery.CategoryUnlistedToken: {Fee: &fees.Schedule{Percent: usd("101"), NetworkCost: fees.ChargeNetworkCost}},
	}}
	err := p.Validate(chains.DefaultNetworks())
	ps := problems(t, err)
	if got := ps[0].String(); got != "networks.bsc.categories.unlisted_token.fee.percent: must be between 0 and 100" {
		t.Errorf("String() = %q", got)
	}
	if !strings.Contains(err.Error(), "networks.bsc.categories.unlisted_token.fee.percent") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestValidateWithoutRegistrySkipsNetworkIDs(t *testing.T) {
	p := Default()
	p.Networks["tron"] = NetworkPolicy{Recoverable: Direct}
	if err := p.Validate(nil); err != nil {
		t.Error(err)
	}
}
