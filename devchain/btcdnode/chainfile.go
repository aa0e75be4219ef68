package btcdnode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire/v2"
)

// btcd deletes its regtest block database at every start (removeRegressionDB
// in btcd.go: "the regression test is special in that it needs a clean
// database for each run"). So that a DataDir keeps its chain, as a dev
// environment that survives a restart needs, the node copies its blocks to
// DataDir/chain.blocks after every Generate and at Stop, and submits them
// again at Start. Only blocks persist: btcd keeps no mempool across restarts
// on any network.
const chainFileName = "chain.blocks"

// maxBlockSize bounds a record read back from the chain file.
const maxBlockSize = 4_000_000

// chainFile is the node's copy of its blocks: height h is record h (the
// genesis block, which btcd always has, is not stored).
type chainFile struct {
	path   string
	height int64          // blocks stored
	tip    chainhash.Hash // hash of the last one
}

func openChainFile(dataDir string) *chainFile {
	return &chainFile{path: filepath.Join(dataDir, chainFileName)}
}

// readBlocks returns the stored blocks in height order.
func (f *chainFile) readBlocks() ([]*wire.MsgBlock, error) {
	file, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	r := bufio.NewReader(file)
	var blocks []*wire.MsgBlock
	for {
		var size uint32
		if err := binary.Read(r, binary.LittleEndian, &size); err == io.EOF {
			return blocks, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", f.path, len(blocks)+1, err)
		}
		if size > maxBlockSize {
			return nil, fmt.Errorf("%s: block %d claims %d bytes", f.path, len(blocks)+1, size)
		}
		raw := make([]byte, size)
		if _, err := io.ReadFull(r, raw); err != nil {
			// A record cut short by a crash mid-write: keep what is whole.
			return blocks, nil
		}
		var b wire.MsgBlock
		if err := b.Deserialize(bytes.NewReader(raw)); err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", f.path, len(blocks)+1, err)
		}
		blocks = append(blocks, &b)
	}
}

// restore submits the stored blocks to a node that has lost them.
func (n *Node) restoreChain(ctx context.Context) error {
	blocks, err := n.chain.readBlocks()
	if err != nil {
		return fmt.Errorf("btcdnode: restore chain: %w", err)
	}
	for i, b := range blocks {
		height := int64(i + 1)
		_, err := call(ctx, n, fmt.Sprintf("submitblock %d", height), func(c *rpcclient.Client) (struct{}, error) {
			return struct{}{}, c.SubmitBlock(btcutil.NewBlock(b), nil)
		})
		if err != nil {
			return fmt.Errorf("btcdnode: restore chain from %s: %w", n.chain.path, err)
		}
		n.chain.height, n.chain.tip = height, b.BlockHash()
	}
	if len(blocks) > 0 {
		best, err := n.BlockCount(ctx)
		if err != nil {
			return fmt.Errorf("btcdnode: restore chain: %w", err)
		}
		if best != n.chain.height {
			return fmt.Errorf("btcdnode: restore chain: node is at height %d after resubmitting %d blocks", best, n.chain.height)
		}
		n.log.Info("btcd chain restored", "height", best, "file", n.chain.path)
	}
	return nil
}

// saveChain appends the blocks the file lacks, or rewrites it if the chain
// it holds is no longer the node's (a reorg by invalidateblock).
func (n *Node) saveChain(ctx context.Context) (err error) {
	n.saveMu.Lock()
	defer n.saveMu.Unlock()
	defer func() {
		if err != nil {
			n.chain.height = 0 // the file is in doubt: rewrite it next time
		}
	}()
	best, err := n.BlockCount(ctx)
	if err != nil {
		return fmt.Errorf("btcdnode: save chain: %w", err)
	}
	from := n.chain.height + 1
	if n.chain.height > 0 {
		h, err := n.blockHash(ctx, n.chain.height)
		if err != nil || n.chain.height > best || !h.IsEqual(&n.chain.tip) {
			from = 1
		}
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if from == 1 {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		n.chain.height = 0
	}
	file, err := os.OpenFile(n.chain.path, flags, 0o600)
	if err != nil {
		return fmt.Errorf("btcdnode: save chain: %w", err)
	}
	defer file.Close()
	w := bufio.NewWriter(file)
	for h := from; h <= best; h++ {
		b, err := call(ctx, n, fmt.Sprintf("getblock %d", h), func(c *rpcclient.Client) (*wire.MsgBlock, error) {
			hash, err := c.GetBlockHash(h)
			if err != nil {
				return nil, err
			}
			return c.GetBlock(hash)
		})
		if err != nil {
			return fmt.Errorf("btcdnode: save chain: %w", err)
		}
		var buf bytes.Buffer
		if err := b.Serialize(&buf); err != nil {
			return fmt.Errorf("btcdnode: save chain: block %d: %w", h, err)
		}
		if err := binary.Write(w, binary.LittleEndian, uint32(buf.Len())); err != nil {
			return fmt.Errorf("btcdnode: save chain: %w", err)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("btcdnode: save chain: %w", err)
		}
		n.chain.tip = b.BlockHash()
		n.chain.height = h
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("btcdnode: save chain: %w", err)
	}
	if err := file.Sync(); err != nil {
		return fmt.Errorf("btcdnode: save chain: %w", err)
	}
	return nil
}

func (n *Node) blockHash(ctx context.Context, height int64) (*chainhash.Hash, error) {
	return call(ctx, n, fmt.Sprintf("getblockhash %d", height), func(c *rpcclient.Client) (*chainhash.Hash, error) {
		return c.GetBlockHash(height)
	})
}
