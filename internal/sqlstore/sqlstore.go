// Package sqlstore owns how the stores of this module (the address book,
// the ledger) reach their database: an embedded SQLite file (pure Go
// driver) by default, or a PostgreSQL database for production, opened with
// the connection settings each needs and its schema created. Each store
// keeps its own schema, lock key and queries, written so that they read
// the same in both dialects.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Store describes one store: what it is called and the schema it needs.
type Store struct {
	// Name is what errors call the store, as in "address book".
	Name string
	// SQLiteSchema and PostgresSchema are the statements that create the
	// store's tables, in each dialect.
	SQLiteSchema   string
	PostgresSchema string
	// SchemaLock is the key of the PostgreSQL advisory lock under which
	// the schema is created: the worker and the API start together, and
	// two concurrent CREATE TABLE IF NOT EXISTS of one table can fail in
	// PostgreSQL. Each store has a key of its own.
	SchemaLock int64
	// ForeignKeys has SQLite enforce the schema's REFERENCES, which it
	// does only when asked; PostgreSQL always does.
	ForeignKeys bool
}

// Open opens (creating when new) the store's database at target: a
// postgres:// or postgresql:// URL is a PostgreSQL database, anything else
// the path of a SQLite file.
func Open(ctx context.Context, target string, s Store) (*sql.DB, error) {
	if isPostgres(target) {
		return openPostgres(ctx, target, s)
	}
	return openSQLite(ctx, target, s)
}

// isPostgres tells whether target is a PostgreSQL URL.
func isPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

func openSQLite(ctx context.Context, path string, s Store) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(wal)&_pragma=busy_timeout(5000)&_pragma=synchronous(normal)"
	if s.ForeignKeys {
		dsn += "&_pragma=foreign_keys(1)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	// SQLite allows one writer at a time anyway; a single connection
	// queues writes instead of failing them with "database is locked".
	db.SetMaxOpenConns(1)
	if err := connectSQLite(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if err := createSchema(ctx, db, s.SQLiteSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s schema: %w", s.Name, err)
	}
	return db, nil
}

// connectSQLite makes the first connection. Processes that open one new
// file at the same moment each switch it to WAL, and SQLite refuses all but
// one at once with SQLITE_BUSY, not waiting out busy_timeout; the others
// try again for as long as busy_timeout would have waited.
func connectSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := db.PingContext(ctx)
		var e *sqlite.Error
		if err == nil || !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// createSchema runs the statements that create the schema in one
// transaction.
func createSchema(ctx context.Context, db *sql.DB, stmts ...string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}
