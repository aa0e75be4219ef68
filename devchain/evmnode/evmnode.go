// Package evmnode runs an in-process go-ethereum development chain served over
// real JSON-RPC HTTP, the way `geth --dev` does, for tests, benchmarks and the
// `recovery dev` demo chains. It owns the node's lifecycle (genesis, block
// production, persistence across restarts) and, in fixtures.go, the helpers
// that put real demo transactions on it; reorg.go mines blocks on demand and
// reorganises the chain, for tests of confirmations and reorgs.
//
// Blocks are produced by go-ethereum's simulated beacon, driven by a small
// lifecycle of this package: a block as soon as a transaction becomes
// executable and, when BlockPeriod is set, also empty blocks at that period.
package evmnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/tracers"
	gethlog "github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"

	// The native tracers (callTracer among them) register themselves on
	// import; without this debug_traceTransaction knows no tracer by name.
	_ "github.com/ethereum/go-ethereum/eth/tracers/native"
)

// DefaultModules are the JSON-RPC namespaces served over HTTP when
// Config.Modules is nil.
var DefaultModules = []string{"eth", "net", "web3", "debug", "txpool"}

// Config describes one development chain.
type Config struct {
	// DataDir is where the chain is stored; "" keeps it in memory. A restart
	// on the same directory continues the same chain.
	DataDir string
	// ChainID is written into the dev genesis (e.g. 1337, 1338). On an
	// existing DataDir it must match the stored chain.
	ChainID uint64
	// HTTPAddr is host:port for JSON-RPC; "127.0.0.1:0" (the default when
	// empty) picks a free port.
	HTTPAddr string
	// BlockPeriod 0 produces a block whenever a transaction arrives (like
	// geth --dev.period 0); above 0 empty blocks are also produced at that
	// period, so confirmations grow with nothing sent.
	BlockPeriod time.Duration
	// Alloc pre-funds accounts in the genesis; it is only used when the
	// chain is new.
	Alloc map[common.Address]*big.Int
	// Logger receives go-ethereum's node log at warn and above; nil
	// discards it.
	Logger *slog.Logger
	// Modules are the JSON-RPC namespaces served over HTTP; nil means
	// DefaultModules. Tests leave out "debug" to play a node that refuses
	// tracing.
	Modules []string
}

// Node is a running development chain.
type Node struct {
	stack   *node.Node
	chainID uint64
	url     string
	driver  *blockDriver

	closeOnce sync.Once
	closeErr  error
}

// Start creates (or reopens) the chain described by cfg and serves it over
// HTTP. The caller must Close the node.
func Start(cfg Config) (*Node, error) {
	if cfg.ChainID == 0 {
		return nil, errors.New("evmnode: a chain id is required")
	}
	if cfg.BlockPeriod < 0 {
		return nil, errors.New("evmnode: block period must not be negative")
	}
	host, port, err := splitHTTPAddr(cfg.HTTPAddr)
	if err != nil {
		return nil, err
	}
	modules := cfg.Modules
	if modules == nil {
		modules = DefaultModules
	}

	nodeConf := node.DefaultConfig
	nodeConf.Name = "evmnode"
	nodeConf.DataDir = cfg.DataDir
	nodeConf.IPCPath = "" // a dev chain is reached over HTTP only; no socket file to clean up
	nodeConf.HTTPHost = host
	nodeConf.HTTPPort = port
	nodeConf.HTTPModules = modules
	// A dev chain never talks to peers: no listening socket, no dialling,
	// no discovery, as geth --dev does.
	// MaxPeers 0 already rules out dialling; NoDial is left unset only
	// because with it go-ethereum warns at every start that the server is
	// useless.
	nodeConf.P2P = p2p.Config{MaxPeers: 0, NoDiscovery: true, ListenAddr: ""}
	nodeConf.Logger = gethlog.NewLogger(warnHandler(cfg.Logger))

	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("evmnode: create node: %w", err)
	}
	n, err := start(stack, cfg)
	if err != nil {
		// A failed stack.Start has already closed the node.
		if cerr := stack.Close(); cerr != nil && !errors.Is(cerr, node.ErrNodeStopped) {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	return n, nil
}

func start(stack *node.Node, cfg Config) (*Node, error) {
	genesis, err := genesisFor(stack, cfg)
	if err != nil {
		return nil, err
	}

	ethConf := ethconfig.Defaults
	ethConf.Genesis = genesis
	ethConf.NetworkId = cfg.ChainID
	ethConf.SyncMode = ethconfig.FullSync
	// An archive node on the hash scheme writes every block's state to disk
	// as it is produced, so debug_traceTransaction works for any block and a
	// restart (even after a crash) finds the state of every block it kept.
	ethConf.StateScheme = rawdb.HashScheme
	ethConf.NoPruning = true
	// Dev-sized caches: the defaults are sized for mainnet (gigabytes).
	ethConf.DatabaseCache = 16
	ethConf.TrieCleanCache = 16
	ethConf.TrieDirtyCache = 0
	ethConf.SnapshotCache = 0
	// No log search index: building and reloading it costs a large share of
	// a small chain's start and stop (seconds under the race detector), and
	// eth_getLogs over a dev chain's few blocks is quick without it.
	ethConf.LogNoHistory = true
	ethConf.Miner.GasPrice = big.NewInt(1) // as geth --dev: accept any tip
	ethConf.TxPool.NoLocals = true
	ethConf.TxPool.Journal = ""
	// Queued transactions (nonce gap) are the "stuck deposit" fixture and
	// must not expire after the default three hours.
	ethConf.TxPool.Lifetime = 10 * 365 * 24 * time.Hour

	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		return nil, fmt.Errorf("evmnode: start ethereum service: %w", err)
	}
	// eth.New registers eth, net, txpool and part of debug; tracing and log
	// filters are registered by geth's command line, so do it here.
	stack.RegisterAPIs(tracers.APIs(backend.APIBackend))
	filterSystem := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(filterSystem)}})

	// Period 0 keeps the beacon's own timer off: the driver below decides
	// when to seal, so that sealing never runs on two goroutines at once.
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		return nil, fmt.Errorf("evmnode: start simulated beacon: %w", err)
	}
	stack.RegisterLifecycle(beacon)
	driver := newBlockDriver(beacon, backend.TxPool(), cfg.BlockPeriod)
	driver.chain = backend.BlockChain()
	stack.RegisterLifecycle(driver)

	if err := stack.Start(); err != nil {
		return nil, fmt.Errorf("evmnode: start node: %w", err)
	}
	return &Node{stack: stack, chainID: cfg.ChainID, url: stack.HTTPEndpoint(), driver: driver}, nil
}

// genesisFor returns the dev genesis for a new chain, or nil when DataDir
// already holds a chain: geth then continues it, and a genesis that differs
// (other Alloc) would be refused as incompatible.
func genesisFor(stack *node.Node, cfg Config) (*core.Genesis, error) {
	if cfg.DataDir != "" && rawdb.PreexistingDatabase(stack.ResolvePath("chaindata")) != "" {
		db, err := stack.OpenDatabaseWithOptions("chaindata", node.DatabaseOptions{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("evmnode: open existing chain in %s: %w", cfg.DataDir, err)
		}
		defer db.Close()
		if hash := rawdb.ReadCanonicalHash(db, 0); hash != (common.Hash{}) {
			stored := rawdb.ReadChainConfig(db, hash)
			if stored == nil || stored.ChainID == nil {
				return nil, fmt.Errorf("evmnode: chain in %s has no chain config", cfg.DataDir)
			}
			if !stored.ChainID.IsUint64() || stored.ChainID.Uint64() != cfg.ChainID {
				return nil, fmt.Errorf("evmnode: chain in %s has chain id %s, not %d", cfg.DataDir, stored.ChainID, cfg.ChainID)
			}
			return nil, nil
		}
	}
	genesis := core.DeveloperGenesisBlock(ethconfig.Defaults.Miner.GasCeil, nil)
	// DeveloperGenesisBlock copies the dev chain config, so changing the
	// copy's chain id leaves params.AllDevChainProtocolChanges alone.
	genesis.Config.ChainID = new(big.Int).SetUint64(cfg.ChainID)
	for addr, wei := range cfg.Alloc {
		if wei == nil || wei.Sign() < 0 {
			return nil, fmt.Errorf("evmnode: alloc for %s must be a non-negative amount", addr)
		}
		genesis.Alloc[addr] = types.Account{Balance: new(big.Int).Set(wei)}
	}
	return genesis, nil
}

func splitHTTPAddr(addr string) (string, int, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("evmnode: http address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("evmnode: http address %q: bad port", addr)
	}
	if host == "" {
		// geth only serves HTTP when a host is set; an empty host means
		// "all interfaces" to net.Listen users.
		host = "0.0.0.0"
	}
	return host, port, nil
}

// URL is the JSON-RPC HTTP endpoint, e.g. http://127.0.0.1:38545.
func (n *Node) URL() string { return n.url }

// ChainID is the chain id the node serves.
func (n *Node) ChainID() uint64 { return n.chainID }

// Close stops the node and releases its data directory. It is safe to call
// more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if err := n.stack.Close(); err != nil {
			n.closeErr = fmt.Errorf("evmnode: close: %w", err)
		}
	})
	return n.closeErr
}

// blockDriver decides when the simulated beacon seals a block. It is the
// only caller of the beacon's Commit, which is not safe for concurrent use;
// anything else that changes the chain (Mine, Reorg in reorg.go) runs as a
// job on its goroutine.
type blockDriver struct {
	beacon *catalyst.SimulatedBeacon
	pool   *txpool.TxPool
	chain  *core.BlockChain
	period time.Duration
	jobs   chan func()
	quit   chan struct{}
	done   chan struct{}
}

func newBlockDriver(beacon *catalyst.SimulatedBeacon, pool *txpool.TxPool, period time.Duration) *blockDriver {
	return &blockDriver{beacon: beacon, pool: pool, period: period, jobs: make(chan func()), quit: make(chan struct{}), done: make(chan struct{})}
}

// Start implements node.Lifecycle.
func (d *blockDriver) Start() error {
	go d.loop()
	return nil
}

// Stop implements node.Lifecycle. It returns once no block is being sealed,
// so the ethereum service can shut down under a quiet chain.
func (d *blockDriver) Stop() error {
	close(d.quit)
	<-d.done
	return nil
}

func (d *blockDriver) loop() {
	defer close(d.done)
	newTxs := make(chan core.NewTxsEvent, 64)
	sub := d.pool.SubscribeTransactions(newTxs, true)
	defer sub.Unsubscribe()

	var tick <-chan time.Time
	if d.period > 0 {
		ticker := time.NewTicker(d.period)
		defer ticker.Stop()
		tick = ticker.C
	}
	// The pool's event is the fast path; the check is the safety net for a
	// transaction the event did not bring into a block (announced while a
	// block was being built from an older view of the pool, or a seal that
	// failed). stuck holds the executable count a full round of sealing
	// could not bring down: such transactions are retried only every
	// stuckRetry, so that one the miner will never take does not fill the
	// chain with empty blocks.
	check := time.NewTicker(executableCheck)
	defer check.Stop()
	stuck, stuckAt := -1, time.Time{}
	for {
		select {
		case <-d.quit:
			return
		case <-sub.Err():
			return
		case <-newTxs:
			// One block takes every transaction the pool holds, so the
			// events queued meanwhile need no block of their own.
			drain(newTxs)
			stuck, stuckAt = d.sealExecutable(), time.Now()
		case <-check.C:
			executable, _ := d.pool.Stats()
			if executable > 0 && (executable != stuck || time.Since(stuckAt) >= stuckRetry) {
				stuck, stuckAt = d.sealExecutable(), time.Now()
			}
		case <-tick:
			d.beacon.Commit()
		case job := <-d.jobs:
			job()
			// The job may have mined or dropped what the queued events
			// announce: seal only what is still executable.
			drain(newTxs)
			d.sealPending()
		}
	}
}

// maxSealRounds bounds the blocks sealed for one burst of transactions. A
// transaction the pool calls executable but the miner will not include (fee
// cap under the base fee) would otherwise make this loop spin forever, as
// geth's own dev loop does; each empty block lowers the base fee, so such a
// transaction is picked up by a later round or period.
const maxSealRounds = 32

// executableCheck is how often the driver looks for executable
// transactions that no block has taken yet.
const executableCheck = 250 * time.Millisecond

// stuckRetry is how often the driver tries again to seal transactions that
// a full round of sealing left in the pool.
const stuckRetry = 5 * time.Second

// sealExecutable seals blocks until the pool has no executable transaction
// left, and returns how many are left when it gives up (0 when none).
func (d *blockDriver) sealExecutable() int {
	executable := -1
	for range maxSealRounds {
		d.beacon.Commit()
		// The pool resets on a new head in the background; wait for it so
		// that Stats does not report transactions already mined.
		if err := d.pool.Sync(); err != nil {
			return executable
		}
		if executable, _ = d.pool.Stats(); executable == 0 {
			return 0
		}
		select {
		case <-d.quit:
			return executable
		default:
		}
	}
	return executable
}

func drain(ch <-chan core.NewTxsEvent) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// warnHandler keeps go-ethereum's chatty info and debug lines out of the
// caller's log. geth's package-level logger is left alone: it discards by
// default, and replacing it would also replace the process-wide slog default.
func warnHandler(l *slog.Logger) slog.Handler {
	if l == nil {
		return gethlog.DiscardHandler()
	}
	return minLevelHandler{Handler: l.Handler(), min: slog.LevelWarn}
}

type minLevelHandler struct {
	slog.Handler
	min slog.Level
}

func (h minLevelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.Handler.Enabled(ctx, level)
}

func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{Handler: h.Handler.WithGroup(name), min: h.min}
}
