// Package btcdnode runs a real btcd in regtest mode as a child process, for
// tests and `recovery dev`: a local chain that stands in for btc, ltc or any
// other UTXO network, with a transaction index so that getrawtransaction
// answers for every transaction. fixtures.go adds a key-only wallet that
// makes real, signed transactions on it.
//
// Types: rpcclient comes from the github.com/btcsuite/btcd module (v0.26.2)
// but speaks the /v2 modules' types, so everything here uses chainhash/v2,
// wire/v2, address/v2, chaincfg/v2, txscript/v2 and btcec/v2. None of the v1
// packages inside the btcd module are used.
package btcdnode

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/rpcclient"

	"github.com/misdeposit/recovery/chains/utxo"
)

// Config says how to run btcd.
//
// btcd wipes its regtest database at every start; Node keeps the chain of a
// DataDir anyway by saving its blocks there and resubmitting them (see
// chainfile.go). The mempool is not kept.
type Config struct {
	// DataDir is required; the chain lives in DataDir/data and survives a
	// restart on the same directory.
	DataDir string
	// RPCAddr is where the RPC server listens; "" or a port of 0 picks a
	// free port on 127.0.0.1. It must be a loopback address (--notls).
	RPCAddr string
	// MiningAddr is the regtest address Generate pays block rewards to;
	// btcd refuses to generate without one. Wallet.MiningAddr gives one.
	MiningAddr string
	// Binary is the command that runs btcd. nil means: $RECOVERY_BTCD
	// (split on spaces), else btcd on PATH, else the btcd built by
	// `go tool` in the module whose go.mod has `tool github.com/btcsuite/btcd`
	// (found by walking up from the working directory).
	Binary []string
	// Logger receives btcd's own log lines at debug level and the node's
	// start and stop at info; nil discards them.
	Logger *slog.Logger
	// AddrIndex runs btcd with --addrindex, so that it can list an
	// address's transactions (searchrawtransactions): what an address's
	// balance is read from.
	AddrIndex bool
}

// StopTimeout is how long Stop waits for btcd to shut down after SIGINT
// before it kills it.
const StopTimeout = 30 * time.Second

// Node is a running btcd.
type Node struct {
	cfg    Config
	log    *slog.Logger
	host   string
	user   string
	pass   string
	cmd    *exec.Cmd
	out    *output
	client *rpcclient.Client

	exited  chan struct{} // closed when the child has been reaped
	waitErr error

	chain  *chainFile
	saveMu sync.Mutex

	stopOnce sync.Once
	stopErr  error
}

var errAddrInUse = errors.New("rpc address already in use")

// Start runs btcd and returns once its RPC server answers getblockcount. If
// btcd exits before that, the error carries the tail of its output. ctx
// bounds the start only (the first `go tool` build of btcd takes about a
// minute); the node runs until Stop.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("btcdnode: DataDir is required")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("btcdnode: data dir: %w", err)
	}
	cfg.DataDir = dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("btcdnode: data dir: %w", err)
	}
	if cfg.MiningAddr != "" {
		a, err := address.DecodeAddress(cfg.MiningAddr, &chaincfg.RegressionNetParams)
		if err != nil || !a.IsForNet(&chaincfg.RegressionNetParams) {
			return nil, fmt.Errorf("btcdnode: mining address %q is not a regtest address", cfg.MiningAddr)
		}
	}
	if cfg.RPCAddr == "" {
		cfg.RPCAddr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(cfg.RPCAddr)
	if err != nil {
		return nil, fmt.Errorf("btcdnode: rpc address %q: %w", cfg.RPCAddr, err)
	}
	bin, err := resolveBinary(ctx, cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("btcdnode: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	// A port picked free can be taken by someone else before btcd binds
	// it; pick again a few times rather than fail a test run.
	for attempt := 1; ; attempt++ {
		addr := cfg.RPCAddr
		if port == "0" {
			if addr, err = freeAddr(host); err != nil {
				return nil, fmt.Errorf("btcdnode: %w", err)
			}
		}
		n, err := launch(ctx, cfg, bin, addr, log)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, errAddrInUse) || port != "0" || attempt == 3 {
			return nil, err
		}
	}
}

func freeAddr(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("pick a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func launch(ctx context.Context, cfg Config, bin []string, rpcAddr string, log *slog.Logger) (*Node, error) {
	n := &Node{
		cfg:    cfg,
		log:    log,
		host:   rpcAddr,
		user:   "u" + randomHex(8),
		pass:   randomHex(16),
		out:    newOutput(log),
		exited: make(chan struct{}),
		chain:  openChainFile(cfg.DataDir),
	}
	// The credentials go in a config file rather than on the command line,
	// where every local user could read them in ps.
	confFile := filepath.Join(cfg.DataDir, "btcd.conf")
	conf := fmt.Sprintf("rpcuser=%s\nrpcpass=%s\n", n.user, n.pass)
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("btcdnode: write %s: %w", confFile, err)
	}
	args := append(append([]string(nil), bin[1:]...),
		"--regtest",
		"--txindex",
		"--notls",
		"--configfile="+confFile,
		"--datadir="+filepath.Join(cfg.DataDir, "data"),
		"--logdir="+filepath.Join(cfg.DataDir, "logs"),
		"--rpclisten="+rpcAddr,
		// No P2P at all: two nodes on one machine must not clash on the
		// regtest port, nor find and sync with each other.
		"--nolisten",
		"--nodnsseed",
		"--debuglevel=info",
	)
	if cfg.MiningAddr != "" {
		args = append(args, "--miningaddr="+cfg.MiningAddr)
	}
	if cfg.AddrIndex {
		args = append(args, "--addrindex")
	}
	n.cmd = exec.Command(bin[0], args...)
	n.cmd.Stdout = n.out
	n.cmd.Stderr = n.out
	setProcessGroup(n.cmd)
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("btcdnode: start %s: %w", bin[0], err)
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()

	var err error
	n.client, err = rpcclient.New(n.connConfig(), nil)
	if err != nil {
		n.kill()
		return nil, fmt.Errorf("btcdnode: rpc client: %w", err)
	}
	if err := n.waitReady(ctx); err != nil {
		n.client.Shutdown()
		n.kill()
		return nil, err
	}
	if err := n.restoreChain(ctx); err != nil {
		n.client.Shutdown()
		n.kill()
		return nil, err
	}
	log.Info("btcd started", "rpc", n.host, "pid", n.cmd.Process.Pid, "datadir", cfg.DataDir)
	return n, nil
}

// waitReady polls until getblockcount answers. It dials first: rpcclient
// retries a refused connection for about 20 s, far longer than btcd takes to
// open its port.
func (n *Node) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		select {
		case <-n.exited:
			if strings.Contains(n.out.Tail(tailLines), "address already in use") {
				return fmt.Errorf("btcdnode: %w: %s", errAddrInUse, n.host)
			}
			return fmt.Errorf("btcdnode: btcd exited before its RPC answered (%v); its output ends with:\n%s", n.waitErr, n.out.Tail(tailLines))
		case <-ctx.Done():
			return fmt.Errorf("btcdnode: btcd RPC did not answer on %s (%v, last error: %v); its output ends with:\n%s", n.host, ctx.Err(), lastErr, n.out.Tail(tailLines))
		case <-tick.C:
		}
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", n.host)
		if err != nil {
			lastErr = err
			continue
		}
		conn.Close()
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = n.BlockCount(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		lastErr = err
	}
}

func (n *Node) connConfig() *rpcclient.ConnConfig {
	return &rpcclient.ConnConfig{
		Host:         n.host,
		User:         n.user,
		Pass:         n.pass,
		HTTPPostMode: true,
		DisableTLS:   true,
		Params:       chaincfg.RegressionNetParams.Name,
	}
}

// Host is the RPC address, "127.0.0.1:port".
func (n *Node) Host() string { return n.host }

// User is the RPC user name, new at every start.
func (n *Node) User() string { return n.user }

// Pass is the RPC password, new at every start.
func (n *Node) Pass() string { return n.pass }

// DataDir is the absolute data directory.
func (n *Node) DataDir() string { return n.cfg.DataDir }

// PID is the process id of the command started, btcd itself unless Binary
// names a wrapper; it is also the id of the process group Stop signals.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// MiningAddr is the address Generate pays to.
func (n *Node) MiningAddr() string { return n.cfg.MiningAddr }

// Client is a long-lived rpcclient (HTTP POST mode, no TLS) for callers who
// want btcd's full RPC. It takes no context; Node's own methods do.
func (n *Node) Client() *rpcclient.Client { return n.client }

// Output returns the last lines btcd wrote to stdout and stderr.
func (n *Node) Output() string { return n.out.Tail(tailLines) }

// tailLines is how much of btcd's output an error quotes.
const tailLines = 30

// call runs one RPC on its own client so that ctx can abort it
// (utxo.Call).
func call[T any](ctx context.Context, n *Node, what string, f func(*rpcclient.Client) (T, error)) (T, error) {
	v, err := utxo.Call(ctx, *n.connConfig(), f)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("btcdnode %s: %w", what, err)
	}
	return v, nil
}

// BlockCount returns the height of the best block.
func (n *Node) BlockCount(ctx context.Context) (int64, error) {
	return call(ctx, n, "getblockcount", func(c *rpcclient.Client) (int64, error) { return c.GetBlockCount() })
}

// Generate mines blocks paying MiningAddr and returns once they are in the
// chain and saved in DataDir.
func (n *Node) Generate(ctx context.Context, blocks uint32) error {
	if n.cfg.MiningAddr == "" {
		return errors.New("btcdnode generate: the node was started without a MiningAddr")
	}
	_, err := call(ctx, n, "generate "+strconv.FormatUint(uint64(blocks), 10), func(c *rpcclient.Client) (int, error) {
		hashes, err := c.Generate(blocks)
		return len(hashes), err
	})
	if err != nil {
		return err
	}
	return n.saveChain(ctx)
}

// Stop shuts btcd down: SIGINT to its process group, so that a wrapper such
// as `go tool btcd` and the btcd under it both get it, then SIGKILL after
// StopTimeout. It returns once no process of the group is left, and is safe
// to call more than once.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		n.client.Shutdown()
		// Blocks submitted by other means than Generate are saved here,
		// unless btcd is already gone and there is no one left to ask.
		var saveErr error
		select {
		case <-n.exited:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
			saveErr = n.saveChain(ctx)
			cancel()
		}
		n.stopErr = errors.Join(saveErr, n.terminate(StopTimeout))
		n.log.Info("btcd stopped", "rpc", n.host, "datadir", n.cfg.DataDir, "err", n.stopErr)
	})
	return n.stopErr
}

func (n *Node) terminate(grace time.Duration) error {
	pid := n.cmd.Process.Pid
	deadline := time.Now().Add(grace)
	_ = signalGroup(n.cmd, os.Interrupt)
	select {
	case <-n.exited:
	case <-time.After(grace):
		_ = signalGroup(n.cmd, os.Kill)
		<-n.exited
		return fmt.Errorf("btcdnode: btcd (pid %d) did not stop within %s and was killed", pid, grace)
	}
	// The direct child is gone; a wrapper's children may not be yet.
	for groupAlive(n.cmd) {
		if time.Now().After(deadline) {
			_ = signalGroup(n.cmd, os.Kill)
			return fmt.Errorf("btcdnode: processes of group %d outlived btcd and were killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// kill ends a node that never became ready.
func (n *Node) kill() {
	_ = signalGroup(n.cmd, os.Kill)
	<-n.exited
}
