//go:build !linux

package pgtest

import "testing"

// Database skips: the test cluster is started only on Linux, where CI
// runs.
func Database(t *testing.T) string {
	t.Skip("the PostgreSQL test cluster is started only on Linux")
	return ""
}

func stop() {}
