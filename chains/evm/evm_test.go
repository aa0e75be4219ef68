package evm_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// devNetwork is the registry entry a geth --dev chain stands in for.
var devNetwork = chains.Network{
	ID: "eth", Name: "Ethereum (dev)", Family: recovery.FamilyEVM, ChainID: 1337,
	Confirmations: 3, NativeAsset: "ETH", Decimals: 18, Tier: chains.Direct,
}

// One in-memory node serves every test that does not need a node of its
// own; the tests run one after the other, so the faucet's nonces stay in
// order.
var (
	shared    *evmnode.Node
	faucet    *ecdsa.PrivateKey
	faucetRPC *ethclient.Client
)

func TestMain(m *testing.M) {
	var err error
	if faucet, err = crypto.GenerateKey(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	faucetFunds := nodetest.Alloc(new(big.Int).Lsh(big.NewInt(1), 100), crypto.PubkeyToAddress(faucet.PublicKey))
	shared, faucetRPC, err = nodetest.StartEVM(evmnode.Config{ChainID: devNetwork.ChainID, Alloc: faucetFunds})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start dev chain:", err)
		os.Exit(1)
	}
	code := m.Run()
	faucetRPC.Close()
	shared.Close()
	os.Exit(code)
}

func newAddress(t testing.TB) common.Address {
	t.Helper()
	_, addr := nodetest.Key(t)
	return addr
}

func dial(t testing.TB, url string) *evm.Client {
	t.Helper()
	c, err := evm.Dial(nodetest.Context(t), devNetwork, url)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func lookup(t *testing.T, c *evm.Client, hash common.Hash) *recovery.Tx {
	t.Helper()
	tx, err := c.LookupTx(nodetest.Context(t), hash.Hex())
	if err != nil {
		t.Fatalf("LookupTx(%s): %v", hash, err)
	}
	return tx
}

// The fixture helpers below send from the faucet of the shared node.

func sendValue(t testing.TB, to common.Address, wei *big.Int) common.Hash {
	t.Helper()
	return fixture(t, func(ctx context.Context) (common.Hash, error) {
		return evmnode.SendValue(ctx, faucetRPC, faucet, to, wei)
	})
}

func deployToken(t testing.TB) common.Address {
	t.Helper()
	return fixture(t, func(ctx context.Context) (common.Address, error) {
		return evmnode.DeployToken(ctx, faucetRPC, faucet)
	})
}

func transferToken(t testing.TB, token, to common.Address, amount *big.Int) common.Hash {
	t.Helper()
	return fixture(t, func(ctx context.Context) (common.Hash, error) {
		return evmnode.TransferToken(ctx, faucetRPC, faucet, token, to, amount)
	})
}

func deployReverter(t testing.TB) common.Address {
	t.Helper()
	return fixture(t, func(ctx context.Context) (common.Address, error) {
		return evmnode.DeployReverter(ctx, faucetRPC, faucet)
	})
}

func sendFailing(t testing.TB, reverter common.Address) common.Hash {
	t.Helper()
	return fixture(t, func(ctx context.Context) (common.Hash, error) {
		return evmnode.SendFailing(ctx, faucetRPC, faucet, reverter)
	})
}

func sendPending(t testing.TB, to common.Address, wei *big.Int) common.Hash {
	t.Helper()
	return fixture(t, func(ctx context.Context) (common.Hash, error) {
		return evmnode.SendPending(ctx, faucetRPC, faucet, to, wei)
	})
}

func deployForwarder(t testing.TB) common.Address {
	t.Helper()
	return fixture(t, func(ctx context.Context) (common.Address, error) {
		return evmnode.DeployForwarder(ctx, faucetRPC, faucet)
	})
}

func sendViaContract(t testing.TB, forwarder, to common.Address, wei *big.Int) common.Hash {
	t.Helper()
	return fixture(t, func(ctx context.Context) (common.Hash, error) {
		return evmnode.SendViaContract(ctx, faucetRPC, faucet, forwarder, to, wei)
	})
}

func fixture[T any](t testing.TB, f func(context.Context) (T, error)) T {
	t.Helper()
	v, err := f(nodetest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func faucetAddr() string { return crypto.PubkeyToAddress(faucet.PublicKey).Hex() }

// sameTransfers compares transfer lists by value, amounts as numbers.
func sameTransfers(t *testing.T, got, want []recovery.Transfer) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("transfers = %s,\nwant %s", fmtTransfers(got), fmtTransfers(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.Index != w.Index || g.From != w.From || g.To != w.To || g.Token != w.Token ||
			g.Amount == nil || g.Amount.Cmp(w.Amount) != 0 {
			t.Fatalf("transfers = %s,\nwant %s", fmtTransfers(got), fmtTransfers(want))
		}
	}
}

func fmtTransfers(ts []recovery.Transfer) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "\n  {%s #%d %s -> %s token=%s amount=%v}", t.Kind, t.Index, t.From, t.To, t.Token, t.Amount)
	}
	return b.String()
}

func TestLookupNativeDeposit(t *testing.T) {
	ctx := nodetest.Context(t)
	c := dial(t, shared.URL())
	to := newAddress(t)
	amount, _ := new(big.Int).SetString("1234567890123456789", 10)
	hash := sendValue(t, to, amount)
	receipt, err := faucetRPC.TransactionReceipt(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}

	tx := lookup(t, c, hash)
	if tx.Status != recovery.TxSuccess || tx.Network != "eth" || tx.Hash != hash.Hex() || tx.From != faucetAddr() {
		t.Errorf("tx = %+v", tx)
	}
	if tx.BlockNumber != receipt.BlockNumber.Uint64() || tx.BlockHash != receipt.BlockHash.Hex() {
		t.Errorf("block = %d %s, want %d %s", tx.BlockNumber, tx.BlockHash, receipt.BlockNumber, receipt.BlockHash.Hex())
	}
	if tx.Confirmations < 1 || tx.Required != devNetwork.Confirmations {
		t.Errorf("confirmations = %d of %d", tx.Confirmations, tx.Required)
	}
	sameTransfers(t, tx.Transfers, []recovery.Transfer{
		{Kind: recovery.KindNative, Index: 0, From: faucetAddr(), To: to.Hex(), Amount: amount},
	})
	// No code ran, so the transfer list is known to be complete.
	if !tx.Traced {
		t.Error("a plain transfer is reported as not traced")
	}
}

func TestLookupTokenTransfer(t *testing.T) {
	c := dial(t, shared.URL())
	token := deployToken(t)
	to := newAddress(t)
	amount, _ := new(big.Int).SetString("250000000000000000000", 10) // 250 tokens of 18 decimals
	hash := transferToken(t, token, to, amount)

	tx := lookup(t, c, hash)
	if tx.Status != recovery.TxSuccess || !tx.Traced {
		t.Errorf("status %s traced %v, want success traced", tx.Status, tx.Traced)
	}
	// No native transfer: the transaction carries no value.
	sameTransfers(t, tx.Transfers, []recovery.Transfer{
		{Kind: recovery.KindToken, Index: 0, From: faucetAddr(), To: to.Hex(), Token: token.Hex(), Amount: amount},
	})
}

func TestLookupFailedTx(t *testing.T) {
	c := dial(t, shared.URL())
	reverter := deployReverter(t)
	hash := sendFailing(t, reverter)

	tx := lookup(t, c, hash)
	if tx.Status != recovery.TxFailed || tx.BlockNumber == 0 || tx.Confirmations < 1 {
		t.Errorf("tx = %+v, want failed and mined", tx)
	}
	if len(tx.Transfers) != 0 {
		t.Errorf("a reverted transaction moved value: %s", fmtTransfers(tx.Transfers))
	}
}

// TestLookupPendingTx uses a transaction queued behind a nonce gap. geth
// keeps queued transactions in the same lookup table as executable ones, so
// eth_getTransactionByHash returns it with a null block: StatusPending.
func TestLookupPendingTx(t *testing.T) {
	c := dial(t, shared.URL())
	to := newAddress(t)
	hash := sendPending(t, to, big.NewInt(31337))
	// Blocks keep coming; the gapped transaction stays out of them.
	sendValue(t, newAddress(t), big.NewInt(1))

	tx := lookup(t, c, hash)
	if tx.Status != recovery.TxPending || tx.BlockNumber != 0 || tx.Confirmations != 0 || tx.Final() {
		t.Errorf("tx = %+v, want pending with no block", tx)
	}
	sameTransfers(t, tx.Transfers, []recovery.Transfer{
		{Kind: recovery.KindNative, From: faucetAddr(), To: to.Hex(), Amount: big.NewInt(31337)},
	})
}

func TestLookupInternalTransfer(t *testing.T) {
	c := dial(t, shared.URL())
	forwarder := deployForwarder(t)
	dest := newAddress(t)
	hash := sendViaContract(t, forwarder, dest, big.NewInt(5_000_000))

	tx := lookup(t, c, hash)
	if tx.Status != recovery.TxSuccess || !tx.Traced {
		t.Fatalf("status %s traced %v, want success traced", tx.Status, tx.Traced)
	}
	sameTransfers(t, tx.Transfers, []recovery.Transfer{
		{Kind: recovery.KindNative, From: faucetAddr(), To: forwarder.Hex(), Amount: big.NewInt(5_000_000)},
		{Kind: recovery.KindInternal, Index: 1, From: forwarder.Hex(), To: dest.Hex(), Amount: big.NewInt(5_000_000)},
	})
}

// A plain send with no calldata and no logs to a contract that passes the
// value on: only the gas used gives the contract away, and it must be
// enough to get the transaction traced. (With no calldata the forwarder
// forwards to the zero address.)
func TestLookupInternalTransferWithoutCalldata(t *testing.T) {
	c := dial(t, shared.URL())
	forwarder := deployForwarder(t)
	hash := sendValue(t, forwarder, big.NewInt(900))

	tx := lookup(t, c, hash)
	if tx.Status != recovery.TxSuccess || !tx.Traced {
		t.Fatalf("status %s traced %v, want success traced", tx.Status, tx.Traced)
	}
	sameTransfers(t, tx.Transfers, []recovery.Transfer{
		{Kind: recovery.KindNative, From: faucetAddr(), To: forwarder.Hex(), Amount: big.NewInt(900)},
		{Kind: recovery.KindInternal, Index: 1, From: forwarder.Hex(), To: common.Address{}.Hex(), Amount: big.NewInt(900)},
	})
}

// A node that does not serve debug_* still answers everything else; the
// lookup says the internal calls were not inspected instead of failing.
func TestLookupWithoutTracing(t *testing.T) {
	key, from := nodetest.Key(t)
	n, ec := nodetest.EVM(t, evmnode.Config{
		ChainID: devNetwork.ChainID, Modules: []string{"eth", "net", "web3"},
		Alloc: nodetest.Alloc(big.NewInt(1e18), from),
	})
	ctx := nodetest.Context(t)
	forwarder, err := evmnode.DeployForwarder(ctx, ec, key)
	if err != nil {
		t.Fatal(err)
	}
	dest := newAddress(t)
	hash, err := evmnode.SendViaContract(ctx, ec, key, forwarder, dest, big.NewInt(77))
	if err != nil {
		t.Fatal(err)
	}

	tx := lookup(t, dial(t, n.URL()), hash)
	if tx.Status != recovery.TxSuccess || tx.Traced {
		t.Fatalf("status %s traced %v, want success, not traced", tx.Status, tx.Traced)
	}
	sameTransfers(t, tx.Transfers, []recovery.Transfer{
		{Kind: recovery.KindNative, From: from.Hex(), To: forwarder.Hex(), Amount: big.NewInt(77)},
	})
}

func TestLookupUnknownHash(t *testing.T) {
	c := dial(t, shared.URL())
	_, err := c.LookupTx(nodetest.Context(t), crypto.Keccak256Hash([]byte("never sent")).Hex())
	if !errors.Is(err, chains.ErrTxNotFound) || recovery.ErrorCode(err) != recovery.ENotFound {
		t.Fatalf("err = %v (code %q), want ErrTxNotFound", err, recovery.ErrorCode(err))
	}
}

func TestLookupMalformedHash(t *testing.T) {
	c := dial(t, shared.URL())
	valid := crypto.Keccak256Hash([]byte("x")).Hex()
	for name, hash := range map[string]string{
		"empty":            "",
		"prefix only":      "0x",
		"short":            valid[:65],
		"long":             valid + "0",
		"no prefix":        valid[2:],
		"no prefix padded": "00" + valid[2:],
		"not hex":          "0x" + strings.Repeat("g", 64),
		"inner space":      valid[:30] + " " + valid[31:],
		"address":          "0x" + strings.Repeat("ab", 20),
		"sql":              "0x'; drop table appeals; --",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.LookupTx(nodetest.Context(t), hash)
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != "tx_hash" {
				t.Fatalf("err = %v, want invalid tx_hash", err)
			}
		})
	}
	// What a user pastes: upper case and stray spaces are the same hash.
	for _, hash := range []string{strings.ToUpper(valid), "  " + valid + "\n", "0x" + strings.ToUpper(valid[2:])} {
		if _, err := c.LookupTx(nodetest.Context(t), hash); !errors.Is(err, chains.ErrTxNotFound) {
			t.Errorf("LookupTx(%q) = %v, want not found", hash, err)
		}
	}
}

func TestLookupNodeDown(t *testing.T) {
	// A port that was just free and is closed now: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()

	_, err = evm.Dial(nodetest.Context(t), devNetwork, url)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("Dial to a closed port: %v (code %q), want unavailable", err, recovery.ErrorCode(err))
	}
	if strings.Contains(recovery.ErrorMessage(err), "127.0.0.1") {
		t.Errorf("user-facing message leaks the endpoint: %q", recovery.ErrorMessage(err))
	}

	rc, err := rpc.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	c := evm.New(rc, devNetwork)
	defer c.Close()
	_, err = c.LookupTx(nodetest.Context(t), crypto.Keccak256Hash([]byte("y")).Hex())
	if recovery.ErrorCode(err) != recovery.EUnavailable || errors.Is(err, chains.ErrTxNotFound) {
		t.Fatalf("lookup on a closed port: %v (code %q), want unavailable", err, recovery.ErrorCode(err))
	}
}

func TestLookupNodeStoppedMidway(t *testing.T) {
	n, _ := nodetest.EVM(t, evmnode.Config{ChainID: devNetwork.ChainID})
	c := dial(t, n.URL())
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := c.LookupTx(nodetest.Context(t), crypto.Keccak256Hash([]byte("z")).Hex())
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Fatalf("lookup after the node stopped: %v (code %q), want unavailable", err, recovery.ErrorCode(err))
	}
}

func TestConfirmationsGrow(t *testing.T) {
	c := dial(t, shared.URL())
	hash := sendValue(t, newAddress(t), big.NewInt(1))
	first := lookup(t, c, hash)
	if first.Confirmations != 1 || first.Final() {
		t.Fatalf("fresh tx: %d confirmations, final %v; want 1, not final", first.Confirmations, first.Final())
	}
	for range 2 {
		sendValue(t, newAddress(t), big.NewInt(1))
	}
	later := lookup(t, c, hash)
	if later.Confirmations < first.Confirmations+2 {
		t.Fatalf("confirmations %d -> %d after two more blocks", first.Confirmations, later.Confirmations)
	}
	if !later.Final() {
		t.Errorf("%d of %d confirmations is not final", later.Confirmations, later.Required)
	}
	if later.BlockHash != first.BlockHash {
		t.Errorf("block changed from %s to %s", first.BlockHash, later.BlockHash)
	}
}

func TestLookupAfterNodeRestart(t *testing.T) {
	key, from := nodetest.Key(t)
	cfg := evmnode.Config{
		DataDir: t.TempDir(), ChainID: devNetwork.ChainID,
		Alloc: nodetest.Alloc(big.NewInt(1e18), from),
	}
	to := newAddress(t)

	n, ec := nodetest.EVM(t, cfg)
	hash, err := evmnode.SendValue(nodetest.Context(t), ec, key, to, big.NewInt(424242))
	if err != nil {
		t.Fatal(err)
	}
	before := lookup(t, dial(t, n.URL()), hash)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n, _ = nodetest.EVM(t, cfg)
	after := lookup(t, dial(t, n.URL()), hash)
	if after.Status != recovery.TxSuccess || after.BlockHash != before.BlockHash || after.BlockNumber != before.BlockNumber {
		t.Fatalf("after restart: %+v, before: %+v", after, before)
	}
	sameTransfers(t, after.Transfers, before.Transfers)
}

func TestDialChecksChainID(t *testing.T) {
	bsc := devNetwork
	bsc.ID, bsc.ChainID = "bsc", 56
	_, err := evm.Dial(nodetest.Context(t), bsc, shared.URL())
	if !errors.Is(err, evm.ErrWrongChain) {
		t.Fatalf("Dial a 1337 node as chain 56: %v, want ErrWrongChain", err)
	}
	if !strings.Contains(err.Error(), "1337") || !strings.Contains(err.Error(), "56") {
		t.Errorf("error %q does not name both chain ids", err)
	}
}

// countingTransport counts HTTP requests, i.e. JSON-RPC round trips.
type countingTransport struct{ n atomic.Int64 }

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func countingClient(tb testing.TB, url string) (*evm.Client, *countingTransport) {
	tb.Helper()
	ct := new(countingTransport)
	rc, err := rpc.DialOptions(context.Background(), url, rpc.WithHTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		tb.Fatal(err)
	}
	c := evm.New(rc, devNetwork)
	tb.Cleanup(c.Close)
	return c, ct
}

func TestLookupRoundTrips(t *testing.T) {
	ctx := nodetest.Context(t)
	plain := sendValue(t, newAddress(t), big.NewInt(1))
	forwarder := deployForwarder(t)
	viaContract := sendViaContract(t, forwarder, newAddress(t), big.NewInt(1))
	for _, tc := range []struct {
		name string
		hash common.Hash
		want int64
	}{
		{"plain transfer", plain, 1},
		{"contract call", viaContract, 2},
		{"unknown hash", common.Hash{1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ct := countingClient(t, shared.URL())
			_, err := c.LookupTx(ctx, tc.hash.Hex())
			if err != nil && !errors.Is(err, chains.ErrTxNotFound) {
				t.Fatal(err)
			}
			if got := ct.n.Load(); got != tc.want {
				t.Errorf("%d round trips, want %d", got, tc.want)
			}
		})
	}
}

func BenchmarkLookupTx(b *testing.B) {
	ctx := nodetest.Context(b)
	plain := sendValue(b, common.Address{0xbe, 0xef}, big.NewInt(1))
	forwarder := deployForwarder(b)
	traced := sendViaContract(b, forwarder, common.Address{0xca, 0xfe}, big.NewInt(1))
	for _, bc := range []struct {
		name string
		hash common.Hash
	}{{"plain", plain}, {"traced", traced}} {
		b.Run(bc.name, func(b *testing.B) {
			c, ct := countingClient(b, shared.URL())
			hash := bc.hash.Hex()
			b.ReportAllocs()
			var lookups int64
			for b.Loop() {
				if _, err := c.LookupTx(ctx, hash); err != nil {
					b.Fatal(err)
				}
				lookups++
			}
			b.ReportMetric(float64(ct.n.Load())/float64(lookups), "roundtrips/op")
		})
	}
}
