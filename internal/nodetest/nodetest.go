// Package nodetest starts the real chain nodes that adapter tests run
// against, an in-process go-ethereum dev chain (devchain/evmnode) and a btcd
// in regtest mode (devchain/btcdnode), and stops them when the test ends, so
// that a test says which chain it needs rather than how to run one. It also
// owns what those tests share around the nodes: the context their node calls
// run under, a new key, a genesis allocation, and the funded btcd nodes a
// test package starts once in TestMain (Regtest).
//
// Only tests import it. devchain/harness, which puts a whole set of chains
// with fixtures on them for other packages' tests and for `recovery dev`,
// starts its nodes itself: it is not test code, and its callers have no
// testing.TB to give at start.
//
// If btcd can be neither found nor built (btcdnode.ErrNoBinary), the btcd
// helpers skip the test with the reason; any other failure fails it.
package nodetest

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/devchain/evmnode"
)

// Timeout bounds the context Context returns: long enough for a btcd to mine
// a wallet its first coins under the race detector, short enough that a node
// that stopped answering fails its own test instead of the whole test binary
// at go test's -timeout.
const Timeout = 2 * time.Minute

// startTimeout bounds the start of a btcd: the first `go tool` build of
// btcd takes about a minute on two cores.
const startTimeout = 5 * time.Minute

// Context returns a context that ends after Timeout or when the test ends,
// whichever comes first.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Key returns a new secp256k1 key and its EVM address.
func Key(t testing.TB) (*ecdsa.PrivateKey, common.Address) {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return key, crypto.PubkeyToAddress(key.PublicKey)
}

// Alloc is a genesis allocation (evmnode.Config.Alloc) giving each address
// wei.
func Alloc(wei *big.Int, addrs ...common.Address) map[common.Address]*big.Int {
	alloc := make(map[common.Address]*big.Int, len(addrs))
	for _, a := range addrs {
		alloc[a] = new(big.Int).Set(wei)
	}
	return alloc
}

// StartEVM starts the dev chain cfg describes and dials a client to it. It
// is for TestMain, which has no test to clean up after: the caller closes
// the client and then the node. Tests use EVM.
func StartEVM(cfg evmnode.Config) (*evmnode.Node, *ethclient.Client, error) {
	n, err := evmnode.Start(cfg)
	if err != nil {
		return nil, nil, err
	}
	c, err := ethclient.Dial(n.URL())
	if err != nil {
		return nil, nil, errors.Join(err, n.Close())
	}
	return n, c, nil
}

// EVM starts a dev chain of the test's own, as cfg describes, and a client
// on it. Both are closed when the test ends, and a node that fails to close
// fails the test. A test may Close the node earlier, to play a node that
// went away.
func EVM(t testing.TB, cfg evmnode.Config) (*evmnode.Node, *ethclient.Client) {
	t.Helper()
	n, err := evmnode.Start(cfg)
	if err != nil {
		t.Fatalf("start dev chain %d: %v", cfg.ChainID, err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close dev chain %d: %v", cfg.ChainID, err)
		}
	})
	c, err := ethclient.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return n, c
}

// BTCD starts a btcd of the test's own in regtest mode, as cfg describes; a
// DataDir of "" is a temporary directory of the test's. The node is stopped
// when the test ends, and a node that fails to stop fails the test. A test
// may Stop it earlier, and start another on cfg.DataDir to restart the same
// chain.
func BTCD(t testing.TB, cfg btcdnode.Config) *btcdnode.Node {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	n, err := btcdnode.Start(ctx, cfg)
	if errors.Is(err, btcdnode.ErrNoBinary) {
		t.Skip("btcd cannot be built or found: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("stop btcd: %v", err)
		}
	})
	return n
}

// FundedBTCD starts a btcd of the test's own that pays its block rewards to
// a new wallet, and mines the wallet its first spendable coins
// (btcdnode.Wallet.Fund). The config it returns, data directory and mining
// address filled in, restarts the same chain with BTCD.
func FundedBTCD(t testing.TB) (*btcdnode.Node, *btcdnode.Wallet, btcdnode.Config) {
	t.Helper()
	w, err := btcdnode.NewWallet()
	if err != nil {
		t.Fatal(err)
	}
	cfg := btcdnode.Config{DataDir: t.TempDir(), MiningAddr: w.MiningAddr()}
	n := BTCD(t, cfg)
	if err := w.Fund(Context(t), n); err != nil {
		t.Fatal(err)
	}
	return n, w, cfg
}

// Regtest is the btcd regtest nodes a test package shares, started in
// TestMain and stopped after the last test; they all pay their block
// rewards to Wallet, funded on each. Tests that mine, reorg, stop or restart
// a node start one of their own (BTCD, FundedBTCD) instead.
//
//	var reg *nodetest.Regtest
//
//	func TestMain(m *testing.M) { os.Exit(run(m)) }
//
//	func run(m *testing.M) int {
//		var err error
//		if reg, err = nodetest.StartRegtest("btc"); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			return 1
//		}
//		defer reg.Stop()
//		return m.Run()
//	}
type Regtest struct {
	// Wallet mines on every node and holds spendable coins on each.
	Wallet *btcdnode.Wallet

	dir   string
	nodes map[string]*btcdnode.Node
	skip  string
}

// StartRegtest starts one node per name, side by side, each in a directory
// of its own under a temporary one, and funds Wallet on each. If btcd can be
// neither found nor built it says so on stderr and returns a Regtest without
// nodes and a nil error: Need then skips the tests that need them.
func StartRegtest(names ...string) (*Regtest, error) {
	w, err := btcdnode.NewWallet()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nodetest-btcd-")
	if err != nil {
		return nil, err
	}
	r := &Regtest{Wallet: w, dir: dir, nodes: make(map[string]*btcdnode.Node, len(names))}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, name := range names {
		wg.Go(func() {
			n, err := btcdnode.Start(ctx, btcdnode.Config{DataDir: filepath.Join(dir, name), MiningAddr: w.MiningAddr()})
			if err == nil {
				err = w.Fund(ctx, n)
			}
			mu.Lock()
			defer mu.Unlock()
			if n != nil {
				r.nodes[name] = n
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("btcd %s: %w", name, err))
			}
		})
	}
	wg.Wait()
	switch err := errors.Join(errs...); {
	case errors.Is(err, btcdnode.ErrNoBinary):
		r.skip = "btcd cannot be built or found: " + err.Error()
		fmt.Fprintln(os.Stderr, "SKIP node tests:", r.skip)
		return r, r.Stop()
	case err != nil:
		return nil, errors.Join(err, r.Stop())
	}
	return r, nil
}

// Node is the node started under name, nil when the tests are skipped.
func (r *Regtest) Node(name string) *btcdnode.Node { return r.nodes[name] }

// Need skips the test if the nodes could not be started for want of btcd.
func (r *Regtest) Need(t testing.TB) {
	t.Helper()
	if r.skip != "" {
		t.Skip(r.skip)
	}
}

// Stop stops every node and removes their data.
func (r *Regtest) Stop() error {
	var errs []error
	for name, n := range r.nodes {
		if err := n.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("btcd %s: %w", name, err))
		}
	}
	r.nodes = nil
	errs = append(errs, os.RemoveAll(r.dir))
	return errors.Join(errs...)
}
