package pool_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/pool"
)

// These tests drive the pool's own logic with scripted nodes: which node is
// asked, when, and what the caller and the operator are told. The adapters
// behind a real pool are tested against real nodes in their own packages;
// realnode_test.go checks the two together.

const hash = "0x9f2c4a1be0d8c3f65a7e21b9d04c6f83e15a27b9c0d4e6f8a1b3c5d7e9f0a2b4"

// behaviour is what a scripted node answers.
type behaviour func(ctx context.Context) (*recovery.Tx, error)

func found(context.Context) (*recovery.Tx, error) {
	return &recovery.Tx{Network: "eth", Hash: hash, Status: recovery.TxSuccess}, nil
}

// down fails the way an adapter does, with a cause quoting an endpoint URL
// that must not reach a user.
func down(context.Context) (*recovery.Tx, error) {
	return nil, fmt.Errorf("%w: batch: %w",
		recovery.Errorf(recovery.EUnavailable, "the eth node did not give a usable answer; try again later"),
		errors.New(`Post "https://user:s3cret@rpc.example/v3/key": connection refused`))
}

func notFound(context.Context) (*recovery.Tx, error) {
	return nil, fmt.Errorf("%s on eth: %w", hash, chains.ErrTxNotFound)
}

func invalid(context.Context) (*recovery.Tx, error) {
	return nil, recovery.FieldError("tx_hash", "a transaction hash is 0x followed by 64 hex digits")
}

// hang answers only when the call's context ends, as a node that accepts
// the connection and never replies.
func hang(ctx context.Context) (*recovery.Tx, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("%w: batch: %w", recovery.Errorf(recovery.EUnavailable, "the eth node did not give a usable answer; try again later"), ctx.Err())
}

// ownTimeout is an adapter whose own timeout fired, returned bare.
func ownTimeout(context.Context) (*recovery.Tx, error) { return nil, context.DeadlineExceeded }

// broken is an error without a code: a fault of ours, not the node's.
func broken(context.Context) (*recovery.Tx, error) {
	return nil, errors.New("decode: unexpected field")
}

// journal records which nodes were called, in order, across all nodes.
type journal struct {
	mu    sync.Mutex
	calls []string
}

func (j *journal) add(name string) {
	j.mu.Lock()
	j.calls = append(j.calls, name)
	j.mu.Unlock()
}

// take returns the calls since the last take.
func (j *journal) take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.calls
	j.calls = nil
	return c
}

type fakeNode struct {
	name  string
	log   *journal
	calls atomic.Int64
	mu    sync.Mutex
	do    behaviour
}

func (f *fakeNode) LookupTx(ctx context.Context, h string) (*recovery.Tx, error) {
	f.calls.Add(1)
	f.log.add(f.name)
	f.mu.Lock()
	do := f.do
	f.mu.Unlock()
	return do(ctx)
}

func (f *fakeNode) set(b behaviour) {
	f.mu.Lock()
	f.do = b
	f.mu.Unlock()
}

// newPool returns a pool over scripted nodes named a, b, c, ... behaving
// as given, the nodes, and the journal of their calls. The nodes only
// look transactions up.
func newPool(t testing.TB, o pool.Options, behaviours ...behaviour) (*pool.Pool, []*fakeNode, *journal) {
	t.Helper()
	return newFullPool(t, o, make([]bool, len(behaviours)), behaviours...)
}

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newClock() *clock { return &clock{t: epoch} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// at sets the clock to d after the epoch.
func (c *clock) at(d time.Duration) {
	c.mu.Lock()
	c.t = epoch.Add(d)
	c.mu.Unlock()
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func states(p *pool.Pool) []string {
	var out []string
	for _, h := range p.Health() {
		out = append(out, h.State)
	}
	return out
}

func TestLookupAsksNodesInOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		nodes     []behaviour
		wantCode  string // "" when the transaction is found
		wantCalls []string
	}{
		{"first node answers", []behaviour{found, found}, "", []string{"a"}},
		{"down node fails over", []behaviour{down, found}, "", []string{"a", "b"}},
		{"adapter's own timeout fails over", []behaviour{ownTimeout, found}, "", []string{"a", "b"}},
		{"every node down", []behaviour{down, down, down}, recovery.EUnavailable, []string{"a", "b", "c"}},
		{"invalid is final", []behaviour{invalid, found}, recovery.EInvalid, []string{"a"}},
		{"uncoded error is final", []behaviour{broken, found}, recovery.EInternal, []string{"a"}},
		// A lagging node's "not found" is checked with one more node ...
		{"not found, second node has it", []behaviour{notFound, found}, "", []string{"a", "b"}},
		{"down, not found, second opinion has it", []behaviour{down, notFound, found}, "", []string{"a", "b", "c"}},
		// ... and only one: a third would multiply the load of every scan.
		{"not found twice", []behaviour{notFound, notFound, found}, recovery.ENotFound, []string{"a", "b"}},
		// A failing second opinion leaves the answer standing, not an outage.
		{"not found, second opinion down", []behaviour{notFound, down}, recovery.ENotFound, []string{"a", "b"}},
		{"not found, second opinion invalid", []behaviour{notFound, invalid}, recovery.ENotFound, []string{"a", "b"}},
		{"not found from the only node", []behaviour{notFound}, recovery.ENotFound, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, log := newPool(t, pool.Options{}, tc.nodes...)
			tx, err := p.LookupTx(ctxFor(t), hash)
			if code := recovery.ErrorCode(err); code != tc.wantCode {
				t.Fatalf("err = %v (code %q), want code %q", err, code, tc.wantCode)
			}
			if tc.wantCode == "" && (tx == nil || tx.Hash != hash) {
				t.Fatalf("tx = %+v, want the transaction", tx)
			}
			if got := log.take(); !slices.Equal(got, tc.wantCalls) {
				t.Errorf("nodes asked = %v, want %v", got, tc.wantCalls)
			}
			if tc.wantCode == recovery.ENotFound && !errors.Is(err, chains.ErrTxNotFound) {
				t.Errorf("err = %v, want the node's chains.ErrTxNotFound", err)
			}
		})
	}
}

func TestAllDownErrorNamesNetworkNotURL(t *testing.T) {
	p, _, _ := newPool(t, pool.Options{}, down, down)
	_, err := p.LookupTx(ctxFor(t), hash)
	msg := recovery.ErrorMessage(err)
	if recovery.ErrorCode(err) != recovery.EUnavailable || !strings.Contains(msg, "eth") || !strings.Contains(msg, "2 of 2") {
		t.Fatalf("err = %v, message %q: want unavailable naming eth and 2 of 2 nodes tried", err, msg)
	}
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "rpc.example") {
		t.Errorf("message %q quotes an endpoint", msg)
	}
	if !strings.Contains(err.Error(), "b: ") {
		t.Errorf("err = %v, want the last node's failure wrapped for the logs", err)
	}
}

// TestBreaker plays one pool through a sequence of requests on a fake
// clock: threshold 2, OpenFor 30s.
func TestBreaker(t *testing.T) {
	clk := newClock()
	p, nodes, log := newPool(t, pool.Options{FailureThreshold: 2, OpenFor: 30 * time.Second, Now: clk.Now}, down, found)
	a, b := nodes[0], nodes[1]
	const unavailable = recovery.EUnavailable
	for i, s := range []struct {
		what       string
		at         time.Duration
		a, b       behaviour // nil leaves the node's behaviour as it is
		wantCalls  []string
		wantCode   string
		wantStates []string // after the request
	}{
		{"one failure leaves the breaker closed", 0, nil, nil, []string{"a", "b"}, "", []string{"up", "up"}},
		{"second failure opens it", time.Second, nil, nil, []string{"a", "b"}, "", []string{"down", "up"}},
		{"open node is skipped", 2 * time.Second, nil, nil, []string{"b"}, "", []string{"down", "up"}},
		{"due probe waits behind a healthy node", 31 * time.Second, nil, nil, []string{"b"}, "", []string{"probing", "up"}},
		{"failed probe reopens", 31 * time.Second, nil, down, []string{"b", "a"}, unavailable, []string{"down", "up"}},
		{"open node not asked after another was", 32 * time.Second, nil, nil, []string{"b"}, unavailable, []string{"down", "down"}},
		{"all open: the longest rested is asked", 40 * time.Second, nil, nil, []string{"a"}, unavailable, []string{"down", "down"}},
		{"all open: then the other one", 41 * time.Second, nil, found, []string{"b"}, "", []string{"down", "up"}},
		{"reopened for a full OpenFor", 69 * time.Second, nil, nil, []string{"b"}, "", []string{"down", "up"}},
		{"due again", 70 * time.Second, nil, nil, []string{"b"}, "", []string{"probing", "up"}},
		{"successful probe closes", 70 * time.Second, found, down, []string{"b", "a"}, "", []string{"up", "up"}},
		{"closed node is first again", 70 * time.Second, nil, nil, []string{"a"}, "", []string{"up", "up"}},
	} {
		clk.at(s.at)
		if s.a != nil {
			a.set(s.a)
		}
		if s.b != nil {
			b.set(s.b)
		}
		_, err := p.LookupTx(ctxFor(t), hash)
		if code := recovery.ErrorCode(err); code != s.wantCode {
			t.Fatalf("step %d (%s): err = %v, want code %q", i, s.what, err, s.wantCode)
		}
		if got := log.take(); !slices.Equal(got, s.wantCalls) {
			t.Fatalf("step %d (%s): nodes asked = %v, want %v", i, s.what, got, s.wantCalls)
		}
		if got := states(p); !slices.Equal(got, s.wantStates) {
			t.Fatalf("step %d (%s): states = %v, want %v", i, s.what, got, s.wantStates)
		}
	}
	h := p.Health()
	if h[0].Requests != 6 || h[0].Failures != 4 || h[1].Requests != 10 || h[1].Failures != 3 {
		t.Errorf("counters a %d/%d b %d/%d (requests/failures), want 6/4 and 10/3", h[0].Requests, h[0].Failures, h[1].Requests, h[1].Failures)
	}
	if !h[0].LastSuccess.Equal(epoch.Add(70*time.Second)) || !h[1].LastFailure.Equal(epoch.Add(70*time.Second)) {
		t.Errorf("last success of a %v, last failure of b %v, want both at epoch+70s", h[0].LastSuccess, h[1].LastFailure)
	}
}

// While one request probes a half-open node, others leave it alone.
func TestOneProbeAtATime(t *testing.T) {
	clk := newClock()
	p, nodes, log := newPool(t, pool.Options{FailureThreshold: 1, OpenFor: 30 * time.Second, Now: clk.Now}, down, down)
	ctx := ctxFor(t)
	p.LookupTx(ctx, hash) // both open at 0s
	clk.at(20 * time.Second)
	p.LookupTx(ctx, hash) // a, the first of the two, reopens at 20s
	log.take()

	clk.at(31 * time.Second) // b is due, a is not
	started, release := make(chan struct{}), make(chan struct{})
	var bCalls atomic.Int32
	nodes[1].set(func(ctx context.Context) (*recovery.Tx, error) {
		if bCalls.Add(1) == 1 { // the probe holds on until released
			close(started)
			<-release
		}
		return found(ctx)
	})
	nodes[0].set(found)
	probe := make(chan error, 1)
	go func() {
		_, err := p.LookupTx(ctx, hash)
		probe <- err
	}()
	select {
	case <-started:
	case err := <-probe:
		t.Fatalf("the first request did not wait on b: %v, asked %v", err, log.take())
	}
	if got := states(p); got[1] != pool.StateProbing {
		t.Errorf("states during the probe = %v, want b probing", got)
	}
	if _, err := p.LookupTx(ctx, hash); err != nil {
		t.Fatalf("lookup during the probe: %v", err)
	}
	close(release)
	if err := <-probe; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if got := log.take(); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("nodes asked = %v, want the probe on b and the other request on a", got)
	}
	if got := states(p); !slices.Equal(got, []string{"up", "up"}) {
		t.Errorf("states = %v, want both up", got)
	}
}

// A caller that gives up learns nothing about the node: a slow node must
// not be opened because its callers are impatient.
func TestCallerDeadlineIsNotNodeFailure(t *testing.T) {
	p, _, log := newPool(t, pool.Options{FailureThreshold: 1}, hang, found)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.LookupTx(ctx, hash)
	if recovery.ErrorCode(err) != recovery.EUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want unavailable wrapping the deadline", err)
	}
	if got := log.take(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("nodes asked = %v, want only a", got)
	}
	if h := p.Health()[0]; h.State != pool.StateUp || h.Failures != 0 || h.Requests != 1 {
		t.Errorf("health of a = %+v, want up with 1 request and no failure", h)
	}
}

func TestNodeTimeoutFailsOver(t *testing.T) {
	p, _, log := newPool(t, pool.Options{NodeTimeout: 20 * time.Millisecond}, hang, found)
	if _, err := p.LookupTx(ctxFor(t), hash); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("nodes asked = %v, want a then b", got)
	}
	if h := p.Health()[0]; h.Failures != 1 || h.LastError != "no answer in time" {
		t.Errorf("health of a = %+v, want one failure, no answer in time", h)
	}
}

func TestRateLimit(t *testing.T) {
	t.Run("spaces requests", func(t *testing.T) {
		p, _, _ := newPool(t, pool.Options{Rate: 20, Burst: 1}, found)
		start := time.Now()
		for range 4 {
			if _, err := p.LookupTx(ctxFor(t), hash); err != nil {
				t.Fatal(err)
			}
		}
		// The first is free, the next three wait 50ms each.
		if d := time.Since(start); d < 120*time.Millisecond {
			t.Errorf("4 lookups at 20/s took %v, want about 150ms", d)
		}
	})
	t.Run("caller gives up while waiting", func(t *testing.T) {
		p, nodes, _ := newPool(t, pool.Options{Rate: 1, Burst: 1}, found)
		p.LookupTx(ctxFor(t), hash) // takes the only token for a second
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		start := time.Now()
		_, err := p.LookupTx(ctx, hash)
		if recovery.ErrorCode(err) != recovery.EUnavailable || !strings.Contains(recovery.ErrorMessage(err), "rate limit") {
			t.Fatalf("err = %v, want unavailable: rate limited", err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("gave up after %v, want right after the cancel", d)
		}
		if nodes[0].calls.Load() != 1 {
			t.Errorf("node called %d times, want only the first lookup", nodes[0].calls.Load())
		}
		if h := p.Health()[0]; h.Failures != 0 || h.State != pool.StateUp {
			t.Errorf("health = %+v, want a rate limit not to count as a failure", h)
		}
	})
	t.Run("busy node passes to the next", func(t *testing.T) {
		p, _, log := newPool(t, pool.Options{Rate: 1, Burst: 1}, found, found)
		p.LookupTx(ctxFor(t), hash)
		log.take()
		// a's next token is a second away, past the deadline: b answers now.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if _, err := p.LookupTx(ctx, hash); err != nil {
			t.Fatal(err)
		}
		if got := log.take(); !slices.Equal(got, []string{"b"}) {
			t.Errorf("nodes asked = %v, want b", got)
		}
		if h := p.Health()[0]; h.Failures != 0 {
			t.Errorf("health of a = %+v, want no failure", h)
		}
	})
}

func TestHealth(t *testing.T) {
	clk := newClock()
	p, _, _ := newPool(t, pool.Options{Now: clk.Now}, down, found)
	for _, h := range p.Health() {
		if h.State != pool.StateUnknown || h.Requests != 0 {
			t.Errorf("before any request: %+v, want unknown", h)
		}
	}
	clk.at(time.Minute)
	if _, err := p.LookupTx(ctxFor(t), hash); err != nil {
		t.Fatal(err)
	}
	a, b := p.Health()[0], p.Health()[1]
	want := pool.NodeHealth{
		Name: "a", State: pool.StateUp, ConsecutiveFailures: 1,
		LastError:   "the eth node did not give a usable answer; try again later",
		LastFailure: epoch.Add(time.Minute), Requests: 1, Failures: 1,
	}
	if a != want {
		t.Errorf("health of a = %+v\nwant %+v", a, want)
	}
	if b.State != pool.StateUp || b.Requests != 1 || b.Failures != 0 || !b.LastSuccess.Equal(epoch.Add(time.Minute)) {
		t.Errorf("health of b = %+v, want up with one success at epoch+1m", b)
	}
}

// Many goroutines share one pool, as the all-network scan and the
// workflows do; run with -race. Every call a node saw must be counted once.
func TestConcurrentUse(t *testing.T) {
	flaky := func(failPercent int) behaviour {
		return func(ctx context.Context) (*recovery.Tx, error) {
			if rand.IntN(100) < failPercent {
				return down(ctx)
			}
			return found(ctx)
		}
	}
	p, nodes, _ := newPool(t, pool.Options{FailureThreshold: 2, OpenFor: time.Millisecond}, flaky(50), flaky(20), flaky(5))
	ctx := ctxFor(t)
	var (
		wg         sync.WaitGroup
		foundN     atomic.Int64
		stop       = make(chan struct{})
		unexpected atomic.Value
	)
	go func() { // an operator watching the health page meanwhile
		for {
			select {
			case <-stop:
				return
			default:
				p.Health()
			}
		}
	}()
	for range 16 {
		wg.Go(func() {
			for range 200 {
				tx, err := p.LookupTx(ctx, hash)
				switch {
				case err == nil && tx != nil:
					foundN.Add(1)
				case recovery.ErrorCode(err) != recovery.EUnavailable:
					unexpected.Store(fmt.Sprint(err))
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if v := unexpected.Load(); v != nil {
		t.Fatalf("unexpected error: %v", v)
	}
	// Breakers open after two failures and rest 1 ms, so a request may
	// find only one node rested, the flakiest among them; on a loaded
	// machine (go test runs packages side by side) that happens often
	// enough to cost about a tenth of the answers. The bound checks that
	// the pool keeps answering through it, not an exact rate.
	if foundN.Load() < 16*200*8/10 {
		t.Errorf("found %d of %d, want most with a node failing 5%%", foundN.Load(), 16*200)
	}
	for i, h := range p.Health() {
		if int64(h.Requests) != nodes[i].calls.Load() || h.Failures > h.Requests {
			t.Errorf("node %s: %d requests, %d failures counted; %d calls made", h.Name, h.Requests, h.Failures, nodes[i].calls.Load())
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	ok := pool.Endpoint{Name: "eth#1", Lookup: &fakeNode{log: &journal{}, do: found}}
	for _, tc := range []struct {
		name      string
		network   string
		endpoints []pool.Endpoint
		o         pool.Options
	}{
		{"no network", "", []pool.Endpoint{ok}, pool.Options{}},
		{"no endpoints", "eth", nil, pool.Options{}},
		{"no lookup", "eth", []pool.Endpoint{{Name: "eth#1"}}, pool.Options{}},
		{"name used twice", "eth", []pool.Endpoint{ok, ok}, pool.Options{}},
		{"default name clashes", "eth", []pool.Endpoint{{Lookup: ok.Lookup}, ok}, pool.Options{}},
		{"negative rate", "eth", []pool.Endpoint{ok}, pool.Options{Rate: -1}},
		{"negative threshold", "eth", []pool.Endpoint{ok}, pool.Options{FailureThreshold: -1}},
		{"negative open time", "eth", []pool.Endpoint{ok}, pool.Options{OpenFor: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := pool.New(tc.network, tc.endpoints, tc.o); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	// Burst 0 with a rate would refuse every request; it means 1.
	p, err := pool.New("eth", []pool.Endpoint{ok}, pool.Options{Rate: rate.Limit(1000)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.LookupTx(ctxFor(t), hash); err != nil {
		t.Errorf("rate without burst: %v", err)
	}
}

// BenchmarkPoolOverhead compares one in-memory endpoint asked directly and
// through a pool (breaker bookkeeping, no rate limit).
func BenchmarkPoolOverhead(b *testing.B) {
	direct := chains.Lookup(lookupFunc(found))
	p, err := pool.New("eth", []pool.Endpoint{{Name: "eth#1", Lookup: direct}}, pool.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		l    chains.Lookup
	}{{"direct", direct}, {"pool", p}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.l.LookupTx(ctx, hash); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bc.l.LookupTx(ctx, hash); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// lookupFunc is a chains.Lookup with no bookkeeping of its own, so the
// benchmark measures the pool alone.
type lookupFunc behaviour

func (f lookupFunc) LookupTx(ctx context.Context, _ string) (*recovery.Tx, error) { return f(ctx) }

// A probe asks every node, the healthy ones included, so that the health
// view tells an operator about a node that is down before a user's request
// meets it, and a node that came back is in service again without waiting
// for a request to probe it.
func TestProbeAsksEveryNode(t *testing.T) {
	clk := newClock()
	p, nodes, _ := newPool(t, pool.Options{Now: clk.Now, FailureThreshold: 1}, notFound, down, notFound)
	p.Probe(ctxFor(t), hash)
	if got, want := states(p), []string{pool.StateUp, pool.StateDown, pool.StateUp}; !slices.Equal(got, want) {
		t.Fatalf("after a probe: %v, want %v", got, want)
	}
	for _, n := range nodes {
		if n.calls.Load() != 1 {
			t.Errorf("node %s asked %d times, want once", n.name, n.calls.Load())
		}
	}
	nodes[1].set(found)
	p.Probe(ctxFor(t), hash)
	if got, want := states(p), []string{pool.StateUp, pool.StateUp, pool.StateUp}; !slices.Equal(got, want) {
		t.Fatalf("after the node came back: %v, want %v", got, want)
	}
}

// A probe never takes a request a user could have used.
func TestProbeRespectsTheRateLimit(t *testing.T) {
	p, nodes, _ := newPool(t, pool.Options{Rate: 0.001, Burst: 1}, notFound)
	if _, err := p.LookupTx(ctxFor(t), hash); recovery.ErrorCode(err) != recovery.ENotFound {
		t.Fatalf("lookup: %v, want not found", err)
	}
	p.Probe(ctxFor(t), hash)
	if n := nodes[0].calls.Load(); n != 1 {
		t.Errorf("node asked %d times, want once: the probe had no token to spend", n)
	}
}
