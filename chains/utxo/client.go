// Package utxo owns the Bitcoin-family adapter: it answers chains.Lookup and
// chains.CostEstimator for btc, ltc, bch, doge, dash and zec from a node's
// JSON-RPC (btcd's rpcclient, given a context in one place: Call). It owns
// each chain's address parameters, so that one public-key hash is
// recognised whichever chain's address text it was paid to, and each
// chain's floor feerate, which a cost estimate falls back to.
//
// Amounts are read from the raw transaction, in satoshis, never from the
// float "value" fields of the node's verbose answer. The raw transaction is
// decoded in Bitcoin's format, which Bitcoin, Bitcoin Cash, Dogecoin, Dash
// and Litecoin (but for MWEB peg-ins) share; Zcash's v4/v5 format is not
// decoded yet, so a zec lookup answers EUnavailable. The one float a node
// hands over, estimatesmartfee's feerate, is turned into a decimal once, as
// it arrives.
package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

// Client reads transactions of one UTXO network.
type Client struct {
	rpc          RPC
	network      chains.Network
	params       Params
	paramsErr    error
	sender       bool
	floorFeeRate decimal.Decimal // sat/vB; see WithFloorFeeRate
}

var _ chains.Lookup = (*Client)(nil)

// Option changes how a Client reads its node.
type Option func(*Client)

// WithSender makes LookupTx fill Tx.From with the address of the first
// input's previous output. It costs one more RPC round trip per lookup, and
// the first input is only a hint of who sent: a transaction may spend coins
// of several owners.
func WithSender() Option { return func(c *Client) { c.sender = true } }

// New returns a Client on rpc for network. The network's Params name is
// resolved here; if it is unknown, every LookupTx fails with that error (Dial
// reports it at once).
func New(rpc RPC, network chains.Network, opts ...Option) *Client {
	c := &Client{rpc: rpc, network: network, floorFeeRate: floorFeeRate(network.Params)}
	c.params, c.paramsErr = ParamsFor(network.Params)
	for _, o := range opts {
		o(c)
	}
	return c
}

// Dial returns a Client for a node's JSON-RPC at host: "host:port" (plain
// HTTP, as btcd --notls or bitcoind serve it on localhost) or an http(s) URL,
// whose user info is used when user is empty. Nothing is sent until the first
// lookup.
func Dial(network chains.Network, host, user, pass string, opts ...Option) (*Client, error) {
	if network.Family != recovery.FamilyUTXO {
		return nil, fmt.Errorf("utxo dial %s: network family is %q, not utxo", network.ID, network.Family)
	}
	if _, err := ParamsFor(network.Params); err != nil {
		return nil, fmt.Errorf("utxo dial %s: %w", network.ID, err)
	}
	cfg, err := ConnConfig(host, user, pass)
	if err != nil {
		return nil, fmt.Errorf("utxo dial %s: %w", network.ID, err)
	}
	return New(NewRPC(cfg), network, opts...), nil
}

// ConnConfig is the HTTP POST connection to a node: host is "host:port" or
// an http(s) URL, which may carry the user and password.
func ConnConfig(host, user, pass string) (rpcclient.ConnConfig, error) {
	cfg := rpcclient.ConnConfig{Host: host, User: user, Pass: pass, HTTPPostMode: true, DisableTLS: true}
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil {
			return rpcclient.ConnConfig{}, fmt.Errorf("rpc endpoint: %w", err)
		}
		switch u.Scheme {
		case "http":
		case "https":
			cfg.DisableTLS = false
		default:
			return rpcclient.ConnConfig{}, fmt.Errorf("rpc endpoint scheme %q is not http or https", u.Scheme)
		}
		cfg.Host = u.Host + strings.TrimSuffix(u.Path, "/")
		if user == "" && u.User != nil {
			cfg.User = u.User.Username()
			cfg.Pass, _ = u.User.Password()
		}
	}
	if cfg.Host == "" {
		return rpcclient.ConnConfig{}, errors.New("no rpc host")
	}
	return cfg, nil
}

// Network returns the network this client reads.
func (c *Client) Network() chains.Network { return c.network }

// Params returns the address parameters outputs are written with.
func (c *Client) Params() Params { return c.params }

// LookupTx returns what the node knows of the transaction hash.
//
// Every output except OP_RETURN becomes a Transfer of kind output, indexed by
// its vout, with the amount in satoshis and the address written with the
// network's params ("" when the script has none). The first OP_RETURN's
// payload becomes Tx.Memo. A transaction in the mempool is pending with no
// confirmations; a UTXO transaction is never "failed".
//
// Errors: a malformed hash is EInvalid (field tx_hash); a hash the node does
// not know is chains.ErrTxNotFound; anything else (no answer, timeout,
// garbage, a node without a transaction index) is EUnavailable, so that the
// caller retries instead of concluding the deposit does not exist.
func (c *Client) LookupTx(ctx context.Context, hash string) (*recovery.Tx, error) {
	h, err := ParseTxHash(hash)
	if err != nil {
		return nil, err
	}
	if c.paramsErr != nil {
		return nil, fmt.Errorf("utxo %s: %w", c.network.ID, c.paramsErr)
	}

	msg, res, err := c.rawTx(ctx, h)
	if err != nil {
		return nil, err
	}

	tx := &recovery.Tx{
		Network:   c.network.ID,
		Hash:      h.String(),
		Status:    recovery.TxPending,
		Required:  c.network.Confirmations,
		Transfers: []recovery.Transfer{},
	}
	if res.BlockHash != "" {
		if err := c.fillBlock(ctx, tx, res); err != nil {
			return nil, err
		}
	}

	memoFound := false
	for i, out := range msg.TxOut {
		if out.Value < 0 {
			// No chain accepts such an output: the node's answer is wrong.
			return nil, c.unavailable("getrawtransaction "+h.String(), fmt.Errorf("output %d of %d satoshis", i, out.Value))
		}
		info := ParseScript(out.PkScript)
		if info.Kind == NullData {
			if !memoFound {
				tx.Memo, memoFound = memoText(out.PkScript)
			}
			continue
		}
		to, err := info.Encode(c.params)
		if err != nil {
			to = "" // a script with no address on this chain
		}
		tx.Transfers = append(tx.Transfers, recovery.Transfer{
			Kind:       recovery.KindOutput,
			Index:      uint32(i),
			To:         to,
			PubKeyHash: info.PubKeyHash(),
			Amount:     big.NewInt(out.Value),
		})
	}

	if c.sender && !isCoinbase(msg) {
		from, err := c.senderOf(ctx, msg.TxIn[0].PreviousOutPoint)
		if err != nil {
			return nil, err
		}
		tx.From = from
	}
	return tx, nil
}

// rawTx fetches and decodes a transaction, checking that the node answered
// with the transaction asked for.
func (c *Client) rawTx(ctx context.Context, h *chainhash.Hash) (*wire.MsgTx, *btcjson.TxRawResult, error) {
	op := "getrawtransaction " + h.String()
	res, err := c.rpc.GetRawTransactionVerbose(ctx, h)
	if err != nil {
		if isNotFound(err) {
			return nil, nil, fmt.Errorf("utxo %s: transaction %s: %w", c.network.ID, h, chains.ErrTxNotFound)
		}
		return nil, nil, c.unavailable(op, err)
	}
	if res == nil {
		return nil, nil, c.unavailable(op, errors.New("empty answer"))
	}
	raw, err := hex.DecodeString(res.Hex)
	if err != nil {
		return nil, nil, c.unavailable(op, fmt.Errorf("raw transaction is not hex: %w", err))
	}
	var msg wire.MsgTx
	if err := msg.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, nil, c.unavailable(op, fmt.Errorf("decode raw transaction: %w", err))
	}
	// The txid of a transaction without witness is the hash of all its
	// bytes, which also covers what Bitcoin's format does not read (the
	// extra payload of Dash's special transactions).
	got := chainhash.DoubleHashH(raw)
	if msg.HasWitness() {
		got = msg.TxHash()
	}
	if !got.IsEqual(h) {
		return nil, nil, c.unavailable(op, fmt.Errorf("node answered with transaction %s", got))
	}
	return &msg, res, nil
}

func (c *Client) fillBlock(ctx context.Context, tx *recovery.Tx, res *btcjson.TxRawResult) error {
	blockHash, err := chainhash.NewHashFromStr(res.BlockHash)
	if err != nil {
		return c.unavailable("getrawtransaction "+tx.Hash, fmt.Errorf("block hash %q: %w", res.BlockHash, err))
	}
	header, err := c.rpc.GetBlockHeaderVerbose(ctx, blockHash)
	if err != nil {
		return c.unavailable("getblockheader "+res.BlockHash, err)
	}
	if header == nil || header.Height < 0 {
		return c.unavailable("getblockheader "+res.BlockHash, errors.New("no height in answer"))
	}
	// A null answer decodes to a header at height 0; one of another block
	// would give another height. Either way it is not this block's.
	if !strings.EqualFold(header.Hash, blockHash.String()) {
		return c.unavailable("getblockheader "+res.BlockHash, fmt.Errorf("answered with block %q", header.Hash))
	}
	tx.Status = recovery.TxSuccess
	tx.BlockHash = blockHash.String()
	tx.BlockNumber = uint64(header.Height)
	tx.Confirmations = res.Confirmations
	return nil
}

func (c *Client) senderOf(ctx context.Context, prev wire.OutPoint) (string, error) {
	msg, _, err := c.rawTx(ctx, &prev.Hash)
	switch {
	case errors.Is(err, chains.ErrTxNotFound):
		return "", nil // a pruned or index-less node: the sender is only a hint
	case err != nil:
		return "", err
	case int(prev.Index) >= len(msg.TxOut):
		return "", c.unavailable("getrawtransaction "+prev.Hash.String(), fmt.Errorf("previous transaction has no output %d", prev.Index))
	}
	from, err := ParseScript(msg.TxOut[prev.Index].PkScript).Encode(c.params)
	if err != nil {
		return "", nil
	}
	return from, nil
}

func (c *Client) unavailable(op string, cause error) error {
	e := &recovery.Error{Code: recovery.EUnavailable, Message: fmt.Sprintf("the %s node did not answer; try again later", c.network.ID)}
	return fmt.Errorf("utxo %s: %s: %w: %w", c.network.ID, op, e, cause)
}

// isNotFound reports whether the node said it does not know the hash (code
// -5, "No information available about transaction" in btcd, "No such
// mempool or blockchain transaction" in bitcoind). The same code with a
// message about the transaction index means the node cannot tell, which is
// not the same thing.
func isNotFound(err error) bool {
	var rpcErr *btcjson.RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Code != btcjson.ErrRPCNoTxInfo {
		return false
	}
	return !strings.Contains(strings.ToLower(rpcErr.Message), "index")
}

func isCoinbase(msg *wire.MsgTx) bool {
	if len(msg.TxIn) != 1 {
		return len(msg.TxIn) == 0
	}
	prev := msg.TxIn[0].PreviousOutPoint
	return prev.Index == wire.MaxPrevOutIndex && prev.Hash == (chainhash.Hash{})
}

// memoText returns an OP_RETURN's pushed bytes as text when they are
// printable (the usual exchange memo or tag), else as hex.
func memoText(pkScript []byte) (string, bool) {
	pushes, err := txscript.PushedData(pkScript)
	if err != nil {
		return hex.EncodeToString(pkScript[1:]), len(pkScript) > 1
	}
	data := bytes.Join(pushes, nil)
	if len(data) == 0 {
		return "", false
	}
	if printable(data) {
		return string(data), true
	}
	return hex.EncodeToString(data), true
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
