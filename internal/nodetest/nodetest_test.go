package nodetest_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// A dev chain started for a test serves the chain and the funds asked for,
// and is gone once the test has ended: no node outlives its test.
func TestEVMIsClosedWhenTheTestEnds(t *testing.T) {
	var url string
	t.Run("own", func(t *testing.T) {
		_, from := nodetest.Key(t)
		n, c := nodetest.EVM(t, evmnode.Config{ChainID: 1338, Alloc: nodetest.Alloc(big.NewInt(1e18), from)})
		ctx := nodetest.Context(t)
		if id, err := c.ChainID(ctx); err != nil || id.Uint64() != 1338 {
			t.Fatalf("chain id %v (%v), want 1338", id, err)
		}
		if bal, err := c.BalanceAt(ctx, from, nil); err != nil || bal.Cmp(big.NewInt(1e18)) != 0 {
			t.Fatalf("funded account holds %v (%v), want 1e18 wei", bal, err)
		}
		url = n.URL()
	})
	c, err := ethclient.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.BlockNumber(ctx); err == nil {
		t.Fatalf("the dev chain at %s still answers after its test ended", url)
	}
}

func TestBTCDIsStoppedWhenTheTestEnds(t *testing.T) {
	var n *btcdnode.Node
	t.Run("own", func(t *testing.T) {
		w, err := btcdnode.NewWallet()
		if err != nil {
			t.Fatal(err)
		}
		n = nodetest.BTCD(t, btcdnode.Config{MiningAddr: w.MiningAddr()})
		ctx := nodetest.Context(t)
		if err := n.Generate(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if h, err := n.BlockCount(ctx); err != nil || h != 2 {
			t.Fatalf("height %d (%v), want 2", h, err)
		}
	})
	if n == nil {
		t.Skip("no btcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := n.BlockCount(ctx); err == nil {
		t.Fatalf("btcd at %s still answers after its test ended", n.Host())
	}
}

func TestContextEndsWithTheTest(t *testing.T) {
	var ctx context.Context
	t.Run("own", func(t *testing.T) {
		ctx = nodetest.Context(t)
		if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) > nodetest.Timeout {
			t.Errorf("deadline %v (set %v), want within %s", deadline, ok, nodetest.Timeout)
		}
	})
	if ctx.Err() == nil {
		t.Error("the context outlived its test")
	}
}
