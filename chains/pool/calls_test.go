package pool_test

import (
	"context"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/pool"
)

// A quote's questions to a network's nodes, its cost estimate and a token's
// decimals, go through the same pool as look-ups: the same order of nodes,
// failover, breakers and rate limits.

// fullNode is a scripted node that also estimates costs and reads tokens,
// failing or refusing as its behaviour does for look-ups.
type fullNode struct{ *fakeNode }

var (
	_ chains.CostEstimator = fullNode{}
	_ chains.TokenReader   = fullNode{}
)

func (f fullNode) EstimateCost(ctx context.Context, gasLimit uint64) (recovery.NetworkCost, error) {
	if _, err := f.LookupTx(ctx, hash); err != nil {
		return recovery.NetworkCost{}, err
	}
	return recovery.NetworkCost{Network: "eth", Asset: "ETH", Decimals: 18, GasLimit: gasLimit, Amount: big.NewInt(int64(gasLimit)), Note: f.name}, nil
}

func (f fullNode) TokenDecimals(ctx context.Context, contract string) (int32, error) {
	if _, err := f.LookupTx(ctx, hash); err != nil {
		return 0, err
	}
	return 6, nil
}

// newFullPool is newPool over nodes that answer every call; full says which
// of them do (all when nil), the others only look transactions up.
func newFullPool(t testing.TB, o pool.Options, full []bool, behaviours ...behaviour) (*pool.Pool, []*fakeNode, *journal) {
	t.Helper()
	log := &journal{}
	var (
		nodes     []*fakeNode
		endpoints []pool.Endpoint
	)
	for i, b := range behaviours {
		f := &fakeNode{name: string(rune('a' + i)), log: log, do: b}
		nodes = append(nodes, f)
		var l chains.Lookup = f
		if full == nil || full[i] {
			l = fullNode{f}
		}
		endpoints = append(endpoints, pool.Endpoint{Name: f.name, Lookup: l})
	}
	p, err := pool.New("eth", endpoints, o)
	if err != nil {
		t.Fatal(err)
	}
	return p, nodes, log
}

func TestCostAndTokenCallsAskNodesInOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		nodes     []behaviour
		wantCode  string // "" for an answer
		wantNode  string // the node that answered
		wantCalls []string
	}{
		{"first node answers", []behaviour{found, found}, "", "a", []string{"a"}},
		{"down node fails over", []behaviour{down, found}, "", "b", []string{"a", "b"}},
		{"adapter's own timeout fails over", []behaviour{ownTimeout, found}, "", "b", []string{"a", "b"}},
		{"every node down", []behaviour{down, down}, recovery.EUnavailable, "", []string{"a", "b"}},
		{"invalid is final", []behaviour{invalid, found}, recovery.EInvalid, "", []string{"a"}},
		{"uncoded error is final", []behaviour{broken, found}, recovery.EInternal, "", []string{"a"}},
		// "Not found" gets a second opinion only on a look-up.
		{"not found is final", []behaviour{notFound, found}, recovery.ENotFound, "", []string{"a"}},
	} {
		t.Run("cost: "+tc.name, func(t *testing.T) {
			p, _, log := newFullPool(t, pool.Options{}, nil, tc.nodes...)
			cost, err := p.EstimateCost(ctxFor(t), 65000)
			if code := recovery.ErrorCode(err); code != tc.wantCode {
				t.Fatalf("err = %v (code %q), want code %q", err, code, tc.wantCode)
			}
			if tc.wantCode == "" && (cost.Note != tc.wantNode || cost.GasLimit != 65000) {
				t.Errorf("cost %+v, want node %s's estimate for 65000 gas", cost, tc.wantNode)
			}
			if got := log.take(); !slices.Equal(got, tc.wantCalls) {
				t.Errorf("nodes asked = %v, want %v", got, tc.wantCalls)
			}
		})
		t.Run("decimals: "+tc.name, func(t *testing.T) {
			p, _, log := newFullPool(t, pool.Options{}, nil, tc.nodes...)
			d, err := p.TokenDecimals(ctxFor(t), "0xToken")
			if code := recovery.ErrorCode(err); code != tc.wantCode {
				t.Fatalf("err = %v (code %q), want code %q", err, code, tc.wantCode)
			}
			if tc.wantCode == "" && d != 6 {
				t.Errorf("decimals %d, want 6", d)
			}
			if got := log.take(); !slices.Equal(got, tc.wantCalls) {
				t.Errorf("nodes asked = %v, want %v", got, tc.wantCalls)
			}
		})
	}
}

func TestCostCallsShareTheBreaker(t *testing.T) {
	p, nodes, log := newFullPool(t, pool.Options{FailureThreshold: 1}, nil, down, found)
	if _, err := p.EstimateCost(ctxFor(t), 0); err != nil {
		t.Fatal(err)
	}
	if got := states(p); !slices.Equal(got, []string{pool.StateDown, pool.StateUp}) {
		t.Fatalf("states = %v, want a down after its failed estimate", got)
	}
	log.take()
	// The look-up leaves the resting node alone.
	nodes[0].set(found)
	if _, err := p.LookupTx(ctxFor(t), hash); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("nodes asked = %v, want b", got)
	}
}

func TestCostCallsShareTheRateLimit(t *testing.T) {
	p, nodes, _ := newFullPool(t, pool.Options{Rate: 1, Burst: 1}, nil, found)
	if _, err := p.LookupTx(ctxFor(t), hash); err != nil { // takes the only token for a second
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := p.EstimateCost(ctx, 0)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Fatalf("err = %v, want unavailable: rate limited", err)
	}
	if nodes[0].calls.Load() != 1 {
		t.Errorf("node called %d times, want only the look-up", nodes[0].calls.Load())
	}
}

func TestCallsTheAdaptersDoNotMake(t *testing.T) {
	t.Run("no node can", func(t *testing.T) {
		p, nodes, _ := newPool(t, pool.Options{}, found, found)
		if _, err := p.EstimateCost(ctxFor(t), 0); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("cost from look-up adapters: %v, want invalid", err)
		}
		if _, err := p.TokenDecimals(ctxFor(t), "0xToken"); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("decimals from look-up adapters: %v, want invalid", err)
		}
		if nodes[0].calls.Load()+nodes[1].calls.Load() != 0 {
			t.Error("a node was asked what it cannot answer")
		}
		if got := states(p); !slices.Equal(got, []string{pool.StateUnknown, pool.StateUnknown}) {
			t.Errorf("states = %v, want both unknown", got)
		}
	})
	t.Run("one node can", func(t *testing.T) {
		p, _, log := newFullPool(t, pool.Options{}, []bool{false, true}, found, found)
		cost, err := p.EstimateCost(ctxFor(t), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := log.take(); !slices.Equal(got, []string{"b"}) || cost.Note != "b" {
			t.Errorf("nodes asked = %v, estimate from %q; want b", got, cost.Note)
		}
	})
}
