package pgtest

import (
	"database/sql"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// Each test gets a database of its own, empty and writable.
func TestDatabasesAreSeparate(t *testing.T) {
	var dbs []*sql.DB
	for range 2 {
		db, err := sql.Open("pgx", Database(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	if _, err := dbs[0].Exec(`CREATE TABLE t (x TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[1].Exec(`CREATE TABLE t (x TEXT)`); err != nil {
		t.Fatalf("the second database has the first one's table: %v", err)
	}
}
