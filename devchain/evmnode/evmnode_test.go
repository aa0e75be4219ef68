package evmnode_test

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

var oneEther = big.NewInt(1_000_000_000_000_000_000)

func TestStartServesDevChainOverHTTP(t *testing.T) {
	key, from := nodetest.Key(t)
	n, c := nodetest.EVM(t, evmnode.Config{ChainID: 1338, Alloc: nodetest.Alloc(oneEther, from)})
	ctx := nodetest.Context(t)

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
	_, to := nodetest.Key(t)
	if _, err := evmnode.SendValue(ctx, c, key, to, big.NewInt(12345)); err != nil {
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
	for _, m := range evmnode.DefaultModules {
		if _, ok := modules[m]; !ok {
			t.Errorf("module %s not served; got %v", m, modules)
		}
	}
}

func TestRestartOnSameDataDirKeepsChain(t *testing.T) {
	dir := t.TempDir()
	key, from := nodetest.Key(t)
	_, to := nodetest.Key(t)
	cfg := evmnode.Config{DataDir: dir, ChainID: 1337, Alloc: nodetest.Alloc(oneEther, from)}
	ctx := nodetest.Context(t)

	n, c := nodetest.EVM(t, cfg)
	hash, err := evmnode.SendValue(ctx, c, key, to, big.NewInt(777))
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := c.TransactionReceipt(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// A second start with another alloc must not reset the chain: the alloc
	// only seeds a new chain.
	_, other := nodetest.Key(t)
	cfg.Alloc = nodetest.Alloc(oneEther, other)
	n2, c2 := nodetest.EVM(t, cfg)
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
	if _, err := evmnode.SendValue(ctx, c2, key, to, big.NewInt(1)); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
}

func TestRestartWithOtherChainIDIsRefused(t *testing.T) {
	dir := t.TempDir()
	n, _ := nodetest.EVM(t, evmnode.Config{DataDir: dir, ChainID: 1337})
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n, err := evmnode.Start(evmnode.Config{DataDir: dir, ChainID: 1338})
	if err == nil {
		n.Close()
		t.Fatal("Start with another chain id on an existing chain succeeded")
	}
	if !strings.Contains(err.Error(), "1337") {
		t.Errorf("error %q does not name the stored chain id", err)
	}
}

func TestBlockPeriodProducesEmptyBlocks(t *testing.T) {
	_, c := nodetest.EVM(t, evmnode.Config{ChainID: 1337, BlockPeriod: 50 * time.Millisecond})
	ctx := nodetest.Context(t)
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
	for name, cfg := range map[string]evmnode.Config{
		"no chain id":     {},
		"negative period": {ChainID: 1, BlockPeriod: -time.Second},
		"bad address":     {ChainID: 1, HTTPAddr: "localhost"},
		"bad port":        {ChainID: 1, HTTPAddr: "127.0.0.1:99999"},
	} {
		t.Run(name, func(t *testing.T) {
			if n, err := evmnode.Start(cfg); err == nil {
				n.Close()
				t.Fatal("Start succeeded")
			}
		})
	}
}

func TestFixtures(t *testing.T) {
	key, from := nodetest.Key(t)
	_, to := nodetest.Key(t)
	_, c := nodetest.EVM(t, evmnode.Config{ChainID: 1337, Alloc: nodetest.Alloc(oneEther, from)})
	ctx := nodetest.Context(t)

	t.Run("token", func(t *testing.T) {
		token, err := evmnode.DeployToken(ctx, c, key)
		if err != nil {
			t.Fatal(err)
		}
		if bal, err := evmnode.TokenBalance(ctx, c, token, from); err != nil || bal.Cmp(evmnode.TokenSupply) != 0 {
			t.Fatalf("deployer balance = %v (%v), want %v", bal, err, evmnode.TokenSupply)
		}
		hash, err := evmnode.TransferToken(ctx, c, key, token, to, big.NewInt(5000))
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
		want := []common.Hash{evmnode.TransferTopic, common.BytesToHash(from.Bytes()), common.BytesToHash(to.Bytes())}
		if l.Address != token || len(l.Topics) != 3 || l.Topics[0] != want[0] || l.Topics[1] != want[1] || l.Topics[2] != want[2] {
			t.Errorf("log = %+v, want Transfer(%s, %s) from %s", l, from, to, token)
		}
		if new(big.Int).SetBytes(l.Data).Cmp(big.NewInt(5000)) != 0 {
			t.Errorf("log amount = %x, want 5000", l.Data)
		}
		// eth_getLogs works without the log index the node leaves off.
		logs, err := c.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{token}, Topics: [][]common.Hash{{evmnode.TransferTopic}}})
		if err != nil || len(logs) != 1 || logs[0].TxHash != hash {
			t.Errorf("eth_getLogs = %d logs (%v), want the transfer", len(logs), err)
		}
		if bal, _ := evmnode.TokenBalance(ctx, c, token, to); bal.Cmp(big.NewInt(5000)) != 0 {
			t.Errorf("recipient balance = %v, want 5000", bal)
		}
		if bal, _ := evmnode.TokenBalance(ctx, c, token, from); new(big.Int).Add(bal, big.NewInt(5000)).Cmp(evmnode.TokenSupply) != 0 {
			t.Errorf("deployer balance = %v, want supply - 5000", bal)
		}
		// More than the sender holds reverts instead of minting.
		_, poor := nodetest.Key(t)
		if _, err := evmnode.TransferToken(ctx, c, key, token, poor, new(big.Int).Add(evmnode.TokenSupply, big.NewInt(1))); err == nil {
			t.Error("transfer above the balance succeeded")
		}
	})

	t.Run("failing", func(t *testing.T) {
		reverter, err := evmnode.DeployReverter(ctx, c, key)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := evmnode.SendFailing(ctx, c, key, reverter)
		if err != nil {
			t.Fatal(err)
		}
		receipt, err := c.TransactionReceipt(ctx, hash)
		if err != nil || receipt.Status != types.ReceiptStatusFailed {
			t.Fatalf("receipt = %+v (%v), want status 0", receipt, err)
		}
	})

	t.Run("forwarder", func(t *testing.T) {
		forwarder, err := evmnode.DeployForwarder(ctx, c, key)
		if err != nil {
			t.Fatal(err)
		}
		_, dest := nodetest.Key(t)
		if _, err := evmnode.SendViaContract(ctx, c, key, forwarder, dest, big.NewInt(4242)); err != nil {
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
		pkey, pfrom := nodetest.Key(t)
		if _, err := evmnode.SendValue(ctx, c, key, pfrom, big.NewInt(1e15)); err != nil {
			t.Fatal(err)
		}
		hash, err := evmnode.SendPending(ctx, c, pkey, to, big.NewInt(1))
		if err != nil {
			t.Fatal(err)
		}
		// Other traffic produces blocks; the gapped transaction stays out.
		if _, err := evmnode.SendValue(ctx, c, key, to, big.NewInt(1)); err != nil {
			t.Fatal(err)
		}
		tx, isPending, err := c.TransactionByHash(ctx, hash)
		if err != nil || !isPending || tx.Hash() != hash {
			t.Fatalf("TransactionByHash = %v pending=%v err=%v, want a pending transaction", tx, isPending, err)
		}
	})
}

func TestCallTracerIsServed(t *testing.T) {
	key, from := nodetest.Key(t)
	n, c := nodetest.EVM(t, evmnode.Config{ChainID: 1337, Alloc: nodetest.Alloc(oneEther, from)})
	ctx := nodetest.Context(t)
	forwarder, err := evmnode.DeployForwarder(ctx, c, key)
	if err != nil {
		t.Fatal(err)
	}
	_, dest := nodetest.Key(t)
	hash, err := evmnode.SendViaContract(ctx, c, key, forwarder, dest, big.NewInt(99))
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
