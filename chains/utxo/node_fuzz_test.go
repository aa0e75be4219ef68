package utxo_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
)

// nodePass is the node's RPC password: no error may repeat it.
const nodePass = "rpc-pass-0f-the-node"

// seedTx serializes a transaction of the given outputs (and a witness on
// its input when witness is true).
func seedTx(t testing.TB, witness bool, outs ...*wire.TxOut) []byte {
	t.Helper()
	tx := wire.NewMsgTx(2)
	in := wire.NewTxIn(&wire.OutPoint{Hash: chainhash.DoubleHashH([]byte("funding")), Index: 1}, nil, nil)
	if witness {
		in.Witness = wire.TxWitness{bytes.Repeat([]byte{0x30}, 71), bytes.Repeat([]byte{0x02}, 33)}
	}
	tx.AddTxIn(in)
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// txidOf is the hash a transaction's raw bytes answer to, as the adapter
// checks it: the witness-less hash of a segwit transaction, else the hash
// of every byte.
func txidOf(raw []byte) chainhash.Hash {
	var msg wire.MsgTx
	if msg.Deserialize(bytes.NewReader(raw)) == nil && msg.HasWitness() {
		return msg.TxHash()
	}
	return chainhash.DoubleHashH(raw)
}

// What bitcoind or btcd answers to getrawtransaction (verbose) and
// getblockheader, however malformed, mistyped, truncated or inconsistent,
// is either the transaction asked for, its outputs read from the raw bytes
// in satoshis (never the float "value"), non-negative, one per output
// index, its block the one the node named at the height the node gave
// for that block, or an error: not found only when the node said so
// (code -5 without a word about its index), otherwise unavailable, and the
// node's password in neither.
func FuzzLookupTx(f *testing.F) {
	keyHash := bytes.Repeat([]byte{0x11}, 20)
	p2wpkh := append([]byte{0x00, 0x14}, keyHash...)
	p2pkh := append(append([]byte{0x76, 0xa9, 0x14}, keyHash...), 0x88, 0xac)
	memo := append([]byte{0x6a, 0x06}, "memo42"...)
	payment := seedTx(f, true, wire.NewTxOut(150_000_000, p2wpkh), wire.NewTxOut(0, memo), wire.NewTxOut(4_999, p2pkh))
	legacy := seedTx(f, false, wire.NewTxOut(2_100_000_000_000_000, p2pkh))
	negative := seedTx(f, false, wire.NewTxOut(-1, p2pkh), wire.NewTxOut(100, p2wpkh))
	block := chainhash.DoubleHashH([]byte("block")).String()
	mined := `{"result":{"hex":"$HEX","txid":"$TXID","hash":"$TXID","size":222,"vsize":141,"weight":561,"version":2,"locktime":0,` +
		`"vin":[{"txid":"` + strings.Repeat("ab", 32) + `","vout":1,"scriptSig":{"asm":"","hex":""},"sequence":4294967295}],` +
		`"vout":[{"value":1.5,"n":0,"scriptPubKey":{"asm":"0 1111","hex":"0014","type":"witness_v0_keyhash"}}],` +
		`"blockhash":"` + block + `","confirmations":3,"time":1700000000,"blocktime":1700000000},"error":null,"id":1}`
	inPool := `{"result":{"hex":"$HEX","txid":"$TXID","version":2,"locktime":0,"vin":[],"vout":[]},"error":null,"id":1}`
	header := `{"result":{"hash":"$BLOCK","confirmations":3,"height":101,"version":536870912,"versionHex":"20000000",` +
		`"merkleroot":"` + strings.Repeat("cd", 32) + `","time":1700000000,"nonce":0,"bits":"207fffff","difficulty":4.6e-10,` +
		`"previousblockhash":"` + strings.Repeat("ef", 32) + `"},"error":null,"id":1}`
	for _, s := range []struct {
		raw            []byte
		answer, header string
		sender         bool
	}{
		{payment, mined, header, false},
		{payment, mined, header, true},
		{legacy, mined, header, false},
		{payment, inPool, header, false},
		{negative, mined, header, false},
		{payment, strings.Replace(mined, `"confirmations":3`, `"confirmations":-3`, 1), header, false},
		{payment, strings.Replace(mined, block, "not-a-block", 1), header, false},
		{payment, mined, strings.Replace(header, `"height":101`, `"height":-1`, 1), false},
		{payment, mined, strings.Replace(header, `"height":101`, `"height":1e10`, 1), false},
		{payment, mined, strings.Replace(header, "$BLOCK", strings.Repeat("00", 32), 1), false},
		{payment, mined, `{"result":null,"error":null,"id":1}`, false},
		{payment, `{"result":null,"error":{"code":-5,"message":"No such mempool or blockchain transaction. Use gettransaction for wallet transactions."},"id":1}`, header, false},
		{payment, `{"result":null,"error":{"code":-5,"message":"No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries."},"id":1}`, header, false},
		{payment, `{"result":null,"error":{"code":-28,"message":"Loading block index..."},"id":1}`, header, false},
		{payment, strings.Replace(mined, "$HEX", "$HEX00", 1), header, false},
		{payment, `{"result":{"hex":"$HEX"`, header, false},
		{[]byte{0x01}, mined, header, false},
		{payment, `<html>502 Bad Gateway</html>`, header, false},
	} {
		f.Add(s.raw, s.answer, s.header, s.sender)
	}
	f.Fuzz(func(t *testing.T, raw []byte, answer, headerAnswer string, sender bool) {
		txid := txidOf(raw)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				Method string            `json:"method"`
				Params []json.RawMessage `json:"params"`
			}
			body, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(body, &req)
			var asked string
			if len(req.Params) > 0 {
				_ = json.Unmarshal(req.Params[0], &asked)
			}
			switch {
			case req.Method == "getblockheader":
				_, _ = io.WriteString(w, strings.ReplaceAll(headerAnswer, "$BLOCK", asked))
			case req.Method == "getrawtransaction" && asked == txid.String():
				text := strings.ReplaceAll(answer, "$HEX", hex.EncodeToString(raw))
				_, _ = io.WriteString(w, strings.ReplaceAll(text, "$TXID", asked))
			default: // the sender's transaction: a node without it
				_, _ = io.WriteString(w, `{"result":null,"error":{"code":-5,"message":"No information available about transaction"},"id":1}`)
			}
		}))
		defer srv.Close()
		var opts []utxo.Option
		if sender {
			opts = append(opts, utxo.WithSender())
		}
		c, err := utxo.Dial(btcNet, srv.URL, "recovery", nodePass, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tx, err := c.LookupTx(ctx, txid.String())
		if err != nil {
			checkLookupError(t, err, answer)
			return
		}
		checkLookedUp(t, c, tx, txid, raw, answer, headerAnswer)
	})
}

func checkLookupError(t *testing.T, err error, answer string) {
	t.Helper()
	if strings.Contains(err.Error(), nodePass) {
		t.Fatalf("error carries the node's password: %v", err)
	}
	if errors.Is(err, chains.ErrTxNotFound) {
		var a struct {
			Error *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal([]byte(answer), &a) != nil || a.Error == nil || a.Error.Code != -5 || strings.Contains(strings.ToLower(a.Error.Message), "index") {
			t.Fatalf("not found, but the node answered %s", answer)
		}
		return
	}
	if code := recovery.ErrorCode(err); code != recovery.EUnavailable {
		t.Fatalf("error with code %q, want unavailable: %v", code, err)
	}
}

func checkLookedUp(t *testing.T, c *utxo.Client, tx *recovery.Tx, txid chainhash.Hash, raw []byte, answer, headerAnswer string) {
	t.Helper()
	var msg wire.MsgTx
	if err := msg.Deserialize(bytes.NewReader(raw)); err != nil || tx.Hash != txid.String() {
		t.Fatalf("accepted %x as transaction %s: %+v", raw, txid, tx)
	}
	// The node's own words, read by hand.
	var a struct {
		Result struct {
			BlockHash     string `json:"blockhash"`
			Confirmations uint64 `json:"confirmations"`
		} `json:"result"`
	}
	_ = json.Unmarshal([]byte(answer), &a)
	var h struct {
		Result struct {
			Hash   string `json:"hash"`
			Height int64  `json:"height"`
		} `json:"result"`
	}
	switch tx.Status {
	case recovery.TxPending:
		if a.Result.BlockHash != "" || tx.BlockHash != "" || tx.Confirmations != 0 || tx.BlockNumber != 0 {
			t.Fatalf("pending, the node said block %q: %+v", a.Result.BlockHash, tx)
		}
	case recovery.TxSuccess:
		if !strings.EqualFold(tx.BlockHash, a.Result.BlockHash) || tx.Confirmations != a.Result.Confirmations {
			t.Fatalf("in block %s with %d confirmations, the node said %q and %d", tx.BlockHash, tx.Confirmations, a.Result.BlockHash, a.Result.Confirmations)
		}
		header := strings.ReplaceAll(headerAnswer, "$BLOCK", tx.BlockHash)
		if json.Unmarshal([]byte(header), &h) != nil || h.Result.Height < 0 || uint64(h.Result.Height) != tx.BlockNumber {
			t.Fatalf("at height %d, the node's header says %s", tx.BlockNumber, header)
		}
		if !strings.EqualFold(h.Result.Hash, tx.BlockHash) {
			t.Fatalf("in block %s at the height of block %q", tx.BlockHash, h.Result.Hash)
		}
	default:
		t.Fatalf("status %q", tx.Status)
	}
	seen := map[uint32]bool{}
	for _, tr := range tx.Transfers {
		if tr.Kind != recovery.KindOutput || seen[tr.Index] || int(tr.Index) >= len(msg.TxOut) {
			t.Fatalf("transfer %+v of a transaction with %d outputs", tr, len(msg.TxOut))
		}
		seen[tr.Index] = true
		out := msg.TxOut[tr.Index]
		if tr.Amount == nil || tr.Amount.Sign() < 0 || !tr.Amount.IsInt64() || tr.Amount.Int64() != out.Value {
			t.Fatalf("output %d of %v satoshis, the raw transaction says %d", tr.Index, tr.Amount, out.Value)
		}
		if tr.To != "" {
			if _, err := utxo.DecodeAddress(c.Params(), tr.To); err != nil {
				t.Fatalf("output %d to %q: %v", tr.Index, tr.To, err)
			}
		}
	}
}

// What a node answers to estimatesmartfee, searchrawtransactions and
// gettxout is a cost of whole satoshis at a feerate no lower than the
// floor (the node's float turned into a decimal once), a balance that
// counts each unspent output paying the address once and never below
// zero, or an error with a code, never a panic nor the node's password.
func FuzzNodeFigures(f *testing.F) {
	keyHash := bytes.Repeat([]byte{0x11}, 20)
	p2wpkh := append([]byte{0x00, 0x14}, keyHash...)
	p2pkh := append(append([]byte{0x76, 0xa9, 0x14}, keyHash...), 0x88, 0xac)
	paid := seedTx(f, true, wire.NewTxOut(150_000_000, p2wpkh), wire.NewTxOut(4_999, p2pkh), wire.NewTxOut(1, p2wpkh))
	negative := seedTx(f, false, wire.NewTxOut(-5_000, p2wpkh))
	search := `{"result":$TXS,"error":null,"id":1}`
	unspent := `{"result":{"bestblock":"` + strings.Repeat("ab", 32) + `","confirmations":3,"value":1.5,"scriptPubKey":{"asm":"","hex":"","type":"witness_v0_keyhash"},"coinbase":false},"error":null,"id":1}`
	for _, s := range []struct {
		fee    string
		raw    []byte
		copies uint8
		search string
		txout  string
	}{
		{`{"result":{"feerate":0.00012345,"blocks":6},"error":null,"id":1}`, paid, 1, search, unspent},
		{`{"result":{"errors":["Insufficient data or no feerate found"],"blocks":0},"error":null,"id":1}`, paid, 1, search, `{"result":null,"error":null,"id":1}`},
		{`{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}`, paid, 2, search, unspent},
		{`{"result":{"feerate":-1,"blocks":6},"error":null,"id":1}`, negative, 1, search, unspent},
		{`{"result":{"feerate":1e308,"blocks":6},"error":null,"id":1}`, paid, 1, `{"result":null,"error":{"code":-5,"message":"No information available about address"},"id":1}`, unspent},
		{`{"result":{"feerate":5e-324,"blocks":6},"error":null,"id":1}`, paid, 1, `{"result":null,"error":{"code":-1,"message":"Address index not enabled"},"id":1}`, unspent},
		{`{"result":{"feerate":"0.0001"},"error":null,"id":1}`, []byte{0x00}, 1, `{"result":["zz"],"error":null,"id":1}`, `<html>`},
	} {
		f.Add(s.fee, s.raw, s.copies, s.search, s.txout)
	}
	f.Fuzz(func(t *testing.T, feeAnswer string, raw []byte, copies uint8, searchAnswer, txoutAnswer string) {
		hexes := make([]string, int(copies%4))
		for i := range hexes {
			hexes[i] = hex.EncodeToString(raw)
		}
		txs, _ := json.Marshal(hexes)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				Method string `json:"method"`
			}
			body, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(body, &req)
			switch req.Method {
			case "estimatesmartfee":
				_, _ = io.WriteString(w, feeAnswer)
			case "searchrawtransactions":
				_, _ = io.WriteString(w, strings.ReplaceAll(searchAnswer, "$TXS", string(txs)))
			default:
				_, _ = io.WriteString(w, txoutAnswer)
			}
		}))
		defer srv.Close()
		c, err := utxo.Dial(btcNet, srv.URL, "recovery", nodePass)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		refused := func(what string, err error, codes ...string) {
			t.Helper()
			if strings.Contains(err.Error(), nodePass) {
				t.Fatalf("%s: error carries the node's password: %v", what, err)
			}
			if code := recovery.ErrorCode(err); !slices.Contains(codes, code) {
				t.Fatalf("%s: error with code %q: %v", what, code, err)
			}
		}

		cost, err := c.EstimateCost(ctx, 0)
		if err != nil {
			refused("cost", err, recovery.EUnavailable)
		} else {
			floor := decimal.NewFromInt(1) // btc's
			want := cost.FeeRate.Mul(decimal.NewFromInt(utxo.P2WPKHSendVBytes)).Ceil()
			if cost.FeeRate.LessThan(floor) || cost.VBytes != utxo.P2WPKHSendVBytes || cost.Amount == nil || cost.Amount.Cmp(want.BigInt()) != 0 || cost.Amount.Sign() <= 0 {
				t.Fatalf("cost %+v", cost)
			}
		}

		address, err := utxo.ParseScript(p2wpkh).Encode(c.Params())
		if err != nil {
			t.Fatal(err)
		}
		balance, err := c.Balance(ctx, address)
		if err != nil {
			refused("balance", err, recovery.EUnavailable, recovery.EInvalid)
			return
		}
		// At most every output paying the address, each once.
		most := new(big.Int)
		var msg wire.MsgTx
		if len(hexes) > 0 && msg.Deserialize(bytes.NewReader(raw)) == nil {
			for _, out := range msg.TxOut {
				if bytes.Equal(out.PkScript, p2wpkh) && out.Value > 0 {
					most.Add(most, big.NewInt(out.Value))
				}
			}
		}
		if balance.Sign() < 0 || balance.Cmp(most) > 0 {
			t.Fatalf("balance %s; the outputs paying %s hold %s", balance, address, most)
		}
	})
}
