package diagnosis_test

import (
	"math/big"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/diagnosis"
)

// Memo networks have no chain adapter yet: their facts come from manual
// evidence, so these cases are stated by hand. The shared hot address
// holds every user's deposits, told apart by the memo.
const hot = "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh"

func xrp() chains.Network {
	n, _ := mustRegistry().Get("xrp")
	return n
}

func mustRegistry() *chains.Registry {
	r, err := chains.NewRegistry(chains.DefaultNetworks())
	if err != nil {
		panic(err)
	}
	return r
}

func memoFacts(txMemo, claimant string) diagnosis.Facts {
	t := recovery.Transfer{Kind: recovery.KindNative, To: hot, Amount: big.NewInt(25_000_000)}
	return diagnosis.Facts{
		Found: true, InPolicy: true, Network: xrp(), UserID: claimant, ClaimedAddress: hot,
		Tx: &recovery.Tx{Network: "xrp", Hash: "AB", Status: recovery.TxSuccess, Confirmations: 1, Required: 1, Memo: txMemo, Transfers: []recovery.Transfer{t}},
		Transfers: []diagnosis.TransferFacts{{
			Transfer: t, Listed: true, Asset: "XRP",
			Owners: []diagnosis.Owner{
				{Entry: addressbook.Entry{Network: "xrp", Address: hot, Memo: "1001", UserID: "kim", Status: addressbook.Active}, Match: diagnosis.MatchSameNetwork},
				{Entry: addressbook.Entry{Network: "xrp", Address: hot, Memo: "1002", UserID: "lee", Status: addressbook.Active}, Match: diagnosis.MatchSameNetwork},
			},
		}},
	}
}

func TestMemo(t *testing.T) {
	cases := []struct {
		name, memo, claimant string
		category             string
		owner                string
		mismatch             bool
	}{
		{"the right memo is a regular deposit", "1002", "lee", diagnosis.CategoryRegularDeposit, "lee", false},
		{"no memo", "", "lee", recovery.CategoryMissingOrWrongMemo, "lee", false},
		{"a memo nobody has", "9999", "kim", recovery.CategoryMissingOrWrongMemo, "kim", false},
		// The memo names lee, kim claims it: lee's deposit, and kim must
		// prove having sent it.
		{"another user's memo", "1002", "kim", diagnosis.CategoryRegularDeposit, "lee", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := diagnosis.Classify(memoFacts(c.memo, c.claimant))
			if d.Category != c.category || d.Owner == nil || d.Owner.Entry.UserID != c.owner || d.OwnerMismatch != c.mismatch {
				t.Fatalf("got %s owner %+v mismatch %v; want %s owner %s mismatch %v", d.Category, d.Owner, d.OwnerMismatch, c.category, c.owner, c.mismatch)
			}
		})
	}
}

// One deposit, one category: when several apply, the order of Classify's
// documentation decides, and the evidence keeps the rest.
func TestOrderWhenSeveralApply(t *testing.T) {
	eth, _ := mustRegistry().Get("eth")
	token := recovery.Transfer{Kind: recovery.KindToken, To: "0xabc0000000000000000000000000000000000001", Token: "0x1110000000000000000000000000000000000001", Amount: big.NewInt(5)}
	base := func(owner addressbook.Entry, match diagnosis.Match, listed bool, credit *addressbook.Credit) diagnosis.Facts {
		return diagnosis.Facts{
			Found: true, InPolicy: true, Network: eth, UserID: "amy", ClaimedAddress: token.To,
			Tx: &recovery.Tx{Network: "eth", Status: recovery.TxSuccess, Confirmations: 20, Required: 12, Transfers: []recovery.Transfer{token}},
			Transfers: []diagnosis.TransferFacts{{
				Transfer: token, Listed: listed, Asset: token.Token, Minimum: big.NewInt(100), Credit: credit,
				Owners: []diagnosis.Owner{{Entry: owner, Match: match}},
			}},
		}
	}
	active := addressbook.Entry{Network: "eth", Address: token.To, UserID: "amy", Status: addressbook.Active}
	retired := active
	retired.Status = addressbook.Retired
	onBSC := active
	onBSC.Network = "bsc"
	cases := []struct {
		name string
		f    diagnosis.Facts
		want string
	}{
		{"credited beats everything after it", base(retired, diagnosis.MatchSameNetwork, false, &addressbook.Credit{UserID: "amy"}), recovery.CategoryAlreadyCredited},
		{"retired beats an unlisted token", base(retired, diagnosis.MatchSameNetwork, false, nil), recovery.CategoryRetiredAddress},
		{"wrong network beats an unlisted token", base(onBSC, diagnosis.MatchOtherEVMNetwork, false, nil), recovery.CategoryWrongNetworkEVM},
		{"unlisted token beats below minimum", base(active, diagnosis.MatchSameNetwork, false, nil), recovery.CategoryUnlistedToken},
		{"a listed token below the minimum", base(active, diagnosis.MatchSameNetwork, true, nil), recovery.CategoryBelowMinimum},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := diagnosis.Classify(c.f)
			if d.Category != c.want {
				t.Fatalf("category %s, want %s (evidence %+v)", d.Category, c.want, d.Evidence)
			}
		})
	}
	notInPolicy := base(active, diagnosis.MatchSameNetwork, true, nil)
	notInPolicy.InPolicy = false
	if d := diagnosis.Classify(notInPolicy); d.Category != recovery.CategoryUnsupportedNetwork {
		t.Errorf("network outside the policy: %s", d.Category)
	}
}
