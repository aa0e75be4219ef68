// Package devchain runs the local chains of `recovery dev` and puts real
// demo mis-deposits on them: an EVM dev chain standing for eth, a second
// one for bsc, and btcd regtest standing for btc, each with the chain id or
// parameters it really has.
package devchain

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/keystore"
)

// Chain ids of the local EVM chains: real dev chain ids, never the ids of
// the public networks they stand for.
const (
	EthChainID = 1337
	BscChainID = 1338
	btcParams  = "btc-regtest"
)

// Config configures the local chains.
type Config struct {
	DataDir     string
	Keystore    *keystore.Keystore
	BlockPeriod time.Duration
	Logger      *slog.Logger
	// BinDir is where btcd is built when none is found (see
	// btcdnode.Binary); "" builds none.
	BinDir string
}

// Chains are the running local chains.
type Chains struct {
	cfg Config
	eth *evmnode.Node
	bsc *evmnode.Node
	btc *btcdnode.Node
	// noBTC says why btc is not running: no btcd could be found or built.
	noBTC error
	// wallet is the outside sender's bitcoin wallet; block rewards pay it.
	wallet     *btcdnode.Wallet
	stopMining context.CancelFunc
	mining     sync.WaitGroup
	demo       []Deposit
}

// Deposit is one demo mis-deposit, ready to be appealed.
type Deposit struct {
	Name      string `json:"name"`
	Category  string `json:"category"` // what the engine should find it to be
	Network   string `json:"network"`
	TxHash    string `json:"tx_hash"`
	ToAddress string `json:"to_address"`
	UserID    string `json:"user_id"`
	Asset     string `json:"asset,omitempty"`
	Amount    string `json:"amount,omitempty"` // base units
	Note      string `json:"note"`
}

// Start starts the chains, funds the demo wallets on first start and
// creates the demo deposits once; later starts reuse both.
func Start(ctx context.Context, cfg Config) (_ *Chains, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BlockPeriod <= 0 {
		cfg.BlockPeriod = 2 * time.Second
	}
	c := &Chains{cfg: cfg}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
		}
	}()

	faucet, err := cfg.Keystore.EVMAddress(keystore.PurposeFaucet, 0)
	if err != nil {
		return nil, err
	}
	sender, err := cfg.Keystore.EVMAddress(keystore.PurposeSender, 0)
	if err != nil {
		return nil, err
	}
	ether := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	alloc := map[common.Address]*big.Int{
		faucet: new(big.Int).Mul(big.NewInt(1_000_000), ether),
		sender: new(big.Int).Mul(big.NewInt(1_000), ether),
	}
	for _, ch := range []struct {
		dst *(*evmnode.Node)
		id  string
		cid uint64
	}{{&c.eth, "eth", EthChainID}, {&c.bsc, "bsc", BscChainID}} {
		n, err := evmnode.Start(evmnode.Config{
			DataDir:     filepath.Join(cfg.DataDir, ch.id),
			ChainID:     ch.cid,
			HTTPAddr:    "127.0.0.1:0",
			BlockPeriod: cfg.BlockPeriod,
			Alloc:       alloc,
			Logger:      cfg.Logger.With("chain", ch.id),
		})
		if err != nil {
			return nil, fmt.Errorf("%s chain: %w", ch.id, err)
		}
		*ch.dst = n
	}

	senderKey, err := cfg.Keystore.Key(keystore.CoinUTXO, keystore.PurposeSender, 0)
	if err != nil {
		return nil, err
	}
	if c.wallet, err = btcdnode.NewWallet(senderKey); err != nil {
		return nil, err
	}
	// Without btcd the other chains still run: btc is left out, and
	// BTCUnavailable says why.
	btcLog := cfg.Logger.With("chain", "btc")
	bin, err := btcdnode.Binary(ctx, cfg.BinDir, btcLog)
	switch {
	case errors.Is(err, btcdnode.ErrNoBinary):
		c.noBTC = err
		btcLog.Warn("the local btc chain is not started", "reason", err)
	case err != nil:
		return nil, fmt.Errorf("btc chain: %w", err)
	default:
		c.btc, err = btcdnode.Start(ctx, btcdnode.Config{
			DataDir:    filepath.Join(cfg.DataDir, "btc"),
			RPCAddr:    "127.0.0.1:0",
			MiningAddr: c.wallet.MiningAddr(),
			Binary:     bin,
			Logger:     btcLog,
			// The hot wallet's balance is read from the address index.
			AddrIndex: true,
		})
		if err != nil {
			return nil, fmt.Errorf("btc chain: %w", err)
		}
	}

	if err := c.loadOrSeedDemo(ctx); err != nil {
		return nil, fmt.Errorf("demo deposits: %w", err)
	}
	if c.btc != nil {
		c.mineBitcoin()
	}
	return c, nil
}

// BTCUnavailable says why the local btc chain is not running (no btcd could
// be found or built), or nil when it runs.
func (c *Chains) BTCUnavailable() error { return c.noBTC }

// mineBitcoin makes btc regtest blocks at a steady pace so that deposits
// gather confirmations as on a live network.
func (c *Chains) mineBitcoin() {
	ctx, cancel := context.WithCancel(context.Background())
	c.stopMining = cancel
	period := max(c.cfg.BlockPeriod, 5*time.Second)
	c.mining.Add(1)
	go func() {
		defer c.mining.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := c.btc.Generate(ctx, 1); err != nil && ctx.Err() == nil {
					c.cfg.Logger.Warn("btc regtest: block not generated", "err", err)
				}
			}
		}
	}()
}

// Networks points the registry's eth, bsc and btc (when it runs) at the
// local chains.
func (c *Chains) Networks() []config.NetworkConfig {
	// The local nodes are the engine's own: no request rate limit.
	unlimited := new(float64)
	nets := []config.NetworkConfig{
		{ID: "eth", RPC: []string{c.eth.URL()}, ChainID: EthChainID, Confirmations: 3, MinDeposit: DevMinDeposit, RateLimit: unlimited},
		{ID: "bsc", RPC: []string{c.bsc.URL()}, ChainID: BscChainID, Confirmations: 3, MinDeposit: DevMinDeposit, RateLimit: unlimited},
	}
	if c.btc != nil {
		nets = append(nets, config.NetworkConfig{ID: "btc", RPC: []string{fmt.Sprintf("http://%s:%s@%s", c.btc.User(), c.btc.Pass(), c.btc.Host())}, Params: btcParams, Confirmations: 2, RateLimit: unlimited})
	}
	return nets
}

// Demo lists the demo deposits on the chains that run: a btc deposit made
// on an earlier start is left out while btc is not running.
func (c *Chains) Demo() []Deposit {
	out := make([]Deposit, 0, len(c.demo))
	for _, d := range c.demo {
		if d.Network != "btc" || c.btc != nil {
			out = append(out, d)
		}
	}
	return out
}

// DepositAddress is the dev deposit address of a user on a network: the
// same EVM address on every EVM network, a regtest address on btc.
func (c *Chains) DepositAddress(userID, network string) (string, error) {
	e, err := c.AddressEntry(userID, network)
	return e.Address, err
}

// demoUsers own the demo deposit addresses; dave's bitcoin address is the
// one the exchange retired.
var demoUsers = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace"}

// DevMinDeposit is the smallest native deposit the dev chains' eth and bsc
// credit, in whole units; the small-deposit demo sends less.
const DevMinDeposit = "0.001"

// AddressBook lists the dev deposit addresses of the demo users, as the
// exchange's address book would: the same EVM address on eth and bsc, a
// regtest address on btc, dave's marked retired. Alice was never issued a
// bsc address: her deposit there is the wrong-network demo.
func (c *Chains) AddressBook() ([]addressbook.Entry, error) {
	var out []addressbook.Entry
	for _, u := range demoUsers {
		for _, net := range c.Networks() {
			n := net.ID
			if u == "alice" && n == "bsc" {
				continue
			}
			e, err := c.AddressEntry(u, n)
			if err != nil {
				return nil, err
			}
			if u == "dave" && n == "btc" {
				e.Status = addressbook.Retired
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// AddressEntry is the address book entry of a user's dev deposit address
// on one of the local chains.
func (c *Chains) AddressEntry(userID, network string) (addressbook.Entry, error) {
	for _, n := range c.Networks() {
		if n.ID == network {
			return AddressEntry(c.cfg.Keystore, userID, chains.Network{ID: n.ID, Family: familyOf(n), Params: n.Params})
		}
	}
	return addressbook.Entry{}, recovery.FieldError("network", "recovery dev issues deposit addresses on eth, bsc and btc only, not %q", network)
}

func familyOf(n config.NetworkConfig) recovery.Family {
	if n.Params != "" {
		return recovery.FamilyUTXO
	}
	return recovery.FamilyEVM
}

// AddressEntry is the address book entry of a user's dev deposit address
// on network, derived from the dev keystore: the same EVM address on every
// EVM network, and on a UTXO network the P2PKH address of the user's key
// in its parameters (the same key, so the same key hash, on every UTXO
// network). It serves `recovery dev` with its local chains or with nodes
// of the operator's own.
func AddressEntry(ks *keystore.Keystore, userID string, n chains.Network) (addressbook.Entry, error) {
	e := addressbook.Entry{Network: n.ID, UserID: userID, Status: addressbook.Active}
	switch n.Family {
	case recovery.FamilyEVM:
		a, err := ks.EVMAddress(keystore.PurposeUser, keystore.UserIndex(userID))
		if err != nil {
			return e, err
		}
		e.Address = a.Hex()
	case recovery.FamilyUTXO:
		params, err := utxo.ParamsFor(n.Params)
		if err != nil {
			return e, err
		}
		key, err := ks.Key(keystore.CoinUTXO, keystore.PurposeUser, keystore.UserIndex(userID))
		if err != nil {
			return e, err
		}
		pkh := address.Hash160(key.PubKey().SerializeCompressed())
		if e.Address, err = utxo.EncodeAddress(params, pkh); err != nil {
			return e, err
		}
		e.PubKeyHash = hex.EncodeToString(pkh)
	default:
		return e, recovery.FieldError("network", "recovery dev issues deposit addresses on evm and utxo networks, not on %s (%s)", n.ID, n.Family)
	}
	return e, nil
}

// utxoKeyAddress is the regtest P2PKH address of a dev key.
func (c *Chains) utxoKeyAddress(p keystore.Purpose, index uint32) (*address.AddressPubKeyHash, error) {
	key, err := c.cfg.Keystore.Key(keystore.CoinUTXO, p, index)
	if err != nil {
		return nil, err
	}
	return address.NewAddressPubKeyHash(address.Hash160(key.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
}

// Stop stops every chain that started.
func (c *Chains) Stop() error {
	if c.stopMining != nil {
		c.stopMining()
		c.mining.Wait()
	}
	var errs []error
	if c.btc != nil {
		errs = append(errs, c.btc.Stop())
	}
	for _, n := range []*evmnode.Node{c.eth, c.bsc} {
		if n != nil {
			errs = append(errs, n.Close())
		}
	}
	return errors.Join(errs...)
}

func (c *Chains) demoFile() string { return filepath.Join(c.cfg.DataDir, "demo.json") }

// loadOrSeedDemo makes the EVM demo deposits on first start, and the btc
// one on the first start with btc running, which may come later.
func (c *Chains) loadOrSeedDemo(ctx context.Context) error {
	raw, err := os.ReadFile(c.demoFile())
	changed := false
	switch {
	case err == nil:
		if err := json.Unmarshal(raw, &c.demo); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	default:
		if c.demo, err = c.seed(ctx); err != nil {
			return err
		}
		changed = true
	}
	if c.btc != nil && !slices.ContainsFunc(c.demo, func(d Deposit) bool { return d.Network == "btc" }) {
		btc, err := c.seedBitcoin(ctx)
		if err != nil {
			return fmt.Errorf("bitcoin deposit: %w", err)
		}
		c.demo = append(c.demo, btc...)
		changed = true
	}
	if !changed {
		return nil
	}
	raw, err = json.MarshalIndent(c.demo, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(c.demoFile(), raw, 0o644)
}
