package fees

import (
	"bytes"
	"context"
	"math/big"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/misdeposit/recovery"
)

func FuzzParsePrices(f *testing.F) {
	f.Add(devPrices)
	f.Add([]byte(`{"source":"s","assets":{"ETH":"1"}}`))
	f.Add([]byte("source: s\nassets: {ETH: 1e-9999}\n"))
	f.Add([]byte("source: s\nassets: &a {ETH: 1}\nnetworks: {eth: *a}\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParsePrices(data)
		if err != nil {
			if c := recovery.ErrorCode(err); c != recovery.EInvalid && c != recovery.ETooLarge {
				t.Fatalf("error with code %s: %v", c, err)
			}
			return
		}
		for k, p := range s.byKey {
			if !p.Value.IsPositive() || p.Source == "" {
				t.Fatalf("accepted price %q = %+v", k, p)
			}
		}
		if _, err := s.USD(context.Background(), "eth", "ETH"); err != nil && recovery.ErrorCode(err) != recovery.ENotFound {
			t.Fatal(err)
		}
	})
}

// FuzzSchedule reads a schedule as a policy file would and, when it is
// valid, quotes with it: no input may make a quote break its invariants.
func FuzzSchedule(f *testing.F) {
	f.Add([]byte("percent: 2.5\nminimum: 10\ncap: 500\nnetwork_cost: charge\nmax_share: 0.5\n"), uint64(1_000_000), uint8(6))
	f.Add([]byte("tiers: [{up_to: 1000, percent: 5}, {percent: 1}]\nflat: 1\nnetwork_cost: absorb\n"), uint64(123456789), uint8(18))
	f.Add([]byte("free_below: 20\npercent: 100\nnetwork_cost: charge\n"), uint64(0), uint8(0))
	f.Add([]byte("percent: 1e-9000\nnetwork_cost: charge\n"), uint64(5), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, amount uint64, decimals uint8) {
		var s Schedule
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := decodeYAML(dec, &s); err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			for _, e := range FieldErrors(err) {
				if e.Code != recovery.EInvalid || e.Field == "" {
					t.Fatalf("problem without a field: %+v", e)
				}
			}
			return
		}
		in := QuoteInput{ID: "q", Network: "eth", Asset: "TOK", Decimals: int32(decimals % 37), Amount: new(big.Int).SetUint64(amount),
			Price: Price{Value: d("1.5"), Source: "fuzz"}, Schedule: s, NativePrice: &Price{Value: d("3000")},
			NetworkCost: &recovery.NetworkCost{Asset: "ETH", Decimals: 18, Amount: big.NewInt(42_000_000_000_000)},
			Now:         time.Unix(1, 0), TTL: time.Minute}
		q, err := NewQuote(in)
		if err != nil {
			t.Fatalf("valid schedule, no quote: %v", err)
		}
		checkInvariants(t, in, q)
	})
}
