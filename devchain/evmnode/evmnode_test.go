package evmnode

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

var oneEther = big.NewInt(1_000_000_000_000_000_000)

func newKey(t testing.TB) (*ecdsa.PrivateKey, common.Address) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return key, crypto.PubkeyToAddress(key.PublicKey)
}

func startNode(t testing.TB, cfg Config) (*Node, *ethclient.Client) {
	t.Helper()
	n, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	c, err := ethclient.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return n, c
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStartServesDevChainOverHTTP(t *testing.T) {
	key, from := newKey(t)
	n, c := startNode(t, Config{ChainID: 1338, Alloc: map[common.Address]*big.Int{from: oneEther}})
	ctx := testContext(t)

	if !strings.HasPrefix(n.URL(), "http://127.0.0.1:") || strings.HasSuffix(n.URL(), ":0") {
		t.Errorf("URL() = %q, want http://127.0.0.1:<picked port>", n.URL())
	}
	id, err := c.ChainID(ctx)
	if err != nil || id.Uint64() != 1338 || n.ChainID() != 1338 {
		t.Fatalf("chain id = %v (%v), ChainID() = %d; want 1338", id, err, n.ChainID())
	}
	bal, err := c.BalanceAt(ctx, from, nil)
	if err != nil || bal.Cmp(oneEther) != 0 {
		t.Fatalf("genesis balance = %v (%v), want %v", bal, err, oneEther)
	}

	// A block appears for the transaction with nobody calling Commit.
	_, to := newKey(t)
	if _, err := SendValue(ctx, c, key, to, big.NewInt(12345)); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.BalanceAt(ctx, to, nil); got.Cmp(big.NewInt(12345)) != 0 {
		t.Errorf("recipient balance = %v, want 12345", got)
	}

	// Every namespace the adapter and the seeder rely on is served.
	rc, err := rpc.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var modules map[string]string
	if err := rc.CallContext(ctx, &modules, "rpc_modules"); err != nil {
		t.Fatal(err)
	}
	for _, m := range DefaultModules {
		if _, ok := modules[m]; !ok {
			t.Errorf("module %s not served; got %v", m, modules)
		}
	}
}

func TestRestartOnSameDataDirKeepsChain(t *testing.T) {
	dir := t.TempDir()
	key, from := newKey(t)
	_, to := newKey(t)
	cfg := Config{DataDir: dir, ChainID: 1337, Alloc: map[common.Address]*big.Int{from: oneEther}}
	ctx := testContext(t)

	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ethclient.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	hash, err := SendValue(ctx, c, key, to, big.NewInt(777))
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := c.TransactionReceipt(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start with another alloc must not reset the chain: the alloc
	// only seeds a new chain.
	_, other := newKey(t)
	cfg.Alloc = map[common.Address]*big.Int{other: oneEther}
	n2, c2 := startNode(t, cfg)
	if n2.ChainID() != 1337 {
		t.Fatalf("ChainID() = %d", n2.ChainID())
	}
	head, err := c2.BlockNumber(ctx)
	if err != nil || head < receipt.BlockNumber.Uint64() {
		t.Fatalf("head after restart = %d (%v), want >= %d", head, err, receipt.BlockNumber)
	}
	again, err := c2.TransactionReceipt(ctx, hash)
	if err != nil {
		t.Fatalf("receipt after restart: %v", err)
	}
	if again.BlockHash != receipt.BlockHash || again.Status != types.ReceiptStatusSuccessful {
		t.Errorf("receipt after restart in block %s status %d, want block %s status 1", again.BlockHash, again.Status, receipt.BlockHash)
	}
	if bal, _ := c2.BalanceAt(ctx, to, nil); bal.Cmp(big.NewInt(777)) != 0 {
		t.Errorf("balance after restart = %v, want 777", bal)
	}
	if bal, _ := c2.BalanceAt(ctx, other, nil); bal.Sign() != 0 {
		t.Errorf("second alloc was applied to an existing chain: balance %v", bal)
	}
	// The chain keeps going after the restart.
	if _, err := SendValue(ctx, c2, key, to, big.NewInt(1)); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
}

func TestRestartWithOtherChainIDIsRefused(t *testing.T) {
	dir := t.TempDir()
	n, err := Start(Config{DataDir: dir, ChainID: 1337})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n, err = Start(Config{DataDir: dir, ChainID: 1338})
	if err == nil {
		n.Close()
		t.Fatal("Start with another chain id on an existing chain succeeded")
	}
	if !strings.Contains(err.Error(), "1337") {
		t.Errorf("error %q does not name the stored chain id", err)
	}
}

func TestBlockPeriodProducesEmptyBlocks(t *testing.T) {
	_, c := startNode(t, Config{ChainID: 1337, BlockPeriod: 50 * time.Millisecond})
	ctx := testContext(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		head, err := c.BlockNumber(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if head >= 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("head = %d after 10s with a 50ms block period", head)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no chain id":     {},
		"negative period": {ChainID: 1, BlockPeriod: -time.Second},
		"bad address":     {ChainID: 1, HTTPAddr: "localhost"},
		"bad port":        {ChainID: 1, HTTPAddr: "127.0.0.1:99999"},
	} {
		t.Run(name, func(t *testing.T) {
			if n, err := Start(cfg); err == nil {
				n.Close()
				t.Fatal("Start succeeded")
			}
		})
	}
}

func TestFixtures(t *testing.T) {
	key, from := newKey(t)
	_, to := newKey(t)
	_, c := startNode(t, Config{ChainID: 1337, Alloc: map[common.Address]*big.Int{from: oneEther}})
	ctx := testContext(t)

	t.Run("token", func(t *testing.T) {
		token, err := DeployToken(ctx, c, key)
		if err != nil {
			t.Fatal(err)
		}
		if bal, err := TokenBalance(ctx, c, token, from); err != nil || bal.Cmp(TokenSupply) != 0 {
			t.Fatalf("deployer balance = %v (%v), want %v", bal, err, TokenSupply)
		}
		hash, err := TransferToken(ctx, c, key, token, to, big.NewInt(5000))
		if err != nil {
			t.Fatal(err)
		}
		receipt, err := c.TransactionReceipt(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		if len(receipt.Logs) != 1 {
			t.Fatalf("%d logs, want 1", len(receipt.Logs))
		}
		l := receipt.Logs[0]
		want := []common.Hash{TransferTopic, common.BytesToHash(from.Bytes()), common.BytesToHash(to.Bytes())}
		if l.Address != token || len(l.Topics) != 3 || l.Topics[0] != want[0] || l.Topics[1] != want[1] || l.Topics[2] != want[2] {
			t.Errorf("log = %+v, want Transfer(%s, %s) from %s", l, from, to, token)
		}
		if new(big.Int).SetBytes(l.Data).Cmp(big.NewInt(5000)) != 0 {
			t.Errorf("log amount = %x, want 5000", l.Data)
		}
		// eth_getLogs works without the log index the node leaves off.
		logs, err := c.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{token}, Topics: [][]common.Hash{{TransferTopic}}})
		if err != nil || len(logs) != 1 || logs[0].TxHash != hash {
			t.Errorf("eth_getLogs = %d logs (%v), want the transfer", len(logs), err)
		}
		if bal, _ := TokenBalance(ctx, c, token, to); bal.Cmp(big.NewInt(5000)) != 0 {
			t.Errorf("recipient balance = %v, want 5000", bal)
		}
		if bal, _ := TokenBalance(ctx, c, token, from); new(big.Int).Add(bal, big.NewInt(5000)).Cmp(TokenSupply) != 0 {
			t.Errorf("deployer balance = %v, want supply - 5000", bal)
		}
		// More than the sender holds reverts instead of minting.
		_, poor := newKey(t)
		if _, err := TransferToken(ctx, c, key, token, poor, new(big.Int).Add(TokenSupply, big.NewInt(1))); err == nil {
			t.Error("transfer above the balance succeeded")
		}
	})

	t.Run("failing", func(t *testing.T) {
		reverter, err := DeployReverter(ctx, c, key)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := SendFailing(ctx, c, key, reverter)
		if err != nil {
			t.Fatal(err)
		}
		receipt, err := c.TransactionReceipt(ctx, hash)
		if err != nil || receipt.Status != types.ReceiptStatusFailed {
			t.Fatalf("receipt = %+v (%v), want status 0", receipt, err)
		}
	})

	t.Run("forwarder", func(t *testing.T) {
		forwarder, err := DeployForwarder(ctx, c, key)
		if err != nil {
			t.Fatal(err)
		}
		_, dest := newKey(t)
		if _, err := SendViaContract(ctx, c, key, forwarder, dest, big.NewInt(4242)); err != nil {
			t.Fatal(err)
		}
		if bal, _ := c.BalanceAt(ctx, dest, nil); bal.Cmp(big.NewInt(4242)) != 0 {
			t.Errorf("forwarded balance = %v, want 4242", bal)
		}
		if bal, _ := c.BalanceAt(ctx, forwarder, nil); bal.Sign() != 0 {
			t.Errorf("forwarder kept %v wei", bal)
		}
	})

	t.Run("pending", func(t *testing.T) {
		pkey, pfrom := newKey(t)
		if _, err := SendValue(ctx, c, key, pfrom, big.NewInt(1e15)); err != nil {
			t.Fatal(err)
		}
		hash, err := SendPending(ctx, c, pkey, to, big.NewInt(1))
		if err != nil {
			t.Fatal(err)
		}
		// Other traffic produces blocks; the gapped transaction stays out.
		if _, err := SendValue(ctx, c, key, to, big.NewInt(1)); err != nil {
			t.Fatal(err)
		}
		tx, isPending, err := c.TransactionByHash(ctx, hash)
		if err != nil || !isPending || tx.Hash() != hash {
			t.Fatalf("TransactionByHash = %v pending=%v err=%v, want a pending transaction", tx, isPending, err)
		}
	})
}

func TestCallTracerIsServed(t *testing.T) {
	key, from := newKey(t)
	n, c := startNode(t, Config{ChainID: 1337, Alloc: map[common.Address]*big.Int{from: oneEther}})
	ctx := testContext(t)
	forwarder, err := DeployForwarder(ctx, c, key)
	if err != nil {
		t.Fatal(err)
	}
	_, dest := newKey(t)
	hash, err := SendViaContract(ctx, c, key, forwarder, dest, big.NewInt(99))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rpc.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var frame struct {
		To    common.Address `json:"to"`
		Calls []struct {
			Type  string         `json:"type"`
			To    common.Address `json:"to"`
			Value string         `json:"value"`
		} `json:"calls"`
	}
	if err := rc.CallContext(ctx, &frame, "debug_traceTransaction", hash, map[string]any{"tracer": "callTracer"}); err != nil {
		t.Fatal(err)
	}
	if frame.To != forwarder || len(frame.Calls) != 1 || frame.Calls[0].To != dest || frame.Calls[0].Value != "0x63" {
		t.Errorf("trace = %+v, want one CALL of 0x63 wei to %s", frame, dest)
	}
}

func TestAsm(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"PUSH1 0x00 DUP1 REVERT", "600080fd"},
		{"PUSH2 0x1 STOP", "61000100"},
		{"a: @a JUMP", "5b61000056"},
		{"@b STOP b: ; comment\n STOP", "610004005b00"},
	} {
		if got := common.Bytes2Hex(asm(tc.src)); got != tc.want {
			t.Errorf("asm(%q) = %s, want %s", tc.src, got, tc.want)
		}
	}
	for _, bad := range []string{"NOPE", "PUSH1", "PUSH1 0x0102", "@missing", "PUSH1 zz"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("asm(%q) did not panic", bad)
				}
			}()
			asm(bad)
		}()
	}
}
