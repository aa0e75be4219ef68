package pool_test

import (
	"crypto/ecdsa"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// devNetwork is the registry entry the in-process dev chains stand in for.
var devNetwork = chains.Network{
	ID: "eth", Name: "Ethereum (dev)", Family: recovery.FamilyEVM, ChainID: 1337,
	Confirmations: 1, NativeAsset: "ETH", Decimals: 18, Tier: chains.Direct,
}

// TestRealNodes runs a pool of two evm adapters on two real dev chains.
// The deposit is only on the second chain, so the first node plays one
// that has not seen it yet; then the nodes go away one after the other.
func TestRealNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two dev chains")
	}
	ctx := ctxFor(t)
	faucet, from := nodetest.Key(t)
	cfg := evmnode.Config{ChainID: devNetwork.ChainID, Alloc: nodetest.Alloc(new(big.Int).Lsh(big.NewInt(1), 100), from)}
	lagging, laggingRPC := nodetest.EVM(t, cfg)
	current, currentRPC := nodetest.EVM(t, cfg)
	to := common.HexToAddress("0x00000000000000000000000000000000000dEaD1")
	amount := big.NewInt(1_500_000_000_000_000)
	// A transaction of its own on the first chain gets its index built: a
	// fresh geth answers "indexing in progress" (unavailable) until then.
	send(t, laggingRPC, faucet, to, big.NewInt(1))
	txHash := send(t, currentRPC, faucet, to, amount)

	var endpoints []pool.Endpoint
	for i, n := range []*evmnode.Node{lagging, current} {
		c, err := evm.Dial(ctx, devNetwork, n.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		endpoints = append(endpoints, pool.Endpoint{Name: []string{"eth#1", "eth#2"}[i], Lookup: c})
	}
	p, err := pool.New("eth", endpoints, pool.Options{FailureThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The tx index may still be catching up with the block just mined.
	for {
		_, err := endpoints[0].Lookup.LookupTx(ctx, txHash.Hex())
		if recovery.ErrorCode(err) == recovery.ENotFound {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the first node never answered not found: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	lookUp := func() (*recovery.Tx, error) { return p.LookupTx(ctx, txHash.Hex()) }
	wantDeposit := func(tx *recovery.Tx, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("LookupTx: %v", err)
		}
		if len(tx.Transfers) != 1 || !strings.EqualFold(tx.Transfers[0].To, to.Hex()) || tx.Transfers[0].Amount.Cmp(amount) != 0 {
			t.Fatalf("transfers = %+v, want %s wei to %s", tx.Transfers, amount, to)
		}
	}

	// eth#1 answers "not found"; the second opinion finds the deposit.
	wantDeposit(lookUp())
	if h := p.Health(); h[0].State != pool.StateUp || h[0].Requests != 1 || h[1].State != pool.StateUp || h[1].Requests != 1 {
		t.Fatalf("health = %+v, want both asked once and up: \"not found\" is an answer", h)
	}

	lagging.Close()
	wantDeposit(lookUp())
	h := p.Health()
	if h[0].State != pool.StateDown || h[0].Failures != 1 || h[1].State != pool.StateUp {
		t.Fatalf("health = %+v, want eth#1 down after its failure and eth#2 up", h)
	}
	if strings.Contains(h[0].LastError, "127.0.0.1") {
		t.Errorf("last error of eth#1 %q quotes its endpoint", h[0].LastError)
	}

	current.Close()
	_, err = lookUp()
	msg := recovery.ErrorMessage(err)
	if recovery.ErrorCode(err) != recovery.EUnavailable || !strings.Contains(msg, "eth") || !strings.Contains(msg, "1 of 2") {
		t.Fatalf("err = %v, message %q: want unavailable, eth, 1 of 2 tried (eth#1 rests)", err, msg)
	}
	for _, n := range []*evmnode.Node{lagging, current} {
		if strings.Contains(msg, strings.TrimPrefix(n.URL(), "http://")) || strings.Contains(err.Error(), n.URL()) {
			t.Errorf("err = %v quotes the endpoint %s", err, n.URL())
		}
	}
}

// Endpoint URLs often carry a provider's key. When every node is
// unreachable, neither the error (message or logged cause) nor the health
// view may repeat one.
func TestEndpointURLsStayOut(t *testing.T) {
	var endpoints []pool.Endpoint
	for range 2 {
		url := "http://user:s3cret@" + closedPort(t) + "/v3/apikey123"
		rc, err := rpc.Dial(url)
		if err != nil {
			t.Fatal(err)
		}
		c := evm.New(rc, devNetwork)
		t.Cleanup(c.Close)
		endpoints = append(endpoints, pool.Endpoint{Lookup: c})
	}
	p, err := pool.New("eth", endpoints, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.LookupTx(ctxFor(t), hash)
	msg := recovery.ErrorMessage(err)
	if recovery.ErrorCode(err) != recovery.EUnavailable || !strings.Contains(msg, "eth") || !strings.Contains(msg, "2 of 2") {
		t.Fatalf("err = %v, message %q: want unavailable, eth, 2 of 2 tried", err, msg)
	}
	for _, secret := range []string{"s3cret", "apikey123"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("err = %v quotes the endpoint URL", err)
		}
		for _, h := range p.Health() {
			if strings.Contains(h.LastError, secret) || strings.Contains(h.Name, secret) {
				t.Errorf("health %+v quotes the endpoint URL", h)
			}
		}
	}
	if strings.Contains(msg, "127.0.0.1") {
		t.Errorf("message %q names a host", msg)
	}

	// Nor may a quote's questions.
	_, costErr := p.EstimateCost(ctxFor(t), 0)
	_, decimalsErr := p.TokenDecimals(ctxFor(t), "0x00000000000000000000000000000000000dEaD1")
	for _, err := range []error{costErr, decimalsErr} {
		if recovery.ErrorCode(err) != recovery.EUnavailable {
			t.Errorf("err = %v, want unavailable", err)
		}
		for _, secret := range []string{"s3cret", "apikey123"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("err = %v quotes the endpoint URL", err)
			}
		}
	}
}

// send sends wei from faucet and waits until it is mined.
func send(t *testing.T, ec *ethclient.Client, faucet *ecdsa.PrivateKey, to common.Address, wei *big.Int) common.Hash {
	t.Helper()
	h, err := evmnode.SendValue(ctxFor(t), ec, faucet, to, wei)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
