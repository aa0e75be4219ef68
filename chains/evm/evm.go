// Package evm is the chain adapter for EVM networks: it answers
// chains.Lookup from a node's JSON-RPC (go-ethereum's rpc client), turning a
// transaction, its receipt and, when needed, its call trace into the value
// transfers the engine classifies. It also estimates what a recovery
// transaction costs (chains.CostEstimator), reads ERC-20 decimals
// (chains.TokenReader), reads accounts (chains.AccountReader) and broadcasts
// signed transactions (chains.Broadcaster) on the same connection. send.go
// builds the legacy transactions a recovery sends and attaches a signature
// made elsewhere: this package never holds a key.
//
// A plain lookup costs one HTTP round trip (transaction, receipt and head
// block number in one batch); a transaction that ran contract code costs a
// second one, for debug_traceTransaction. Tx.Traced is true when the
// transfer list is known to include every internal transfer: after a
// successful trace, or when the receipt proves no contract code ran.
package evm

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

// ErrWrongChain is returned by Dial when the node serves another chain id
// than the network it was configured for.
var ErrWrongChain = errors.New("evm: node serves another chain")

// transferTopic is keccak256("Transfer(address,address,uint256)").
var transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// defaultTimeout bounds a lookup whose context has no deadline, so that a
// node that accepts the connection and never answers cannot hang a worker.
const defaultTimeout = 30 * time.Second

// Client looks transactions up on one EVM network.
type Client struct {
	rc      *rpc.Client
	network chains.Network
}

var _ chains.Lookup = (*Client)(nil)

// Dial connects to the node at url and checks that it serves network's
// chain id: a node pointed at the wrong chain would answer "not found" for
// every deposit, which is worse than failing at start-up.
func Dial(ctx context.Context, network chains.Network, url string) (*Client, error) {
	rc, err := rpc.DialContext(ctx, url)
	if err != nil {
		return nil, unavailable(network, "connect", err)
	}
	c := New(rc, network)
	if err := c.checkChainID(ctx); err != nil {
		rc.Close()
		return nil, err
	}
	return c, nil
}

// New returns a client on an existing RPC connection. It does not check
// the chain id; Dial does.
func New(rc *rpc.Client, network chains.Network) *Client {
	return &Client{rc: rc, network: network}
}

// Close closes the underlying RPC connection, also when it was given to New.
func (c *Client) Close() { c.rc.Close() }

func (c *Client) checkChainID(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var id hexutil.Big
	if err := c.rc.CallContext(ctx, &id, "eth_chainId"); err != nil {
		return unavailable(c.network, "eth_chainId", err)
	}
	got := (*big.Int)(&id)
	if !got.IsUint64() || got.Uint64() != c.network.ChainID {
		return fmt.Errorf("%w: network %s expects chain id %d, the node reports %s", ErrWrongChain, c.network.ID, c.network.ChainID, got)
	}
	return nil
}

// ParseTxHash validates a transaction hash as a user types it: 0x and 64
// hex digits, either case, surrounding spaces ignored.
func ParseTxHash(s string) (common.Hash, error) {
	s = strings.TrimSpace(s)
	if len(s) != 66 || (s[:2] != "0x" && s[:2] != "0X") {
		return common.Hash{}, recovery.FieldError("tx_hash", "a transaction hash is 0x followed by 64 hex digits")
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return common.Hash{}, recovery.FieldError("tx_hash", "a transaction hash is 0x followed by 64 hex digits")
	}
	return common.BytesToHash(b), nil
}

// LookupTx implements chains.Lookup.
func (c *Client) LookupTx(ctx context.Context, hash string) (*recovery.Tx, error) {
	h, err := ParseTxHash(hash)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()

	b, err := c.fetch(ctx, h)
	if err != nil {
		return nil, err
	}
	out := &recovery.Tx{
		Network:   c.network.ID,
		Hash:      h.Hex(),
		Required:  c.network.Confirmations,
		From:      b.tx.From.Hex(),
		Transfers: []recovery.Transfer{},
	}
	if b.tx.BlockNumber == nil {
		// Known to the node, not mined: report what it will move so the
		// engine can tell the user a deposit to us is on its way.
		out.Status = recovery.TxPending
		if t, ok := nativeTransfer(b.tx, nil); ok {
			out.Transfers = append(out.Transfers, t)
		}
		return out, nil
	}

	if err := c.checkMined(b, h); err != nil {
		return nil, err
	}
	out.BlockNumber = uint64(*b.tx.BlockNumber)
	out.BlockHash = b.tx.BlockHash.Hex()
	out.Confirmations = confirmations(uint64(b.head), out.BlockNumber)
	out.Fee = b.receipt.fee()
	if !b.receipt.succeeded() {
		// Reverted: no value moved, not even the native value.
		out.Status = recovery.TxFailed
		return out, nil
	}
	out.Status = recovery.TxSuccess

	transfers, traced, err := c.transfers(ctx, h, b.tx, b.receipt)
	if err != nil {
		return nil, err
	}
	out.Transfers = append(out.Transfers, transfers...)
	out.Traced = traced
	return out, nil
}

// lookupBatch is what one look-up's batch asks the node, and its answers.
type lookupBatch struct {
	tx      *rpcTx
	receipt *rpcReceipt
	head    hexutil.Uint64
	calls   []rpc.BatchElem // transaction, receipt, head block number
}

// fetch asks for the transaction, its receipt and the head block number in
// one batch, one round trip: a plain transfer needs nothing more, and the
// three answers reach the node together, which keeps a load balancer from
// splitting them across nodes at different heights. It checks the
// transaction; a hash the node does not know is chains.ErrTxNotFound.
func (c *Client) fetch(ctx context.Context, h common.Hash) (*lookupBatch, error) {
	b := &lookupBatch{}
	b.calls = []rpc.BatchElem{
		{Method: "eth_getTransactionByHash", Args: []any{h}, Result: &b.tx},
		{Method: "eth_getTransactionReceipt", Args: []any{h}, Result: &b.receipt},
		{Method: "eth_blockNumber", Result: &b.head},
	}
	if err := c.rc.BatchCallContext(ctx, b.calls); err != nil {
		return nil, unavailable(c.network, "batch", err)
	}
	if err := b.calls[0].Error; err != nil {
		// Includes geth's "transaction indexing is in progress": the node
		// does not know yet whether it knows the hash.
		return nil, unavailable(c.network, "eth_getTransactionByHash", err)
	}
	if b.tx == nil {
		return nil, fmt.Errorf("%s on %s: %w", h, c.network.ID, chains.ErrTxNotFound)
	}
	if err := b.tx.check(h); err != nil {
		return nil, unavailable(c.network, "eth_getTransactionByHash", err)
	}
	return b, nil
}

// checkMined checks the answers a mined transaction needs besides its own:
// its receipt and the head block number.
func (c *Client) checkMined(b *lookupBatch, h common.Hash) error {
	if err := b.calls[1].Error; err != nil {
		return unavailable(c.network, "eth_getTransactionReceipt", err)
	}
	if b.receipt == nil {
		// A mined transaction without a receipt: the node's receipt index
		// lags its transaction index. The caller retries.
		return unavailable(c.network, "eth_getTransactionReceipt", errors.New("mined transaction has no receipt yet"))
	}
	if err := b.receipt.check(h, b.tx); err != nil {
		return unavailable(c.network, "eth_getTransactionReceipt", err)
	}
	if err := b.calls[2].Error; err != nil {
		return unavailable(c.network, "eth_blockNumber", err)
	}
	return nil
}

// confirmations counts the block a transaction is in and those on top of
// it up to head. A load-balanced endpoint may answer the head from a node a
// block behind the one that had the receipt; the block exists, so it counts.
func confirmations(head, block uint64) uint64 {
	if head >= block {
		return head - block + 1
	}
	return 1
}

// transfers lists the value a successful transaction moved: its own value,
// its ERC-20 Transfer logs and, when it ran contract code, the value of its
// internal calls. traced is true when the list is known to be complete.
func (c *Client) transfers(ctx context.Context, h common.Hash, tx *rpcTx, r *rpcReceipt) (ts []recovery.Transfer, traced bool, err error) {
	if t, ok := nativeTransfer(tx, r); ok {
		ts = append(ts, t)
	}
	ts = append(ts, tokenTransfers(r.Logs)...)
	if !ranCode(tx, r) {
		// Nothing but a value transfer happened, so there are no internal
		// transfers: the list is complete without a trace.
		return ts, true, nil
	}
	internal, traced, err := c.trace(ctx, h)
	if err != nil {
		return nil, false, err
	}
	return append(ts, internal...), traced, nil
}

// ranCode reports whether the transaction may have executed contract code,
// judged from what the batch already returned instead of an eth_getCode
// round trip: input data, logs, a contract creation, or gas beyond a plain
// transfer's NativeSendGas (an access list also costs gas; such a
// transaction is traced for nothing, which is only slower). A receipt using
// exactly NativeSendGas, with no input and no logs, proves no contract code
// ran, so there is nothing for a trace to find.
func ranCode(tx *rpcTx, r *rpcReceipt) bool {
	return tx.To == nil || len(tx.Input) > 0 || len(r.Logs) > 0 || uint64(*r.GasUsed) > NativeSendGas
}

// trace returns the value moved by internal calls. A node that answers the
// trace with a JSON-RPC error (debug_* not served, historical state pruned,
// tracer timeout) leaves the transaction untraced instead of failing the
// lookup: the rest of the answer is still right. A transport failure or an
// unreadable answer fails the lookup, to be retried.
func (c *Client) trace(ctx context.Context, h common.Hash) ([]recovery.Transfer, bool, error) {
	var top *callFrame
	err := c.rc.CallContext(ctx, &top, "debug_traceTransaction", h, map[string]any{"tracer": "callTracer"})
	switch {
	case refused(err):
		return nil, false, nil
	case err != nil:
		return nil, false, unavailable(c.network, "debug_traceTransaction", err)
	case top == nil:
		return nil, false, unavailable(c.network, "debug_traceTransaction", errors.New("empty trace"))
	}
	var (
		out   []recovery.Transfer
		index uint32
	)
	// The top frame is the transaction itself, already reported as the
	// native transfer; its sub-calls are numbered depth first from 1.
	for i := range top.Calls {
		walkCalls(&top.Calls[i], &index, &out)
	}
	return out, true, nil
}

// refused reports whether the node answered a call with a refusal rather
// than failing to answer: a JSON-RPC error, or an HTTP 4xx from a provider
// that filters methods (408 and 429 are about load, not the method).
func refused(err error) bool {
	var rpcErr rpc.Error
	if errors.As(err, &rpcErr) {
		return true
	}
	var httpErr rpc.HTTPError
	return errors.As(err, &httpErr) && httpErr.StatusCode >= 400 && httpErr.StatusCode < 500 &&
		httpErr.StatusCode != 408 && httpErr.StatusCode != 429
}

// walkCalls appends the value-moving frames under f in depth-first order,
// numbering every frame, failed ones included, so that an index names the
// same call in the trace whatever succeeded. A frame that failed undid its
// own transfer and all of its sub-calls'.
func walkCalls(f *callFrame, index *uint32, out *[]recovery.Transfer) {
	walk(f, index, out, false)
}

func walk(f *callFrame, index *uint32, out *[]recovery.Transfer, undone bool) {
	*index++
	undone = undone || f.Error != ""
	switch strings.ToUpper(f.Type) {
	// DELEGATECALL and STATICCALL move no value; CALLCODE only to itself.
	case "CALL", "CREATE", "CREATE2", "SELFDESTRUCT":
		if !undone && f.Value != nil && f.To != nil && f.Value.ToInt().Sign() > 0 {
			*out = append(*out, recovery.Transfer{
				Kind:   recovery.KindInternal,
				Index:  *index,
				From:   f.From.Hex(),
				To:     f.To.Hex(),
				Amount: new(big.Int).Set(f.Value.ToInt()),
			})
		}
	}
	for i := range f.Calls {
		walk(&f.Calls[i], index, out, undone)
	}
}

// nativeTransfer is the transaction's own value. A contract creation pays
// the created contract, which only the receipt names.
func nativeTransfer(tx *rpcTx, r *rpcReceipt) (recovery.Transfer, bool) {
	value := tx.Value.ToInt()
	if value.Sign() <= 0 {
		return recovery.Transfer{}, false
	}
	to := ""
	switch {
	case tx.To != nil:
		to = tx.To.Hex()
	case r != nil && r.ContractAddress != nil:
		to = r.ContractAddress.Hex()
	}
	return recovery.Transfer{Kind: recovery.KindNative, Index: 0, From: tx.From.Hex(), To: to, Amount: new(big.Int).Set(value)}, true
}

// tokenTransfers reads ERC-20 Transfer logs. ERC-721 uses the same topic0
// with the token id as a fourth topic, so exactly three topics and a
// 32-byte amount is what tells a fungible transfer apart.
func tokenTransfers(logs []rpcLog) []recovery.Transfer {
	var out []recovery.Transfer
	for _, l := range logs {
		if l.Removed || len(l.Topics) != 3 || l.Topics[0] != transferTopic || len(l.Data) != 32 {
			continue
		}
		from, ok1 := topicAddress(l.Topics[1])
		to, ok2 := topicAddress(l.Topics[2])
		amount := new(big.Int).SetBytes(l.Data)
		if !ok1 || !ok2 || amount.Sign() == 0 {
			continue
		}
		out = append(out, recovery.Transfer{
			Kind:   recovery.KindToken,
			Index:  uint32(l.LogIndex),
			From:   from.Hex(),
			To:     to.Hex(),
			Token:  l.Address.Hex(),
			Amount: amount,
		})
	}
	return out
}

// topicAddress decodes an indexed address; a topic with bits above the
// low 20 bytes is not an address, so the log is not a standard Transfer.
func topicAddress(t common.Hash) (common.Address, bool) {
	for _, b := range t[:12] {
		if b != 0 {
			return common.Address{}, false
		}
	}
	return common.BytesToAddress(t[12:]), true
}

// rpcTx holds the fields of eth_getTransactionByHash the adapter reads. It
// is decoded here rather than as types.Transaction, which refuses the
// transaction types of L2 networks (deposit, system) it does not know.
type rpcTx struct {
	Hash        common.Hash     `json:"hash"`
	From        *common.Address `json:"from"`
	To          *common.Address `json:"to"`
	Value       *hexutil.Big    `json:"value"`
	Input       hexutil.Bytes   `json:"input"`
	BlockNumber *hexutil.Uint64 `json:"blockNumber"`
	BlockHash   *common.Hash    `json:"blockHash"`
}

func (tx *rpcTx) check(want common.Hash) error {
	switch {
	case tx.Hash != want:
		return fmt.Errorf("asked for transaction %s, got %s", want, tx.Hash)
	case tx.From == nil:
		return errors.New("transaction without sender")
	case tx.Value == nil:
		return errors.New("transaction without value")
	case (tx.BlockNumber == nil) != (tx.BlockHash == nil || *tx.BlockHash == common.Hash{}):
		return errors.New("transaction with a block number but no block hash, or the reverse")
	}
	return nil
}

type rpcReceipt struct {
	TransactionHash common.Hash     `json:"transactionHash"`
	BlockHash       common.Hash     `json:"blockHash"`
	BlockNumber     *hexutil.Uint64 `json:"blockNumber"`
	Status          *hexutil.Uint64 `json:"status"`
	Root            hexutil.Bytes   `json:"root"`
	GasUsed         *hexutil.Uint64 `json:"gasUsed"`
	// EffectiveGasPrice is what one unit of gas cost the sender, base fee
	// and tip together; nodes from before London leave it out.
	EffectiveGasPrice *hexutil.Big    `json:"effectiveGasPrice"`
	ContractAddress   *common.Address `json:"contractAddress"`
	Logs              []rpcLog        `json:"logs"`
}

func (r *rpcReceipt) check(want common.Hash, tx *rpcTx) error {
	switch {
	case r.TransactionHash != want:
		return fmt.Errorf("asked for the receipt of %s, got %s", want, r.TransactionHash)
	case r.BlockNumber == nil || *r.BlockNumber != *tx.BlockNumber || r.BlockHash != *tx.BlockHash:
		// Between the two reads the node switched to a chain where the
		// transaction sits in another block (a reorg); read again.
		return errors.New("receipt and transaction name different blocks")
	case r.GasUsed == nil:
		return errors.New("receipt without gasUsed")
	case r.Status == nil && len(r.Root) != 32:
		return errors.New("receipt with neither status nor state root")
	case r.Status != nil && *r.Status > 1:
		return fmt.Errorf("receipt status %d", uint64(*r.Status))
	}
	// A log index names a token deposit (its case id, its credit): one
	// that does not fit a transfer's index, or that two logs share, would
	// name another deposit or two at once.
	seen := make(map[hexutil.Uint]bool, len(r.Logs))
	for _, l := range r.Logs {
		if uint64(l.LogIndex) > math.MaxUint32 || seen[l.LogIndex] {
			return fmt.Errorf("receipt with log index %d out of range or repeated", uint64(l.LogIndex))
		}
		seen[l.LogIndex] = true
	}
	return nil
}

// fee is what the transaction paid for its gas, reverted or not: gas used
// times the effective gas price; nil when the receipt has no price. An
// OP-stack L2 also charges an L1 data fee (the receipt's l1Fee), which is
// not counted here.
func (r *rpcReceipt) fee() *big.Int {
	if r.EffectiveGasPrice == nil {
		return nil
	}
	return new(big.Int).Mul(new(big.Int).SetUint64(uint64(*r.GasUsed)), r.EffectiveGasPrice.ToInt())
}

// succeeded reads the receipt status. Receipts from before Byzantium carry a
// state root instead and no way to tell a failure; they count as success.
func (r *rpcReceipt) succeeded() bool {
	return r.Status == nil || *r.Status == 1
}

type rpcLog struct {
	Address  common.Address `json:"address"`
	Topics   []common.Hash  `json:"topics"`
	Data     hexutil.Bytes  `json:"data"`
	LogIndex hexutil.Uint   `json:"logIndex"`
	Removed  bool           `json:"removed"`
}

// callFrame is one frame of go-ethereum's callTracer output.
type callFrame struct {
	Type  string          `json:"type"`
	From  common.Address  `json:"from"`
	To    *common.Address `json:"to"`
	Value *hexutil.Big    `json:"value"`
	Error string          `json:"error"`
	Calls []callFrame     `json:"calls"`
}

// unavailable builds the EUnavailable error of a failed node call: a
// message fit for a user, and the cause for the logs (safeCause).
func unavailable(network chains.Network, call string, cause error) error {
	return fmt.Errorf("%w: %s: %w",
		recovery.Errorf(recovery.EUnavailable, "the %s node did not give a usable answer; try again later", network.ID),
		call, safeCause(cause))
}

// safeCause is the cause of a failed node call as the logs may show it:
// stripped of the endpoint URL, which often embeds a provider's API key.
func safeCause(cause error) error {
	var ue *url.Error
	if errors.As(cause, &ue) {
		cause = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	var syntax *json.SyntaxError
	if errors.As(cause, &syntax) {
		cause = fmt.Errorf("unreadable answer: %w", syntax)
	}
	return cause
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultTimeout)
}
