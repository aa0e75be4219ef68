package xlm_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/chains/xlm"
	"github.com/misdeposit/recovery/diagnosis"
)

// TestMemoFromChain decides memo cases from what the ledger says, as the
// diagnose activity does: the payment through the node pool, the owners
// of its destination from the address book by network and address (one
// entry per memo on the shared address), the memo picking the entry. An
// id memo and a text memo with the same digits are the same memo.
func TestMemoFromChain(t *testing.T) {
	ctx := context.Background()
	book, err := addressbook.Open(ctx, filepath.Join(t.TempDir(), "book.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { book.Close() })
	if err := book.Upsert(ctx, []addressbook.Entry{
		{Network: "xlm", Address: hot, Memo: "1001", UserID: "kim"},
		{Network: "xlm", Address: hot, Memo: "1002", UserID: "lee"},
	}, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
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
			p, err := pool.New("xlm", []pool.Endpoint{{Lookup: node}}, pool.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tx, err := p.LookupTx(ctx, c.h.Hash)
			if err != nil {
				t.Fatal(err)
			}
			f := diagnosis.Facts{Found: true, Tx: tx, Network: n, InPolicy: true, ClaimedNetwork: "xlm", ClaimedAddress: hot, UserID: c.claimant}
			for _, tr := range tx.Transfers {
				tf := diagnosis.TransferFacts{Transfer: tr}
				tf.Asset, tf.Listed, tf.Minimum = n.Asset(tr)
				entries, err := book.Owners(ctx, n.ID, tr.To)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					tf.Owners = append(tf.Owners, diagnosis.Owner{Entry: e, Match: diagnosis.MatchSameNetwork})
				}
				f.Transfers = append(f.Transfers, tf)
			}
			d := diagnosis.Classify(f)
			if d.Category != c.category || d.Owner == nil || d.Owner.Entry.UserID != c.owner || d.OwnerMismatch != c.mismatch {
				t.Fatalf("got %s owner %+v mismatch %v; want %s owner %s mismatch %v (evidence %+v)", d.Category, d.Owner, d.OwnerMismatch, c.category, c.owner, c.mismatch, d.Evidence)
			}
			if d.Deposit.Amount.String() != "250000000" || d.Asset != "XLM" {
				t.Errorf("deposit %s %s", d.Deposit.Amount, d.Asset)
			}
		})
	}
}
