package evmnode

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// MaxReorgDepth is the deepest Reorg go-ethereum performs as a plain rewind
// of the canonical chain; deeper ones it logs as impossible.
const MaxReorgDepth = 32

// ReorgOptions says how Reorg replaces the tip of the chain.
type ReorgOptions struct {
	// Depth is how many blocks of the canonical chain are replaced, counted
	// down from the head: 1 replaces the head only.
	Depth int
	// Blocks is how many blocks the new branch gets; 0 means Depth+1, so
	// that the new head is above the old one, as when a heavier branch wins
	// on a live network.
	Blocks int
	// DropTxs takes the transactions of the replaced blocks out of the
	// pool, so that the node no longer knows them, as when the winning
	// branch spent the same nonces. Without it they go back to the pool, as
	// a node does on a reorg, and the new branch's first block includes
	// them again: same transaction, other block.
	DropTxs bool
}

// ReorgResult says what a Reorg replaced.
type ReorgResult struct {
	// Ancestor is the last block both branches share.
	Ancestor       common.Hash
	AncestorNumber uint64
	// Replaced are the blocks of the old branch, lowest first; they stay
	// readable by hash but are no longer canonical.
	Replaced []common.Hash
	// Txs are the transactions of the replaced blocks.
	Txs []common.Hash
	// Head is the new head.
	Head       common.Hash
	HeadNumber uint64
}

// Mine seals blocks (empty ones unless transactions are waiting) on top of
// the head: with BlockPeriod 0 nothing else makes a chain grow without
// traffic, and confirmations only come this way.
func (n *Node) Mine(ctx context.Context, blocks int) error {
	if blocks < 1 {
		return errors.New("evmnode: mine at least one block")
	}
	return n.driver.do(ctx, func() error {
		from := n.driver.chain.CurrentBlock().Number.Uint64()
		return n.driver.commit(from, blocks)
	})
}

// Reorg replaces the newest opts.Depth blocks with a new branch forked from
// the block below them, using the simulated beacon's Fork (go-ethereum's
// SetCanonical): the old blocks stay in the database as a side branch, the
// transaction index forgets the transactions that are not in the new
// branch, and the pool takes them back (see ReorgOptions.DropTxs).
//
// Transactions that were executable in the pool when Reorg was called are
// mined first, into the old branch: the depth counts from that head.
func (n *Node) Reorg(ctx context.Context, opts ReorgOptions) (*ReorgResult, error) {
	if opts.Depth < 1 || opts.Depth > MaxReorgDepth {
		return nil, fmt.Errorf("evmnode: reorg depth %d is not between 1 and %d", opts.Depth, MaxReorgDepth)
	}
	if opts.Blocks < 0 {
		return nil, errors.New("evmnode: a reorg cannot add a negative number of blocks")
	}
	if opts.Blocks == 0 {
		opts.Blocks = opts.Depth + 1
	}
	var res *ReorgResult
	err := n.driver.do(ctx, func() (err error) {
		res, err = n.driver.reorg(opts)
		return err
	})
	return res, err
}

// do runs job on the driver's goroutine and returns its error. A job that
// has started is waited for even when ctx ends: it is short, and leaving
// the chain half reorganised would be worse.
func (d *blockDriver) do(ctx context.Context, job func() error) error {
	errc := make(chan error, 1)
	select {
	case d.jobs <- func() { errc <- job() }:
		return <-errc
	case <-d.done:
		return errors.New("evmnode: the node is closed")
	case <-ctx.Done():
		return fmt.Errorf("evmnode: %w", ctx.Err())
	}
}

// sealPending seals blocks while the pool holds executable transactions.
func (d *blockDriver) sealPending() {
	if err := d.pool.Sync(); err != nil {
		return
	}
	if executable, _ := d.pool.Stats(); executable > 0 {
		d.sealExecutable()
	}
}

// commit seals blocks on top of block number from and checks that each
// became the head: the beacon's Commit only logs a failure.
func (d *blockDriver) commit(from uint64, blocks int) error {
	for i := range blocks {
		d.beacon.Commit()
		if got, want := d.chain.CurrentBlock().Number.Uint64(), from+uint64(i)+1; got != want {
			return fmt.Errorf("evmnode: sealing block %d failed: the head is at %d", want, got)
		}
	}
	return nil
}

func (d *blockDriver) reorg(opts ReorgOptions) (*ReorgResult, error) {
	// The beacon refuses to fork with executable transactions in the pool;
	// they were sent before the reorg, so they belong to the old branch.
	d.sealPending()
	head := d.chain.CurrentBlock()
	if uint64(opts.Depth) > head.Number.Uint64() {
		return nil, fmt.Errorf("evmnode: reorg depth %d is deeper than the chain (head %d)", opts.Depth, head.Number)
	}
	ancestorNum := head.Number.Uint64() - uint64(opts.Depth)
	ancestor := d.chain.GetBlockByNumber(ancestorNum)
	if ancestor == nil {
		return nil, fmt.Errorf("evmnode: reorg: no canonical block %d", ancestorNum)
	}
	res := &ReorgResult{Ancestor: ancestor.Hash(), AncestorNumber: ancestorNum}
	for num := ancestorNum + 1; num <= head.Number.Uint64(); num++ {
		b := d.chain.GetBlockByNumber(num)
		if b == nil {
			return nil, fmt.Errorf("evmnode: reorg: no canonical block %d", num)
		}
		res.Replaced = append(res.Replaced, b.Hash())
		for _, tx := range b.Transactions() {
			res.Txs = append(res.Txs, tx.Hash())
		}
	}

	// What the pool holds now (queued transactions, such as SendPending's)
	// must survive DropTxs, which can only clear the whole pool.
	var keep []*types.Transaction
	if opts.DropTxs {
		pending, queued := d.pool.Content()
		for _, m := range []map[common.Address][]*types.Transaction{pending, queued} {
			for _, txs := range m {
				keep = append(keep, txs...)
			}
		}
	}
	if err := d.beacon.Fork(ancestor.Hash()); err != nil {
		return nil, fmt.Errorf("evmnode: reorg to block %d: %w", ancestorNum, err)
	}
	// The pool takes the old branch's transactions back on its reset.
	if err := d.pool.Sync(); err != nil {
		return nil, fmt.Errorf("evmnode: reorg: %w", err)
	}
	if opts.DropTxs {
		d.pool.Clear()
		if errs := d.pool.Add(keep, true); errors.Join(errs...) != nil {
			return nil, fmt.Errorf("evmnode: reorg: the pool refused back its own transactions: %w", errors.Join(errs...))
		}
	}
	if err := d.commit(ancestorNum, opts.Blocks); err != nil {
		return nil, fmt.Errorf("evmnode: reorg: %w", err)
	}
	newHead := d.chain.CurrentBlock()
	res.Head, res.HeadNumber = newHead.Hash(), newHead.Number.Uint64()
	return res, nil
}
