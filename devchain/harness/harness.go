// Package harness starts real local chains for tests and puts on them one
// real transaction of every kind the engine must recognise: two in-process
// go-ethereum dev chains standing for eth (chain id 1337) and bsc (1338),
// and two btcd regtest nodes standing for btc and ltc (address params
// btc-regtest and ltc-regtest). Adapter, scan and classification tests use
// it instead of fakes.
//
// A harness takes a few seconds to start, most of it funding the bitcoin
// wallet (101 blocks on each btcd), so a test package shares one, started
// by the first test that asks for it and stopped after the last:
//
//	func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		h := harness.Shared(t)
//		...
//	}
//
// The shared harness is read-only: its fixtures promise confirmation counts
// (a btc deposit one confirmation short, a pending transaction that stays
// pending), so tests must not mine, reorg or stop its nodes. A test that
// needs to do that starts its own with Start.
//
// If btcd can be neither found nor built, Start and Shared skip the test
// with the reason (see btcdnode.ErrNoBinary); any other failure fails it.
package harness

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/keystore"
)

// Chain ids and address params of the local chains, and the confirmations
// the harness registry asks of each: small, so that tests reach them with a
// few blocks, and different, so that a test notices which one applies.
const (
	EthChainID = 1337
	BscChainID = 1338

	BtcParams = "btc-regtest"
	LtcParams = "ltc-regtest"

	EthConfirmations = 3
	BscConfirmations = 3
	BtcConfirmations = 2
	LtcConfirmations = 3
)

// coinLTC is Litecoin's BIP-44 coin type. The exchange's ltc deposit keys
// come from their own tree, so that paying the hash of a btc deposit key on
// ltc is a cross-chain mistake, not a deposit to an ltc address.
const coinLTC uint32 = 2

// startTimeout bounds Start; the first `go tool` build of btcd takes about a
// minute on two cores.
const startTimeout = 5 * time.Minute

// Harness is a set of running local chains with fixtures on them.
type Harness struct {
	dir  string
	keys *keystore.Keystore
	// keysMu serialises derivations: hdkeychain fills the master key's
	// public-key cache on first use without a lock, so a keystore.Keystore
	// is not safe for concurrent use until one derivation has run.
	keysMu sync.Mutex

	eth, bsc *evmnode.Node
	btc, ltc *btcdnode.Node
	// sender is the outside wallet that sends every EVM fixture; wallet
	// sends the bitcoin ones and receives the block rewards.
	sender *ecdsa.PrivateKey
	wallet *btcdnode.Wallet

	reg      *chains.Registry
	lookups  map[string]chains.Lookup
	closeEVM []func()
	fixtures Fixtures

	closeOnce sync.Once
	closeErr  error
}

// Start starts a harness of the test's own and stops it when the test ends.
func Start(t testing.TB) *Harness {
	t.Helper()
	h, err := start()
	if errors.Is(err, btcdnode.ErrNoBinary) {
		t.Skip("harness: btcd cannot be built or found: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

var shared struct {
	mu      sync.Mutex
	running bool // Main is running the tests
	once    sync.Once
	h       *Harness
	err     error
}

// Main runs a test binary's tests and benchmarks and then stops the shared
// harness, if one of them started it. Call it from TestMain.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.running = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.running = false
	if shared.h != nil {
		if err := shared.h.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Shared returns the test binary's shared harness, starting it on first use.
// It needs TestMain to call Main, which stops it.
func Shared(t testing.TB) *Harness {
	t.Helper()
	shared.mu.Lock()
	running := shared.running
	shared.mu.Unlock()
	if !running {
		t.Fatal("harness.Shared needs TestMain to run the tests with harness.Main, which stops the shared harness")
	}
	shared.once.Do(func() {
		h, err := start()
		shared.mu.Lock()
		shared.h, shared.err = h, err
		shared.mu.Unlock()
	})
	if errors.Is(shared.err, btcdnode.ErrNoBinary) {
		t.Skip("harness: btcd cannot be built or found: ", shared.err)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.h
}

func start() (_ *Harness, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "recovery-harness-")
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	h := &Harness{dir: dir}
	defer func() {
		if err != nil {
			err = errors.Join(err, h.Close())
		}
	}()
	seed := make([]byte, 32)
	_, _ = rand.Read(seed) // crypto/rand.Read never fails (Go 1.24+)
	if h.keys, err = keystore.FromSeed(seed); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}

	// The EVM chains start in milliseconds and their fixtures take well
	// under a second; btcd starting and funding takes seconds. Both run at
	// once.
	var wg sync.WaitGroup
	var evmErr, btcdErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		evmErr = h.startEVM(ctx)
	}()
	go func() {
		defer wg.Done()
		btcdErr = h.startBTCD(ctx)
	}()
	wg.Wait()
	if err := errors.Join(btcdErr, evmErr); err != nil {
		return nil, err
	}
	if err := h.connect(ctx); err != nil {
		return nil, err
	}
	if err := h.utxoFixtures(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Harness) startEVM(ctx context.Context) error {
	var err error
	h.keysMu.Lock()
	h.sender, err = h.keys.EVMKey(keystore.PurposeSender, 0)
	h.keysMu.Unlock()
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	ether := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	alloc := map[common.Address]*big.Int{h.senderAddress(): new(big.Int).Mul(big.NewInt(1_000_000), ether)}
	for _, c := range []struct {
		dst *(*evmnode.Node)
		id  uint64
	}{{&h.eth, EthChainID}, {&h.bsc, BscChainID}} {
		// BlockPeriod 0: blocks come only from transactions and Mine, so
		// every confirmation count a fixture promises stays put.
		n, err := evmnode.Start(evmnode.Config{ChainID: c.id, Alloc: alloc})
		if err != nil {
			return fmt.Errorf("harness: evm chain %d: %w", c.id, err)
		}
		*c.dst = n
	}
	return h.evmFixtures(ctx)
}

func (h *Harness) startBTCD(ctx context.Context) error {
	h.keysMu.Lock()
	key, err := h.keys.Key(keystore.CoinUTXO, keystore.PurposeSender, 0)
	h.keysMu.Unlock()
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	if h.wallet, err = btcdnode.NewWallet(key); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []struct {
		dst *(*btcdnode.Node)
		id  string
	}{{&h.btc, "btc"}, {&h.ltc, "ltc"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := btcdnode.Start(ctx, btcdnode.Config{DataDir: h.dir + "/" + c.id, MiningAddr: h.wallet.MiningAddr()})
			if err != nil {
				errs[i] = fmt.Errorf("harness: %s node: %w", c.id, err)
				return
			}
			*c.dst = n
			if err := h.wallet.Fund(ctx, n); err != nil {
				errs[i] = fmt.Errorf("harness: fund the %s wallet: %w", c.id, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// connect builds the registry and the adapters.
func (h *Harness) connect(ctx context.Context) error {
	nets := chains.DefaultNetworks()
	for i := range nets {
		n := &nets[i]
		switch n.ID {
		case "eth":
			n.Name, n.ChainID, n.Confirmations, n.RPC = "Ethereum (harness dev chain)", EthChainID, EthConfirmations, []string{h.eth.URL()}
		case "bsc":
			n.Name, n.ChainID, n.Confirmations, n.RPC = "BNB Smart Chain (harness dev chain)", BscChainID, BscConfirmations, []string{h.bsc.URL()}
		case "btc":
			n.Name, n.Params, n.Confirmations, n.RPC = "Bitcoin (harness regtest)", BtcParams, BtcConfirmations, []string{btcdURL(h.btc)}
		case "ltc":
			n.Name, n.Params, n.Confirmations, n.RPC = "Litecoin (harness regtest stand-in)", LtcParams, LtcConfirmations, []string{btcdURL(h.ltc)}
		}
	}
	reg, err := chains.NewRegistry(nets)
	if err != nil {
		return fmt.Errorf("harness: registry: %w", err)
	}
	h.reg = reg
	h.lookups = map[string]chains.Lookup{}
	for _, id := range []string{"eth", "bsc"} {
		n, _ := reg.Get(id)
		c, err := evm.Dial(ctx, n, n.RPC[0])
		if err != nil {
			return fmt.Errorf("harness: %s adapter: %w", id, err)
		}
		h.lookups[id] = c
		h.closeEVM = append(h.closeEVM, c.Close)
	}
	for id, node := range map[string]*btcdnode.Node{"btc": h.btc, "ltc": h.ltc} {
		n, _ := reg.Get(id)
		c, err := utxo.Dial(n, node.Host(), node.User(), node.Pass())
		if err != nil {
			return fmt.Errorf("harness: %s adapter: %w", id, err)
		}
		h.lookups[id] = c
	}
	return nil
}

func btcdURL(n *btcdnode.Node) string {
	return fmt.Sprintf("http://%s:%s@%s", n.User(), n.Pass(), n.Host())
}

// Close stops every node and removes the harness's files. It is safe to
// call more than once.
func (h *Harness) Close() error {
	h.closeOnce.Do(func() {
		for _, c := range h.closeEVM {
			c()
		}
		var errs []error
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, n := range []*btcdnode.Node{h.btc, h.ltc} {
			if n == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := n.Stop(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		for _, n := range []*evmnode.Node{h.eth, h.bsc} {
			if n != nil {
				if err := n.Close(); err != nil {
					errs = append(errs, err)
				}
			}
		}
		wg.Wait()
		if h.dir != "" {
			errs = append(errs, os.RemoveAll(h.dir))
		}
		if err := errors.Join(errs...); err != nil {
			h.closeErr = fmt.Errorf("harness: close: %w", err)
		}
	})
	return h.closeErr
}

// Registry is the 32 default networks with eth, bsc, btc and ltc pointed
// at the local chains: their dev chain ids or regtest params, RPC
// endpoints, and the harness's small confirmation counts.
func (h *Harness) Registry() *chains.Registry { return h.reg }

// Lookups returns the real adapters of eth, bsc, btc and ltc, in a new map
// that the caller may change (to replace or add a network).
func (h *Harness) Lookups() map[string]chains.Lookup {
	out := make(map[string]chains.Lookup, len(h.lookups))
	for id, l := range h.lookups {
		out[id] = l
	}
	return out
}

// Network is the registry entry of id; it panics for an id the registry
// does not have, which is a mistake in the test.
func (h *Harness) Network(id string) chains.Network {
	n, ok := h.reg.Get(id)
	if !ok {
		panic("harness: no network " + id)
	}
	return n
}

// Fixtures are the transactions the harness made at start.
func (h *Harness) Fixtures() Fixtures { return h.fixtures }

// Keystore derives every key of the harness: users' deposit keys
// (PurposeUser, keystore.UserIndex) and the outside senders (PurposeSender).
// Start has derived keys from it already, which makes it safe for
// concurrent use (see Harness.keysMu).
func (h *Harness) Keystore() *keystore.Keystore { return h.keys }

// EVM returns the node of eth or bsc, for tests of their own harness that
// send, mine or reorg (see the package comment).
func (h *Harness) EVM(network string) *evmnode.Node {
	switch network {
	case "eth":
		return h.eth
	case "bsc":
		return h.bsc
	}
	panic("harness: no evm node " + network)
}

// UTXO returns the node of btc or ltc, for tests of their own harness.
func (h *Harness) UTXO(network string) *btcdnode.Node {
	switch network {
	case "btc":
		return h.btc
	case "ltc":
		return h.ltc
	}
	panic("harness: no btcd node " + network)
}

// EVMSender is the key of the outside wallet that sent the EVM fixtures;
// it holds plenty of ether on both chains.
func (h *Harness) EVMSender() *ecdsa.PrivateKey { return h.sender }

// Wallet is the outside bitcoin wallet that sent the UTXO fixtures; block
// rewards on both btcd nodes pay it.
func (h *Harness) Wallet() *btcdnode.Wallet { return h.wallet }

// DepositAddress is an address the exchange issued to a user on one network.
type DepositAddress struct {
	Network string
	UserID  string
	Address string // as the network writes it
	// PubKeyHash is the hex hash160 of the key, for UTXO networks.
	PubKeyHash string
}

// DepositAddress returns the deposit address of a user on eth, bsc, btc or
// ltc. A user has one EVM key, so the same address on eth and bsc, as
// exchanges issue them; the btc address is the P2WPKH of a key from the
// bitcoin tree and the ltc address the P2WPKH of a key from Litecoin's own
// tree (BIP-44 coin type 2).
func (h *Harness) DepositAddress(userID, network string) (DepositAddress, error) {
	d := DepositAddress{Network: network, UserID: userID}
	index := keystore.UserIndex(userID)
	h.keysMu.Lock()
	defer h.keysMu.Unlock()
	switch network {
	case "eth", "bsc":
		a, err := h.keys.EVMAddress(keystore.PurposeUser, index)
		if err != nil {
			return d, err
		}
		d.Address = a.Hex()
		return d, nil
	case "btc", "ltc":
		coin := keystore.CoinUTXO
		if network == "ltc" {
			coin = coinLTC
		}
		key, err := h.keys.Key(coin, keystore.PurposeUser, index)
		if err != nil {
			return d, err
		}
		pkh := address.Hash160(key.PubKey().SerializeCompressed())
		d.Address, err = utxo.AddressInfo{Kind: utxo.P2WPKH, Hash: pkh}.Encode(h.params(network))
		if err != nil {
			return d, err
		}
		d.PubKeyHash = hex.EncodeToString(pkh)
		return d, nil
	}
	return d, recovery.FieldError("network", "the harness issues deposit addresses on eth, bsc, btc and ltc only, not %q", network)
}

func (h *Harness) params(network string) utxo.Params {
	name := BtcParams
	if network == "ltc" {
		name = LtcParams
	}
	p, err := utxo.ParamsFor(name)
	if err != nil {
		panic(err) // both names are in utxo's table
	}
	return p
}
