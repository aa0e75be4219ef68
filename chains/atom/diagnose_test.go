package atom_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains/atom"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/diagnosis"
)

// TestMemoFromChain decides memo cases from what the Hub says, as the
// diagnose activity does: the transaction through the node pool, the
// owners of its destination from the address book by network and address
// (one entry per memo on the shared address), the memo picking the entry.
func TestMemoFromChain(t *testing.T) {
	ctx := context.Background()
	book, err := addressbook.Open(ctx, filepath.Join(t.TempDir(), "book.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { book.Close() })
	if err := book.Upsert(ctx, []addressbook.Entry{
		{Network: "atom", Address: hot, Memo: "104856", UserID: "kim"},
		{Network: "atom", Address: hot, Memo: "104857", UserID: "lee"},
	}, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
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
			p, err := pool.New("atom", []pool.Endpoint{{Lookup: node}}, pool.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tx, err := p.LookupTx(ctx, strings.ToLower(c.hash))
			if err != nil {
				t.Fatal(err)
			}
			f := diagnosis.Facts{Found: true, Tx: tx, Network: n, InPolicy: true, ClaimedNetwork: "atom", ClaimedAddress: hot, UserID: c.claimant}
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
			if d.Deposit.Amount.String() != c.amount || d.Asset != "ATOM" {
				t.Errorf("deposit %s %s", d.Deposit.Amount, d.Asset)
			}
		})
	}
}
