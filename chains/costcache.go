package chains

import (
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/misdeposit/recovery"
)

// CostCache keeps each network's cost estimates for a short while: fee
// data moves once a block, so a burst of quotes on one network asks its
// node once instead of once a quote. One request per estimate is in flight
// at a time; the others wait for its answer. A failed estimate is not kept.
type CostCache struct {
	// MaxAge is how long an estimate is reused; 0 means 3 s, about a
	// block on the fastest network the engine knows.
	MaxAge time.Duration
	Now    func() time.Time // nil: time.Now

	mu      sync.Mutex
	entries map[costKey]*costEntry
}

type costKey struct {
	network  string
	gasLimit uint64
}

type costEntry struct {
	done chan struct{} // closed when the estimate is in
	cost recovery.NetworkCost
	err  error
	at   time.Time
}

// Get returns the network's estimate for gasLimit, from fetch when the
// kept one is too old.
func (c *CostCache) Get(ctx context.Context, network string, gasLimit uint64, fetch func(context.Context) (recovery.NetworkCost, error)) (recovery.NetworkCost, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	maxAge := c.MaxAge
	if maxAge <= 0 {
		maxAge = 3 * time.Second
	}
	key := costKey{network, gasLimit}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[costKey]*costEntry{}
	}
	e, ok := c.entries[key]
	if ok {
		select {
		case <-e.done:
			if now().Sub(e.at) >= maxAge {
				ok = false
			}
		default: // in flight: wait for it
		}
	}
	if !ok {
		e = &costEntry{done: make(chan struct{})}
		c.entries[key] = e
		c.mu.Unlock()
		e.cost, e.err = fetch(ctx)
		e.at = now()
		if e.err != nil {
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
		}
		close(e.done)
		return copyCost(e.cost), e.err
	}
	c.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		return recovery.NetworkCost{}, ctx.Err()
	}
	if e.err != nil {
		// The request this one waited for failed; ask for itself.
		return fetch(ctx)
	}
	return copyCost(e.cost), nil
}

// copyCost is a copy of c that shares no number with it, so that a caller
// changing its estimate does not change the kept one.
func copyCost(c recovery.NetworkCost) recovery.NetworkCost {
	for _, n := range []**big.Int{&c.Amount, &c.BaseFee, &c.TipCap, &c.MaxFeePerGas} {
		if *n != nil {
			*n = new(big.Int).Set(*n)
		}
	}
	return c
}
