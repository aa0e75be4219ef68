package policy

import (
	"slices"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/fees"
)

// layered is a small policy to show the resolution order.
func layered(t *testing.T) *Policy {
	t.Helper()
	p, err := Parse([]byte(`
version: "v1"
defaults:
  not_found: {action: park, sla_hours: 1}
  pending: {action: park, sla_hours: 1}
  failed_tx: {action: reject, sla_hours: 1}
  not_our_address: {action: reject, sla_hours: 1}
  already_credited: {action: reject, sla_hours: 1, explanation: policy.already_credited}
  below_minimum: {action: conditional, conditions: {min_usd: 10, batchable: true, batch_window_hours: 24}, signoffs: [wallet], sla_hours: 10, fee: {network_cost: charge}}
  missing_or_wrong_memo: {action: direct, signoffs: [wallet], sla_hours: 10, fee: {flat: 1, network_cost: absorb}}
  unlisted_token: {action: conditional, conditions: {requires_price: true}, signoffs: [wallet, settlement], sla_hours: 10, fee: {percent: 5, network_cost: charge}}
  wrong_network_evm: {action: direct, conditions: {max_age_days: 30}, signoffs: [wallet], sla_hours: 10, fee: {percent: 1, network_cost: charge}, explanation: policy.wrong_network_evm}
  cross_chain_utxo: {action: direct, signoffs: [wallet], sla_hours: 10, fee: {percent: 1, network_cost: charge}}
  retired_address: {action: direct, signoffs: [wallet], sla_hours: 10, fee: {network_cost: charge}}
  contract_deposit: {action: direct, signoffs: [wallet], sla_hours: 10, fee: {network_cost: absorb}}
  unsupported_network: {action: park, sla_hours: 100}
networks:
  eth: {recoverable: direct}
  etc:
    recoverable: conditional
    default:
      conditions: {security_signoff_above_usd: 1000}
      sla_hours: 20
      fee: {percent: 3, network_cost: charge}
    categories:
      wrong_network_evm: {sla_hours: 30, explanation: policy.etc_wrong_network}
      retired_address: {action: direct, signoffs: [wallet, settlement]}
  kava:
    recoverable: park
    categories:
      contract_deposit: {action: direct}
`), FormatYAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(chains.DefaultNetworks()); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolutionOrder(t *testing.T) {
	p := layered(t)
	priced := DecideInput{USD: usd("100"), Priced: true}

	// Document default alone.
	d := p.Decide("eth", recovery.CategoryWrongNetworkEVM, priced)
	if d.Action != Direct || d.SLA != 10*time.Hour || !d.Rule.Fee.Percent.Equal(usd("1")) || d.Explanation != "policy.wrong_network_evm" ||
		!slices.Equal(d.Reasons, []string{ReasonDocumentDefault, ReasonTwoPeople}) || d.PolicyVersion != "v1" {
		t.Errorf("eth: %+v", d)
	}

	// Network default over the document default: stricter action, its
	// fee and SLA; the network category rule over both: its SLA and
	// explanation, the network default's fee, the document's max_age_days.
	d = p.Decide("etc", recovery.CategoryWrongNetworkEVM, priced)
	if d.Action != Conditional || d.SLA != 30*time.Hour || !d.Rule.Fee.Percent.Equal(usd("3")) || d.Explanation != "policy.etc_wrong_network" ||
		d.Rule.Conditions.MaxAgeDays == nil || *d.Rule.Conditions.MaxAgeDays != 30 ||
		d.Rule.Conditions.SecuritySignoffAboveUSD == nil || !slices.Equal(d.Reasons, []string{ReasonNetworkDefault, ReasonTwoPeople}) {
		t.Errorf("etc wrong_network_evm: %+v", d)
	}
	d = p.Decide("etc", recovery.CategoryMissingOrWrongMemo, priced)
	if d.Action != Conditional || d.SLA != 20*time.Hour || !d.Rule.Fee.Percent.Equal(usd("3")) {
		t.Errorf("etc memo: %+v", d)
	}
	// An action in the network category rule is explicit: not capped.
	d = p.Decide("etc", recovery.CategoryRetiredAddress, priced)
	if d.Action != Direct || !slices.Equal(d.Signoffs, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}) || !slices.Equal(d.Reasons, []string{ReasonNetworkCategoryRule}) {
		t.Errorf("etc retired: %+v", d)
	}
	// A parked network parks what is recoverable, keeps rejections, and
	// a network category rule can still open one category.
	if d := p.Decide("kava", recovery.CategoryRetiredAddress, priced); d.Action != Park || !slices.Equal(d.Reasons, []string{ReasonNetworkDefault}) || d.Signoffs != nil {
		t.Errorf("kava retired: %+v", d)
	}
	if d := p.Decide("kava", recovery.CategoryFailedTx, priced); d.Action != Reject {
		t.Errorf("kava failed: %+v", d)
	}
	if d := p.Decide("kava", recovery.CategoryContractDeposit, priced); d.Action != Direct {
		t.Errorf("kava contract deposit: %+v", d)
	}
	// Rejections stay rejections on a direct network.
	if d := p.Decide("eth", recovery.CategoryAlreadyCredited, priced); d.Action != Reject || d.Explanation != "policy.already_credited" || d.SLA != time.Hour {
		t.Errorf("eth credited: %+v", d)
	}
	// Outside the policy, and categories nobody defined.
	if d := p.Decide("tron", recovery.CategoryRetiredAddress, priced); d.Action != Park || d.Category != recovery.CategoryUnsupportedNetwork || d.SLA != 100*time.Hour {
		t.Errorf("tron: %+v", d)
	}
	if d := p.Decide("eth", "unclassified", priced); d.Action != Park || !slices.Equal(d.Reasons, []string{ReasonUnknownCategory}) || d.PolicyVersion != "v1" {
		t.Errorf("unclassified: %+v", d)
	}
	var none *Policy
	if d := none.Decide("eth", recovery.CategoryRetiredAddress, priced); d.Action != Park {
		t.Errorf("nil policy: %+v", d)
	}
}

func TestDecideConditions(t *testing.T) {
	p := layered(t)
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name              string
		network, category string
		facts             DecideInput
		action            Action
		signoffs          []recovery.Team
		last              string // the last reason
	}{
		{"priced token", "eth", recovery.CategoryUnlistedToken, DecideInput{USD: usd("5"), Priced: true}, Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, ReasonDocumentDefault},
		{"unpriced token", "eth", recovery.CategoryUnlistedToken, DecideInput{}, Park, nil, ReasonUnpriced},
		{"min_usd needs a price", "eth", recovery.CategoryBelowMinimum, DecideInput{}, Park, nil, ReasonUnpriced},
		{"small: batch", "eth", recovery.CategoryBelowMinimum, DecideInput{USD: usd("9.99"), Priced: true}, Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, ReasonTwoPeople},
		{"at the minimum: alone", "eth", recovery.CategoryBelowMinimum, DecideInput{USD: usd("10"), Priced: true}, Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, ReasonTwoPeople},
		{"young enough", "eth", recovery.CategoryWrongNetworkEVM, DecideInput{DepositedAt: now.AddDate(0, 0, -30), Now: now}, Direct, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, ReasonTwoPeople},
		{"too old", "eth", recovery.CategoryWrongNetworkEVM, DecideInput{DepositedAt: now.AddDate(0, 0, -31), Now: now}, Reject, nil, ReasonOlderThanMaxAge},
		{"age unknown", "eth", recovery.CategoryWrongNetworkEVM, DecideInput{Now: now}, Direct, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, ReasonTwoPeople},
		{"security at the threshold", "etc", recovery.CategoryCrossChainUTXO, DecideInput{USD: usd("1000"), Priced: true}, Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, ReasonTwoPeople},
		{"security above", "etc", recovery.CategoryCrossChainUTXO, DecideInput{USD: usd("1000.01"), Priced: true}, Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSecurity}, ReasonSecurityThreshold},
		{"security without a price", "etc", recovery.CategoryCrossChainUTXO, DecideInput{}, Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSecurity}, ReasonSecurityUnpriced},
		{"risk flags", "eth", recovery.CategoryRetiredAddress, DecideInput{RiskFlags: []string{"mixer"}}, Direct, []recovery.Team{recovery.TeamWallet, recovery.TeamSecurity}, ReasonSecurityRiskFlags},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(tc.network, tc.category, tc.facts)
			if d.Action != tc.action || !slices.Equal(d.Signoffs, tc.signoffs) || d.Reasons[len(d.Reasons)-1] != tc.last {
				t.Errorf("got %s %v %v; want %s %v …%s", d.Action, d.Signoffs, d.Reasons, tc.action, tc.signoffs, tc.last)
			}
			if d.PolicyVersion != "v1" || d.Rule.Action != d.Action {
				t.Errorf("decision %+v", d)
			}
		})
	}
	b := p.Decide("eth", recovery.CategoryBelowMinimum, DecideInput{USD: usd("1"), Priced: true})
	if !b.Batch || !b.Batchable || b.BatchWindow != 24*time.Hour {
		t.Errorf("batch: %+v", b)
	}
}

func TestDecideDoesNotShareTheRule(t *testing.T) {
	p := layered(t)
	d := p.Decide("etc", recovery.CategoryCrossChainUTXO, DecideInput{})
	d.Signoffs[0] = "changed"
	d.Rule.Signoffs = append(d.Rule.Signoffs[:0], "changed")
	*d.Rule.Conditions.SecuritySignoffAboveUSD = usd("1")
	d.Rule.Fee.NetworkCost = fees.AbsorbNetworkCost
	again := p.Decide("etc", recovery.CategoryCrossChainUTXO, DecideInput{})
	if again.Signoffs[0] != recovery.TeamWallet || again.Rule.Signoffs[0] != recovery.TeamWallet || !again.Rule.Conditions.SecuritySignoffAboveUSD.Equal(usd("1000")) ||
		again.Rule.Fee.NetworkCost != fees.ChargeNetworkCost {
		t.Errorf("a decision aliases the policy: %+v", again)
	}
}

func TestNewlySupported(t *testing.T) {
	old := layered(t)
	next := layered(t)
	next.Version = "v2"
	// kava opens up; tron arrives; etc parks retired addresses.
	next.Networks["kava"] = NetworkPolicy{Recoverable: Conditional, Default: next.Networks["etc"].Default}
	next.Networks["tron"] = NetworkPolicy{Recoverable: Direct, Categories: map[string]Rule{recovery.CategoryUnlistedToken: {Action: Park}}}
	etc := next.Networks["etc"]
	etc.Categories = map[string]Rule{recovery.CategoryRetiredAddress: {Action: Park}}
	next.Networks["etc"] = etc

	got := next.NewlySupported(old)
	want := []NetworkCategory{
		{"kava", recovery.CategoryBelowMinimum}, {"kava", recovery.CategoryMissingOrWrongMemo}, {"kava", recovery.CategoryUnlistedToken},
		{"kava", recovery.CategoryWrongNetworkEVM}, {"kava", recovery.CategoryCrossChainUTXO}, {"kava", recovery.CategoryRetiredAddress},
		// contract_deposit was already direct on kava.
		{"tron", recovery.CategoryUnsupportedNetwork},
		{"tron", recovery.CategoryBelowMinimum}, {"tron", recovery.CategoryMissingOrWrongMemo},
		{"tron", recovery.CategoryWrongNetworkEVM}, {"tron", recovery.CategoryCrossChainUTXO}, {"tron", recovery.CategoryRetiredAddress}, {"tron", recovery.CategoryContractDeposit},
	}
	if !slices.Equal(got, want) {
		t.Errorf("newly supported:\n got %v\nwant %v", got, want)
	}
	// Going back only reopens what next had parked.
	if back := old.NewlySupported(next); !slices.Equal(back, []NetworkCategory{{"etc", recovery.CategoryRetiredAddress}}) {
		t.Errorf("going back: %v", back)
	}
	if same := old.NewlySupported(old); len(same) != 0 {
		t.Errorf("the same policy: %v", same)
	}
	// Against nothing, every recoverable pair is new.
	all := Default().NewlySupported(nil)
	if !slices.Contains(all, NetworkCategory{"eth", recovery.CategoryUnsupportedNetwork}) || !slices.Contains(all, NetworkCategory{"atom", recovery.CategoryRetiredAddress}) ||
		slices.Contains(all, NetworkCategory{"eth", recovery.CategoryFailedTx}) {
		t.Errorf("from nil: %v", all)
	}
}
