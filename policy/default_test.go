package policy

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

func usd(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestDefaultPolicyValidatesAndCoversEveryNetworkAndCategory(t *testing.T) {
	p := Default()
	networks := chains.DefaultNetworks()
	if err := p.Validate(networks); err != nil {
		t.Fatalf("default policy: %v", err)
	}
	if p.Version == "" {
		t.Fatal("no version")
	}
	if len(p.Networks) != 32 || len(networks) != 32 {
		t.Fatalf("%d networks in the policy, %d in the registry", len(p.Networks), len(networks))
	}
	tiers := map[Action]int{}
	for _, n := range networks {
		np, ok := p.Networks[n.ID]
		if !ok {
			t.Errorf("%s is not in the default policy", n.ID)
			continue
		}
		if string(np.Recoverable) != string(n.Tier) {
			t.Errorf("%s: recoverable %s, registry tier %s", n.ID, np.Recoverable, n.Tier)
		}
		tiers[np.Recoverable]++
		for _, c := range recovery.Categories() {
			// A priced deposit of 500 USD, a day old: every pair has a
			// decision with the version, an SLA and, when recoverable, a
			// fee schedule and sign-offs.
			d := p.Decide(n.ID, c, DecideInput{USD: usd("500"), Priced: true, DepositedAt: time.Unix(0, 0), Now: time.Unix(86400, 0)})
			if d.PolicyVersion != p.Version || d.SLA <= 0 || !d.Action.valid() || len(d.Reasons) == 0 {
				t.Errorf("%s/%s: %+v", n.ID, c, d)
			}
			if d.Action.Recoverable() && (d.Rule.Fee == nil || len(d.Signoffs) == 0) {
				t.Errorf("%s/%s: recoverable without fee or sign-offs: %+v", n.ID, c, d)
			}
			if d.Action.Recoverable() && d.Rule.Fee.Validate() != nil {
				t.Errorf("%s/%s: fee %v", n.ID, c, d.Rule.Fee.Validate())
			}
			if d.Category != c {
				t.Errorf("%s/%s: decided as %s", n.ID, c, d.Category)
			}
		}
	}
	if tiers[Direct] != 16 || tiers[Conditional] != 16 {
		t.Errorf("tiers %v, want 16 direct and 16 conditional", tiers)
	}
}

func TestDefaultPolicyOutcomes(t *testing.T) {
	p := Default()
	priced := func(v string) DecideInput { return DecideInput{USD: usd(v), Priced: true} }
	for _, tc := range []struct {
		network, category string
		facts             DecideInput
		action            Action
		signoffs          []recovery.Team
		reasons           []string
	}{
		{"eth", recovery.CategoryFailedTx, priced("100"), Reject, nil, []string{ReasonDocumentDefault}},
		{"eth", recovery.CategoryNotOurAddress, priced("100"), Reject, nil, []string{ReasonDocumentDefault}},
		{"eth", recovery.CategoryAlreadyCredited, priced("100"), Reject, nil, []string{ReasonDocumentDefault}},
		{"bsc", recovery.CategoryWrongNetworkEVM, priced("200"), Direct, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, []string{ReasonDocumentDefault}},
		{"bsc", recovery.CategoryWrongNetworkEVM, priced("20000"), Direct, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement, recovery.TeamSecurity}, []string{ReasonDocumentDefault, ReasonSecurityThreshold}},
		{"bsc", recovery.CategoryWrongNetworkEVM, DecideInput{USD: usd("5"), Priced: true, RiskFlags: []string{"sanctions"}}, Direct, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement, recovery.TeamSecurity}, []string{ReasonDocumentDefault, ReasonSecurityRiskFlags}},
		{"bsc", recovery.CategoryUnlistedToken, priced("200"), Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, []string{ReasonDocumentDefault}},
		{"bsc", recovery.CategoryUnlistedToken, DecideInput{}, Park, nil, []string{ReasonDocumentDefault, ReasonUnpriced}},
		{"bsc", recovery.CategoryUnlistedToken, priced("10"), Park, nil, []string{ReasonDocumentDefault, ReasonBelowMinUSD}},
		{"btc", recovery.CategoryBelowMinimum, priced("3"), Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, []string{ReasonDocumentDefault, ReasonBelowMinUSDBatch}},
		{"btc", recovery.CategoryRetiredAddress, priced("80"), Direct, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, []string{ReasonDocumentDefault}},
		{"xrp", recovery.CategoryMissingOrWrongMemo, priced("80"), Direct, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, []string{ReasonDocumentDefault}},
		{"eth", recovery.CategoryUnsupportedNetwork, priced("80"), Park, nil, []string{ReasonDocumentDefault}},
		{"eth", recovery.CategoryPending, priced("80"), Park, nil, []string{ReasonDocumentDefault}},
		// Conditional networks: direct categories become conditional,
		// security signs above 1,000 USD, small deposits park.
		{"etc", recovery.CategoryRetiredAddress, priced("500"), Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, []string{ReasonNetworkDefault}},
		{"etc", recovery.CategoryRetiredAddress, priced("1500"), Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement, recovery.TeamSecurity}, []string{ReasonNetworkDefault, ReasonSecurityThreshold}},
		{"etc", recovery.CategoryRetiredAddress, priced("99"), Park, nil, []string{ReasonNetworkDefault, ReasonBelowMinUSD}},
		{"xlm", recovery.CategoryMissingOrWrongMemo, DecideInput{}, Park, nil, []string{ReasonNetworkDefault, ReasonUnpriced}},
		{"dash", recovery.CategoryBelowMinimum, priced("20"), Conditional, []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement}, []string{ReasonDocumentDefault, ReasonBelowMinUSDBatch}},
		{"dash", recovery.CategoryFailedTx, priced("20"), Reject, nil, []string{ReasonDocumentDefault}},
		// A network outside the policy waits for support.
		{"tron", recovery.CategoryUnlistedToken, priced("5000"), Park, nil, []string{ReasonNetworkNotInPolicy, ReasonDocumentDefault}},
	} {
		d := p.Decide(tc.network, tc.category, tc.facts)
		if d.Action != tc.action || !slices.Equal(d.Signoffs, tc.signoffs) || !slices.Equal(d.Reasons, tc.reasons) {
			t.Errorf("%s/%s %+v:\n got %s %v %v\nwant %s %v %v", tc.network, tc.category, tc.facts, d.Action, d.Signoffs, d.Reasons, tc.action, tc.signoffs, tc.reasons)
		}
		if d.Rule.Action != d.Action {
			t.Errorf("%s/%s: rule action %s, decision %s", tc.network, tc.category, d.Rule.Action, d.Action)
		}
	}

	// The conditional networks charge their own schedule.
	d := p.Decide("etc", recovery.CategoryWrongNetworkEVM, priced("500"))
	if d.Rule.Fee == nil || !d.Rule.Fee.Percent.Equal(usd("3")) || !d.Rule.Fee.Minimum.Equal(usd("25")) {
		t.Errorf("etc fee %+v", d.Rule.Fee)
	}
	if e := p.Decide("eth", recovery.CategoryWrongNetworkEVM, priced("500")); !e.Rule.Fee.Percent.Equal(usd("1")) {
		t.Errorf("eth fee %+v", e.Rule.Fee)
	}
	// Batching carries its window.
	if b := p.Decide("btc", recovery.CategoryBelowMinimum, priced("3")); !b.Batch || !b.Batchable || b.BatchWindow != 168*time.Hour || b.SLA != 336*time.Hour ||
		b.BatchMaxCases != 200 || !b.BatchMaxUSD.Equal(decimal.NewFromInt(5000)) {
		t.Errorf("batch decision %+v", b)
	}
	if tron := p.Decide("tron", recovery.CategoryUnlistedToken, priced("1")); tron.Category != recovery.CategoryUnsupportedNetwork || tron.Explanation != "policy.unsupported_network" {
		t.Errorf("tron: %+v", tron)
	}
}

func TestDefaultIsAFreshCopy(t *testing.T) {
	a := Default()
	a.Networks["eth"] = NetworkPolicy{Recoverable: Park}
	if Default().Networks["eth"].Recoverable != Direct {
		t.Error("Default shares state between calls")
	}
	doc := DefaultDocument()
	doc[0] = 'X'
	if bytes.Equal(doc, DefaultDocument()) {
		t.Error("DefaultDocument shares its bytes")
	}
}

func TestPolicyRoundTripsThroughJSON(t *testing.T) {
	p := Default()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, FormatJSON)
	if err != nil {
		t.Fatalf("own JSON does not parse: %v", err)
	}
	if err := back.Validate(chains.DefaultNetworks()); err != nil {
		t.Fatal(err)
	}
	for _, n := range chains.DefaultNetworks() {
		for _, c := range recovery.Categories() {
			f := DecideInput{USD: usd("750"), Priced: true}
			if a, b := p.Decide(n.ID, c, f), back.Decide(n.ID, c, f); !reflect.DeepEqual(a, b) {
				t.Fatalf("%s/%s differs after a JSON round trip:\n%+v\n%+v", n.ID, c, a, b)
			}
		}
	}
}

// TestEveryRecoveryNeedsTwoPeople decides every category on every network
// of the default policy, priced low and high, and of a policy whose rules
// name one team: each recovery waits for two teams, so two people (one
// person signs for one team only).
func TestEveryRecoveryNeedsTwoPeople(t *testing.T) {
	for name, p := range map[string]*Policy{"default": Default(), "one team per rule": layered(t)} {
		for id := range p.Networks {
			for _, c := range recovery.Categories() {
				for _, facts := range []DecideInput{{USD: usd("60"), Priced: true}, {USD: usd("20000"), Priced: true}, {}} {
					d := p.Decide(id, c, facts)
					if d.Action.Recoverable() && len(distinctTeams(d.Signoffs)) < 2 {
						t.Errorf("%s: %s/%s %+v: a recovery signed by %v alone", name, id, c, facts, d.Signoffs)
					}
				}
			}
		}
	}
}
