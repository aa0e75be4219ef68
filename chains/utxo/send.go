package utxo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

var (
	_ chains.Broadcaster  = (*Client)(nil)
	_ chains.OutputReader = (*Client)(nil)
)

// Broadcast implements chains.Broadcaster with sendrawtransaction. raw is a
// signed transaction in Bitcoin's format (wire.MsgTx.Serialize), which is
// decoded here for its txid: bytes that are not one are recovery.EInvalid
// before any node is asked.
//
// A transaction the node already holds in its pool or chain is success,
// also when the node refuses it for spending outputs that are spent (by
// itself, once mined) but can still return it by its txid. A refusal of the transaction itself (an input spent or unknown, a script
// that fails, too low a fee) is recovery.EInvalid with the node's reason;
// anything else, a node that does not answer or cannot serve the call, is
// recovery.EUnavailable.
func (c *Client) Broadcast(ctx context.Context, raw []byte) (string, error) {
	var msg wire.MsgTx
	r := bytes.NewReader(raw)
	if err := msg.Deserialize(r); err != nil {
		return "", recovery.FieldError("raw", "not a transaction in Bitcoin's format: %v", err)
	}
	if r.Len() != 0 {
		return "", recovery.FieldError("raw", "%d bytes after the transaction", r.Len())
	}
	txid := msg.TxHash()
	op := "sendrawtransaction " + txid.String()

	got, err := c.rpc.SendRawTransaction(ctx, raw)
	if err != nil {
		var rpcErr *btcjson.RPCError
		switch {
		case !errors.As(err, &rpcErr):
			return "", c.unavailable(op, err)
		case alreadyHave(rpcErr):
			return txid.String(), nil
		case refusedTx(rpcErr) && c.has(ctx, &txid):
			// btcd calls a mined transaction whose outputs are all spent
			// an orphan spending unknown outputs.
			return txid.String(), nil
		case refusedTx(rpcErr):
			return "", recovery.Errorf(recovery.EInvalid, "the %s node refused transaction %s: %s", c.network.ID, txid, reason(rpcErr.Message))
		default:
			return "", c.unavailable(op, err)
		}
	}
	if got == nil || !got.IsEqual(&txid) {
		return "", c.unavailable(op, fmt.Errorf("node answered txid %v", got))
	}
	return txid.String(), nil
}

// has reports whether the node knows the transaction, in its pool or, with
// a transaction index, in its chain. A node that cannot say does not have
// it: the refusal stands.
func (c *Client) has(ctx context.Context, txid *chainhash.Hash) bool {
	res, err := c.rpc.GetRawTransactionVerbose(ctx, txid)
	return err == nil && res != nil && res.Txid == txid.String()
}

// alreadyHave reports whether a refusal says the node holds the transaction
// already: code -27 (in the chain), or btcd's and bitcoind's wordings of
// "in the pool", which come with the general rejection code. The code alone
// cannot tell.
func alreadyHave(e *btcjson.RPCError) bool {
	if e.Code == btcjson.ErrRPCTxAlreadyInChain {
		return true
	}
	m := strings.ToLower(e.Message)
	for _, known := range []string{"already have transaction", "transaction already exists", "txn-already-in-mempool", "txn-already-known", "already in block chain"} {
		if strings.Contains(m, known) {
			return true
		}
	}
	return false
}

// refusedTx reports whether the node refused the transaction for what it is
// (codes -22, -25, -26, as btcd and bitcoind both use them) rather than
// failing to handle the call.
func refusedTx(e *btcjson.RPCError) bool {
	switch e.Code {
	case btcjson.ErrRPCDeserialization, btcjson.ErrRPCTxError, btcjson.ErrRPCTxRejected:
		return true
	}
	return false
}

// maxReasonLen bounds the node's reason quoted in a refusal.
const maxReasonLen = 200

func reason(s string) string {
	if len(s) > maxReasonLen {
		return s[:maxReasonLen] + "…"
	}
	return s
}

// Output implements chains.OutputReader: the output's script and amount
// from the raw transaction (getrawtransaction), and whether it is unspent
// from gettxout, counting the node's pool.
//
// btcd's gettxout does not look at spends in its pool (bitcoind's does): on
// btcd an output spent by a transaction not yet mined still reads as
// unspent. A second spend of it is refused all the same.
func (c *Client) Output(ctx context.Context, txid string, index uint32) (chains.Output, error) {
	h, err := ParseTxHash(txid)
	if err != nil {
		return chains.Output{}, err
	}
	msg, _, err := c.rawTx(ctx, h)
	if err != nil {
		return chains.Output{}, err
	}
	if int(index) >= len(msg.TxOut) {
		return chains.Output{}, recovery.FieldError("index", "transaction %s has %d outputs, no output %d", h, len(msg.TxOut), index)
	}
	out := msg.TxOut[index]
	res, err := c.rpc.GetTxOut(ctx, h, index, true)
	if err != nil {
		return chains.Output{}, c.unavailable(fmt.Sprintf("gettxout %s:%d", h, index), err)
	}
	return chains.Output{Script: bytes.Clone(out.PkScript), Amount: out.Value, Unspent: res != nil}, nil
}
