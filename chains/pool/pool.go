// Package pool owns failover between the nodes of one network: it turns
// several chain adapters, one per node endpoint, into a single
// chains.Lookup, chains.CostEstimator, chains.TokenReader,
// chains.Broadcaster, chains.AccountReader and chains.OutputReader with a
// per-node rate limit, a circuit breaker per node and a health view for
// operators. A broadcast fails over like any other call: a node that does
// not answer may have taken the transaction or not, and sending it again
// to the next one is harmless, since a node that already has it answers
// with its hash.
// Every call to a node, whatever it asks, goes through the same choice of
// node, rate limit and breaker, and is counted in
// recovery_node_calls_total{network,outcome}.
//
// # Which node is asked
//
// A request asks nodes in order of preference: first the healthy nodes
// (breaker closed), in configured order; then nodes whose breaker has been
// open for OpenFor and is due a half-open probe. A due probe comes after the
// healthy nodes on purpose: placed first it would cost a live request a
// failed attempt every OpenFor, up to the caller's whole deadline on a node
// that hangs. A recovered node therefore returns to service when it is
// probed, which happens as soon as a request finds no healthy node able to
// answer. Nodes whose breaker is open and not yet due are skipped, except
// when a request has asked no node at all: rather than failing without
// asking anyone it then asks the node that has rested longest.
//
// # What counts as a node failure
//
// Only an error with code recovery.EUnavailable, or a context deadline or
// cancellation that did not come from the caller's own context (the
// adapter's timeout, Options.NodeTimeout), is a node failure: it counts
// against the node's breaker and the request moves on to the next node.
// When the caller's context ends a call, that says nothing about the node:
// the request stops and the node's breaker is left alone. Any other error
// is an answer and is returned at once: recovery.EInvalid (another node
// would refuse the same input) and errors without a code (a fault of ours
// that another node would not cure).
//
// # A look-up's "not found" gets a second opinion
//
// recovery.ENotFound is an answer too, but a node that lags the chain tip or
// lost a transaction from its mempool says "not found" about a transaction
// another node has. The workflow re-checks unknown hashes later anyway; to
// spare the user that wait when it is cheap, a "not found" is checked with
// one more node when a healthy one is left that has a request to spare under
// its rate limit right now. Its transaction wins; its "not found", refusal
// or failure leaves the first answer standing. No third node is asked: the
// all-network scan asks every network about every hash, and most of them
// rightly answer "not found", so each extra opinion multiplies that load.
//
// # Breaker
//
// FailureThreshold consecutive failures open a node's breaker for OpenFor.
// After that the node is "probing": one request at a time may ask it; an
// answer closes the breaker, a failure opens it for another OpenFor. Any
// answer from a node closes its breaker and resets its failure count.
//
// # Rate limit
//
// Each node has its own token bucket (Options.Rate, Options.Burst). A
// request waits for its turn; when the wait would outlast the caller's
// deadline it moves on to the next node instead, and when the caller's
// context ends while waiting it returns EUnavailable (rate limited). Neither
// counts against the node.
//
// Errors and NodeHealth carry only node names and user-safe messages, never
// endpoint URLs, which often embed a provider's API key.
package pool

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/internal/obs"
)

// Endpoint is one node of a network.
type Endpoint struct {
	// Name is a label safe to show, e.g. "eth#1"; never the URL, which may
	// carry credentials. Empty means network#N, N counting from 1.
	Name string
	// Lookup is the adapter for that one node. When it also implements
	// chains.CostEstimator, chains.TokenReader, chains.Broadcaster,
	// chains.AccountReader or chains.OutputReader, the pool answers those
	// calls from it too.
	Lookup chains.Lookup
}

// Options tune a pool. The zero value is usable.
type Options struct {
	Rate  rate.Limit // requests per second per node; 0 means unlimited
	Burst int        // requests a node may take at once; at least 1 when Rate is set
	// FailureThreshold is how many consecutive failures open a node's
	// breaker; 0 means 3.
	FailureThreshold int
	// OpenFor is how long an open breaker skips its node before a
	// half-open probe; 0 means 30s.
	OpenFor time.Duration
	// NodeTimeout bounds one node's answer; 0 leaves only the caller's
	// deadline and the adapter's own. Set it below the callers' deadlines
	// (the scanner allows a network 5s): a node that hangs until the
	// caller gives up is not counted as failed, since a slow node and a dead
	// one look alike then, so its breaker would never open.
	NodeTimeout time.Duration
	Now         func() time.Time // clock for tests; nil means time.Now
}

// Node states reported by Health.
const (
	StateUnknown = "unknown" // never asked
	StateUp      = "up"      // breaker closed
	StateDown    = "down"    // breaker open: skipped while others can answer
	StateProbing = "probing" // breaker half-open: the next request may probe it
)

// NodeHealth is what the pool knows of one node, for an operator.
type NodeHealth struct {
	Name                string    `json:"name"`
	State               string    `json:"state"` // one of the State constants
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastError           string    `json:"last_error,omitempty"` // user-safe message only
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastFailure         time.Time `json:"last_failure,omitzero"`
	Requests            uint64    `json:"requests"` // calls made, rate-limit waits not included
	Failures            uint64    `json:"failures"` // calls that counted against the node
}

// Pool is a chains.Lookup, chains.CostEstimator, chains.TokenReader,
// chains.Broadcaster, chains.AccountReader and chains.OutputReader over
// several nodes of one network. It is safe for concurrent use; the adapters
// it holds must be too.
type Pool struct {
	network     string
	nodes       []*node
	threshold   int
	openFor     time.Duration
	nodeTimeout time.Duration
	now         func() time.Time

	// mu guards the breaker and health fields of every node. It is never
	// held during a node call or a rate-limit wait.
	mu sync.Mutex
}

var (
	_ chains.Lookup        = (*Pool)(nil)
	_ chains.CostEstimator = (*Pool)(nil)
	_ chains.TokenReader   = (*Pool)(nil)
	_ chains.Broadcaster   = (*Pool)(nil)
	_ chains.AccountReader = (*Pool)(nil)
	_ chains.OutputReader  = (*Pool)(nil)
)

type node struct {
	name    string
	lookup  chains.Lookup
	cost    chains.CostEstimator // nil: the adapter gives no cost estimate
	tokens  chains.TokenReader   // nil: the adapter reads no tokens
	send    chains.Broadcaster   // nil: the adapter sends no transactions
	account chains.AccountReader // nil: the adapter reads no accounts
	balance chains.BalanceReader // nil: the adapter reads no balances
	outputs chains.OutputReader  // nil: the adapter reads no outputs
	limiter *rate.Limiter        // nil: unlimited

	// Guarded by Pool.mu.
	open        bool
	openedAt    time.Time
	probing     bool // a half-open probe is in flight; other requests leave the node alone
	consecutive int
	lastErr     string
	lastSuccess time.Time
	lastFailure time.Time
	requests    uint64
	failures    uint64
}

// New returns a pool over endpoints, preferred in the order given.
func New(network string, endpoints []Endpoint, o Options) (*Pool, error) {
	switch {
	case network == "":
		return nil, errors.New("pool: a network id is required")
	case len(endpoints) == 0:
		return nil, fmt.Errorf("pool %s: no endpoints", network)
	case o.Rate < 0 || o.Burst < 0 || o.FailureThreshold < 0 || o.OpenFor < 0 || o.NodeTimeout < 0:
		return nil, fmt.Errorf("pool %s: rate, burst, failure threshold and durations must not be negative", network)
	}
	p := &Pool{network: network, threshold: 3, openFor: 30 * time.Second, nodeTimeout: o.NodeTimeout, now: time.Now}
	if o.FailureThreshold > 0 {
		p.threshold = o.FailureThreshold
	}
	if o.OpenFor > 0 {
		p.openFor = o.OpenFor
	}
	if o.Now != nil {
		p.now = o.Now
	}
	names := map[string]bool{}
	for i, e := range endpoints {
		name := e.Name
		if name == "" {
			name = fmt.Sprintf("%s#%d", network, i+1)
		}
		switch {
		case e.Lookup == nil:
			return nil, fmt.Errorf("pool %s: endpoint %s has no lookup", network, name)
		case names[name]:
			return nil, fmt.Errorf("pool %s: endpoint name %s is used twice", network, name)
		}
		names[name] = true
		n := &node{name: name, lookup: e.Lookup}
		n.cost, _ = e.Lookup.(chains.CostEstimator)
		n.tokens, _ = e.Lookup.(chains.TokenReader)
		n.send, _ = e.Lookup.(chains.Broadcaster)
		n.account, _ = e.Lookup.(chains.AccountReader)
		n.balance, _ = e.Lookup.(chains.BalanceReader)
		n.outputs, _ = e.Lookup.(chains.OutputReader)
		if o.Rate > 0 && o.Rate != rate.Inf {
			// A bucket of 0 would refuse every request.
			n.limiter = rate.NewLimiter(o.Rate, max(o.Burst, 1))
		}
		p.nodes = append(p.nodes, n)
	}
	return p, nil
}

// LookupTx implements chains.Lookup; see the package doc for the order in
// which nodes are asked, which errors move on to the next node, and the
// second opinion on "not found".
func (p *Pool) LookupTx(ctx context.Context, hash string) (*recovery.Tx, error) {
	seen := make([]bool, len(p.nodes))
	tx, err := first(ctx, p, seen, lookupTx(hash))
	if recovery.ErrorCode(err) == recovery.ENotFound {
		// Only a node's answer says "not found"; first's own failures are
		// EUnavailable.
		return p.secondOpinion(ctx, hash, seen, err)
	}
	return tx, err
}

// EstimateCost implements chains.CostEstimator, asking the nodes as LookupTx
// does. A pool whose adapters give no estimate refuses with
// recovery.EInvalid, without asking any node.
func (p *Pool) EstimateCost(ctx context.Context, gasLimit uint64) (recovery.NetworkCost, error) {
	seen, ok := p.able(func(n *node) bool { return n.cost != nil })
	if !ok {
		return recovery.NetworkCost{}, recovery.Errorf(recovery.EInvalid, "the %s nodes give no network cost estimate", p.network)
	}
	return first(ctx, p, seen, func(ctx context.Context, n *node) (recovery.NetworkCost, error) {
		return n.cost.EstimateCost(ctx, gasLimit)
	})
}

// TokenDecimals implements chains.TokenReader, asking the nodes as LookupTx
// does. A pool whose adapters read no tokens refuses with recovery.EInvalid,
// without asking any node.
func (p *Pool) TokenDecimals(ctx context.Context, contract string) (int32, error) {
	seen, ok := p.able(func(n *node) bool { return n.tokens != nil })
	if !ok {
		return 0, recovery.Errorf(recovery.EInvalid, "%s has no token contracts the engine can read", p.network)
	}
	return first(ctx, p, seen, func(ctx context.Context, n *node) (int32, error) {
		return n.tokens.TokenDecimals(ctx, contract)
	})
}

// Broadcast implements chains.Broadcaster, asking the nodes as LookupTx
// does: a node that does not answer passes the transaction on to the next,
// and a refusal (recovery.EInvalid) is final. A pool whose adapters send no
// transactions refuses with recovery.EInvalid, without asking any node.
func (p *Pool) Broadcast(ctx context.Context, raw []byte) (string, error) {
	seen, ok := p.able(func(n *node) bool { return n.send != nil })
	if !ok {
		return "", recovery.Errorf(recovery.EInvalid, "the %s nodes cannot send transactions", p.network)
	}
	return first(ctx, p, seen, func(ctx context.Context, n *node) (string, error) {
		return n.send.Broadcast(ctx, raw)
	})
}

// PendingNonce implements chains.AccountReader, asking the nodes as LookupTx
// does. A pool whose adapters read no accounts refuses with
// recovery.EInvalid, without asking any node; so do Balance and GasPrice.
func (p *Pool) PendingNonce(ctx context.Context, address string) (uint64, error) {
	seen, err := p.ableAccount()
	if err != nil {
		return 0, err
	}
	return first(ctx, p, seen, func(ctx context.Context, n *node) (uint64, error) {
		return n.account.PendingNonce(ctx, address)
	})
}

// Balance implements chains.BalanceReader, of an EVM account or a UTXO
// address alike; see PendingNonce.
func (p *Pool) Balance(ctx context.Context, address string) (*big.Int, error) {
	seen, ok := p.able(func(n *node) bool { return n.balance != nil })
	if !ok {
		return nil, recovery.Errorf(recovery.EInvalid, "%s has no balances the engine can read", p.network)
	}
	return first(ctx, p, seen, func(ctx context.Context, n *node) (*big.Int, error) {
		return n.balance.Balance(ctx, address)
	})
}

// GasPrice implements chains.AccountReader; see PendingNonce.
func (p *Pool) GasPrice(ctx context.Context) (*big.Int, error) {
	seen, err := p.ableAccount()
	if err != nil {
		return nil, err
	}
	return first(ctx, p, seen, func(ctx context.Context, n *node) (*big.Int, error) {
		return n.account.GasPrice(ctx)
	})
}

func (p *Pool) ableAccount() ([]bool, error) {
	seen, ok := p.able(func(n *node) bool { return n.account != nil })
	if !ok {
		return nil, recovery.Errorf(recovery.EInvalid, "%s has no accounts the engine can read", p.network)
	}
	return seen, nil
}

// Output implements chains.OutputReader, asking the nodes as LookupTx does
// but without a second opinion on "not found". A pool whose adapters read no
// outputs refuses with recovery.EInvalid, without asking any node.
func (p *Pool) Output(ctx context.Context, txid string, index uint32) (chains.Output, error) {
	seen, ok := p.able(func(n *node) bool { return n.outputs != nil })
	if !ok {
		return chains.Output{}, recovery.Errorf(recovery.EInvalid, "%s has no transaction outputs the engine can read", p.network)
	}
	return first(ctx, p, seen, func(ctx context.Context, n *node) (chains.Output, error) {
		return n.outputs.Output(ctx, txid, index)
	})
}

// able marks as seen, so that no request asks them, the nodes that cannot
// make a call; ok is false when none can.
func (p *Pool) able(can func(*node) bool) (seen []bool, ok bool) {
	seen = make([]bool, len(p.nodes))
	for i, n := range p.nodes {
		seen[i] = !can(n)
		ok = ok || !seen[i]
	}
	return seen, ok
}

func lookupTx(hash string) func(context.Context, *node) (*recovery.Tx, error) {
	return func(ctx context.Context, n *node) (*recovery.Tx, error) { return n.lookup.LookupTx(ctx, hash) }
}

// first makes call on the nodes not yet seen, in order of preference (see
// the package doc), until one answers, and returns its answer: a value, or
// an error that is the node's final word. When no node answers it returns
// an EUnavailable error. seen records the nodes asked or passed over.
func first[T any](ctx context.Context, p *Pool, seen []bool, call func(context.Context, *node) (T, error)) (T, error) {
	var (
		zero    T
		asked   int
		limited bool  // a node was passed over for its rate limit
		last    error // the latest node's failure, kept for the logs
	)
	for ctx.Err() == nil {
		i, probe := p.pick(seen, asked > 0)
		if i < 0 {
			break
		}
		seen[i] = true
		n := p.nodes[i]
		if n.limiter != nil {
			if err := n.limiter.Wait(ctx); err != nil {
				p.release(n, probe)
				limited, last = true, fmt.Errorf("%s: rate limited: %w", n.name, err)
				if ctx.Err() != nil {
					return zero, p.rateLimited(last)
				}
				// Wait refuses at once when the caller's deadline would
				// come first; the next node may have room now.
				continue
			}
		}
		asked++
		v, err := ask(ctx, p, n, call)
		if p.record(ctx, n, probe, err) != answered {
			last = fmt.Errorf("%s: %w", n.name, err)
			continue
		}
		return v, err
	}
	switch {
	case asked == 0 && limited:
		return zero, p.rateLimited(last)
	case last == nil:
		last = ctx.Err() // the caller gave up before any node was asked
	}
	return zero, fmt.Errorf("%w: %w", recovery.Errorf(recovery.EUnavailable,
		"no %s node gave a usable answer (%d of %d tried); try again later", p.network, asked, len(p.nodes)), last)
}

// secondOpinion asks one more healthy node after notFound, if one has a
// request to spare right now; see the package doc.
func (p *Pool) secondOpinion(ctx context.Context, hash string, seen []bool, notFound error) (*recovery.Tx, error) {
	p.mu.Lock()
	i := p.firstHealthy(seen)
	p.mu.Unlock()
	if i < 0 || ctx.Err() != nil {
		return nil, notFound
	}
	n := p.nodes[i]
	if n.limiter != nil && !n.limiter.Allow() {
		return nil, notFound
	}
	tx, err := ask(ctx, p, n, lookupTx(hash))
	if p.record(ctx, n, false, err) == answered && err == nil {
		return tx, nil
	}
	return nil, notFound
}

// ask makes one call to one node, within the pool's node timeout.
func ask[T any](ctx context.Context, p *Pool, n *node, call func(context.Context, *node) (T, error)) (T, error) {
	if p.nodeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.nodeTimeout)
		defer cancel()
	}
	return call(ctx, n)
}

func (p *Pool) rateLimited(cause error) error {
	obs.NodeCalls.WithLabelValues(p.network, "rate_limited").Inc()
	return fmt.Errorf("%w: %w", recovery.Errorf(recovery.EUnavailable,
		"the %s nodes are at their request rate limit; try again later", p.network), cause)
}

// pick returns the index of the next node to ask, and whether the request
// now holds that node's half-open probe; -1 when none is left.
func (p *Pool) pick(seen []bool, askedAny bool) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := p.firstHealthy(seen); i >= 0 {
		return i, false
	}
	now := p.now()
	for i, n := range p.nodes {
		if !seen[i] && n.open && !n.probing && now.Sub(n.openedAt) >= p.openFor {
			n.probing = true
			return i, true
		}
	}
	if askedAny {
		return -1, false
	}
	// Every node left is resting. Ask the one that has rested longest,
	// preferring one that no other request is probing already.
	best := -1
	for i, n := range p.nodes {
		if !seen[i] && (best < 0 || restedLonger(n, p.nodes[best])) {
			best = i
		}
	}
	return best, false
}

// restedLonger orders resting nodes for the all-open fallback: one that no
// other request is probing first, then the one whose breaker opened first.
func restedLonger(a, b *node) bool {
	if a.probing != b.probing {
		return !a.probing
	}
	return a.openedAt.Before(b.openedAt)
}

// firstHealthy returns the first node in configured order that the request
// has not seen and whose breaker is closed, or -1. p.mu must be held.
func (p *Pool) firstHealthy(seen []bool) int {
	for i, n := range p.nodes {
		if !seen[i] && !n.open {
			return i
		}
	}
	return -1
}

func (p *Pool) release(n *node, probe bool) {
	if probe {
		p.mu.Lock()
		n.probing = false
		p.mu.Unlock()
	}
}

type outcome int

const (
	answered  outcome = iota // a transaction, or the node's final word (not found, invalid)
	failed                   // no usable answer: the next node may have one
	abandoned                // the caller's context ended the call: nothing learnt about the node
)

func classify(ctx context.Context, err error) outcome {
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	switch {
	case err == nil:
		return answered
	case timedOut && ctx.Err() != nil:
		return abandoned
	case timedOut || recovery.ErrorCode(err) == recovery.EUnavailable:
		return failed
	default:
		return answered
	}
}

// callOutcome is the metric label of a call's outcome.
func callOutcome(o outcome, err error) string {
	switch {
	case o == failed:
		return "failed"
	case o == abandoned:
		return "abandoned"
	case errors.Is(err, chains.ErrTxNotFound):
		return "not_found"
	case err != nil:
		return "refused"
	default:
		return "ok"
	}
}

// record updates n's breaker and counters with the result of one call and
// returns how the request should take it.
func (p *Pool) record(ctx context.Context, n *node, probe bool, err error) outcome {
	o := classify(ctx, err)
	obs.NodeCalls.WithLabelValues(p.network, callOutcome(o, err)).Inc()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if probe {
		n.probing = false
	}
	n.requests++
	switch o {
	case answered:
		n.open, n.consecutive, n.lastSuccess = false, 0, now
	case failed:
		n.failures++
		n.consecutive++
		n.lastFailure, n.lastErr = now, safeMessage(err)
		// Past the threshold every failure, a failed probe included, rests
		// the node for another OpenFor from now.
		if n.consecutive >= p.threshold {
			n.open, n.openedAt = true, now
		}
	}
	return o
}

// safeMessage is what Health shows of a failure: the adapter's user-safe
// message, never its cause, which may quote the endpoint URL.
func safeMessage(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return recovery.ErrorMessage(err)
}

// Probe asks every node about hash at once and records each answer in its
// node's breaker, so that Health tells which nodes answer before a user's
// request finds out. A node with no request to spare under its rate limit
// is left out: user requests come first. hash should be one no chain has,
// such as 64 zeros in the family's notation, so that a node answers at
// once.
func (p *Pool) Probe(ctx context.Context, hash string) {
	var wg sync.WaitGroup
	for _, n := range p.nodes {
		if n.limiter != nil && !n.limiter.Allow() {
			continue
		}
		wg.Go(func() {
			_, err := ask(ctx, p, n, lookupTx(hash))
			p.record(ctx, n, false, err)
		})
	}
	wg.Wait()
}

// Health returns the state of every node, in configured order.
func (p *Pool) Health() []NodeHealth {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	out := make([]NodeHealth, len(p.nodes))
	for i, n := range p.nodes {
		state := StateUp
		switch {
		case n.open && (n.probing || now.Sub(n.openedAt) >= p.openFor):
			state = StateProbing
		case n.open:
			state = StateDown
		case n.requests == 0:
			state = StateUnknown
		}
		out[i] = NodeHealth{
			Name:                n.name,
			State:               state,
			ConsecutiveFailures: n.consecutive,
			LastError:           n.lastErr,
			LastSuccess:         n.lastSuccess,
			LastFailure:         n.lastFailure,
			Requests:            n.requests,
			Failures:            n.failures,
		}
	}
	return out
}
