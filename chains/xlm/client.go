// Package xlm owns the Stellar adapter: it answers chains.Lookup and
// chains.CostEstimator for the xlm network (and any network whose params
// are "stellar") from a Horizon server's REST API, and it owns Stellar's
// account ids (StrKey "G…", which are Ed25519 public keys), which proofs of
// sending are checked against.
//
// Stellar is a memo network: one shared hot address, each user told apart
// by the transaction's memo. On Stellar:
//
//   - Horizon serves only transactions of closed ledgers, and a closed
//     ledger is final: every transaction it answers has 1 confirmation of 1;
//   - successful false is a transaction that was included and failed (only
//     its fee was taken);
//   - the value moves in operations: payment, path_payment_strict_receive
//     and path_payment_strict_send are the ones that pay an address here,
//     and their amount is what the destination received (for a path
//     payment, not what the sender spent);
//   - the memo is the transaction's (see Memo for how each type is
//     written), "" when it has none.
//
// Amounts are Horizon's decimal strings with 7 decimals, read into stroops
// (1 XLM = 10,000,000 stroops) as *big.Int and never through a float.
// Credit assets are tokens (see AssetToken).
package xlm

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/memonet"
)

// Params is the value of chains.Network.Params that names this ledger.
const Params = "stellar"

// MethodFeeStats names a cost read from Horizon's /fee_stats.
const MethodFeeStats = "stellar_fee_stats"

// Decimals is the scale of every Stellar amount, XLM and credit assets
// alike: Horizon writes 7 decimals, the ledger keeps integers of 10^-7.
const Decimals = 7

// maxOperations is what one transaction holds at most, and what one
// request asks for (Horizon serves up to 200 records a page).
const maxOperations = 100

// maxStroops is the largest amount the ledger can write (an int64).
var maxStroops = big.NewInt(1<<63 - 1)

// Client reads one Horizon server.
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

// Dial returns a Client for a Horizon server's base URL (such as
// https://horizon.stellar.org; a path prefix and query parameters, a
// provider's key for instance, are kept). Nothing is sent until the first
// call.
func Dial(network chains.Network, endpoint string, opts ...Option) (*Client, error) {
	conn, err := memonet.Dial("xlm", network, endpoint, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn}, nil
}

// Network returns the network this client reads.
func (c *Client) Network() chains.Network { return c.conn.Network }

// AssetToken is how a transfer names a credit asset: its code, a dot, and
// its issuer's account id, e.g.
// "USDC.GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN". Listing
// that text as a token's contract (networks[].tokens) makes the asset a
// listed token; its amounts are in units of 10^-7 unless the listing says
// other decimals.
func AssetToken(code, issuer string) string { return code + "." + issuer }

// Memo writes a transaction's memo as the engine matches it against the
// address book: an id memo in decimal ("1002"), a text memo as its text
// (as hex when its bytes are not UTF-8), a hash or return memo as its 32
// bytes in 64 lower-case hex digits (Horizon writes those in base64), and
// "" for none. An exchange that issues memos writes them the same way.
func Memo(memoType, memo, memoBytes string) (string, error) {
	switch memoType {
	case "", "none":
		return "", nil
	case "id":
		n, err := strconv.ParseUint(memo, 10, 64)
		if err != nil {
			return "", fmt.Errorf("id memo %q", memo)
		}
		return strconv.FormatUint(n, 10), nil
	case "text":
		if memoBytes == "" {
			if len(memo) > 28*3 { // 28 bytes, each at worst a replacement rune
				return "", fmt.Errorf("text memo of %d bytes", len(memo))
			}
			return memo, nil
		}
		b, err := base64.StdEncoding.DecodeString(memoBytes)
		if err != nil || len(b) > 28 {
			return "", fmt.Errorf("text memo bytes %q", memoBytes)
		}
		if utf8.Valid(b) {
			return string(b), nil
		}
		return hex.EncodeToString(b), nil
	case "hash", "return":
		b, err := base64.StdEncoding.DecodeString(memo)
		if err != nil || len(b) != 32 {
			return "", fmt.Errorf("%s memo %q", memoType, memo)
		}
		return hex.EncodeToString(b), nil
	}
	return "", fmt.Errorf("memo type %q", memoType)
}

// LookupTx returns what the server knows of the transaction hash.
//
// A successful transaction gives one transfer per payment, path payment
// strict receive or strict send operation: kind native (XLM, in stroops)
// or token (a credit asset, see AssetToken), from the operation's from to
// its to, of the amount the destination received; several XLM payments
// to the same account are one transfer of their sum, so that the deposit
// is what the address got. Tx.From is the transaction's source account,
// Tx.Memo its memo (see Memo), or, without one, the muxed id of the first
// payment to a muxed address (M…, whose account is the operation's to),
// Tx.Fee its fee_charged in stroops. A
// transaction that was not successful is failed, with no transfer. Every
// transaction Horizon serves is in a closed ledger, which is final: 1
// confirmation of 1 required, whatever the network's setting. Other
// operations are found with no transfer.
//
// Errors: a malformed hash is EInvalid (field tx_hash); Horizon's 404
// not_found is chains.ErrTxNotFound (a server that keeps a short history
// answers it too, so the pool asks another); anything else (no answer, an
// error status, an answer about another transaction or one that does not
// read as the reference documents it) is EUnavailable, so that the caller
// retries.
func (c *Client) LookupTx(ctx context.Context, hash string) (*recovery.Tx, error) {
	h, err := chains.ParseTxHash(hash)
	if err != nil {
		return nil, err
	}
	op := "transaction " + h
	var res txResource
	found, err := c.get(ctx, op, url.Values{}, &res, "transactions", h)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("xlm %s: transaction %s: %w", c.conn.Network.ID, h, chains.ErrTxNotFound)
	}
	if !res.about(h) {
		return nil, c.conn.Unavailable(op, fmt.Errorf("answered about transaction %q", res.Hash))
	}
	if !ValidAddress(res.SourceAccount) {
		return nil, c.conn.Unavailable(op, fmt.Errorf("source account %q is not an account id", res.SourceAccount))
	}
	if res.Successful == nil || res.Ledger == nil || *res.Ledger == 0 {
		return nil, c.conn.Unavailable(op, errors.New("no successful flag or ledger"))
	}
	tx := &recovery.Tx{
		Network:       c.conn.Network.ID,
		Hash:          h,
		Status:        recovery.TxSuccess,
		BlockNumber:   *res.Ledger,
		Confirmations: 1,
		Required:      1,
		From:          res.SourceAccount,
		Transfers:     []recovery.Transfer{},
	}
	if tx.Memo, err = Memo(res.MemoType, res.Memo, res.MemoBytes); err != nil {
		return nil, c.conn.Unavailable(op, err)
	}
	if tx.Fee, err = parseStroops(res.FeeCharged); err != nil {
		return nil, c.conn.Unavailable(op, fmt.Errorf("fee_charged: %w", err))
	}
	if !*res.Successful {
		tx.Status = recovery.TxFailed // included, fee taken, nothing delivered
		return tx, nil
	}
	if res.OperationCount < 1 || res.OperationCount > maxOperations {
		return nil, c.conn.Unavailable(op, fmt.Errorf("operation_count %d", res.OperationCount))
	}
	var page operationsPage
	op = "operations of " + h
	found, err = c.get(ctx, op, url.Values{"limit": {strconv.Itoa(maxOperations)}}, &page, "transactions", h, "operations")
	if err != nil {
		return nil, err
	}
	records := page.Embedded.Records
	muxedMemo := ""
	if !found || len(records) != res.OperationCount {
		// The transaction is there and its operations are not all: an
		// incomplete answer, never a deposit that did not happen.
		return nil, c.conn.Unavailable(op, fmt.Errorf("%d operations of %d", len(records), res.OperationCount))
	}
	for i, o := range records {
		if !res.names(o.TransactionHash) {
			return nil, c.conn.Unavailable(op, fmt.Errorf("operation %d of transaction %q", i, o.TransactionHash))
		}
		t, ok, err := c.transfer(o)
		if err != nil {
			return nil, c.conn.Unavailable(op, fmt.Errorf("operation %d: %w", i, err))
		}
		if !ok {
			continue
		}
		t.Index = uint32(i)
		tx.Transfers = addTransfer(tx.Transfers, t)
		if o.ToMuxedID != "" && muxedMemo == "" {
			if _, err := strconv.ParseUint(o.ToMuxedID, 10, 64); err != nil {
				return nil, c.conn.Unavailable(op, fmt.Errorf("operation %d: to_muxed_id %q", i, o.ToMuxedID))
			}
			muxedMemo = o.ToMuxedID
		}
	}
	if tx.Memo == "" {
		// A payment to a muxed address carries its user's id there
		// instead of in a memo: the id is what the exchange's memo would
		// be (an id memo), so that an exchange that issues ids finds its
		// user, and one that never issued it sees a wrong memo.
		tx.Memo = muxedMemo
	}
	return tx, nil
}

// addTransfer appends t, adding an XLM payment to the one already made to
// the same account in the transaction: one deposit per recipient, named by
// the first operation that paid it.
func addTransfer(ts []recovery.Transfer, t recovery.Transfer) []recovery.Transfer {
	if t.Kind == recovery.KindNative {
		for i := range ts {
			if ts[i].Kind == recovery.KindNative && ts[i].To == t.To {
				ts[i].Amount = new(big.Int).Add(ts[i].Amount, t.Amount)
				return ts
			}
		}
	}
	return append(ts, t)
}

// transfer reads what a payment operation delivered; ok is false for an
// operation that pays no one here.
func (c *Client) transfer(o operation) (t recovery.Transfer, ok bool, err error) {
	switch o.Type {
	case "payment", "path_payment_strict_receive", "path_payment_strict_send":
	default:
		return t, false, nil
	}
	if !ValidAddress(o.From) || !ValidAddress(o.To) {
		return t, false, fmt.Errorf("%s from %q to %q", o.Type, o.From, o.To)
	}
	t = recovery.Transfer{Kind: recovery.KindNative, From: o.From, To: o.To}
	// Horizon's amount is the destination's side of a path payment: what
	// strict receive was asked to deliver, what strict send delivered.
	stroops, err := parseAmount(o.Amount)
	if err != nil {
		return t, false, err
	}
	switch o.AssetType {
	case "native":
		t.Amount = stroops
		return t, true, nil
	case "credit_alphanum4", "credit_alphanum12":
		if !validCode(o.AssetType, o.AssetCode) || !ValidAddress(o.AssetIssuer) {
			return t, false, fmt.Errorf("asset %q of issuer %q", o.AssetCode, o.AssetIssuer)
		}
		t.Kind, t.Token = recovery.KindToken, AssetToken(o.AssetCode, o.AssetIssuer)
		t.Amount = stroops
		if tok, listed := c.conn.Network.Token(t.Token); listed && tok.Decimals != Decimals {
			t.Amount = decimal.NewFromBigInt(stroops, -Decimals).Shift(tok.Decimals).Floor().BigInt()
		}
		return t, true, nil
	}
	return t, false, fmt.Errorf("asset type %q", o.AssetType)
}

// EstimateCost is the fee of one payment now, in stroops: the larger of the
// last ledger's base fee and the median fee charged in recent ledgers
// (above the base fee when ledgers are full).
func (c *Client) EstimateCost(ctx context.Context, _ uint64) (recovery.NetworkCost, error) {
	var res struct {
		LastLedgerBaseFee string `json:"last_ledger_base_fee"`
		FeeCharged        struct {
			P50 string `json:"p50"`
		} `json:"fee_charged"`
	}
	found, err := c.get(ctx, "fee_stats", url.Values{}, &res, "fee_stats")
	if err != nil {
		return recovery.NetworkCost{}, err
	}
	if !found {
		return recovery.NetworkCost{}, c.conn.Unavailable("fee_stats", errors.New("not found"))
	}
	base, err := parseStroops(json.RawMessage(strconv.Quote(res.LastLedgerBaseFee)))
	if err != nil {
		return recovery.NetworkCost{}, c.conn.Unavailable("fee_stats", fmt.Errorf("last_ledger_base_fee: %w", err))
	}
	fee := base
	if p50, err := parseStroops(json.RawMessage(strconv.Quote(res.FeeCharged.P50))); err == nil && p50.Cmp(fee) > 0 {
		fee = p50
	}
	return recovery.NetworkCost{
		Network: c.conn.Network.ID, Asset: c.conn.Network.NativeAsset, Decimals: c.conn.Network.Decimals,
		Amount: fee, Method: MethodFeeStats,
	}, nil
}

// txResource is Horizon's transaction resource, the fields read here.
type txResource struct {
	Hash           string          `json:"hash"`
	Successful     *bool           `json:"successful"`
	Ledger         *uint64         `json:"ledger"`
	SourceAccount  string          `json:"source_account"`
	FeeCharged     json.RawMessage `json:"fee_charged"` // a string of stroops; a number before Horizon 1.0
	OperationCount int             `json:"operation_count"`
	MemoType       string          `json:"memo_type"`
	Memo           string          `json:"memo"`
	MemoBytes      string          `json:"memo_bytes"`
	FeeBump        *struct {
		Hash string `json:"hash"`
	} `json:"fee_bump_transaction"`
	Inner *struct {
		Hash string `json:"hash"`
	} `json:"inner_transaction"`
}

// about reports whether the resource is transaction h: a fee-bump
// transaction is found by its own hash and by its inner transaction's.
func (r txResource) about(h string) bool {
	if strings.EqualFold(r.Hash, h) {
		return true
	}
	return r.FeeBump != nil && r.Inner != nil && strings.EqualFold(r.FeeBump.Hash, r.Hash) && strings.EqualFold(r.Inner.Hash, h)
}

// names reports whether hash is one of the transaction's: its own, or for
// a fee-bump transaction the outer or the inner one (its operations may
// name either).
func (r txResource) names(hash string) bool {
	if hash == "" {
		return false
	}
	if strings.EqualFold(r.Hash, hash) {
		return true
	}
	return r.FeeBump != nil && r.Inner != nil && (strings.EqualFold(r.FeeBump.Hash, hash) || strings.EqualFold(r.Inner.Hash, hash))
}

type operationsPage struct {
	Embedded struct {
		Records []operation `json:"records"`
	} `json:"_embedded"`
}

// operation is one record of /transactions/{hash}/operations: the payment
// fields are common to the three operations read here.
type operation struct {
	Type            string `json:"type"`
	TransactionHash string `json:"transaction_hash"`
	From            string `json:"from"`
	To              string `json:"to"`
	Amount          string `json:"amount"`
	AssetType       string `json:"asset_type"`
	AssetCode       string `json:"asset_code"`
	AssetIssuer     string `json:"asset_issuer"`
	// ToMuxedID is the id of a muxed destination (an M… address, SEP-23):
	// the account is To, the id what a memo would carry.
	ToMuxedID string `json:"to_muxed_id"`
}

// get reads one Horizon resource into out. found is false on Horizon's
// 404 problem not_found; every other failure is EUnavailable.
func (c *Client) get(ctx context.Context, op string, query url.Values, out any, path ...string) (found bool, err error) {
	u := c.conn.URL.JoinPath(path...)
	q := u.Query()
	for k, v := range query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	status, text, err := c.conn.Do(ctx, op, memonet.Request{Method: http.MethodGet, URL: u.String(), Accept: "application/hal+json, application/json"})
	if err != nil {
		return false, err
	}
	switch {
	case status == http.StatusNotFound:
		// Only Horizon's own problem says the resource is missing (type
		// https://stellar.org/horizon-errors/not_found; older servers put
		// it under /docs/horizon/problems/): a 404 from a proxy or a wrong
		// base URL is an outage.
		var p struct {
			Type   string `json:"type"`
			Status int    `json:"status"`
		}
		if json.Unmarshal(text, &p) == nil && strings.HasSuffix(p.Type, "/not_found") && p.Status == http.StatusNotFound {
			return false, nil
		}
		return false, c.conn.Unavailable(op, errors.New("HTTP status 404 without Horizon's not_found"))
	case status != http.StatusOK:
		return false, c.conn.Unavailable(op, fmt.Errorf("HTTP status %d", status))
	case len(text) == 0 || text[0] != '{':
		return false, c.conn.Unavailable(op, errors.New("answer is not a JSON object"))
	}
	if err := json.Unmarshal(text, out); err != nil {
		return false, c.conn.Unavailable(op, fmt.Errorf("answer: %w", err))
	}
	return true, nil
}

// parseStroops reads a fee: a JSON string of decimal digits or a JSON
// integer, in stroops.
func parseStroops(raw json.RawMessage) (*big.Int, error) {
	s := strings.TrimSuffix(strings.TrimPrefix(string(raw), `"`), `"`)
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return nil, fmt.Errorf("%s is not an amount of stroops", raw)
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Cmp(maxStroops) > 0 {
		return nil, fmt.Errorf("%s is not an amount of stroops", raw)
	}
	return n, nil
}

// parseAmount reads one of Horizon's amounts, digits with up to 7
// decimals ("25.0000000"), into stroops.
func parseAmount(s string) (*big.Int, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || len(frac) > Decimals || strings.TrimLeft(whole+frac, "0123456789") != "" || strings.HasSuffix(s, ".") {
		return nil, fmt.Errorf("amount %q", s)
	}
	n, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", Decimals-len(frac)), 10)
	if !ok || n.Cmp(maxStroops) > 0 {
		return nil, fmt.Errorf("amount %q", s)
	}
	return n, nil
}

// validCode accepts an asset code as the ledger allows it: 1 to 4 (alphanum4)
// or 5 to 12 (alphanum12) ASCII letters and digits.
func validCode(assetType, code string) bool {
	lo, hi := 1, 4
	if assetType == "credit_alphanum12" {
		lo, hi = 5, 12
	}
	if len(code) < lo || len(code) > hi {
		return false
	}
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
