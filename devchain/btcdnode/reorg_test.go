package btcdnode_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// reorgNet is the registry entry the node stands for in these tests. They
// reorg funded nodes of their own (nodetest.FundedBTCD), so that reorgs do
// not move the shared node under other tests.
var reorgNet = chains.Network{ID: "btc", Name: "Bitcoin (regtest)", Family: recovery.FamilyUTXO, Params: "btc-regtest",
	Confirmations: 2, NativeAsset: "BTC", Decimals: 8, Tier: chains.Direct}

func adapterFor(t *testing.T, n *btcdnode.Node) *utxo.Client {
	t.Helper()
	c, err := utxo.Dial(reorgNet, n.Host(), n.User(), n.Pass())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func bestBlock(t *testing.T, n *btcdnode.Node) (*chainhash.Hash, int64) {
	t.Helper()
	hash, height, err := n.Client().GetBestBlock()
	if err != nil {
		t.Fatal(err)
	}
	return hash, int64(height)
}

// A deposit confirmed twice (final on a network needing 2) is reorged out
// by a heavier branch of empty blocks: btcd puts it back into its mempool,
// the adapter reports it pending with no confirmations and no block, never
// confirmed in the dead block. Mined again, it counts its confirmations on
// the new branch. A restart on the data dir brings back the new branch.
func TestReorgPutsTheTxBackInTheMempool(t *testing.T) {
	regtest.Need(t)
	n, w, cfg := nodetest.FundedBTCD(t)
	ctx := nodetest.Context(t)
	other, err := btcdnode.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	txid, err := w.Send(ctx, n, other.WitnessAddress(), 2_500_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Generate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	a := adapterFor(t, n)
	before := lookupOK(t, a, txid)
	if before.Status != recovery.TxSuccess || before.Confirmations != 2 || !before.Final() {
		t.Fatalf("before the reorg: %+v, want final with 2 confirmations", before)
	}

	res, err := n.Reorg(ctx, btcdnode.ReorgOptions{Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.AncestorHeight != int64(before.BlockNumber)-1 || len(res.Replaced) != 2 || res.Replaced[0].String() != before.BlockHash {
		t.Fatalf("reorg result %+v does not replace block %d %s", res, before.BlockNumber, before.BlockHash)
	}
	if len(res.Txs) != 1 || res.Txs[0].String() != txid {
		t.Errorf("replaced transactions %v, want only %s", res.Txs, txid)
	}
	if hash, height := bestBlock(t, n); *hash != res.Head || height != res.AncestorHeight+3 || res.HeadHeight != height {
		t.Fatalf("best block %s at %d, want the new branch's %s at %d", hash, height, res.Head, res.AncestorHeight+3)
	}

	after := lookupOK(t, a, txid)
	if after.Status != recovery.TxPending || after.Confirmations != 0 || after.BlockHash != "" || after.BlockNumber != 0 || after.Final() {
		t.Fatalf("after the reorg: %+v, want pending with no block", after)
	}
	mempool, err := n.Mempool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(mempool, func(h chainhash.Hash) bool { return h.String() == txid }) {
		t.Errorf("mempool %v lacks %s", mempool, txid)
	}

	// Empty blocks leave it waiting; a real block mines it again.
	if _, err := n.GenerateEmpty(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if tx := lookupOK(t, a, txid); tx.Status != recovery.TxPending {
		t.Fatalf("after an empty block: %+v, want still pending", tx)
	}
	if err := n.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	remined := lookupOK(t, a, txid)
	newBest, height := bestBlock(t, n)
	if remined.Status != recovery.TxSuccess || remined.BlockHash != newBest.String() || remined.BlockHash == before.BlockHash ||
		remined.BlockNumber != uint64(height) || remined.Confirmations != 1 || remined.Final() {
		t.Fatalf("mined again: %+v, want 1 confirmation in %s at %d", remined, newBest, height)
	}

	// The chain file follows the reorg: a restart resubmits the new branch.
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	again := nodetest.BTCD(t, cfg)
	if hash, h := bestBlock(t, again); *hash != *newBest || h != height {
		t.Fatalf("after restart best block %s at %d, want %s at %d", hash, h, newBest, height)
	}
	if tx := lookupOK(t, adapterFor(t, again), txid); tx.BlockHash != remined.BlockHash || tx.Confirmations != 1 {
		t.Fatalf("after restart: %+v, want the transaction in %s", tx, remined.BlockHash)
	}
}

// A branch no longer than the old one only wins by invalidating the old
// one; the transaction is unconfirmed again all the same.
func TestReorgToAShorterBranch(t *testing.T) {
	regtest.Need(t)
	n, w, cfg := nodetest.FundedBTCD(t)
	ctx := nodetest.Context(t)
	txid, err := w.Send(ctx, n, w.WitnessAddress(), 40_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Generate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	_, oldHeight := bestBlock(t, n)
	res, err := n.Reorg(ctx, btcdnode.ReorgOptions{Depth: 3, Blocks: 1})
	if err != nil {
		t.Fatal(err)
	}
	if hash, height := bestBlock(t, n); *hash != res.Head || height != oldHeight-2 {
		t.Fatalf("best block %s at %d, want %s at %d", hash, height, res.Head, oldHeight-2)
	}
	if tx := lookupOK(t, adapterFor(t, n), txid); tx.Status != recovery.TxPending || tx.BlockHash != "" {
		t.Fatalf("after the reorg: %+v, want pending", tx)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	again := nodetest.BTCD(t, cfg)
	if hash, height := bestBlock(t, again); *hash != res.Head || height != oldHeight-2 {
		t.Fatalf("after restart best block %s at %d, want %s at %d", hash, height, res.Head, oldHeight-2)
	}
	// btcd keeps no mempool across a restart: the transaction is gone.
	if _, err := adapterFor(t, again).LookupTx(ctx, txid); !errors.Is(err, chains.ErrTxNotFound) || recovery.ErrorCode(err) != recovery.ENotFound {
		t.Fatalf("after restart: %v, want not found", err)
	}
}

func TestInvalidateBlockFallsBackToTheParent(t *testing.T) {
	regtest.Need(t)
	n, w, cfg := nodetest.FundedBTCD(t)
	ctx := nodetest.Context(t)
	txid, err := w.Send(ctx, n, w.Address(), 30_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	tip, height := bestBlock(t, n)
	if err := n.InvalidateBlock(ctx, tip); err != nil {
		t.Fatal(err)
	}
	if _, h := bestBlock(t, n); h != height-1 {
		t.Fatalf("height %d after invalidating the tip at %d", h, height)
	}
	if tx := lookupOK(t, adapterFor(t, n), txid); tx.Status != recovery.TxPending {
		t.Fatalf("after invalidateblock: %+v, want pending", tx)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	again := nodetest.BTCD(t, cfg)
	if _, h := bestBlock(t, again); h != height-1 {
		t.Fatalf("height %d after restart, want %d", h, height-1)
	}
}

func TestReorgRefusesBadOptions(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	_, height := bestBlock(t, shared)
	for _, opts := range []btcdnode.ReorgOptions{{Depth: 0}, {Depth: int(height) + 1}, {Depth: 1, Blocks: -1}} {
		if _, err := shared.Reorg(ctx, opts); err == nil {
			t.Errorf("Reorg(%+v) succeeded on a chain at %d", opts, height)
		}
	}
	if _, err := nodetest.BTCD(t, btcdnode.Config{}).GenerateEmpty(ctx, 1); err == nil {
		t.Error("GenerateEmpty without a mining address succeeded")
	}
}

func lookupOK(t *testing.T, c *utxo.Client, txid string) *recovery.Tx {
	t.Helper()
	tx, err := c.LookupTx(nodetest.Context(t), txid)
	if err != nil {
		t.Fatalf("LookupTx(%s): %v", txid, err)
	}
	return tx
}
