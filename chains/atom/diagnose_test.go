package atom_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains/atom"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
	"github.com/misdeposit/recovery/diagnosis"
)

// TestMemoFromChain decides memo cases from what the Hub says, as the
// diagnose activity does: the transaction through the node pool, the
// owners of its destination from the address book by network and address
// (one entry per memo on the shared address), the memo picking the entry.
func TestMemoFromChain(t *testing.T) {
	book := memotest.Book(t, []addressbook.Entry{
		{Network: "atom", Address: hot, Memo: "104856", UserID: "kim"},
		{Network: "atom", Address: hot, Memo: "104857", UserID: "lee"},
	})
	withMemo, hash, _ := fixture(t, "send_memo.json")
	noMemo, noMemoHash, _ := fixture(t, "send_no_memo.json")
	unknownMemo := []byte(strings.ReplaceAll(string(withMemo), `"memo": "104857"`, `"memo": "999999"`))
	ibc, ibcHash, _ := fixture(t, "ibc_recv.json")
	cases := []struct {
		name     string
		body     []byte
		hash     string
		claimant string
		category string
		owner    string
		mismatch bool
		amount   string
	}{
		{"the user's own memo", withMemo, hash, "lee", diagnosis.CategoryRegularDeposit, "lee", false, "25000000"},
		{"no memo", noMemo, noMemoHash, "lee", recovery.CategoryMissingOrWrongMemo, "lee", false, "25000000"},
		{"a memo the exchange never issued", unknownMemo, hash, "kim", recovery.CategoryMissingOrWrongMemo, "kim", false, "25000000"},
		{"another user's memo", withMemo, hash, "kim", diagnosis.CategoryRegularDeposit, "lee", true, "25000000"},
		// Withdrawn from Osmosis: the memo is the packet's, not the
		// relayer's.
		{"an IBC transfer with the user's memo", ibc, ibcHash, "lee", diagnosis.CategoryRegularDeposit, "lee", false, "1500000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := network(t)
			node, _ := atom.Dial(n, server(t, c.body, http.StatusOK, nil).URL)
			d := memotest.Diagnose(t, book, n, node, strings.ToLower(c.hash), hot, c.claimant)
			memotest.WantDiagnosis(t, d, c.category, c.owner, c.mismatch, c.amount, "ATOM")
		})
	}
}
