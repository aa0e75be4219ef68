package pool_test

import (
	"bytes"
	"context"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/pool"
)

// The send side, a broadcast and the account and output reads that build a
// recovery transaction, goes through the same pool as look-ups: the same
// order of nodes, failover, breakers and rate limits, and a refusal is final.

// sendNode is a scripted node that also sends and reads accounts and
// outputs, failing or refusing as its behaviour does for look-ups. It keeps
// what it was sent.
type sendNode struct {
	*fakeNode
	mu   *sync.Mutex
	sent *[][]byte
}

var (
	_ chains.Broadcaster   = sendNode{}
	_ chains.AccountReader = sendNode{}
	_ chains.OutputReader  = sendNode{}
)

func (s sendNode) Broadcast(ctx context.Context, raw []byte) (string, error) {
	if _, err := s.LookupTx(ctx, hash); err != nil {
		return "", err
	}
	s.mu.Lock()
	*s.sent = append(*s.sent, raw)
	s.mu.Unlock()
	return "0x" + s.name, nil
}

func (s sendNode) PendingNonce(ctx context.Context, address string) (uint64, error) {
	if _, err := s.LookupTx(ctx, hash); err != nil {
		return 0, err
	}
	return uint64(s.name[0]), nil
}

func (s sendNode) Balance(ctx context.Context, address string) (*big.Int, error) {
	if _, err := s.LookupTx(ctx, hash); err != nil {
		return nil, err
	}
	return big.NewInt(int64(s.name[0])), nil
}

func (s sendNode) GasPrice(ctx context.Context) (*big.Int, error) {
	if _, err := s.LookupTx(ctx, hash); err != nil {
		return nil, err
	}
	return big.NewInt(int64(s.name[0])), nil
}

func (s sendNode) Output(ctx context.Context, txid string, index uint32) (chains.Output, error) {
	if _, err := s.LookupTx(ctx, hash); err != nil {
		return chains.Output{}, err
	}
	return chains.Output{Script: []byte(s.name), Amount: int64(index), Unspent: true}, nil
}

// newSendPool is newPool over nodes that send; can says which of them do
// (all when nil), the others only look transactions up. sent collects what
// the nodes were sent.
func newSendPool(t testing.TB, o pool.Options, can []bool, behaviours ...behaviour) (p *pool.Pool, nodes []*fakeNode, log *journal, sent func() [][]byte) {
	t.Helper()
	log = &journal{}
	var (
		mu        sync.Mutex
		got       [][]byte
		endpoints []pool.Endpoint
	)
	for i, b := range behaviours {
		f := &fakeNode{name: string(rune('a' + i)), log: log, do: b}
		nodes = append(nodes, f)
		var l chains.Lookup = f
		if can == nil || can[i] {
			l = sendNode{f, &mu, &got}
		}
		endpoints = append(endpoints, pool.Endpoint{Name: f.name, Lookup: l})
	}
	p, err := pool.New("eth", endpoints, o)
	if err != nil {
		t.Fatal(err)
	}
	return p, nodes, log, func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// sendCalls are the pool's send-side calls, each returning the name of the
// node whose answer it got.
var sendCalls = map[string]func(context.Context, *pool.Pool) (string, error){
	"broadcast": func(ctx context.Context, p *pool.Pool) (string, error) {
		h, err := p.Broadcast(ctx, []byte{0xf8, 0x6b})
		if err != nil {
			return "", err
		}
		return h[2:], nil
	},
	"nonce": func(ctx context.Context, p *pool.Pool) (string, error) {
		n, err := p.PendingNonce(ctx, "0xAddr")
		if err != nil {
			return "", err
		}
		return string(rune(n)), nil
	},
	"balance": func(ctx context.Context, p *pool.Pool) (string, error) {
		b, err := p.Balance(ctx, "0xAddr")
		if err != nil {
			return "", err
		}
		return string(rune(b.Int64())), nil
	},
	"gas price": func(ctx context.Context, p *pool.Pool) (string, error) {
		g, err := p.GasPrice(ctx)
		if err != nil {
			return "", err
		}
		return string(rune(g.Int64())), nil
	},
	"output": func(ctx context.Context, p *pool.Pool) (string, error) {
		o, err := p.Output(ctx, "ab", 3)
		if err != nil {
			return "", err
		}
		return string(o.Script), nil
	},
}

func TestSendCallsAskNodesInOrder(t *testing.T) {
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
		// A refused transaction is not offered to another node.
		{"invalid is final", []behaviour{invalid, found}, recovery.EInvalid, "", []string{"a"}},
		{"uncoded error is final", []behaviour{broken, found}, recovery.EInternal, "", []string{"a"}},
		{"not found is final", []behaviour{notFound, found}, recovery.ENotFound, "", []string{"a"}},
	} {
		for call, do := range sendCalls {
			t.Run(call+": "+tc.name, func(t *testing.T) {
				p, _, log, _ := newSendPool(t, pool.Options{}, nil, tc.nodes...)
				node, err := do(ctxFor(t), p)
				if code := recovery.ErrorCode(err); code != tc.wantCode {
					t.Fatalf("err = %v (code %q), want code %q", err, code, tc.wantCode)
				}
				if node != tc.wantNode {
					t.Errorf("answer from node %q, want %q", node, tc.wantNode)
				}
				if got := log.take(); !slices.Equal(got, tc.wantCalls) {
					t.Errorf("nodes asked = %v, want %v", got, tc.wantCalls)
				}
			})
		}
	}
}

// A node that hangs past the node timeout may or may not have taken the
// transaction; the next node is sent the same bytes, and answers.
func TestBroadcastFailsOverOnNodeTimeout(t *testing.T) {
	p, _, log, sent := newSendPool(t, pool.Options{NodeTimeout: 20 * time.Millisecond}, nil, hang, found)
	raw := []byte{0x02, 0xf8, 0x72, 0x01}
	h, err := p.Broadcast(ctxFor(t), raw)
	if err != nil || h != "0xb" {
		t.Fatalf("Broadcast = %q, %v; want b's answer", h, err)
	}
	if got := log.take(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("nodes asked = %v, want a then b", got)
	}
	if got := sent(); len(got) != 1 || !bytes.Equal(got[0], raw) {
		t.Errorf("sent %x, want %x once", got, raw)
	}
}

func TestSendCallsTheAdaptersDoNotMake(t *testing.T) {
	t.Run("no node can", func(t *testing.T) {
		p, nodes, _, _ := newSendPool(t, pool.Options{}, []bool{false, false}, found, found)
		for call, do := range sendCalls {
			if _, err := do(ctxFor(t), p); recovery.ErrorCode(err) != recovery.EInvalid {
				t.Errorf("%s from look-up adapters: %v, want invalid", call, err)
			}
		}
		if nodes[0].calls.Load()+nodes[1].calls.Load() != 0 {
			t.Error("a node was asked what it cannot answer")
		}
		if got := states(p); !slices.Equal(got, []string{pool.StateUnknown, pool.StateUnknown}) {
			t.Errorf("states = %v, want both unknown", got)
		}
	})
	t.Run("one node can", func(t *testing.T) {
		p, _, log, _ := newSendPool(t, pool.Options{}, []bool{false, true}, found, found)
		for call, do := range sendCalls {
			node, err := do(ctxFor(t), p)
			if err != nil {
				t.Fatalf("%s: %v", call, err)
			}
			if got := log.take(); !slices.Equal(got, []string{"b"}) || node != "b" {
				t.Errorf("%s: nodes asked = %v, answer from %q; want b", call, got, node)
			}
		}
	})
}

func TestSendCallsShareTheBreaker(t *testing.T) {
	p, nodes, log, _ := newSendPool(t, pool.Options{FailureThreshold: 1}, nil, down, found)
	if _, err := p.Broadcast(ctxFor(t), []byte{1}); err != nil {
		t.Fatal(err)
	}
	if got := states(p); !slices.Equal(got, []string{pool.StateDown, pool.StateUp}) {
		t.Fatalf("states = %v, want a down after its failed broadcast", got)
	}
	log.take()
	// Reads for the next transaction leave the resting node alone.
	nodes[0].set(found)
	if _, err := p.PendingNonce(ctxFor(t), "0xAddr"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.LookupTx(ctxFor(t), hash); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !slices.Equal(got, []string{"b", "b"}) {
		t.Errorf("nodes asked = %v, want b twice", got)
	}
}

func TestSendCallsShareTheRateLimit(t *testing.T) {
	p, nodes, _, sent := newSendPool(t, pool.Options{Rate: 1, Burst: 1}, nil, found)
	if _, err := p.LookupTx(ctxFor(t), hash); err != nil { // takes the only token for a second
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := p.Broadcast(ctx, []byte{1}); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Fatalf("err = %v, want unavailable: rate limited", err)
	}
	if nodes[0].calls.Load() != 1 || len(sent()) != 0 {
		t.Errorf("node called %d times, sent %d transactions; want only the look-up", nodes[0].calls.Load(), len(sent()))
	}
}
