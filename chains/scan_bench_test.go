package chains_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/harness"
)

// lookups32 gives every network of the harness registry that has an adapter
// family a real adapter: eth, bsc, btc and ltc on the harness's nodes, the
// other EVM and UTXO networks pointed at a closed local port, as when their
// nodes are down. The three memo networks have no adapter yet, so the
// scanner asks 29 of the 32.
func lookups32(b *testing.B, h *harness.Harness) map[string]chains.Lookup {
	b.Helper()
	lookups := h.Lookups()
	dead := closedAddr(b)
	for _, n := range h.Registry().Networks() {
		if _, ok := lookups[n.ID]; ok {
			continue
		}
		switch n.Family {
		case recovery.FamilyEVM:
			// An HTTP rpc client dials nothing until its first call.
			rc, err := rpc.DialContext(context.Background(), "http://"+dead)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(rc.Close)
			lookups[n.ID] = evm.New(rc, n)
		case recovery.FamilyUTXO:
			c, err := utxo.Dial(n, dead, "u", "p")
			if err != nil {
				b.Fatal(err)
			}
			lookups[n.ID] = c
		}
	}
	return lookups
}

// benchScan measures Find for a hash the ltc node has and for one no node
// has. wantUnknown is the error code expected for the unknown hash: ""
// when every node answers, EUnavailable when some are down.
func benchScan(b *testing.B, s *chains.Scanner, h *harness.Harness, wantUnknown string) {
	f := h.Fixtures()
	b.Run("found-on-ltc", func(b *testing.B) {
		for b.Loop() {
			res, err := s.Find(context.Background(), f.CrossChain.TxHash, "")
			if err != nil || len(res.Found) != 1 || res.Found[0].Network != "ltc" {
				b.Fatalf("Find = %+v, %v; want found on ltc", res, err)
			}
		}
	})
	b.Run("unknown", func(b *testing.B) {
		for b.Loop() {
			res, err := s.Find(context.Background(), f.NotFound.TxHash, "")
			if code := recovery.ErrorCode(err); code != wantUnknown || (err == nil && len(res.Found) != 0) {
				b.Fatalf("Find = %+v, %v; want error code %q", res, err, wantUnknown)
			}
		}
	})
}

// BenchmarkScan32 scans all 32 default networks, 28 of them down (their
// nodes refuse connections): a node that is down must fail fast, not hold
// the scan up until the per-network deadline.
func BenchmarkScan32(b *testing.B) {
	h := harness.Shared(b)
	lookups := lookups32(b, h)
	s := scanner(h, lookups)
	if n := len(s.Networks()); n != 29 {
		b.Fatalf("scanner asks %d networks, want 29 (32 less the memo networks)", n)
	}
	benchScan(b, s, h, recovery.EUnavailable)
}

// BenchmarkScanLocal scans only the four networks of the harness, all up.
func BenchmarkScanLocal(b *testing.B) {
	h := harness.Shared(b)
	s := scanner(h, nil)
	if got := s.Networks(); !slices.Equal(got, local) {
		b.Fatalf("scanner asks %v", got)
	}
	benchScan(b, s, h, "")
}
