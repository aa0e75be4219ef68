package xlm_test

import (
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
	"github.com/misdeposit/recovery/chains/xlm"
	"github.com/misdeposit/recovery/diagnosis"
)

// TestMemoFromChain decides memo cases from what the ledger says, as the
// diagnose activity does: the payment through the node pool, the owners
// of its destination from the address book by network and address (one
// entry per memo on the shared address), the memo picking the entry. An
// id memo and a text memo with the same digits are the same memo.
func TestMemoFromChain(t *testing.T) {
	book := memotest.Book(t, []addressbook.Entry{
		{Network: "xlm", Address: hot, Memo: "1001", UserID: "kim"},
		{Network: "xlm", Address: hot, Memo: "1002", UserID: "lee"},
	})
	unknown := fixture(t, "payment_id_memo.json")
	path := "/transactions/" + unknown.Hash
	unknown.Answers[path] = []byte(strings.Replace(string(unknown.Answers[path]), `"memo": "1002"`, `"memo": "9999"`, 1))
	cases := []struct {
		name     string
		h        horizon
		claimant string
		category string
		owner    string
		mismatch bool
	}{
		{"the user's own id memo", fixture(t, "payment_id_memo.json"), "lee", diagnosis.CategoryRegularDeposit, "lee", false},
		{"the user's own memo as text", fixture(t, "payment_text_memo.json"), "lee", diagnosis.CategoryRegularDeposit, "lee", false},
		{"no memo", fixture(t, "payment_no_memo.json"), "lee", recovery.CategoryMissingOrWrongMemo, "lee", false},
		{"a memo the exchange never issued", unknown, "kim", recovery.CategoryMissingOrWrongMemo, "kim", false},
		// The memo is lee's: the ledger says it is lee's deposit; kim must
		// prove having sent it before anything moves.
		{"another user's memo", fixture(t, "payment_id_memo.json"), "kim", diagnosis.CategoryRegularDeposit, "lee", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := network(t)
			node, _ := xlm.Dial(n, server(t, c.h, nil).URL)
			d := memotest.Diagnose(t, book, n, node, c.h.Hash, hot, c.claimant)
			memotest.WantDiagnosis(t, d, c.category, c.owner, c.mismatch, "250000000", "XLM")
		})
	}
}
