//go:build !linux

package ledger

import "testing"

// postgresTarget skips: the test cluster is started only on Linux, where
// CI runs.
func postgresTarget(t *testing.T) string {
	t.Skip("the PostgreSQL test cluster is started only on Linux")
	return ""
}

func stopPostgres() {}
