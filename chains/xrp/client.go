// Package xrp owns the XRP Ledger adapter: it answers chains.Lookup and
// chains.CostEstimator for the xrp network (and any network whose params
// are "xrpl") from a rippled or Clio server's JSON-RPC, and it owns the
// ledger's classic addresses (base58 with the XRPL alphabet), which proofs
// of sending are checked against.
//
// It is the first adapter of the account+memo networks: one shared hot
// address per network, each user told apart by a memo. What the engine
// needs from such a chain is the same everywhere: the sender account, the
// destination account, the amount that was really delivered, the memo,
// and whether the ledger made it final. On the XRP Ledger:
//
//   - only a validated result counts; anything else is pending, however
//     the server's tentative result reads;
//   - only Payment transactions move value to a deposit address here;
//   - the amount is meta.delivered_amount, never Amount (a partial payment
//     delivers less than its Amount says);
//   - the memo is DestinationTag, written in decimal ("" when absent);
//   - meta.TransactionResult tesSUCCESS is a success; a tec code is a
//     transaction that was included but failed (only its fee was taken).
//
// XRP amounts are strings of drops (1 XRP = 1,000,000 drops), read into
// *big.Int and never through a float. Issued-currency amounts
// ({currency, issuer, value}) are tokens (see IssuedToken).
package xrp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/memonet"
)

// Params is the value of chains.Network.Params that names this ledger.
const Params = "xrpl"

// MethodFee names a cost read from the server's fee method.
const MethodFee = "xrpl_fee"

// maxDrops is every XRP there will ever be, in drops: no amount is larger.
var maxDrops = big.NewInt(100_000_000_000 * 1_000_000)

// tfPartialPayment is the Payment flag that lets it deliver less than Amount.
const tfPartialPayment = 0x00020000

// Client reads one XRP Ledger server.
type Client struct {
	conn *memonet.Conn
}

var (
	_ chains.Lookup        = (*Client)(nil)
	_ chains.CostEstimator = (*Client)(nil)
)

// Option changes how a Client reaches its server.
type Option func(*memonet.Conn)

// WithHTTPClient makes the Client send its requests with h.
func WithHTTPClient(h *http.Client) Option { return memonet.WithHTTPClient(h) }

// Dial returns a Client for the JSON-RPC endpoint of a server (an http(s)
// URL such as https://s1.ripple.com:51234/). Nothing is sent until the
// first call.
func Dial(network chains.Network, endpoint string, opts ...Option) (*Client, error) {
	conn, err := memonet.Dial("xrp", network, endpoint, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn}, nil
}

// Network returns the network this client reads.
func (c *Client) Network() chains.Network { return c.conn.Network }

// IssuedDecimals is the scale an issued currency's amount is written in
// when the network does not list the token: base units of 10^-15, the
// precision (15 significant digits) the ledger keeps of such amounts.
const IssuedDecimals = 15

// IssuedToken is how a transfer names an issued currency: its currency
// code as the ledger writes it (three letters or 40 hex digits), a dot,
// and its issuer's address, e.g. "USD.rhub8VRN55s94qWKDv6jmDy1pUykJzF3wq".
// Listing that text as a token's contract (networks[].tokens) makes the
// currency a listed token with the decimals given there.
func IssuedToken(currency, issuer string) string { return currency + "." + issuer }

// LookupTx returns what the server knows of the transaction hash.
//
// A validated Payment with tesSUCCESS gives one transfer of kind native
// (XRP, in drops) or token (an issued currency, see IssuedToken) to its
// Destination, from its Account, of meta.delivered_amount; its
// DestinationTag is Tx.Memo. A validated transaction with a tec result is
// failed; one not validated yet is pending. Validation is final on this
// ledger: a validated transaction has 1 confirmation of 1 required,
// whatever the network's confirmations setting. Other transaction types
// are found with no transfer.
//
// Errors: a malformed hash is EInvalid (field tx_hash); txnNotFound is
// chains.ErrTxNotFound; a payment whose delivered amount the ledger never
// recorded (delivered_amount "unavailable" on a partial payment older than
// 2014) is EInvalid; anything else (no answer, an error answer, an answer
// about another transaction or one that does not read as the reference
// documents it) is EUnavailable, so that the caller retries.
func (c *Client) LookupTx(ctx context.Context, hash string) (*recovery.Tx, error) {
	hex64, err := chains.ParseTxHash(hash)
	if err != nil {
		return nil, err
	}
	h := strings.ToUpper(hex64)
	op := "tx " + h
	var res txResult
	if err := c.call(ctx, "tx", map[string]any{"transaction": h, "binary": false}, &res); err != nil {
		return nil, err
	}
	if res.Error != "" {
		if res.Error == "txnNotFound" {
			return nil, fmt.Errorf("xrp %s: transaction %s: %w", c.conn.Network.ID, h, chains.ErrTxNotFound)
		}
		return nil, c.conn.Unavailable(op, fmt.Errorf("server error %q", res.Error))
	}
	if !strings.EqualFold(res.Hash, h) {
		return nil, c.conn.Unavailable(op, fmt.Errorf("answered about transaction %q", res.Hash))
	}
	f := res.txFields
	if res.TxJSON != nil { // API v2 puts the transaction's own fields apart
		f = *res.TxJSON
	}
	if !ValidAddress(f.Account) {
		return nil, c.conn.Unavailable(op, fmt.Errorf("sender %q is not an address", f.Account))
	}
	tx := &recovery.Tx{
		Network:   c.conn.Network.ID,
		Hash:      h,
		Status:    recovery.TxPending,
		Required:  1,
		From:      f.Account,
		Transfers: []recovery.Transfer{},
	}
	if f.DestinationTag != nil {
		tx.Memo = strconv.FormatUint(uint64(*f.DestinationTag), 10)
	}
	if f.Fee != "" {
		if tx.Fee, err = parseDrops(f.Fee); err != nil {
			return nil, c.conn.Unavailable(op, fmt.Errorf("fee: %w", err))
		}
	}
	var meta txMeta
	if len(res.Meta) > 0 && string(res.Meta) != "null" {
		if err := json.Unmarshal(res.Meta, &meta); err != nil {
			return nil, c.conn.Unavailable(op, fmt.Errorf("meta: %w", err))
		}
	}
	if res.Validated {
		if res.LedgerIndex == nil {
			return nil, c.conn.Unavailable(op, errors.New("validated without a ledger index"))
		}
		tx.BlockNumber, tx.BlockHash, tx.Confirmations = *res.LedgerIndex, res.LedgerHash, 1
		switch r := meta.TransactionResult; {
		case r == "tesSUCCESS":
			tx.Status = recovery.TxSuccess
		case strings.HasPrefix(r, "tec"):
			tx.Status = recovery.TxFailed // included, fee taken, nothing delivered
			return tx, nil
		default:
			// A validated ledger holds only tes and tec results.
			return nil, c.conn.Unavailable(op, fmt.Errorf("validated with result %q", r))
		}
	}
	if f.TransactionType != "Payment" || (!res.Validated && meta.DeliveredAmount == nil) {
		return tx, nil
	}
	if !ValidAddress(f.Destination) {
		return nil, c.conn.Unavailable(op, fmt.Errorf("destination %q is not an address", f.Destination))
	}
	t, err := c.delivered(f, meta)
	if err != nil {
		if recovery.ErrorCode(err) == recovery.EInvalid {
			return nil, err
		}
		return nil, c.conn.Unavailable(op, err)
	}
	tx.Transfers = append(tx.Transfers, t)
	return tx, nil
}

// delivered is the transfer a Payment made: what meta.delivered_amount
// says reached the destination.
func (c *Client) delivered(f txFields, meta txMeta) (recovery.Transfer, error) {
	t := recovery.Transfer{Kind: recovery.KindNative, From: f.Account, To: f.Destination}
	raw := meta.DeliveredAmount
	if raw == nil {
		return t, errors.New("payment without delivered_amount")
	}
	if string(raw) == `"unavailable"` {
		// Before 2014 the ledger did not record it; only a payment that
		// could not be partial delivered its Amount for sure.
		if f.Flags&tfPartialPayment != 0 {
			return t, recovery.Errorf(recovery.EInvalid, "the ledger does not record what this partial payment delivered; a specialist must check it")
		}
		raw = f.Amount
		if raw == nil {
			raw = f.DeliverMax
		}
	}
	var drops string
	if err := json.Unmarshal(raw, &drops); err == nil {
		amount, err := parseDrops(drops)
		if err != nil {
			return t, fmt.Errorf("delivered_amount: %w", err)
		}
		t.Amount = amount
		return t, nil
	}
	var issued struct {
		Currency string `json:"currency"`
		Issuer   string `json:"issuer"`
		Value    string `json:"value"`
	}
	if err := json.Unmarshal(raw, &issued); err != nil {
		return t, fmt.Errorf("delivered_amount: %w", err)
	}
	if !validCurrency(issued.Currency) || !ValidAddress(issued.Issuer) {
		return t, fmt.Errorf("delivered_amount: currency %q of issuer %q", issued.Currency, issued.Issuer)
	}
	// The ledger keeps 16 significant digits with an exponent of -96 to
	// 80: a value far outside says the answer is garbage, and its
	// exponent must never reach BigInt (10^2147483647 does not end).
	value, err := decimal.NewFromString(issued.Value)
	if err != nil || value.Sign() < 0 || len(issued.Value) > 64 || value.Exponent() > 96 || value.Exponent() < -160 {
		return t, fmt.Errorf("delivered_amount: value %q", issued.Value)
	}
	t.Kind, t.Token = recovery.KindToken, IssuedToken(issued.Currency, issued.Issuer)
	decimals := int32(IssuedDecimals)
	if tok, ok := c.conn.Network.Token(t.Token); ok {
		decimals = tok.Decimals
	}
	t.Amount = value.Shift(decimals).Floor().BigInt()
	return t, nil
}

// EstimateCost is the fee of one XRP payment now: the open ledger's fee
// (what gets a transaction into the next ledger), never below the base
// fee, in drops.
func (c *Client) EstimateCost(ctx context.Context, _ uint64) (recovery.NetworkCost, error) {
	var res struct {
		Error string `json:"error"`
		Drops struct {
			BaseFee       string `json:"base_fee"`
			OpenLedgerFee string `json:"open_ledger_fee"`
		} `json:"drops"`
	}
	if err := c.call(ctx, "fee", map[string]any{}, &res); err != nil {
		return recovery.NetworkCost{}, err
	}
	if res.Error != "" {
		return recovery.NetworkCost{}, c.conn.Unavailable("fee", fmt.Errorf("server error %q", res.Error))
	}
	base, err := parseDrops(res.Drops.BaseFee)
	if err != nil {
		return recovery.NetworkCost{}, c.conn.Unavailable("fee", fmt.Errorf("base_fee: %w", err))
	}
	open, err := parseDrops(res.Drops.OpenLedgerFee)
	if err != nil {
		return recovery.NetworkCost{}, c.conn.Unavailable("fee", fmt.Errorf("open_ledger_fee: %w", err))
	}
	if open.Cmp(base) < 0 {
		open = base
	}
	return recovery.NetworkCost{
		Network: c.conn.Network.ID, Asset: c.conn.Network.NativeAsset, Decimals: c.conn.Network.Decimals,
		Amount: open, Method: MethodFee,
	}, nil
}

// txFields are the transaction's own fields: at the top of a tx answer in
// API v1, under tx_json in API v2.
type txFields struct {
	TransactionType string          `json:"TransactionType"`
	Account         string          `json:"Account"`
	Destination     string          `json:"Destination"`
	DestinationTag  *uint32         `json:"DestinationTag"`
	Amount          json.RawMessage `json:"Amount"`
	DeliverMax      json.RawMessage `json:"DeliverMax"`
	Fee             string          `json:"Fee"`
	Flags           uint32          `json:"Flags"`
	SigningPubKey   string          `json:"SigningPubKey"`
}

// txResult is the result of the tx method, or its error.
type txResult struct {
	txFields
	TxJSON      *txFields       `json:"tx_json"`
	Hash        string          `json:"hash"`
	LedgerIndex *uint64         `json:"ledger_index"`
	LedgerHash  string          `json:"ledger_hash"`
	Meta        json.RawMessage `json:"meta"`
	Validated   bool            `json:"validated"`
	Error       string          `json:"error"`
}

type txMeta struct {
	TransactionResult string          `json:"TransactionResult"`
	DeliveredAmount   json.RawMessage `json:"delivered_amount"`
}

// call sends one JSON-RPC request and decodes its result into out. The
// ledger's JSON-RPC has no "jsonrpc" or "id": the answer is {"result":…},
// errors included (status "error", error "txnNotFound").
func (c *Client) call(ctx context.Context, method string, params any, out any) error {
	body, err := json.Marshal(map[string]any{"method": method, "params": []any{params}})
	if err != nil {
		return err
	}
	status, text, err := c.conn.Do(ctx, method, memonet.Request{Method: http.MethodPost, URL: c.conn.Endpoint, Body: body})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return c.conn.Unavailable(method, fmt.Errorf("HTTP status %d", status))
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(text, &env); err != nil || len(env.Result) == 0 || env.Result[0] != '{' {
		return c.conn.Unavailable(method, errors.New("answer is not a JSON-RPC result"))
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return c.conn.Unavailable(method, fmt.Errorf("result: %w", err))
	}
	return nil
}

// parseDrops reads an XRP amount: a string of decimal digits, in drops.
func parseDrops(s string) (*big.Int, error) {
	if s == "" || len(s) > 20 || strings.TrimLeft(s, "0123456789") != "" {
		return nil, fmt.Errorf("%q is not an amount of drops", s)
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Cmp(maxDrops) > 0 {
		return nil, fmt.Errorf("%q is not an amount of drops", s)
	}
	return n, nil
}

// validCurrency accepts the ledger's currency codes: three ASCII letters,
// digits or the symbols the reference allows (never "XRP"), or 40 hex
// digits.
func validCurrency(s string) bool {
	switch len(s) {
	case 3:
		if s == "XRP" {
			return false
		}
		for _, r := range s {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("?!@#$%^&*<>(){}[]|", r)) {
				return false
			}
		}
		return true
	case 40:
		for _, r := range s {
			if !strings.ContainsRune("0123456789ABCDEFabcdef", r) {
				return false
			}
		}
		return true
	}
	return false
}
