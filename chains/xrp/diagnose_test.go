package xrp_test

import (
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
	"github.com/misdeposit/recovery/chains/xrp"
	"github.com/misdeposit/recovery/diagnosis"
)

// TestMemoFromChain decides memo cases from what the ledger says, as the
// diagnose activity does: the payment through the node pool, the owners
// of its destination from the address book by network and address (one
// entry per destination tag on the shared address), the tag picking the
// entry.
func TestMemoFromChain(t *testing.T) {
	book := memotest.Book(t, []addressbook.Entry{
		{Network: "xrp", Address: hot, Memo: "1001", UserID: "kim"},
		{Network: "xrp", Address: hot, Memo: "1002", UserID: "lee"},
	})
	withTag, hash := fixture(t, "payment_tag.json")
	noTag, noTagHash := fixture(t, "payment_no_tag.json")
	unknownTag := []byte(strings.Replace(string(withTag), `"DestinationTag": 1002`, `"DestinationTag": 9999`, 1))
	cases := []struct {
		name     string
		body     []byte
		hash     string
		claimant string
		category string
		owner    string
		mismatch bool
	}{
		{"the user's own tag", withTag, hash, "lee", diagnosis.CategoryRegularDeposit, "lee", false},
		{"no tag", noTag, noTagHash, "lee", recovery.CategoryMissingOrWrongMemo, "lee", false},
		{"a tag the exchange never issued", unknownTag, hash, "kim", recovery.CategoryMissingOrWrongMemo, "kim", false},
		// The tag is lee's: the ledger says it is lee's deposit (already
		// credited when the exchange's records say so); kim must prove
		// having sent it before anything moves.
		{"another user's tag", withTag, hash, "kim", diagnosis.CategoryRegularDeposit, "lee", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := network(t)
			node, _ := xrp.Dial(n, server(t, c.body, nil).URL)
			d := memotest.Diagnose(t, book, n, node, strings.ToLower(c.hash), hot, c.claimant)
			memotest.WantDiagnosis(t, d, c.category, c.owner, c.mismatch, "25000000", "XRP")
		})
	}
}
