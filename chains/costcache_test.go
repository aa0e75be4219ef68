package chains_test

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

// A burst of quotes on one network asks its node once; a later quote, once
// the estimate is a block old, asks again; a failure is not kept.
func TestCostCacheAsksOncePerBlock(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c := &chains.CostCache{MaxAge: 3 * time.Second, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	var calls atomic.Int64
	fail := false
	fetch := func(context.Context) (recovery.NetworkCost, error) {
		calls.Add(1)
		time.Sleep(10 * time.Millisecond)
		if fail {
			return recovery.NetworkCost{}, errors.New("node down")
		}
		return recovery.NetworkCost{Network: "eth", Amount: big.NewInt(21000 * calls.Load())}, nil
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			got, err := c.Get(context.Background(), "eth", 21000, fetch)
			if err != nil || got.Amount.Int64() != 21000 {
				t.Errorf("burst: %v, %v", got.Amount, err)
			}
			got.Amount.SetInt64(1) // a caller's change stays its own
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("a burst of 50 quotes made %d node requests, want 1", n)
	}
	if got, _ := c.Get(context.Background(), "eth", 21000, fetch); got.Amount.Int64() != 21000 {
		t.Errorf("kept estimate changed by a caller: %v", got.Amount)
	}
	// Another gas limit is another estimate.
	if _, err := c.Get(context.Background(), "eth", 65000, fetch); err != nil || calls.Load() != 2 {
		t.Errorf("another gas limit: %v, %d requests", err, calls.Load())
	}
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	fail = true
	if _, err := c.Get(context.Background(), "eth", 21000, fetch); err == nil {
		t.Fatal("a stale estimate was served when the node failed")
	}
	fail = false
	if got, err := c.Get(context.Background(), "eth", 21000, fetch); err != nil || got.Amount.Int64() != 21000*4 {
		t.Errorf("after a failure: %v, %v; want a new estimate", got.Amount, err)
	}
}
