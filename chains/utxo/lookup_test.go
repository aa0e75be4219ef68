package utxo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// Two regtest nodes for the package, as `recovery dev` runs them: one stands
// for btc, the other for ltc. One wallet mines on both.
var (
	regtest          *nodetest.Regtest
	btcNode, ltcNode *btcdnode.Node
	wallet           *btcdnode.Wallet

	btcNet = chains.Network{ID: "btc", Name: "Bitcoin (regtest)", Family: recovery.FamilyUTXO, Params: "btc-regtest",
		Confirmations: 2, NativeAsset: "BTC", Decimals: 8, Tier: chains.Direct}
	ltcNet = chains.Network{ID: "ltc", Name: "Litecoin (stand-in)", Family: recovery.FamilyUTXO, Params: "ltc-regtest",
		Confirmations: 6, NativeAsset: "LTC", Decimals: 8, Tier: chains.Direct}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if regtest, err = nodetest.StartRegtest("btc", "ltc"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer regtest.Stop()
	btcNode, ltcNode, wallet = regtest.Node("btc"), regtest.Node("ltc"), regtest.Wallet
	return m.Run()
}

func dial(t testing.TB, network chains.Network, n *btcdnode.Node, opts ...utxo.Option) *utxo.Client {
	t.Helper()
	c, err := utxo.Dial(network, n.Host(), n.User(), n.Pass(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func lookup(t *testing.T, c *utxo.Client, txid string) *recovery.Tx {
	t.Helper()
	tx, err := c.LookupTx(nodetest.Context(t), txid)
	if err != nil {
		t.Fatalf("LookupTx(%s): %v", txid, err)
	}
	return tx
}

func newKeyHash(t testing.TB) []byte {
	t.Helper()
	k, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return address.Hash160(k.PubKey().SerializeCompressed())
}

func TestLookupTxPayment(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	c := dial(t, btcNet, btcNode)

	pkh := newKeyHash(t)
	to, err := address.NewAddressPubKeyHash(pkh, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	// 1.23456789 BTC has no exact float64; the satoshis must still be exact.
	const sats = 123_456_789
	txid, err := wallet.Send(ctx, btcNode, to, sats, nil)
	if err != nil {
		t.Fatal(err)
	}

	tx := lookup(t, c, txid)
	if tx.Network != "btc" || tx.Hash != txid || tx.Status != recovery.TxPending || tx.Confirmations != 0 ||
		tx.BlockHash != "" || tx.BlockNumber != 0 || tx.Required != 2 || tx.Final() || tx.Memo != "" {
		t.Fatalf("mempool tx = %+v", tx)
	}
	if len(tx.Transfers) != 2 {
		t.Fatalf("transfers = %+v, want payment and change", tx.Transfers)
	}
	pay, change := tx.Transfers[0], tx.Transfers[1]
	if pay.Kind != recovery.KindOutput || pay.Index != 0 || pay.To != to.EncodeAddress() ||
		pay.PubKeyHash != hex.EncodeToString(pkh) || pay.Amount.Int64() != sats {
		t.Fatalf("payment = %+v (amount %s), want %s %x %d at index 0", pay, pay.Amount, to, pkh, sats)
	}
	if change.Index != 1 || change.To != wallet.MiningAddr() || change.PubKeyHash != hex.EncodeToString(wallet.PubKeyHash()) {
		t.Fatalf("change = %+v", change)
	}

	if err := btcNode.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	tx = lookup(t, c, txid)
	best, err := btcNode.BlockCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bestHash, err := btcNode.Client().GetBlockHash(best)
	if err != nil {
		t.Fatal(err)
	}
	if tx.Status != recovery.TxSuccess || tx.Confirmations != 1 || tx.BlockNumber != uint64(best) ||
		tx.BlockHash != bestHash.String() || tx.Final() {
		t.Fatalf("tx in a block = %+v, want success, 1 confirmation at %d %s, not final", tx, best, bestHash)
	}
	if tx.Transfers[0].Amount.Int64() != sats {
		t.Fatalf("amount changed once confirmed: %s", tx.Transfers[0].Amount)
	}

	if err := btcNode.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if tx = lookup(t, c, txid); tx.Confirmations != 2 || !tx.Final() {
		t.Fatalf("after two blocks: %d confirmations, final %v", tx.Confirmations, tx.Final())
	}
}

func TestLookupTxMemo(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	c := dial(t, btcNet, btcNode)
	for _, m := range []struct {
		payload []byte
		want    string
	}{
		{[]byte("UID:4242 hello"), "UID:4242 hello"},
		{[]byte("мемо 备注"), "мемо 备注"},
		{[]byte{0x00, 0x01, 0xfe, 0xff}, "0001feff"},
		{[]byte("tab\there"), "7461620968657265"}, // a control character is not text
	} {
		txid, err := wallet.Send(ctx, btcNode, wallet.WitnessAddress(), 10_000, m.payload)
		if err != nil {
			t.Fatal(err)
		}
		tx := lookup(t, c, txid)
		if tx.Memo != m.want {
			t.Errorf("memo %x: got %q, want %q", m.payload, tx.Memo, m.want)
		}
		// The OP_RETURN output is vout 1: it is no transfer, and the change
		// after it keeps its real index.
		if len(tx.Transfers) != 2 || tx.Transfers[0].Index != 0 || tx.Transfers[1].Index != 2 {
			t.Errorf("transfers around an OP_RETURN: %+v", tx.Transfers)
		}
		if tx.Transfers[0].To != wallet.WitnessAddress().EncodeAddress() {
			t.Errorf("witness payment to %q, want %s", tx.Transfers[0].To, wallet.WitnessAddress())
		}
	}
}

// Outputs of every kind in one transaction: what each shows as To and
// PubKeyHash.
func TestLookupTxOutputKinds(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	c := dial(t, btcNet, btcNode)
	k, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PubKey().SerializeCompressed()
	pkh := address.Hash160(pub)
	redeem := append([]byte{0x00, 0x14}, pkh...)
	sh := address.Hash160(redeem)
	wsh := sha256.Sum256(append(append([]byte{0x21}, pub...), 0xac))
	regtest := func(kind utxo.ScriptKind, hash []byte, version int) []byte {
		s, err := utxo.AddressInfo{Kind: kind, Hash: hash, WitnessVersion: version}.Script()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	p2pk := append(append([]byte{0x21}, pub...), 0xac)
	enc := func(a address.Address, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a.EncodeAddress()
	}
	outs := []struct {
		script []byte
		to     string
		pkh    string
	}{
		{p2pk, "", hex.EncodeToString(pkh)},
		{regtest(utxo.P2SH, sh, 0), enc(address.NewAddressScriptHashFromHash(sh, &chaincfg.RegressionNetParams)), hex.EncodeToString(sh)},
		{regtest(utxo.P2WSH, wsh[:], 0), enc(address.NewAddressWitnessScriptHash(wsh[:], &chaincfg.RegressionNetParams)), ""},
		{regtest(utxo.P2TR, pub[1:], 1), enc(address.NewAddressTaproot(pub[1:], &chaincfg.RegressionNetParams)), ""},
		{[]byte{0x51}, "", ""}, // OP_TRUE: nonstandard, relayed on regtest
	}
	var txOuts []*wire.TxOut
	for i, o := range outs {
		txOuts = append(txOuts, wire.NewTxOut(int64(1000+i), o.script))
	}
	txid, err := wallet.SendOutputs(ctx, btcNode, txOuts)
	if err != nil {
		t.Fatal(err)
	}
	tx := lookup(t, c, txid)
	for i, o := range outs {
		got := tx.Transfers[i]
		if got.Index != uint32(i) || got.To != o.to || got.PubKeyHash != o.pkh || got.Amount.Int64() != int64(1000+i) {
			t.Errorf("output %d = %+v (amount %s), want to %q pkh %q", i, got, got.Amount, o.to, o.pkh)
		}
	}
}

func TestLookupTxSender(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	c := dial(t, btcNet, btcNode, utxo.WithSender())
	txid, err := wallet.Send(ctx, btcNode, wallet.WitnessAddress(), 20_000, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The wallet spends a block reward or change of an earlier send: either
	// way one of its own addresses.
	if tx := lookup(t, c, txid); tx.From != wallet.MiningAddr() && tx.From != wallet.WitnessAddress().EncodeAddress() {
		t.Fatalf("From = %q, want one of the wallet's: %s or %s", tx.From, wallet.MiningAddr(), wallet.WitnessAddress().EncodeAddress())
	}

	// A block reward has no sender, and its amount is exact.
	h1, err := btcNode.Client().GetBlockHash(1)
	if err != nil {
		t.Fatal(err)
	}
	block, err := btcNode.Client().GetBlock(h1)
	if err != nil {
		t.Fatal(err)
	}
	coinbase := lookup(t, c, block.Transactions[0].TxHash().String())
	if coinbase.From != "" || coinbase.Transfers[0].Amount.Int64() != 50_0000_0000 || coinbase.Transfers[0].To != wallet.MiningAddr() {
		t.Fatalf("coinbase = %+v, amount %s", coinbase, coinbase.Transfers[0].Amount)
	}
}

func TestLookupTxUnknownHash(t *testing.T) {
	regtest.Need(t)
	c := dial(t, btcNet, btcNode)
	unknown := strings.Repeat("ab", 32)
	_, err := c.LookupTx(nodetest.Context(t), unknown)
	if !errors.Is(err, chains.ErrTxNotFound) || recovery.ErrorCode(err) != recovery.ENotFound {
		t.Fatalf("unknown hash: %v (code %q), want ErrTxNotFound", err, recovery.ErrorCode(err))
	}
}

func TestLookupTxMalformedHash(t *testing.T) {
	regtest.Need(t)
	c := dial(t, btcNet, btcNode)
	valid := strings.Repeat("ab", 32)
	for _, h := range []string{"", "0x" + valid, valid[:63], valid + "a", "xyz" + valid[3:]} {
		_, err := c.LookupTx(nodetest.Context(t), h)
		var e *recovery.Error
		if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != "tx_hash" {
			t.Errorf("LookupTx(%q) = %v, want EInvalid on tx_hash", h, err)
		}
	}
}

// The same key hash paid on the node standing for btc and on the one standing
// for ltc: the adapter writes different addresses, and the same PubKeyHash.
func TestSamePubKeyHashAcrossChains(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	btc, ltc := dial(t, btcNet, btcNode), dial(t, ltcNet, ltcNode)
	pkh := newKeyHash(t)
	witness, err := address.NewAddressWitnessPubKeyHash(pkh, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	btcTxid, err := wallet.Send(ctx, btcNode, witness, 5000_0000, nil)
	if err != nil {
		t.Fatal(err)
	}
	script, err := utxo.AddressInfo{Kind: utxo.P2WPKH, Hash: pkh}.Script()
	if err != nil {
		t.Fatal(err)
	}
	ltcTxid, err := wallet.SendToScript(ctx, ltcNode, script, 7000_0000, nil)
	if err != nil {
		t.Fatal(err)
	}

	onBTC, onLTC := lookup(t, btc, btcTxid).Transfers[0], lookup(t, ltc, ltcTxid).Transfers[0]
	if onBTC.To != witness.EncodeAddress() || !strings.HasPrefix(onBTC.To, "bcrt1q") {
		t.Errorf("btc output to %q, want %s", onBTC.To, witness)
	}
	if !strings.HasPrefix(onLTC.To, "rltc1q") || onLTC.To == onBTC.To {
		t.Errorf("ltc output to %q, want an rltc1q… address unlike %s", onLTC.To, onBTC.To)
	}
	if onBTC.PubKeyHash != hex.EncodeToString(pkh) || onLTC.PubKeyHash != onBTC.PubKeyHash {
		t.Errorf("pubkey hashes %q (btc) and %q (ltc), want both %x", onBTC.PubKeyHash, onLTC.PubKeyHash, pkh)
	}
	if onLTC.Amount.Int64() != 7000_0000 {
		t.Errorf("ltc amount %s", onLTC.Amount)
	}
	// The ltc address decodes back to the hash the btc address holds.
	info, err := utxo.DecodeAddress(ltc.Params(), onLTC.To)
	if err != nil || info.PubKeyHash() != onBTC.PubKeyHash {
		t.Errorf("DecodeAddress(%s) = %+v, %v", onLTC.To, info, err)
	}
	// Each hash is on one chain only: the btc transaction is not on ltc.
	if _, err := ltc.LookupTx(ctx, btcTxid); !errors.Is(err, chains.ErrTxNotFound) {
		t.Errorf("btc tx on the ltc node: %v, want not found", err)
	}
}

// A node that goes away answers EUnavailable, never not found, and a node
// restarted on its data dir still knows the transaction.
func TestLookupTxAcrossStopAndRestart(t *testing.T) {
	regtest.Need(t)
	ctx := nodetest.Context(t)
	n, w, cfg := nodetest.FundedBTCD(t)
	txid, err := w.Send(ctx, n, w.WitnessAddress(), 31_337, []byte("keep me"))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Generate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	before := lookup(t, dial(t, btcNet, n), txid)

	stale := dial(t, btcNet, n)
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = stale.LookupTx(short, txid)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Fatalf("stopped node: %v (code %q), want unavailable", err, recovery.ErrorCode(err))
	}

	again := nodetest.BTCD(t, cfg)
	after := lookup(t, dial(t, btcNet, again), txid)
	if after.Confirmations != 1 || after.BlockHash != before.BlockHash || after.BlockNumber != before.BlockNumber ||
		after.Memo != "keep me" || after.Transfers[0].Amount.Int64() != 31_337 {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
}

func TestLookupTxUnreachableOrGarbage(t *testing.T) {
	regtest.Need(t)
	txid := strings.Repeat("cd", 32)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	// An answer for another transaction is garbage too.
	other := wire.NewMsgTx(wire.TxVersion)
	other.AddTxOut(wire.NewTxOut(1, []byte{0x51}))
	var raw strings.Builder
	if err := other.Serialize(hexWriter{&raw}); err != nil {
		t.Fatal(err)
	}

	for name, answer := range map[string]string{
		"html":           "<html>502 Bad Gateway</html>",
		"not hex":        `{"result":{"hex":"zz","txid":"x"},"error":null,"id":1}`,
		"other tx":       `{"result":{"hex":"` + raw.String() + `"},"error":null,"id":1}`,
		"txindex off":    `{"result":null,"error":{"code":-5,"message":"The transaction index must be enabled to query the blockchain (specify --txindex)"},"id":1}`,
		"internal error": `{"result":null,"error":{"code":-32603,"message":"boom"},"id":1}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(answer))
		}))
		c, err := utxo.Dial(btcNet, srv.URL, "u", "p")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.LookupTx(nodetest.Context(t), txid)
		if recovery.ErrorCode(err) != recovery.EUnavailable || errors.Is(err, chains.ErrTxNotFound) {
			t.Errorf("%s: %v (code %q), want unavailable", name, err, recovery.ErrorCode(err))
		}
		srv.Close()
	}

	c, err := utxo.Dial(btcNet, closed, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err = c.LookupTx(ctx, txid)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("closed port: %v, want unavailable", err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("closed port: LookupTx ignored its 1 s deadline for %s", waited)
	}

	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	_, err = dial(t, btcNet, btcNode).LookupTx(cancelled, txid)
	if recovery.ErrorCode(err) != recovery.EUnavailable || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v, want unavailable wrapping context.Canceled", err)
	}
}

type hexWriter struct{ b *strings.Builder }

func (w hexWriter) Write(p []byte) (int, error) {
	w.b.WriteString(hex.EncodeToString(p))
	return len(p), nil
}

func TestDialRefusesWrongNetwork(t *testing.T) {
	evm := chains.Network{ID: "eth", Family: recovery.FamilyEVM, ChainID: 1, Confirmations: 12}
	if _, err := utxo.Dial(evm, "127.0.0.1:1", "", ""); err == nil {
		t.Error("Dial accepted an evm network")
	}
	bad := btcNet
	bad.Params = "btc-mainnet"
	if _, err := utxo.Dial(bad, "127.0.0.1:1", "", ""); err == nil {
		t.Error("Dial accepted unknown params")
	}
	if _, err := utxo.Dial(btcNet, "ftp://127.0.0.1:1", "", ""); err == nil {
		t.Error("Dial accepted an ftp endpoint")
	}
}

// countingRPC counts round trips to the node.
type countingRPC struct {
	utxo.RPC
	calls atomic.Int64
}

func (c *countingRPC) GetRawTransactionVerbose(ctx context.Context, h *chainhash.Hash) (*btcjson.TxRawResult, error) {
	c.calls.Add(1)
	return c.RPC.GetRawTransactionVerbose(ctx, h)
}

func (c *countingRPC) GetBlockHeaderVerbose(ctx context.Context, h *chainhash.Hash) (*btcjson.GetBlockHeaderVerboseResult, error) {
	c.calls.Add(1)
	return c.RPC.GetBlockHeaderVerbose(ctx, h)
}

// BenchmarkLookupTx looks up a confirmed payment with a memo, the common
// case, and reports RPC round trips per lookup.
func BenchmarkLookupTx(b *testing.B) {
	regtest.Need(b)
	ctx := nodetest.Context(b)
	txid, err := wallet.Send(ctx, btcNode, wallet.WitnessAddress(), 12_345, []byte("bench"))
	if err != nil {
		b.Fatal(err)
	}
	if err := btcNode.Generate(ctx, 1); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts []utxo.Option
	}{{"plain", nil}, {"with-sender", []utxo.Option{utxo.WithSender()}}} {
		b.Run(bc.name, func(b *testing.B) {
			rpc := &countingRPC{RPC: utxo.NewRPC(rpcclient.ConnConfig{Host: btcNode.Host(), User: btcNode.User(), Pass: btcNode.Pass(), DisableTLS: true})}
			c := utxo.New(rpc, btcNet, bc.opts...)
			lookups := 0
			for b.Loop() {
				if _, err := c.LookupTx(ctx, txid); err != nil {
					b.Fatal(err)
				}
				lookups++
			}
			b.ReportMetric(float64(rpc.calls.Load())/float64(lookups), "rpcs/op")
		})
	}
}
