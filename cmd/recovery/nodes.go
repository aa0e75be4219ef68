package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/activities"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/atom"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/chains/xlm"
	"github.com/misdeposit/recovery/chains/xrp"
)

// Node pool settings. A node gets nodeTimeout to answer, well inside the
// scanner's 5 s per network, so that a hanging node counts as failed and the
// next one is asked in time.
const (
	nodeTimeout   = 2 * time.Second
	nodeRate      = 20 // requests per second per node
	nodeBurst     = 40
	probeInterval = 30 * time.Second
)

// buildLookups puts a pool over every RPC endpoint of every network that
// has one, for the look-ups and the quotes' questions alike, and keeps the
// pools' health fresh with a probe of every node right after start and
// every probeInterval until ctx ends. A node that is down at start is not
// an error: its pool fails over, and the node joins when it answers.
func buildLookups(ctx context.Context, reg *chains.Registry, log *slog.Logger) (map[string]chains.Lookup, *nodes, error) {
	lookups := map[string]chains.Lookup{}
	quoting := &nodes{pools: map[string]*pool.Pool{}}
	var pools []*networkPool
	for _, n := range reg.Networks() {
		if len(n.RPC) == 0 {
			continue
		}
		if !hasAdapter(n) {
			log.Warn("no adapter for this network yet; its cases use manual evidence", "network", n.ID, "family", n.Family, "params", n.Params)
			continue
		}
		var endpoints []pool.Endpoint
		for i, u := range n.RPC {
			e := &endpoint{network: n, url: u}
			endpoints = append(endpoints, pool.Endpoint{Name: fmt.Sprintf("%s#%d", n.ID, i+1), Lookup: e})
		}
		p, err := pool.New(n.ID, endpoints, poolOptions(n))
		if err != nil {
			return nil, nil, err
		}
		lookups[n.ID] = p
		quoting.pools[n.ID] = p
		pools = append(pools, &networkPool{Pool: p, network: n})
	}
	if len(pools) > 0 {
		// In the background: a node that hangs must not hold up the start.
		go func() {
			probeNodes(ctx, pools, log)
			t := time.NewTicker(probeInterval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					probeNodes(ctx, pools, log)
				}
			}
		}()
	}
	return lookups, quoting, nil
}

// poolOptions are the pool settings of a network: the default rate limit
// per node unless the network sets its own (0: none, for the operator's own
// nodes and the local dev chains).
func poolOptions(n chains.Network) pool.Options {
	o := pool.Options{Rate: nodeRate, Burst: nodeBurst, NodeTimeout: nodeTimeout}
	switch r := n.RateLimit; {
	case r == nil:
	case *r == 0:
		o.Rate, o.Burst = 0, 0
	default:
		o.Rate, o.Burst = rate.Limit(*r), max(int(2**r), 1)
	}
	return o
}

type networkPool struct {
	*pool.Pool
	network chains.Network
	last    []string // node states after the previous probe
}

// probeNodes probes every pool at once and logs the nodes whose state
// changed.
func probeNodes(ctx context.Context, pools []*networkPool, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, nodeTimeout+time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range pools {
		wg.Go(func() { p.Probe(ctx, chains.HashFor(p.network.Family, strings.Repeat("0", 64))) })
	}
	wg.Wait()
	for _, p := range pools {
		health := p.Health()
		for i, h := range health {
			if p.last != nil && p.last[i] == h.State {
				continue
			}
			switch h.State {
			case pool.StateUp:
				log.Info("node answers", "network", p.network.ID, "node", h.Name)
			case pool.StateUnknown:
			default:
				log.Warn("node does not answer; look-ups use the network's other nodes", "network", p.network.ID, "node", h.Name, "state", h.State, "err", h.LastError)
			}
		}
		p.last = p.last[:0]
		for _, h := range health {
			p.last = append(p.last, h.State)
		}
	}
}

// endpoint is the adapter of one node, connected on first use and again
// after a failed connection. Every failure to connect is EUnavailable, so
// that the pool counts it against the node and asks the next one.
type endpoint struct {
	network chains.Network
	url     string

	mu      sync.Mutex
	adapter adapter
}

// adapter is what every family's adapter answers.
type adapter interface {
	chains.Lookup
	chains.CostEstimator
}

var (
	_ adapter              = (*endpoint)(nil)
	_ chains.TokenReader   = (*endpoint)(nil)
	_ chains.Broadcaster   = (*endpoint)(nil)
	_ chains.AccountReader = (*endpoint)(nil)
	_ chains.OutputReader  = (*endpoint)(nil)
)

func (e *endpoint) LookupTx(ctx context.Context, hash string) (*recovery.Tx, error) {
	a, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	return a.LookupTx(ctx, hash)
}

func (e *endpoint) EstimateCost(ctx context.Context, gasLimit uint64) (recovery.NetworkCost, error) {
	a, err := e.connect(ctx)
	if err != nil {
		return recovery.NetworkCost{}, err
	}
	return a.EstimateCost(ctx, gasLimit)
}

func (e *endpoint) TokenDecimals(ctx context.Context, contract string) (int32, error) {
	a, err := e.connect(ctx)
	if err != nil {
		return 0, err
	}
	t, ok := a.(chains.TokenReader)
	if !ok {
		return 0, recovery.Errorf(recovery.EInvalid, "%s is not an EVM network: no token contracts", e.network.ID)
	}
	return t.TokenDecimals(ctx, contract)
}

func (e *endpoint) Broadcast(ctx context.Context, raw []byte) (string, error) {
	a, err := e.connect(ctx)
	if err != nil {
		return "", err
	}
	b, ok := a.(chains.Broadcaster)
	if !ok {
		return "", recovery.Errorf(recovery.EInvalid, "the %s adapter sends no transactions", e.network.ID)
	}
	return b.Broadcast(ctx, raw)
}

// account is the endpoint's EVM account reader.
func (e *endpoint) account(ctx context.Context) (chains.AccountReader, error) {
	a, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	r, ok := a.(chains.AccountReader)
	if !ok {
		return nil, recovery.Errorf(recovery.EInvalid, "%s is not an EVM network: no accounts", e.network.ID)
	}
	return r, nil
}

func (e *endpoint) PendingNonce(ctx context.Context, address string) (uint64, error) {
	r, err := e.account(ctx)
	if err != nil {
		return 0, err
	}
	return r.PendingNonce(ctx, address)
}

func (e *endpoint) Balance(ctx context.Context, address string) (*big.Int, error) {
	a, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	r, ok := a.(chains.BalanceReader)
	if !ok {
		return nil, recovery.Errorf(recovery.EInvalid, "the %s adapter reads no balances", e.network.ID)
	}
	return r.Balance(ctx, address)
}

func (e *endpoint) GasPrice(ctx context.Context) (*big.Int, error) {
	r, err := e.account(ctx)
	if err != nil {
		return nil, err
	}
	return r.GasPrice(ctx)
}

func (e *endpoint) Output(ctx context.Context, txid string, index uint32) (chains.Output, error) {
	a, err := e.connect(ctx)
	if err != nil {
		return chains.Output{}, err
	}
	r, ok := a.(chains.OutputReader)
	if !ok {
		return chains.Output{}, recovery.Errorf(recovery.EInvalid, "%s is not a UTXO network: no outputs", e.network.ID)
	}
	return r.Output(ctx, txid, index)
}

func (e *endpoint) connect(ctx context.Context) (adapter, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.adapter != nil {
		return e.adapter, nil
	}
	a, err := dialNetwork(ctx, e.network, e.url)
	if err != nil {
		if recovery.ErrorCode(err) != recovery.EUnavailable {
			err = fmt.Errorf("%w: %w", recovery.Errorf(recovery.EUnavailable, "a %s node is misconfigured: %s", e.network.ID, safeDialError(err)), err)
		}
		return nil, err
	}
	e.adapter = a
	return a, nil
}

// safeDialError is the part of a connection error an operator may see in
// the health view: the wrong-chain message, not a URL with a key in it.
func safeDialError(err error) string {
	if errors.Is(err, evm.ErrWrongChain) {
		return "it serves another chain"
	}
	return "its address or settings are not usable"
}

func dialNetwork(ctx context.Context, n chains.Network, endpoint string) (adapter, error) {
	switch n.Family {
	case recovery.FamilyEVM:
		return evm.Dial(ctx, n, endpoint)
	case recovery.FamilyUTXO:
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, fmt.Errorf("rpc endpoint of %s: %w", n.ID, err)
		}
		pass, _ := u.User.Password()
		// The sender (first input's address) is looked up too: a claimant's
		// proof of sending is checked against it.
		return utxo.Dial(n, u.Host, u.User.Username(), pass, utxo.WithSender())
	case recovery.FamilyMemo:
		if n.Params == xrp.Params {
			return xrp.Dial(n, endpoint)
		}
		if n.Params == atom.Params {
			return atom.Dial(n, endpoint)
		}
		if n.Params == xlm.Params {
			return xlm.Dial(n, endpoint)
		}
	}
	return nil, fmt.Errorf("no adapter for %s networks yet; cases on %s use manual evidence", n.Family, n.ID)
}

// hasAdapter reports whether dialNetwork reads n: every EVM and UTXO
// network, and the memo networks whose ledger has an adapter (params
// "xrpl", "cosmos", "stellar").
func hasAdapter(n chains.Network) bool {
	switch n.Family {
	case recovery.FamilyEVM, recovery.FamilyUTXO:
		return true
	case recovery.FamilyMemo:
		return n.Params == xrp.Params || n.Params == atom.Params || n.Params == xlm.Params
	}
	return false
}

// nodes answers the quote's questions through each network's pool, under
// the same failover, rate limits and breakers as look-ups.
type nodes struct {
	pools map[string]*pool.Pool
	// costs keeps the quotes' fee estimates for about a block.
	costs chains.CostCache
}

var (
	_ activities.Nodes     = (*nodes)(nil)
	_ activities.SendNodes = (*nodes)(nil)
)

// Node implements activities.SendNodes: the network's pool.
func (q *nodes) Node(network string) (activities.SendNode, error) {
	return q.pool(network)
}

// NetworkCost implements activities.Nodes.
func (q *nodes) NetworkCost(ctx context.Context, network string, gasLimit uint64) (recovery.NetworkCost, error) {
	p, err := q.pool(network)
	if err != nil {
		return recovery.NetworkCost{}, err
	}
	return q.costs.Get(ctx, network, gasLimit, func(ctx context.Context) (recovery.NetworkCost, error) {
		return p.EstimateCost(ctx, gasLimit)
	})
}

// TokenDecimals implements activities.Nodes.
func (q *nodes) TokenDecimals(ctx context.Context, network, contract string) (int32, error) {
	p, err := q.pool(network)
	if err != nil {
		return 0, err
	}
	return p.TokenDecimals(ctx, contract)
}

func (q *nodes) pool(network string) (*pool.Pool, error) {
	p, ok := q.pools[network]
	if !ok {
		return nil, recovery.Errorf(recovery.EUnavailable, "no node is configured for %s", network)
	}
	return p, nil
}
