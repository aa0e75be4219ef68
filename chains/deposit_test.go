package chains

import (
	"math/big"
	"testing"

	"github.com/misdeposit/recovery"
)

func TestDepositTo(t *testing.T) {
	reg, err := NewRegistry(DefaultNetworks())
	if err != nil {
		t.Fatal(err)
	}
	const (
		user  = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
		other = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
		btcTo = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	)
	transfer := func(kind recovery.TransferKind, index uint32, to string) recovery.Transfer {
		return recovery.Transfer{Kind: kind, Index: index, To: to, Amount: big.NewInt(1)}
	}
	tx := func(network string, ts ...recovery.Transfer) *recovery.Tx {
		return &recovery.Tx{Network: network, Hash: network + "-tx", Transfers: ts}
	}
	native := func(to string) recovery.Transfer { return transfer(recovery.KindNative, 0, to) }
	token := func(index uint32, to string) recovery.Transfer { return transfer(recovery.KindToken, index, to) }
	output := func(index uint32, to string) recovery.Transfer { return transfer(recovery.KindOutput, index, to) }

	for _, tc := range []struct {
		name        string
		found       []*recovery.Tx
		to          string
		wantNetwork string // "" when no deposit is found
		wantIndex   string // the deposit's IndexCode
	}{
		{"nothing found", nil, user, "", ""},
		{"native value to the address", []*recovery.Tx{tx("eth", native(user))}, user, "eth", "v"},
		{"EVM addresses in another case", []*recovery.Tx{tx("eth", native(user))}, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "eth", "v"},
		{"spaces around the address", []*recovery.Tx{tx("eth", native(user))}, "  " + user + "\n", "eth", "v"},
		{"the transfer to the address, not the first", []*recovery.Tx{tx("eth", native(other), token(3, user))}, user, "eth", "l3"},
		{"the first of two transfers to the address", []*recovery.Tx{tx("eth", token(1, user), token(4, user))}, user, "eth", "l1"},
		{"paid on the second network only", []*recovery.Tx{tx("eth", native(other)), tx("bsc", native(user))}, user, "bsc", "v"},
		{"paid on both networks: the first", []*recovery.Tx{tx("bsc", native(user)), tx("eth", native(user))}, user, "bsc", "v"},
		{"no transfer to the address", []*recovery.Tx{tx("eth", native(other))}, user, "", ""},
		{"UTXO output", []*recovery.Tx{tx("btc", output(0, other), output(1, btcTo))}, btcTo, "btc", "o1"},
		{"UTXO addresses compare exactly", []*recovery.Tx{tx("btc", output(0, btcTo))}, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "", ""},
		{"a network the registry does not know", []*recovery.Tx{tx("nowhere", native(user)), tx("eth", native(user))}, user, "eth", "v"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotTx, got := DepositTo(reg, tc.found, tc.to)
			if tc.wantNetwork == "" {
				if gotTx != nil || got != nil {
					t.Fatalf("found %+v in %+v, want none", got, gotTx)
				}
				return
			}
			if gotTx == nil || got == nil {
				t.Fatalf("found none, want %s on %s", tc.wantIndex, tc.wantNetwork)
			}
			if gotTx.Network != tc.wantNetwork || got.IndexCode() != tc.wantIndex {
				t.Errorf("found %s on %s, want %s on %s", got.IndexCode(), gotTx.Network, tc.wantIndex, tc.wantNetwork)
			}
			if !contains(gotTx, *got) {
				t.Errorf("the deposit %+v is not a transfer of the transaction %+v", got, gotTx)
			}
		})
	}

	// The deposit is the caller's own copy: the scan result stays as found.
	found := []*recovery.Tx{tx("eth", native(user))}
	_, d := DepositTo(reg, found, user)
	d.To = other
	if found[0].Transfers[0].To != user {
		t.Errorf("changing the deposit changed the transaction: %+v", found[0].Transfers[0])
	}
}

func contains(tx *recovery.Tx, t recovery.Transfer) bool {
	for _, u := range tx.Transfers {
		if u.Kind == t.Kind && u.Index == t.Index && u.To == t.To {
			return true
		}
	}
	return false
}
