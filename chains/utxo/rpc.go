package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire/v2"
)

// RPC is the part of a node's JSON-RPC interface the adapter uses, with the
// context btcd's rpcclient does not take.
type RPC interface {
	// GetRawTransactionVerbose is getrawtransaction with verbose=1: the
	// raw hex plus the block hash and confirmations (the node needs a
	// transaction index for transactions outside its mempool).
	GetRawTransactionVerbose(ctx context.Context, txid *chainhash.Hash) (*btcjson.TxRawResult, error)
	// GetBlockHeaderVerbose is getblockheader with verbose=true, for the
	// height of the block a transaction is in.
	GetBlockHeaderVerbose(ctx context.Context, block *chainhash.Hash) (*btcjson.GetBlockHeaderVerboseResult, error)
	// EstimateSmartFee is estimatesmartfee in conservative mode: the
	// feerate, in BTC per 1000 vB, that confirms within confTarget blocks.
	EstimateSmartFee(ctx context.Context, confTarget int64) (*btcjson.EstimateSmartFeeResult, error)
	// SendRawTransaction is sendrawtransaction of raw, a serialized
	// transaction, with the node's default fee limit; it returns the txid
	// the node computed.
	SendRawTransaction(ctx context.Context, raw []byte) (*chainhash.Hash, error)
	// GetTxOut is gettxout: output index of txid while it is unspent, nil
	// once it is spent. With mempool, outputs of pool transactions count;
	// bitcoind also counts spends in its pool, btcd does not.
	GetTxOut(ctx context.Context, txid *chainhash.Hash, index uint32, mempool bool) (*btcjson.GetTxOutResult, error)
	// SearchRawTransactions is searchrawtransactions of address,
	// unverbose: up to count transactions touching it, oldest first,
	// after skipping skip. Only a node with an address index (btcd
	// --addrindex) answers it.
	SearchRawTransactions(ctx context.Context, address string, skip, count int) ([]*wire.MsgTx, error)
}

// connRPC runs every call on its own short-lived rpcclient.Client (Call).
type connRPC struct {
	cfg rpcclient.ConnConfig
}

// NewRPC returns an RPC that talks to the node cfg describes, in HTTP POST
// mode: the websocket mode needs notifications this adapter never uses.
func NewRPC(cfg rpcclient.ConnConfig) RPC {
	cfg.HTTPPostMode = true
	return &connRPC{cfg: cfg}
}

func (r *connRPC) GetRawTransactionVerbose(ctx context.Context, txid *chainhash.Hash) (*btcjson.TxRawResult, error) {
	return Call(ctx, r.cfg, func(c *rpcclient.Client) (*btcjson.TxRawResult, error) {
		return c.GetRawTransactionVerbose(txid)
	})
}

func (r *connRPC) GetBlockHeaderVerbose(ctx context.Context, block *chainhash.Hash) (*btcjson.GetBlockHeaderVerboseResult, error) {
	return Call(ctx, r.cfg, func(c *rpcclient.Client) (*btcjson.GetBlockHeaderVerboseResult, error) {
		return c.GetBlockHeaderVerbose(block)
	})
}

func (r *connRPC) EstimateSmartFee(ctx context.Context, confTarget int64) (*btcjson.EstimateSmartFeeResult, error) {
	return Call(ctx, r.cfg, func(c *rpcclient.Client) (*btcjson.EstimateSmartFeeResult, error) {
		mode := btcjson.EstimateModeConservative
		return c.EstimateSmartFee(confTarget, &mode)
	})
}

func (r *connRPC) SendRawTransaction(ctx context.Context, raw []byte) (*chainhash.Hash, error) {
	// A raw request, not rpcclient's SendRawTransaction: that one asks the
	// node its version first, one more round trip on every call, to pick
	// between bitcoind's and btcd's second parameter, which is left out here.
	param, err := json.Marshal(hex.EncodeToString(raw))
	if err != nil {
		return nil, err
	}
	return Call(ctx, r.cfg, func(c *rpcclient.Client) (*chainhash.Hash, error) {
		res, err := c.RawRequest("sendrawtransaction", []json.RawMessage{param})
		if err != nil {
			return nil, err
		}
		var txid string
		if err := json.Unmarshal(res, &txid); err != nil {
			return nil, fmt.Errorf("sendrawtransaction answer: %w", err)
		}
		return chainhash.NewHashFromStr(txid)
	})
}

func (r *connRPC) GetTxOut(ctx context.Context, txid *chainhash.Hash, index uint32, mempool bool) (*btcjson.GetTxOutResult, error) {
	return Call(ctx, r.cfg, func(c *rpcclient.Client) (*btcjson.GetTxOutResult, error) {
		return c.GetTxOut(txid, index, mempool)
	})
}

func (r *connRPC) SearchRawTransactions(ctx context.Context, address string, skip, count int) ([]*wire.MsgTx, error) {
	// A raw request: rpcclient's takes an address type of a btcutil
	// version other than the one this module uses.
	var params []json.RawMessage
	for _, v := range []any{address, 0, skip, count} {
		p, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		params = append(params, p)
	}
	return Call(ctx, r.cfg, func(c *rpcclient.Client) ([]*wire.MsgTx, error) {
		res, err := c.RawRequest("searchrawtransactions", params)
		if err != nil {
			return nil, err
		}
		var hexes []string
		if err := json.Unmarshal(res, &hexes); err != nil {
			return nil, fmt.Errorf("searchrawtransactions answer: %w", err)
		}
		txs := make([]*wire.MsgTx, 0, len(hexes))
		for _, h := range hexes {
			raw, err := hex.DecodeString(h)
			if err != nil {
				return nil, fmt.Errorf("searchrawtransactions answer: %w", err)
			}
			var tx wire.MsgTx
			if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
				return nil, fmt.Errorf("searchrawtransactions answer: %w", err)
			}
			txs = append(txs, &tx)
		}
		return txs, nil
	})
}

// Call runs call on a fresh rpcclient.Client for the node cfg describes, in
// HTTP POST mode, and returns when it answers or ctx ends, whichever comes
// first. It is the one place btcd's rpcclient, which takes no context, is
// given one.
//
// A shared client in HTTP POST mode pushes all requests through one
// goroutine, and retries a refused connection ten times over about 20 s: one
// call to a dead node, even abandoned by its caller, would hold up every
// other call behind it. A client per call costs little (rpcclient closes its
// HTTP connection after every request anyway), runs calls in parallel, and
// its Shutdown aborts the request and its retries when ctx ends. A node that
// does not accept connections fails the call at once.
func Call[T any](ctx context.Context, cfg rpcclient.ConnConfig, call func(*rpcclient.Client) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if err := reachable(ctx, cfg); err != nil {
		return zero, err
	}
	cfg.HTTPPostMode = true
	c, err := rpcclient.New(&cfg, nil)
	if err != nil {
		return zero, fmt.Errorf("rpc client for %s: %w", cfg.Host, err)
	}
	// Shutdown cancels the request in flight, so the goroutine below ends
	// soon after an abandoned call too.
	defer c.Shutdown()

	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := call(c)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// reachable opens and closes one TCP connection to the node. rpcclient
// retries a refused connection for about 20 s before it gives up; a node
// that is down must fail the call at once, so that a scan over every
// network or a pool with another node to try does not wait for it.
func reachable(ctx context.Context, cfg rpcclient.ConnConfig) error {
	if cfg.Proxy != "" {
		return nil // the proxy, not this host, makes the connection
	}
	host, _, _ := strings.Cut(cfg.Host, "/")
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("node %s does not accept connections: %w", host, err)
	}
	return conn.Close()
}
