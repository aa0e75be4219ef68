package evmnode_test

import (
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// reorgNetwork is the registry entry the node stands for in these tests.
var reorgNetwork = chains.Network{
	ID: "eth", Name: "Ethereum (dev)", Family: recovery.FamilyEVM, ChainID: 1337,
	Confirmations: 3, NativeAsset: "ETH", Decimals: 18, Tier: chains.Direct,
}

// reorgFixture starts a node with BlockPeriod 0, so that blocks come only
// from transactions, Mine and Reorg, and returns it with a funded key and
// the adapter reading it.
func reorgFixture(t *testing.T) (*evmnode.Node, *ethclient.Client, *evm.Client, *ecdsa.PrivateKey) {
	t.Helper()
	key, from := nodetest.Key(t)
	n, c := nodetest.EVM(t, evmnode.Config{ChainID: reorgNetwork.ChainID, Alloc: nodetest.Alloc(oneEther, from)})
	adapter, err := evm.Dial(nodetest.Context(t), reorgNetwork, n.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(adapter.Close)
	return n, c, adapter, key
}

func head(t *testing.T, c *ethclient.Client) uint64 {
	t.Helper()
	h, err := c.BlockNumber(nodetest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestMineAddsBlocks(t *testing.T) {
	n, c, _, _ := reorgFixture(t)
	ctx := nodetest.Context(t)
	before := head(t, c)
	if err := n.Mine(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if got := head(t, c); got != before+3 {
		t.Fatalf("head %d after mining 3 blocks on %d", got, before)
	}
	if err := n.Mine(ctx, 0); err == nil {
		t.Error("Mine(0) succeeded")
	}
}

// A reorg that replaces the block of a deposit: the pool takes the
// transaction back and the new branch mines it again, in a block of another
// hash. The adapter reports the new block and counts confirmations on the
// new branch only, so a deposit that was final can stop being final.
func TestReorgMinesTheTxAgainInAnotherBlock(t *testing.T) {
	n, c, adapter, sender := reorgFixture(t)
	ctx := nodetest.Context(t)
	_, to := nodetest.Key(t)
	hash, err := evmnode.SendValue(ctx, c, sender, to, big.NewInt(4242))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Mine(ctx, 2); err != nil {
		t.Fatal(err)
	}
	before, err := adapter.LookupTx(ctx, hash.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if before.Status != recovery.TxSuccess || before.Confirmations != 3 || !before.Final() {
		t.Fatalf("before the reorg: %+v, want a final deposit with 3 confirmations", before)
	}

	// Replace the deposit's block and the two above it with one block.
	res, err := n.Reorg(ctx, evmnode.ReorgOptions{Depth: 3, Blocks: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.AncestorNumber != before.BlockNumber-1 || len(res.Replaced) != 3 || res.Replaced[0].Hex() != before.BlockHash {
		t.Fatalf("reorg result %+v does not replace block %d %s", res, before.BlockNumber, before.BlockHash)
	}
	if len(res.Txs) != 1 || res.Txs[0] != hash {
		t.Errorf("replaced transactions %v, want only %s", res.Txs, hash)
	}
	if res.HeadNumber != before.BlockNumber || head(t, c) != res.HeadNumber {
		t.Errorf("new head %d (node says %d), want %d", res.HeadNumber, head(t, c), before.BlockNumber)
	}

	after, err := adapter.LookupTx(ctx, hash.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if after.BlockHash == before.BlockHash {
		t.Fatalf("after the reorg the adapter still reports the dead block %s", before.BlockHash)
	}
	if after.Status != recovery.TxSuccess || after.BlockHash != res.Head.Hex() || after.BlockNumber != res.HeadNumber ||
		after.Confirmations != 1 || after.Final() {
		t.Fatalf("after the reorg: %+v, want success in the new head %s with 1 confirmation, not final", after, res.Head)
	}
	if len(after.Transfers) != 1 || after.Transfers[0].Amount.Int64() != 4242 {
		t.Errorf("transfers after the reorg: %+v", after.Transfers)
	}
	// The dead block is still there by hash, as a side branch.
	if b, err := c.BlockByHash(ctx, res.Replaced[0]); err != nil || b.Transactions().Len() != 1 {
		t.Errorf("replaced block by hash: %v, %v", b, err)
	}
	// Confirmations grow again on the new branch.
	if err := n.Mine(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if again, err := adapter.LookupTx(ctx, hash.Hex()); err != nil || again.Confirmations != 3 || !again.Final() {
		t.Fatalf("two blocks after the reorg: %+v, %v; want 3 confirmations", again, err)
	}
}

// With DropTxs the transaction of the replaced block is gone from the node:
// the adapter says not found, never confirmed in the dead block. Queued
// transactions in the pool are kept.
func TestReorgDropTxsForgetsTheTx(t *testing.T) {
	n, c, adapter, sender := reorgFixture(t)
	ctx := nodetest.Context(t)
	_, to := nodetest.Key(t)
	queued, err := evmnode.SendPending(ctx, c, sender, to, big.NewInt(1))
	if err != nil {
		t.Fatal(err)
	}
	hash, err := evmnode.SendValue(ctx, c, sender, to, big.NewInt(777))
	if err != nil {
		t.Fatal(err)
	}
	mined, err := adapter.LookupTx(ctx, hash.Hex())
	if err != nil || mined.Status != recovery.TxSuccess {
		t.Fatalf("before the reorg: %+v, %v", mined, err)
	}

	res, err := n.Reorg(ctx, evmnode.ReorgOptions{Depth: 1, DropTxs: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.HeadNumber != mined.BlockNumber+1 || len(res.Txs) != 1 || res.Txs[0] != hash {
		t.Fatalf("reorg result %+v, want head %d and %s replaced", res, mined.BlockNumber+1, hash)
	}
	_, err = adapter.LookupTx(ctx, hash.Hex())
	if !errors.Is(err, chains.ErrTxNotFound) || recovery.ErrorCode(err) != recovery.ENotFound {
		t.Fatalf("lookup after the reorg: %v, want not found", err)
	}
	if bal, _ := c.BalanceAt(ctx, to, nil); bal.Sign() != 0 {
		t.Errorf("recipient still holds %v wei on the new branch", bal)
	}
	if tx, err := adapter.LookupTx(ctx, queued.Hex()); err != nil || tx.Status != recovery.TxPending {
		t.Errorf("queued transaction after the reorg: %+v, %v; want still pending", tx, err)
	}
	// The chain goes on: the sender's nonce is free again.
	if _, err := evmnode.SendValue(ctx, c, sender, to, big.NewInt(1)); err != nil {
		t.Fatalf("send after the reorg: %v", err)
	}
}

// Finalised checkpoints of the simulated beacon (every 32 blocks) do not
// stop a reorg below them, and blocks keep coming after it.
func TestReorgAcrossAnEpochBoundary(t *testing.T) {
	n, c, _, sender := reorgFixture(t)
	ctx := nodetest.Context(t)
	if err := n.Mine(ctx, 35); err != nil {
		t.Fatal(err)
	}
	res, err := n.Reorg(ctx, evmnode.ReorgOptions{Depth: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.AncestorNumber != 30 || res.HeadNumber != 36 || head(t, c) != 36 {
		t.Fatalf("reorg result %+v (node head %d), want ancestor 30 and head 36", res, head(t, c))
	}
	_, to := nodetest.Key(t)
	if _, err := evmnode.SendValue(ctx, c, sender, to, big.NewInt(1)); err != nil {
		t.Fatalf("send after the reorg: %v", err)
	}
}

func TestReorgRefusesBadDepth(t *testing.T) {
	n, c, _, _ := reorgFixture(t)
	ctx := nodetest.Context(t)
	for _, opts := range []evmnode.ReorgOptions{{Depth: 0}, {Depth: evmnode.MaxReorgDepth + 1}, {Depth: int(head(t, c)) + 1}, {Depth: 1, Blocks: -1}} {
		if _, err := n.Reorg(ctx, opts); err == nil {
			t.Errorf("Reorg(%+v) succeeded on a chain at %d", opts, head(t, c))
		}
	}
}

func TestMineAndReorgOnAClosedNode(t *testing.T) {
	n, _, _, _ := reorgFixture(t)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := nodetest.Context(t)
	if err := n.Mine(ctx, 1); err == nil {
		t.Error("Mine on a closed node succeeded")
	}
	if _, err := n.Reorg(ctx, evmnode.ReorgOptions{Depth: 1}); err == nil {
		t.Error("Reorg on a closed node succeeded")
	}
}
