package btcdnode

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Reorgs. btcd's own miner (Generate) fills its blocks from the mempool, so
// a branch that leaves a transaction out is built here instead: blocks
// holding only a coinbase, solved against regtest's trivial target and
// handed to btcd by submitblock, exactly as blocks from a competing miner
// would arrive. btcd then reorganises by its own rules and puts the
// transactions of the blocks it disconnects back into its mempool.

// ReorgOptions says how Reorg replaces the tip of the chain.
type ReorgOptions struct {
	// Depth is how many blocks of the best chain are replaced, counted down
	// from the tip: 1 replaces the tip only.
	Depth int
	// Blocks is how many blocks the new branch gets; 0 means Depth+1, a
	// branch with more work that btcd switches to on its own, as on a live
	// network. A branch of Depth blocks or fewer has no more work than the
	// old one; Reorg then invalidates the old branch (invalidateblock) to
	// make btcd switch.
	Blocks int
}

// ReorgResult says what a Reorg replaced.
type ReorgResult struct {
	// Ancestor is the last block both branches share.
	Ancestor       chainhash.Hash
	AncestorHeight int64
	// Replaced are the blocks of the old branch, lowest first.
	Replaced []chainhash.Hash
	// Txs are the transactions of the replaced blocks but their coinbases:
	// btcd offers each back to its mempool, which keeps those still valid.
	Txs []chainhash.Hash
	// Head is the new best block.
	Head       chainhash.Hash
	HeadHeight int64
}

// InvalidateBlock marks a block and every block above it invalid
// (invalidateblock). If the block is in the best chain, btcd falls back to
// the best valid tip, its parent unless another branch has more work, and
// offers the transactions of the blocks it disconnects back to its mempool.
// DataDir's chain file is rewritten to match the new best chain; the
// invalid marks themselves do not survive a restart.
func (n *Node) InvalidateBlock(ctx context.Context, hash *chainhash.Hash) error {
	_, err := call(ctx, n, "invalidateblock "+hash.String(), func(c *rpcclient.Client) (struct{}, error) {
		return struct{}{}, c.InvalidateBlock(hash)
	})
	if err != nil {
		return err
	}
	return n.saveChain(ctx)
}

// GenerateEmpty mines blocks on the best chain that hold only a coinbase
// paying MiningAddr, leaving the mempool as it is: transactions wait there,
// unconfirmed, however many blocks come.
func (n *Node) GenerateEmpty(ctx context.Context, blocks uint32) ([]chainhash.Hash, error) {
	tip, height, err := n.best(ctx)
	if err != nil {
		return nil, fmt.Errorf("btcdnode generate empty: %w", err)
	}
	hashes, err := n.extend(ctx, tip, height, int(blocks))
	if err != nil {
		return nil, fmt.Errorf("btcdnode generate empty: %w", err)
	}
	return hashes, n.saveChain(ctx)
}

// Reorg replaces the newest opts.Depth blocks of the best chain with a new
// branch of empty blocks forked from the block below them (see
// ReorgOptions). The transactions of the replaced blocks are then in the
// mempool, unconfirmed, if btcd took them back; a later Generate mines them
// again, in a block of another hash. DataDir's chain file is rewritten to
// the new best chain.
//
// A Wallet that has used the node keeps its view of the old branch: it
// checks every coin with gettxout before spending it, so it never spends
// one the reorg removed, but it does not see the new branch's coinbases
// below the height it had scanned.
func (n *Node) Reorg(ctx context.Context, opts ReorgOptions) (*ReorgResult, error) {
	if opts.Depth < 1 {
		return nil, fmt.Errorf("btcdnode reorg: depth %d, want at least 1", opts.Depth)
	}
	if opts.Blocks < 0 {
		return nil, errors.New("btcdnode reorg: a reorg cannot add a negative number of blocks")
	}
	if opts.Blocks == 0 {
		opts.Blocks = opts.Depth + 1
	}
	_, height, err := n.best(ctx)
	if err != nil {
		return nil, fmt.Errorf("btcdnode reorg: %w", err)
	}
	if int64(opts.Depth) > height {
		return nil, fmt.Errorf("btcdnode reorg: depth %d is deeper than the chain (height %d)", opts.Depth, height)
	}
	res := &ReorgResult{AncestorHeight: height - int64(opts.Depth)}
	ancestor, err := n.blockHash(ctx, res.AncestorHeight)
	if err != nil {
		return nil, fmt.Errorf("btcdnode reorg: %w", err)
	}
	res.Ancestor = *ancestor
	for h := res.AncestorHeight + 1; h <= height; h++ {
		b, err := n.block(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("btcdnode reorg: %w", err)
		}
		res.Replaced = append(res.Replaced, b.BlockHash())
		for _, tx := range b.Transactions[1:] {
			res.Txs = append(res.Txs, tx.TxHash())
		}
	}

	branch, err := n.extend(ctx, *ancestor, res.AncestorHeight, opts.Blocks)
	if err != nil {
		return nil, fmt.Errorf("btcdnode reorg: %w", err)
	}
	want := branch[len(branch)-1]
	tip, _, err := n.best(ctx)
	if err != nil {
		return nil, fmt.Errorf("btcdnode reorg: %w", err)
	}
	if tip != want {
		// No more work than the old branch: btcd keeps the branch it saw
		// first until that one is invalid.
		if err := n.InvalidateBlock(ctx, &res.Replaced[0]); err != nil {
			return nil, fmt.Errorf("btcdnode reorg: %w", err)
		}
	}
	tip, tipHeight, err := n.best(ctx)
	if err != nil {
		return nil, fmt.Errorf("btcdnode reorg: %w", err)
	}
	if tip != want {
		return nil, fmt.Errorf("btcdnode reorg: best block is %s at %d, not the new branch's %s", tip, tipHeight, want)
	}
	res.Head, res.HeadHeight = tip, tipHeight
	return res, n.saveChain(ctx)
}

// Mempool lists the transactions in the node's mempool.
func (n *Node) Mempool(ctx context.Context) ([]chainhash.Hash, error) {
	hashes, err := call(ctx, n, "getrawmempool", func(c *rpcclient.Client) ([]*chainhash.Hash, error) {
		return c.GetRawMempool()
	})
	if err != nil {
		return nil, err
	}
	out := make([]chainhash.Hash, len(hashes))
	for i, h := range hashes {
		out[i] = *h
	}
	return out, nil
}

func (n *Node) best(ctx context.Context) (chainhash.Hash, int64, error) {
	type tip struct {
		hash   chainhash.Hash
		height int64
	}
	t, err := call(ctx, n, "getbestblock", func(c *rpcclient.Client) (tip, error) {
		h, height, err := c.GetBestBlock()
		if err != nil {
			return tip{}, err
		}
		return tip{*h, int64(height)}, nil
	})
	return t.hash, t.height, err
}

func (n *Node) block(ctx context.Context, height int64) (*wire.MsgBlock, error) {
	return call(ctx, n, fmt.Sprintf("getblock %d", height), func(c *rpcclient.Client) (*wire.MsgBlock, error) {
		hash, err := c.GetBlockHash(height)
		if err != nil {
			return nil, err
		}
		return c.GetBlock(hash)
	})
}

// medianTimeSpan is how many blocks btcd's median-time-past rule looks at.
const medianTimeSpan = 11

// extend builds and submits blocks empty blocks on parent (at height) and
// returns their hashes. They need not become the best chain.
func (n *Node) extend(ctx context.Context, parent chainhash.Hash, height int64, blocks int) ([]chainhash.Hash, error) {
	if blocks < 1 {
		return nil, errors.New("mine at least one block")
	}
	if n.cfg.MiningAddr == "" {
		return nil, errors.New("the node was started without a MiningAddr")
	}
	payee, err := address.DecodeAddress(n.cfg.MiningAddr, &chaincfg.RegressionNetParams)
	if err != nil {
		return nil, fmt.Errorf("mining address: %w", err)
	}
	pkScript, err := txscript.PayToAddrScript(payee)
	if err != nil {
		return nil, fmt.Errorf("mining address: %w", err)
	}
	// A timestamp above every one of the last eleven blocks is above their
	// median, which is all btcd asks of a block's time (and at most two
	// hours ahead of its clock).
	last, err := n.latestTime(ctx, parent)
	if err != nil {
		return nil, err
	}
	var hashes []chainhash.Hash
	for i := range blocks {
		ts := time.Now().Truncate(time.Second)
		if !ts.After(last) {
			ts = last.Add(time.Second)
		}
		b, err := emptyBlock(parent, height+1, ts, pkScript)
		if err != nil {
			return nil, err
		}
		_, err = call(ctx, n, fmt.Sprintf("submitblock %d", height+1), func(c *rpcclient.Client) (struct{}, error) {
			return struct{}{}, c.SubmitBlock(btcutil.NewBlock(b), nil)
		})
		if err != nil {
			return nil, fmt.Errorf("block %d of %d: %w", i+1, blocks, err)
		}
		parent, last = b.BlockHash(), ts
		height++
		hashes = append(hashes, parent)
	}
	return hashes, nil
}

// latestTime is the latest timestamp among block and the ten below it.
func (n *Node) latestTime(ctx context.Context, block chainhash.Hash) (time.Time, error) {
	return call(ctx, n, "getblockheader", func(c *rpcclient.Client) (time.Time, error) {
		var latest time.Time
		h := block
		for range medianTimeSpan {
			header, err := c.GetBlockHeader(&h)
			if err != nil {
				return time.Time{}, err
			}
			if header.Timestamp.After(latest) {
				latest = header.Timestamp
			}
			if header.PrevBlock == (chainhash.Hash{}) {
				break
			}
			h = header.PrevBlock
		}
		return latest, nil
	})
}

// emptyBlock builds a regtest block at height on parent holding only a
// coinbase that pays the block subsidy to pkScript, and solves its proof of
// work (about two tries at regtest's target).
func emptyBlock(parent chainhash.Hash, height int64, ts time.Time, pkScript []byte) (*wire.MsgBlock, error) {
	params := &chaincfg.RegressionNetParams
	// BIP 34: the coinbase starts with the block height. The random extra
	// nonce makes the coinbase, and so the block, differ from any other
	// branch's block at the same height.
	extra := make([]byte, 8)
	_, _ = rand.Read(extra) // crypto/rand.Read never fails (Go 1.24+)
	sigScript, err := txscript.NewScriptBuilder().AddInt64(height).AddData(extra).Script()
	if err != nil {
		return nil, fmt.Errorf("coinbase script: %w", err)
	}
	coinbase := wire.NewMsgTx(wire.TxVersion)
	coinbase.AddTxIn(&wire.TxIn{
		PreviousOutPoint: *wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex),
		SignatureScript:  sigScript,
		Sequence:         wire.MaxTxInSequenceNum,
	})
	coinbase.AddTxOut(wire.NewTxOut(blockchain.CalcBlockSubsidy(int32(height), params), pkScript))

	b := &wire.MsgBlock{Header: wire.BlockHeader{
		Version:    0x20000000, // BIP 9 top bits, no deployment signalled
		PrevBlock:  parent,
		MerkleRoot: coinbase.TxHash(), // the root of a one-transaction tree
		Timestamp:  ts,
		Bits:       params.PowLimitBits,
	}}
	b.AddTransaction(coinbase)
	target := blockchain.CompactToBig(b.Header.Bits)
	for nonce := uint32(0); ; nonce++ {
		b.Header.Nonce = nonce
		hash := b.Header.BlockHash()
		if blockchain.HashToBig(&hash).Cmp(target) <= 0 {
			return b, nil
		}
		if nonce == ^uint32(0) {
			return nil, errors.New("no nonce solves the block")
		}
	}
}
