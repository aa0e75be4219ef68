// Package atom owns the Cosmos Hub adapter: it answers chains.Lookup and
// chains.CostEstimator for the atom network (and any network whose params
// are "cosmos") from a node's REST API (the LCD, the gRPC gateway of the
// Cosmos SDK), and it owns the bech32 account addresses (cosmos1…) that
// proofs of sending are checked against.
//
// It is a memo network like xrp: one shared hot address, each user told
// apart by the transaction's memo. On the Cosmos Hub:
//
//   - a transaction the node serves is in a block, and a block is final
//     (CometBFT has no reorganisations): 1 confirmation of 1;
//   - tx_response.code 0 is a success; any other code is a transaction
//     that was included but failed (only its fee was taken);
//   - value reaches an address by /cosmos.bank.v1beta1.MsgSend,
//     MsgMultiSend, or an incoming IBC transfer (MsgRecvPacket whose packet
//     holds an ICS-20 fungible token packet, counted only when the Hub's
//     events say the packet was credited);
//   - the memo is tx.body.memo, one for the whole transaction, or, for an
//     incoming IBC transfer, the memo its sender wrote in the packet.
//
// Amounts are integer strings in base units (uatom for ATOM), read into
// *big.Int and never through a float. Other denoms (ibc/HASH vouchers,
// factory tokens) are tokens named by their denom (see Token).
package atom

import (
	"context"
	"crypto/sha256"
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

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/memonet"
)

// Params is the value of chains.Network.Params that names this ledger.
const Params = "cosmos"

// Denom is the base denom of ATOM: 1 ATOM = 1,000,000 uatom.
const Denom = "uatom"

// MethodGasPrice names a cost computed from a gas price and SendGas.
const MethodGasPrice = "cosmos_gas_price"

// SendGas is the gas a recovery's MsgSend is given: a MsgSend with one
// coin uses 70,000 to 90,000 gas on the Hub, and wallets give it about
// 100,000.
const SendGas = 100_000

// DefaultGasPrice is the gas price, in uatom per gas, the cost is computed
// with when the node's minimum is lower or unknown: the Hub's "average"
// price in the Cosmos chain registry, above the fee market's floor
// (0.005) so that the recovery is included without waiting.
var DefaultGasPrice = decimal.RequireFromString("0.025")

// Message type URLs the adapter reads.
const (
	typeMsgSend       = "/cosmos.bank.v1beta1.MsgSend"
	typeMsgMultiSend  = "/cosmos.bank.v1beta1.MsgMultiSend"
	typeMsgTransfer   = "/ibc.applications.transfer.v1.MsgTransfer"
	typeMsgRecvPacket = "/ibc.core.channel.v1.MsgRecvPacket"
	// typeMsgExec runs messages a granter authorised its grantee to send
	// for it (x/authz): a MsgSend inside moves the granter's coins.
	typeMsgExec   = "/cosmos.authz.v1beta1.MsgExec"
	typeSecp256k1 = "/cosmos.crypto.secp256k1.PubKey"
)

// codeNotFound is gRPC's NOT_FOUND, which the gateway answers (HTTP 404)
// for a hash the node does not know.
const codeNotFound = 5

// codeUnimplemented is gRPC's UNIMPLEMENTED: a service the node lacks.
const codeUnimplemented = 12

// maxAmount bounds an amount: the SDK's Int is 256 bits.
var maxAmount = new(big.Int).Lsh(big.NewInt(1), 256)

// Client reads one Cosmos SDK node's REST API.
type Client struct {
	conn *memonet.Conn
	base url.URL // the endpoint without its trailing slashes
}

var (
	_ chains.Lookup        = (*Client)(nil)
	_ chains.CostEstimator = (*Client)(nil)
)

// Option changes how a Client reaches its node.
type Option func(*memonet.Conn)

// WithHTTPClient makes the Client send its requests with h.
func WithHTTPClient(h *http.Client) Option { return memonet.WithHTTPClient(h) }

// Dial returns a Client for the REST endpoint of a node (an http(s) URL
// such as https://cosmos-rest.publicnode.com or
// https://rest.cosmos.directory/cosmoshub). Nothing is sent until the
// first call.
func Dial(network chains.Network, endpoint string, opts ...Option) (*Client, error) {
	conn, err := memonet.Dial("atom", network, endpoint, opts...)
	if err != nil {
		return nil, err
	}
	base := *conn.URL
	base.Path, base.RawPath = strings.TrimRight(base.Path, "/"), ""
	return &Client{conn: conn, base: base}, nil
}

// Network returns the network this client reads.
func (c *Client) Network() chains.Network { return c.conn.Network }

// Token is how a transfer names a coin other than uatom: its denom as the
// Hub writes it, e.g. "ibc/14F9BC3E44B8A9C1BE1FB08980FAB87034C9905EF17CF2F5008FC085218811CC"
// (OSMO arrived from Osmosis). Listing that text as a
// token's contract (networks[].tokens) makes the coin a listed token with
// the decimals given there.
func Token(denom string) string { return denom }

// LookupTx returns what the node knows of the transaction hash.
//
// A transaction with code 0 gives one transfer per coin that reached an
// address: each MsgSend coin to to_address, each MsgMultiSend output
// coin (inside a MsgExec too: a grantee moving its granter's coins, the
// granter then the sender), and each ICS-20 packet the Hub credited to its receiver (the
// packet's denom as it is named here: uatom when ATOM comes home, else its
// ibc/HASH voucher). Coins of the same denom from the same sender to the
// same address in one transaction are one transfer of their sum: the
// memo, and so the owner, is the transaction's (IBC packets with
// different memos stay apart). uatom is native; any other denom is a token (see
// Token). Index is the transfer's place among the transaction's transfers,
// so that two transfers of one transaction name two deposits.
// tx.body.memo is Tx.Memo, but for an IBC receive, whose transaction is
// signed by a relayer with a memo of its own: there the memo of the first
// credited packet is. Tx.From is the sender of the first transfer (an IBC
// packet's sender on the chain it came from, e.g. osmo1…), else the first
// message's sender. A transaction with another code is failed, with no
// transfer. Inclusion is final: 1 confirmation of 1.
//
// Errors: a malformed hash is EInvalid (field tx_hash); the tx service's
// gRPC NOT_FOUND ("tx not found: …") is chains.ErrTxNotFound; anything
// else (no answer, another error, an answer about another transaction or
// one that does not read as the SDK writes it) is EUnavailable, so that
// the caller retries.
func (c *Client) LookupTx(ctx context.Context, hash string) (*recovery.Tx, error) {
	hex64, err := chains.ParseTxHash(hash)
	if err != nil {
		return nil, err
	}
	h := strings.ToUpper(hex64)
	op := "tx " + h
	var res getTxResponse
	status, err := c.get(ctx, op, "/cosmos/tx/v1beta1/txs/"+h, &res)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || res.TxResponse == nil {
		// The gateway answers an unknown route with code 5 as well
		// ("Not Found"): only the tx service's own message is the hash.
		if res.Code != nil && *res.Code == codeNotFound && strings.Contains(strings.ToLower(res.Message), "tx not found") {
			return nil, fmt.Errorf("atom %s: transaction %s: %w", c.conn.Network.ID, h, chains.ErrTxNotFound)
		}
		return nil, c.conn.Unavailable(op, fmt.Errorf("HTTP status %d, error code %v", status, res.Code))
	}
	r := res.TxResponse
	if !strings.EqualFold(r.TxHash, h) {
		return nil, c.conn.Unavailable(op, fmt.Errorf("answered about transaction %q", r.TxHash))
	}
	height, err := strconv.ParseUint(r.Height, 10, 63)
	if err != nil || height == 0 {
		return nil, c.conn.Unavailable(op, fmt.Errorf("height %q", r.Height))
	}
	body := res.Tx
	if body == nil {
		body = r.Tx
	}
	if body == nil {
		return nil, c.conn.Unavailable(op, errors.New("no transaction body"))
	}
	tx := &recovery.Tx{
		Network:       c.conn.Network.ID,
		Hash:          h,
		Status:        recovery.TxSuccess,
		BlockNumber:   height,
		Confirmations: 1,
		Required:      1,
		Memo:          body.Body.Memo,
		Transfers:     []recovery.Transfer{},
	}
	if tx.Fee, err = nativeSum(body.AuthInfo.Fee.Amount); err != nil {
		return nil, c.conn.Unavailable(op, fmt.Errorf("fee: %w", err))
	}
	msgs := make([]message, len(body.Body.Messages))
	for i, raw := range body.Body.Messages {
		if err := msgs[i].read(raw); err != nil {
			return nil, c.conn.Unavailable(op, fmt.Errorf("message %d: %w", i, err))
		}
	}
	if len(msgs) == 0 {
		return nil, c.conn.Unavailable(op, errors.New("a transaction without messages"))
	}
	if err := checkSigner(msgs[0], body.AuthInfo.SignerInfos); err != nil {
		return nil, c.conn.Unavailable(op, err)
	}
	tx.From = msgs[0].sender()
	if r.Code != 0 {
		tx.Status = recovery.TxFailed // included, fee taken, nothing moved
		return tx, nil
	}
	credited := creditedPackets(r)
	var moved []move
	for i, m := range msgs {
		ms, err := m.moves(credited)
		if err != nil {
			return nil, c.conn.Unavailable(op, fmt.Errorf("message %d (%s): %w", i, m.Type, err))
		}
		moved = append(moved, ms...)
	}
	c.transfers(tx, moved)
	if len(moved) > 0 {
		tx.From = moved[0].from
		if moved[0].packet {
			// The transaction's own memo is the relayer's.
			tx.Memo = moved[0].memo
		}
	}
	return tx, nil
}

// transfers adds one transfer per sender, recipient, denom and packet
// memo, in the order they first appear.
func (c *Client) transfers(tx *recovery.Tx, moved []move) {
	at := map[[4]string]int{}
	for _, m := range moved {
		key := [4]string{m.from, m.to, m.denom, m.memo}
		if i, ok := at[key]; ok {
			tx.Transfers[i].Amount.Add(tx.Transfers[i].Amount, m.amount)
			continue
		}
		at[key] = len(tx.Transfers)
		t := recovery.Transfer{Kind: recovery.KindNative, Index: uint32(len(tx.Transfers)), From: m.from, To: m.to, Amount: new(big.Int).Set(m.amount)}
		if m.denom != Denom {
			t.Kind, t.Token = recovery.KindToken, Token(m.denom)
		}
		tx.Transfers = append(tx.Transfers, t)
	}
}

// EstimateCost is the fee of one MsgSend now: SendGas times the node's
// minimum gas price in uatom, or DefaultGasPrice when that is lower, the
// node sets none, or it does not serve its config (the gateway's
// NOT_FOUND or UNIMPLEMENTED: SDKs before 0.46, or a provider that hides
// it), rounded up to a whole uatom.
func (c *Client) EstimateCost(ctx context.Context, _ uint64) (recovery.NetworkCost, error) {
	op := "node config"
	var res struct {
		MinimumGasPrice *string `json:"minimum_gas_price"`
		Code            *int    `json:"code"`
	}
	status, err := c.get(ctx, op, "/cosmos/base/node/v1beta1/config", &res)
	if err != nil {
		return recovery.NetworkCost{}, err
	}
	price := DefaultGasPrice
	switch {
	case status == http.StatusOK && res.MinimumGasPrice != nil:
		node, err := gasPrice(*res.MinimumGasPrice)
		if err != nil {
			return recovery.NetworkCost{}, c.conn.Unavailable(op, err)
		}
		price = decimal.Max(node, DefaultGasPrice)
	case res.Code != nil && (*res.Code == codeNotFound || *res.Code == codeUnimplemented):
	default:
		return recovery.NetworkCost{}, c.conn.Unavailable(op, fmt.Errorf("HTTP status %d without minimum_gas_price", status))
	}
	return recovery.NetworkCost{
		Network: c.conn.Network.ID, Asset: c.conn.Network.NativeAsset, Decimals: c.conn.Network.Decimals,
		Amount: price.Mul(decimal.NewFromInt(SendGas)).Ceil().BigInt(), Method: MethodGasPrice,
		GasLimit: SendGas,
	}, nil
}

// gasPrice reads the uatom price of a DecCoins text ("0.005uatom",
// "0.0025uatom,0.1ibc/…", ""); zero when uatom is not among them.
func gasPrice(s string) (decimal.Decimal, error) {
	if len(s) > 4096 {
		return decimal.Zero, errors.New("minimum_gas_price too long")
	}
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		i := strings.IndexFunc(c, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
		if i < 0 || c[i:] != Denom {
			continue
		}
		amount := c[:i]
		d, err := decimal.NewFromString(amount)
		if err != nil || len(amount) > 60 || d.Sign() < 0 {
			return decimal.Zero, fmt.Errorf("minimum_gas_price %q", s)
		}
		return d, nil
	}
	return decimal.Zero, nil
}

// getTxResponse is the answer of GET /cosmos/tx/v1beta1/txs/{hash}, or the
// gateway's error ({code, message, details}).
type getTxResponse struct {
	Tx         *sdkTx      `json:"tx"`
	TxResponse *txResponse `json:"tx_response"`
	Code       *int        `json:"code"`
	Message    string      `json:"message"`
}

type txResponse struct {
	Height  string  `json:"height"`
	TxHash  string  `json:"txhash"`
	Code    uint32  `json:"code"`
	GasUsed string  `json:"gas_used"`
	Tx      *sdkTx  `json:"tx"`
	Logs    []txLog `json:"logs"`
	Events  []event `json:"events"`
}

type txLog struct {
	Events []event `json:"events"`
}

type event struct {
	Type       string `json:"type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

func (e event) attr(key string) (string, bool) {
	for _, a := range e.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

type sdkTx struct {
	Body struct {
		Messages []json.RawMessage `json:"messages"`
		Memo     string            `json:"memo"`
	} `json:"body"`
	AuthInfo struct {
		SignerInfos []signerInfo `json:"signer_infos"`
		Fee         struct {
			Amount []coin `json:"amount"`
		} `json:"fee"`
	} `json:"auth_info"`
}

type signerInfo struct {
	PublicKey *struct {
		Type string `json:"@type"`
		Key  string `json:"key"`
	} `json:"public_key"`
}

type coin struct {
	Denom  string `json:"denom"`
	Amount string `json:"amount"`
}

// message holds the fields of the messages the adapter reads (see read);
// others are found with no transfer.
type message struct {
	Type string `json:"@type"`
	// MsgSend
	FromAddress string `json:"from_address"`
	ToAddress   string `json:"to_address"`
	Amount      []coin `json:"amount"`
	// MsgMultiSend
	Inputs  []bankIO `json:"inputs"`
	Outputs []bankIO `json:"outputs"`
	// MsgTransfer
	Sender string `json:"sender"`
	// MsgRecvPacket
	Packet *packet `json:"packet"`
	Signer string  `json:"signer"`
	// MsgExec: the grantee signs, the messages it runs (read into inner)
	// move the granters' coins.
	Grantee string            `json:"grantee"`
	Msgs    []json.RawMessage `json:"msgs"`
	inner   []message
}

// maxExecDepth bounds MsgExecs nested in MsgExecs, which authz allows and
// no wallet sends.
const maxExecDepth = 3

// read decodes a message: its type, and its fields when it is one the
// adapter reads (others, such as a MsgDelegate whose amount is one coin,
// keep only their type).
func (m *message) read(raw json.RawMessage) error { return m.readAt(raw, 0) }

func (m *message) readAt(raw json.RawMessage, depth int) error {
	var head struct {
		Type string `json:"@type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.Type == "" {
		return errors.New("not a message with a type")
	}
	switch head.Type {
	case typeMsgSend, typeMsgMultiSend, typeMsgTransfer, typeMsgRecvPacket, typeMsgExec:
		if err := json.Unmarshal(raw, m); err != nil {
			return fmt.Errorf("%s: %w", head.Type, err)
		}
	default:
		m.Type = head.Type
	}
	if m.Type != typeMsgExec {
		return nil
	}
	if depth >= maxExecDepth || len(m.Msgs) == 0 {
		return fmt.Errorf("%s with %d messages at depth %d", m.Type, len(m.Msgs), depth)
	}
	m.inner = make([]message, len(m.Msgs))
	for i, raw := range m.Msgs {
		if err := m.inner[i].readAt(raw, depth+1); err != nil {
			return fmt.Errorf("%s message %d: %w", m.Type, i, err)
		}
	}
	return nil
}

type bankIO struct {
	Address string `json:"address"`
	Coins   []coin `json:"coins"`
}

type packet struct {
	Sequence           string `json:"sequence"`
	SourcePort         string `json:"source_port"`
	SourceChannel      string `json:"source_channel"`
	DestinationPort    string `json:"destination_port"`
	DestinationChannel string `json:"destination_channel"`
	Data               []byte `json:"data"` // base64 in the JSON
}

// tokenPacket is ICS-20's FungibleTokenPacketData, JSON in packet.data.
type tokenPacket struct {
	Denom    string `json:"denom"`
	Amount   string `json:"amount"`
	Sender   string `json:"sender"`
	Receiver string `json:"receiver"`
	Memo     string `json:"memo"`
}

// move is one coin that reached an address; packet is true for an IBC
// packet's, whose memo is the packet's.
type move struct {
	from, to, denom string
	amount          *big.Int
	packet          bool
	memo            string
}

// sender is the account a message moves value from; "" for a message the
// adapter does not read.
func (m message) sender() string {
	switch m.Type {
	case typeMsgSend:
		return m.FromAddress
	case typeMsgMultiSend:
		if len(m.Inputs) > 0 {
			return m.Inputs[0].Address
		}
	case typeMsgTransfer:
		return m.Sender
	case typeMsgRecvPacket:
		if p, err := m.tokenPacket(); err == nil {
			return p.Sender
		}
	case typeMsgExec:
		for _, in := range m.inner {
			if s := in.sender(); s != "" {
				return s
			}
		}
	}
	return ""
}

// signer is the account that signs a message, as the SDK orders
// signer_infos: the first message's signer comes first. It is the sender,
// but for a received packet, which the relayer signs, and a MsgExec, which
// its grantee signs.
func (m message) signer() string {
	switch m.Type {
	case typeMsgRecvPacket:
		return m.Signer
	case typeMsgExec:
		return m.Grantee
	}
	return m.sender()
}

// checkSigner checks the first signer's public key, when the answer
// carries a secp256k1 one, against the first message's signer: a node
// answer where they differ is not a transaction the Hub accepted. A
// sender whose key is on chain is then known to sign with that key, the
// one its proof of sending must come from.
func checkSigner(first message, infos []signerInfo) error {
	signer := first.signer()
	if signer == "" || len(infos) == 0 || infos[0].PublicKey == nil || infos[0].PublicKey.Type != typeSecp256k1 {
		return nil
	}
	key, err := base64.StdEncoding.DecodeString(infos[0].PublicKey.Key)
	if err != nil || len(key) != 33 {
		return fmt.Errorf("signer public key %q", infos[0].PublicKey.Key)
	}
	_, id, err := DecodeAddress(signer)
	if err != nil || string(id) != string(AccountHash(key)) {
		return fmt.Errorf("signer %q is not the account of the first signer's public key", signer)
	}
	return nil
}

// moves is what a message moved to addresses of this chain. A MsgTransfer
// moves nothing here: it escrows the coins for another chain.
func (m message) moves(credited map[string]bool) ([]move, error) {
	var out []move
	switch m.Type {
	case typeMsgSend:
		if !ValidAddress(m.FromAddress) || !ValidAddress(m.ToAddress) {
			return nil, fmt.Errorf("from %q to %q", m.FromAddress, m.ToAddress)
		}
		for _, c := range m.Amount {
			amount, err := parseCoin(c)
			if err != nil {
				return nil, err
			}
			out = append(out, move{from: m.FromAddress, to: m.ToAddress, denom: c.Denom, amount: amount})
		}
	case typeMsgMultiSend:
		if len(m.Inputs) == 0 || !ValidAddress(m.Inputs[0].Address) {
			return nil, errors.New("no input")
		}
		for _, o := range m.Outputs {
			if !ValidAddress(o.Address) {
				return nil, fmt.Errorf("output to %q", o.Address)
			}
			for _, c := range o.Coins {
				amount, err := parseCoin(c)
				if err != nil {
					return nil, err
				}
				out = append(out, move{from: m.Inputs[0].Address, to: o.Address, denom: c.Denom, amount: amount})
			}
		}
	case typeMsgTransfer:
		if !ValidAddress(m.Sender) {
			return nil, fmt.Errorf("sender %q", m.Sender)
		}
	case typeMsgExec:
		if !ValidAddress(m.Grantee) {
			return nil, fmt.Errorf("grantee %q", m.Grantee)
		}
		for i, in := range m.inner {
			ms, err := in.moves(credited)
			if err != nil {
				return nil, fmt.Errorf("message %d (%s): %w", i, in.Type, err)
			}
			out = append(out, ms...)
		}
	case typeMsgRecvPacket:
		if m.Packet == nil {
			return nil, errors.New("no packet")
		}
		if m.Packet.DestinationPort != "transfer" || !credited[m.Packet.DestinationChannel+"/"+m.Packet.Sequence] {
			return nil, nil // not a token transfer, refused by the Hub, or relayed before
		}
		p, err := m.tokenPacket()
		if err != nil {
			return nil, err
		}
		if !ValidAddress(p.Receiver) || !validForeign(p.Sender) {
			return nil, fmt.Errorf("packet from %q to %q", p.Sender, p.Receiver)
		}
		amount, err := parseCoin(coin{Denom: p.Denom, Amount: p.Amount})
		if err != nil {
			return nil, err
		}
		out = append(out, move{p.Sender, p.Receiver, receivedDenom(*m.Packet, p.Denom), amount, true, p.Memo})
	}
	return out, nil
}

func (m message) tokenPacket() (tokenPacket, error) {
	var p tokenPacket
	if m.Packet == nil {
		return p, errors.New("no packet")
	}
	if err := json.Unmarshal(m.Packet.Data, &p); err != nil {
		return p, errors.New("packet data is not an ICS-20 token packet")
	}
	return p, nil
}

// receivedDenom is the denom an ICS-20 packet's coins have on the Hub: a
// coin that left the Hub through the packet's source channel comes home
// as its base denom (uatom back from Osmosis); any other is the voucher
// ibc/ and the upper-case hex SHA-256 of its trace
// "<dest port>/<dest channel>/<denom>".
func receivedDenom(p packet, denom string) string {
	prefix := p.SourcePort + "/" + p.SourceChannel + "/"
	if base, ok := strings.CutPrefix(denom, prefix); ok {
		if !strings.Contains(base, "/") {
			return base
		}
		denom = base
		sum := sha256.Sum256([]byte(denom))
		return "ibc/" + strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	sum := sha256.Sum256([]byte(p.DestinationPort + "/" + p.DestinationChannel + "/" + denom))
	return "ibc/" + strings.ToUpper(hex.EncodeToString(sum[:]))
}

// creditedPackets are the ICS-20 packets the transaction credited, as
// "<dest channel>/<sequence>": those whose recv_packet event has a
// fungible_token_packet event with success "true" for the same message.
// A packet relayed twice has no such event the second time, and one the
// Hub refused says success "false" (or its events are renamed
// ibccallbackerror-…).
//
// SDK 0.50 lists the events once, each with its msg_index (or, without
// it, a message's recv_packet before its fungible_token_packet); before
// 0.50 the events list has base64 attributes and the plain ones are in
// logs, one log per message with its events merged by type.
func creditedPackets(r *txResponse) map[string]bool {
	credited := map[string]bool{}
	byMsg := map[string]string{}
	last := ""
	for _, e := range r.Events {
		switch e.Type {
		case "recv_packet":
			last = packetKey(e)
			if i, ok := e.attr("msg_index"); ok {
				byMsg[i] = last
			}
		case "fungible_token_packet":
			key := last
			if i, ok := e.attr("msg_index"); ok {
				key = byMsg[i]
			}
			if ok, _ := e.attr("success"); ok == "true" && key != "" {
				credited[key] = true
			}
		}
	}
	for _, l := range r.Logs {
		key, success := "", false
		for _, e := range l.Events {
			switch e.Type {
			case "recv_packet":
				key = packetKey(e)
			case "fungible_token_packet":
				ok, _ := e.attr("success")
				success = ok == "true"
			}
		}
		if success && key != "" {
			credited[key] = true
		}
	}
	return credited
}

func packetKey(recv event) string {
	ch, ok1 := recv.attr("packet_dst_channel")
	seq, ok2 := recv.attr("packet_sequence")
	if !ok1 || !ok2 {
		return ""
	}
	return ch + "/" + seq
}

// parseCoin reads a coin's amount: an SDK Int, decimal digits in base
// units, and its denom as the SDK allows it.
func parseCoin(c coin) (*big.Int, error) {
	if !validDenom(c.Denom) {
		return nil, fmt.Errorf("denom %q", c.Denom)
	}
	s := c.Amount
	if s == "" || len(s) > 78 || strings.TrimLeft(s, "0123456789") != "" {
		return nil, fmt.Errorf("%q is not an amount of %s", s, c.Denom)
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Cmp(maxAmount) >= 0 {
		return nil, fmt.Errorf("%q is not an amount of %s", s, c.Denom)
	}
	return n, nil
}

// validDenom follows the SDK's denom rule: a letter, then 2 to 127
// letters, digits or "/:._-". An ICS-20 packet's denom is a trace
// ("transfer/channel-0/uatom"), which the rule allows.
func validDenom(d string) bool {
	if len(d) < 3 || len(d) > 128 || !(d[0] >= 'a' && d[0] <= 'z' || d[0] >= 'A' && d[0] <= 'Z') {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/:._-", r)) {
			return false
		}
	}
	return true
}

// nativeSum is the uatom of a fee; nil when it pays in no uatom.
func nativeSum(coins []coin) (*big.Int, error) {
	var sum *big.Int
	for _, c := range coins {
		n, err := parseCoin(c)
		if err != nil {
			return nil, err
		}
		if c.Denom == Denom {
			if sum == nil {
				sum = new(big.Int)
			}
			sum.Add(sum, n)
		}
	}
	return sum, nil
}

// get sends one GET and decodes its JSON answer into out, whatever its
// HTTP status: the gateway's errors are JSON too. It returns the status.
func (c *Client) get(ctx context.Context, op, path string, out any) (int, error) {
	u := c.base // a provider's key in the query stays there
	u.Path += path
	status, text, err := c.conn.Do(ctx, op, memonet.Request{Method: http.MethodGet, URL: u.String(), Accept: "application/json"})
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(text, out); err != nil {
		return 0, c.conn.Unavailable(op, fmt.Errorf("HTTP status %d, answer is not the JSON the SDK writes: %w", status, err))
	}
	return status, nil
}
