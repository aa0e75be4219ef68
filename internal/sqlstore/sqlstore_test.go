package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/misdeposit/recovery/internal/pgtest"
)

var notes = Store{
	Name:           "notes",
	SQLiteSchema:   `CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES notes (id))`,
	PostgresSchema: `CREATE TABLE IF NOT EXISTS notes (id BIGINT PRIMARY KEY, parent BIGINT REFERENCES notes (id))`,
	SchemaLock:     0x6e6f746573,
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// Processes that open one new store at once all come up and can write.
func TestProcessesOpenOneStore(t *testing.T) {
	for _, b := range pgtest.Backends(filepath.Join("sub", "notes.db")) {
		t.Run(b.Name, func(t *testing.T) {
			target := b.New(t)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					db, err := Open(context.Background(), target, notes)
					if err == nil {
						_, err = db.Exec(`INSERT INTO notes (id) VALUES ($1)`, i)
						db.Close()
					}
					errs[i] = err
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSQLiteForeignKeysOnlyWhenAsked(t *testing.T) {
	for _, enforce := range []bool{false, true} {
		s := notes
		s.ForeignKeys = enforce
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "notes.db"), s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec(`INSERT INTO notes (id, parent) VALUES (1, 2)`)
		db.Close()
		if (err != nil) != enforce {
			t.Errorf("foreign keys %v: %v", enforce, err)
		}
	}
}

func TestSQLiteSchemaErrorNamesTheStore(t *testing.T) {
	s := notes
	s.SQLiteSchema = "CREATE TABLE"
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "notes.db"), s)
	if err == nil {
		db.Close()
		t.Fatal("opened")
	}
	if !strings.HasPrefix(err.Error(), "notes schema: ") {
		t.Fatal(err)
	}
}

func TestPostgresErrorsHideThePassword(t *testing.T) {
	// Port 1 refuses the connection at once; no server is needed.
	for name, dsn := range map[string]string{
		"password in the user part": "postgres://recovery:s3cr%40t-pw@127.0.0.1:1/notes?sslmode=disable",
		"password as a parameter":   "postgresql://recovery@127.0.0.1:1/notes?sslmode=disable&password=s3cr%40t-pw",
		"driver quotes the url":     "postgres://recovery@127.0.0.1:1/notes?password=s3cr%40t-pw&sslmode=bogus",
		"url does not parse":        "postgres://recovery:s3cr%40t-pw@127.0.0.1:port/notes",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		db, err := Open(ctx, dsn, notes)
		cancel()
		if err == nil {
			db.Close()
			t.Fatalf("%s: opened", name)
		}
		if msg := err.Error(); strings.Contains(msg, "s3cr") || !strings.HasPrefix(msg, "notes") {
			t.Errorf("%s: %s", name, msg)
		}
	}
}

func FuzzRedactedErrorHidesThePassword(f *testing.F) {
	f.Add("s3cr3t", false)
	f.Add("p@ss:w/rd?&=#%", true)
	f.Fuzz(func(t *testing.T, password string, asParameter bool) {
		u := url.URL{Scheme: "postgres", User: url.UserPassword("recovery", password), Host: "db.internal:5432", Path: "/notes"}
		if asParameter {
			u.User = url.User("recovery")
			u.RawQuery = url.Values{"password": {password}}.Encode()
		}
		dsn := u.String()
		// What is left of the message without the password; a password
		// found in that is no leak.
		rest := "notes postgres://recovery:xxxxx@db.internal:5432/notes?password=xxxxx: cannot use  ()"
		if len(password) < 4 || strings.Contains(rest, password) {
			t.Skip()
		}
		// A driver may quote the URL, or the password, in any form.
		err := redactedError("notes", dsn, fmt.Errorf("cannot use %s (%s)", dsn, password))
		if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), url.QueryEscape(password)) {
			t.Fatalf("%q in %q", password, err)
		}
	})
}
