package utxo_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// An address's balance is what it holds unspent, read from a node's
// address index: coins paid to it count until they are spent.
func TestBalanceFromTheAddressIndex(t *testing.T) {
	w, err := btcdnode.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	n := nodetest.BTCD(t, btcdnode.Config{DataDir: t.TempDir(), MiningAddr: w.MiningAddr(), AddrIndex: true})
	ctx := nodetest.Context(t)
	if err := w.Fund(ctx, n); err != nil {
		t.Fatal(err)
	}
	c := dial(t, btcNet, n)
	key, script := keyScript(t, utxo.P2WPKH)
	params, _ := utxo.ParamsFor("btc-regtest")
	addr, err := utxo.AddressInfo{Kind: utxo.P2WPKH, Hash: address.Hash160(key.PubKey().SerializeCompressed())}.Encode(params)
	if err != nil {
		t.Fatal(err)
	}
	balance := func(want int64) {
		t.Helper()
		got, err := c.Balance(ctx, addr)
		if err != nil || got.Cmp(big.NewInt(want)) != 0 {
			t.Fatalf("balance %v, %v; want %d", got, err, want)
		}
	}
	balance(0)
	first, err := w.SendToScript(ctx, n, script, 30_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.SendToScript(ctx, n, script, 50_000, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	balance(80_000)

	_, to := keyScript(t, utxo.P2WPKH)
	_, raw := signedSpend(t, key, utxo.Spend{TxID: first, Index: 0, PrevScript: script, Amount: 30_000, To: to, Fee: 1_000})
	if _, err := c.Broadcast(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if err := n.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	balance(50_000)

	if _, err := c.Balance(ctx, "not an address"); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("a bad address: %v", err)
	}
}

// A node without an address index cannot tell a balance, and says so.
func TestBalanceWithoutAnAddressIndex(t *testing.T) {
	n, _, _ := nodetest.FundedBTCD(t)
	c := dial(t, btcNet, n)
	_, err := c.Balance(nodetest.Context(t), "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080")
	if recovery.ErrorCode(err) != recovery.EInvalid || !strings.Contains(recovery.ErrorMessage(err), "address index") {
		t.Fatalf("balance without an index: %v", err)
	}
}
