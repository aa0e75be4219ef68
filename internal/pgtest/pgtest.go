// Package pgtest owns the throw-away PostgreSQL cluster that the tests of
// the SQL stores run against, next to SQLite. The cluster is created in a
// temporary directory on first use, one per test binary, listens on a Unix
// socket in that directory only, so no port can clash with another
// server, and gives each test a database of its own. Main stops it once
// the tests have run.
//
// Where PostgreSQL is not installed the Postgres tests skip, unless CI is
// set: .ci/run installs PostgreSQL, and a skip there would hide that it
// did not.
package pgtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Main runs the tests, stops the cluster if they started one, and exits;
// call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	stop()
	os.Exit(code)
}

// Backend is a database a store's tests run against: New gives the Open
// argument of a new, empty store.
type Backend struct {
	Name string
	New  func(t *testing.T) string
}

// Backends are SQLite, a file named file in the test's temporary
// directory, and PostgreSQL, a new database in the cluster.
func Backends(file string) []Backend {
	return []Backend{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), file) }},
		{"postgres", Database},
	}
}
