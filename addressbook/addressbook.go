// Package addressbook owns what the exchange knows about its own addresses
// and deposits: which addresses (and memos) it controls, for which user and
// network, whether an address is active or retired, and which deposits were
// already credited. Classification reads it; the chain is never asked who
// owns an address.
//
// The store is an embedded SQLite file (pure Go driver) by default, or a
// PostgreSQL database for production; both hold the same tables and answer
// the same queries.
package addressbook

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/internal/sqlstore"
)

// Address statuses.
const (
	Active  = "active"
	Retired = "retired"
)

// Entry is one deposit address (and memo, on memo networks) of one user.
type Entry struct {
	Network string `json:"network"`
	Address string `json:"address"`
	// Memo is the user's memo or destination tag on a shared address; ""
	// for an address of the user's own.
	Memo   string `json:"memo,omitempty"`
	UserID string `json:"user_id"`
	Status string `json:"status"`
	// PubKeyHash is the hex hash160 behind a UTXO address, so that the
	// same key is recognised when paid on another UTXO chain.
	PubKeyHash string `json:"pubkey_hash,omitempty"`
}

// Credit is a deposit the exchange already credited.
type Credit struct {
	Network    string    `json:"network"`
	TxHash     string    `json:"tx_hash"` // 64 lower-case hex digits
	Index      string    `json:"index"`   // as in case ids: v, o<n>, l<n>, c<n>
	UserID     string    `json:"user_id"`
	Amount     string    `json:"amount"` // base units
	CreditedAt time.Time `json:"credited_at"`
}

// Store is the address book.
type Store struct {
	db *sql.DB
}

// sqliteSchema is the schema in SQLite's dialect; postgresSchema is the
// same tables in PostgreSQL's. Times are RFC 3339 text in both, so that a
// row reads back the same from either.
const sqliteSchema = `
CREATE TABLE IF NOT EXISTS addresses (
	network     TEXT NOT NULL,
	address     TEXT NOT NULL,
	memo        TEXT NOT NULL DEFAULT '',
	user_id     TEXT NOT NULL,
	status      TEXT NOT NULL,
	pubkey_hash TEXT NOT NULL DEFAULT '',
	updated_at  TEXT NOT NULL,
	PRIMARY KEY (network, address, memo)
);
CREATE INDEX IF NOT EXISTS addresses_pkh ON addresses (pubkey_hash) WHERE pubkey_hash <> '';
CREATE INDEX IF NOT EXISTS addresses_user ON addresses (user_id);
CREATE TABLE IF NOT EXISTS credits (
	network     TEXT NOT NULL,
	tx_hash     TEXT NOT NULL,
	idx         TEXT NOT NULL,
	user_id     TEXT NOT NULL,
	amount      TEXT NOT NULL,
	credited_at TEXT NOT NULL,
	PRIMARY KEY (network, tx_hash, idx)
);
CREATE TABLE IF NOT EXISTS address_changes (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	at           TEXT NOT NULL,
	person       TEXT NOT NULL,
	network      TEXT NOT NULL,
	address      TEXT NOT NULL,
	memo         TEXT NOT NULL,
	before_user  TEXT NOT NULL,
	before_state TEXT NOT NULL,
	after_user   TEXT NOT NULL,
	after_state  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS address_changes_address ON address_changes (address, seq);`

// Open opens (creating when new) the address book at target: a
// postgres:// or postgresql:// URL is a PostgreSQL database, anything else
// the path of a SQLite file.
func Open(ctx context.Context, target string) (*Store, error) {
	db, err := sqlstore.Open(ctx, target, store)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// store is how the address book is opened in either database.
var store = sqlstore.Store{
	Name:           "address book",
	SQLiteSchema:   sqliteSchema,
	PostgresSchema: postgresSchema,
	SchemaLock:     schemaLock,
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

var (
	networkPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	userPattern    = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)
	addrPattern    = regexp.MustCompile(`^[A-Za-z0-9:]{14,128}$`)
	hexPattern     = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// Validate checks an entry and normalises it (EVM addresses to lower case,
// status defaulting to active).
func (e *Entry) Validate() error {
	e.Network = strings.TrimSpace(e.Network)
	e.Address = strings.TrimSpace(e.Address)
	e.Memo = strings.TrimSpace(e.Memo)
	e.UserID = strings.TrimSpace(e.UserID)
	e.Status = strings.ToLower(strings.TrimSpace(e.Status))
	e.PubKeyHash = strings.ToLower(strings.TrimSpace(e.PubKeyHash))
	if e.Status == "" {
		e.Status = Active
	}
	switch {
	case !networkPattern.MatchString(e.Network):
		return recovery.FieldError("network", "network %q is not a network id", e.Network)
	case !addrPattern.MatchString(e.Address):
		return recovery.FieldError("address", "address must be 14 to 128 letters or digits")
	case len(e.Memo) > 128:
		return recovery.FieldError("memo", "memo is longer than 128 characters")
	case !userPattern.MatchString(e.UserID):
		return recovery.FieldError("user_id", "user_id must be 1 to 128 letters, digits or . _ @ : -")
	case e.Status != Active && e.Status != Retired:
		return recovery.FieldError("status", "status must be active or retired, not %q", e.Status)
	case e.PubKeyHash != "" && !hexPattern.MatchString(e.PubKeyHash):
		return recovery.FieldError("pubkey_hash", "pubkey_hash must be 40 hexadecimal digits")
	}
	if strings.HasPrefix(e.Address, "0x") || strings.HasPrefix(e.Address, "0X") {
		e.Address = strings.ToLower(e.Address)
	}
	return nil
}

// Change is one entry of the address book's audit trail: who gave an
// address to whom, or retired it, and when. An empty Before is a new
// address.
type Change struct {
	At      time.Time `json:"at"`
	Person  string    `json:"person"`
	Network string    `json:"network"`
	Address string    `json:"address"`
	Memo    string    `json:"memo,omitempty"`
	// Before and After are "user_id (status)", Before "" for an address
	// the book did not have.
	Before string `json:"before,omitempty"`
	After  string `json:"after"`
}

// Upsert validates and stores entries in one transaction: either all are
// stored or none, so an import never half-applies. Every entry that gives
// an address to another user or changes its status is recorded, with the
// person who sent it (by), in the same transaction: the audit trail of
// the book (Changes) can never miss a change that was stored.
func (s *Store) Upsert(ctx context.Context, entries []Entry, now time.Time, by string) error {
	if strings.TrimSpace(by) == "" {
		return errors.New("address book: a change needs the person who makes it")
	}
	for i := range entries {
		if err := entries[i].Validate(); err != nil {
			var e *recovery.Error
			if errors.As(err, &e) {
				return &recovery.Error{Code: e.Code, Message: fmt.Sprintf("entry %d: %s", i+1, e.Message), Field: e.Field}
			}
			return err
		}
	}
	// Rows are written in key order so that two imports overlapping in
	// opposite orders queue behind each other on PostgreSQL instead of
	// deadlocking; the sort is stable, so the last of duplicate rows wins.
	ordered := slices.Clone(entries)
	slices.SortStableFunc(ordered, func(a, b Entry) int {
		return cmp.Or(strings.Compare(a.Network, b.Network), strings.Compare(a.Address, b.Address), strings.Compare(a.Memo, b.Memo))
	})
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("address book: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO addresses (network, address, memo, user_id, status, pubkey_hash, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (network, address, memo) DO UPDATE SET
			user_id = excluded.user_id, status = excluded.status,
			pubkey_hash = excluded.pubkey_hash, updated_at = excluded.updated_at`)
	if err != nil {
		return fmt.Errorf("address book: %w", err)
	}
	defer stmt.Close()
	stamp := now.UTC().Format(time.RFC3339Nano)
	for _, e := range ordered {
		var beforeUser, beforeState string
		err := tx.QueryRowContext(ctx, `SELECT user_id, status FROM addresses WHERE network = $1 AND address = $2 AND memo = $3`,
			e.Network, e.Address, e.Memo).Scan(&beforeUser, &beforeState)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("address book: read %s %s: %w", e.Network, e.Address, err)
		}
		if _, err := stmt.ExecContext(ctx, e.Network, e.Address, e.Memo, e.UserID, e.Status, e.PubKeyHash, stamp); err != nil {
			return fmt.Errorf("address book: store %s %s: %w", e.Network, e.Address, err)
		}
		if beforeUser == e.UserID && beforeState == e.Status {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO address_changes (at, person, network, address, memo, before_user, before_state, after_user, after_state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			stamp, by, e.Network, e.Address, e.Memo, beforeUser, beforeState, e.UserID, e.Status); err != nil {
			return fmt.Errorf("address book: record the change of %s %s: %w", e.Network, e.Address, err)
		}
	}
	return tx.Commit()
}

// Changes returns the audit trail of an address on every network, oldest
// first.
func (s *Store) Changes(ctx context.Context, address string) ([]Change, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, person, network, address, memo, before_user, before_state, after_user, after_state
		FROM address_changes WHERE address = $1 ORDER BY seq`, normaliseAddress(address))
	if err != nil {
		return nil, fmt.Errorf("address book: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at, beforeUser, beforeState, afterUser, afterState string
		if err := rows.Scan(&at, &c.Person, &c.Network, &c.Address, &c.Memo, &beforeUser, &beforeState, &afterUser, &afterState); err != nil {
			return nil, fmt.Errorf("address book: %w", err)
		}
		if c.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("address book: change time %q: %w", at, err)
		}
		if beforeUser != "" {
			c.Before = beforeUser + " (" + beforeState + ")"
		}
		c.After = afterUser + " (" + afterState + ")"
		out = append(out, c)
	}
	return out, rows.Err()
}

func normaliseAddress(a string) string {
	a = strings.TrimSpace(a)
	if strings.HasPrefix(a, "0x") || strings.HasPrefix(a, "0X") {
		return strings.ToLower(a)
	}
	return a
}

// Owners returns every entry for an address on a network: one for an
// address of its own, one per memo on a shared address.
func (s *Store) Owners(ctx context.Context, network, address string) ([]Entry, error) {
	return s.query(ctx, `SELECT network, address, memo, user_id, status, pubkey_hash FROM addresses
		WHERE network = $1 AND address = $2 ORDER BY memo`, network, normaliseAddress(address))
}

// ByAddress returns the entries for an address on any network: an EVM
// address the exchange issued on one chain is the same address on every
// other.
func (s *Store) ByAddress(ctx context.Context, address string) ([]Entry, error) {
	return s.query(ctx, `SELECT network, address, memo, user_id, status, pubkey_hash FROM addresses
		WHERE address = $1 ORDER BY network, memo`, normaliseAddress(address))
}

// ByPubKeyHash returns the UTXO entries whose key hashes to pkh, on any
// network.
func (s *Store) ByPubKeyHash(ctx context.Context, pkh string) ([]Entry, error) {
	pkh = strings.ToLower(pkh)
	if !hexPattern.MatchString(pkh) {
		return nil, recovery.FieldError("pubkey_hash", "pubkey_hash must be 40 hexadecimal digits")
	}
	return s.query(ctx, `SELECT network, address, memo, user_id, status, pubkey_hash FROM addresses
		WHERE pubkey_hash = $1 ORDER BY network, address`, pkh)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Entry, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("address book: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Network, &e.Address, &e.Memo, &e.UserID, &e.Status, &e.PubKeyHash); err != nil {
			return nil, fmt.Errorf("address book: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordCredit stores a credited deposit. Recording the same deposit again
// is a no-op, so a retried sync never double-counts.
func (s *Store) RecordCredit(ctx context.Context, c Credit) error {
	if !networkPattern.MatchString(c.Network) || len(c.TxHash) != 64 || c.Index == "" || !userPattern.MatchString(c.UserID) {
		return recovery.Errorf(recovery.EInvalid, "credit needs a network, a 64-digit tx hash, an index and a user")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO credits (network, tx_hash, idx, user_id, amount, credited_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (network, tx_hash, idx) DO NOTHING`,
		c.Network, strings.ToLower(c.TxHash), c.Index, c.UserID, c.Amount, c.CreditedAt.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("address book: record credit: %w", err)
	}
	return nil
}

// Credited returns the credit of a deposit, or nil when it was never
// credited.
func (s *Store) Credited(ctx context.Context, network, txHash, index string) (*Credit, error) {
	var c Credit
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT network, tx_hash, idx, user_id, amount, credited_at FROM credits
		WHERE network = $1 AND tx_hash = $2 AND idx = $3`, network, strings.ToLower(txHash), index).
		Scan(&c.Network, &c.TxHash, &c.Index, &c.UserID, &c.Amount, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("address book: %w", err)
	}
	if c.CreditedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return nil, fmt.Errorf("address book: credit time %q: %w", at, err)
	}
	return &c, nil
}
