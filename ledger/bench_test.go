package ledger

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFeeReport reports over a year of 10,000 recoveries (about
// 2,000 of them refunded) on SQLite, every entry in the period.
func BenchmarkFeeReport(b *testing.B) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	s := open(b, filepath.Join(b.TempDir(), "ledger.db"))
	randomScenario(rand.New(rand.NewPCG(1, 2)), 10_000, from, to).post(b, s)
	for _, by := range []GroupBy{GroupByNetwork, GroupByCategory, GroupByMonth} {
		b.Run(string(by), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.FeeReport(context.Background(), from, to, by); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
