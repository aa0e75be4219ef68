// Package ledger owns the money side of a recovery: a double-entry journal
// of what each case recovered, what the user was credited, the service fee
// and network cost kept, the network cost the exchange paid on chain, and
// the refunds of fees. Every entry balances per asset and is written once
// per case and step, so a retried activity can never credit twice, and
// each deposit is credited by one case only. The finance fee report
// (DESIGN §6) is computed from the journal alone. It also records each
// recovery transaction before it is broadcast, and the nonces of EVM
// senders (sends.go), so that the money of a deposit moves once.
//
// Amounts are base units of their asset (*big.Int, stored as decimal text);
// USD values are exact decimals (stored as text) and are rounded only when
// a report is rendered. The store is an embedded SQLite file (pure Go
// driver) by default, or a PostgreSQL database for production; both hold
// the same tables and answer the same queries.
package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/internal/sqlstore"
)

// Accounts of the journal. A user's account is AccountUsers + ":" + the
// user id (see UserAccount), so that each user's balance can be read back.
const (
	// AccountHotWallet is what the exchange holds: a recovered deposit
	// arrives in it and the network cost of the recovery leaves it.
	AccountHotWallet = "assets:hot_wallet"
	// AccountUsers is what the exchange owes its users.
	AccountUsers = "liabilities:users"
	// AccountServiceFees is the service fee kept from a deposit.
	AccountServiceFees = "income:service_fees"
	// AccountNetworkCostRecovered is the network cost charged to the user.
	AccountNetworkCostRecovered = "income:network_cost_recovered"
	// AccountNetworkCost is the network cost the exchange paid on chain.
	AccountNetworkCost = "expenses:network_cost"
)

// UserAccount is the account of what the exchange owes one user.
func UserAccount(userID string) string { return AccountUsers + ":" + userID }

// Steps: the idempotency keys of a case's entries.
const (
	StepCredit = "credit" // the user is credited net of fees (PostRecovery)
	StepRefund = "refund" // the fees of a credit are given back (PostRefund)
	// StepReturn: the net of a credit is paid out of the hot wallet to the
	// user's own address on chain (PostReturn), as an unlisted token is.
	StepReturn = "return"
)

// Store is the journal.
type Store struct {
	db *sql.DB
}

// Line is one line of a journal entry. Exactly one of Debit and Credit is
// non-zero; USD is its value at the price of the entry's quote.
type Line struct {
	EntryID  int64
	CaseID   string
	Step     string
	Network  string
	Category string
	Account  string
	Asset    string
	Debit    *big.Int
	Credit   *big.Int
	USD      decimal.Decimal
	At       time.Time
}

// Tables are prefixed so that the ledger can share a database with the
// address book. Times are fixed-width UTC text (see timeKey), so that text
// order is time order in both dialects; amounts and USD are decimal text.
// content is the entry's input in canonical form, compared when the same
// case and step is posted again. ledger_deposits holds, for each deposit
// credited, the case whose entry credits it; it came after the entries, and
// credits posted before it are not in it.
const sqliteSchema = `
CREATE TABLE IF NOT EXISTS ledger_entries (
	id        INTEGER PRIMARY KEY,
	case_id   TEXT NOT NULL,
	step      TEXT NOT NULL,
	booked_at TEXT NOT NULL,
	filed_at  TEXT NOT NULL,
	network   TEXT NOT NULL,
	category  TEXT NOT NULL,
	user_id   TEXT NOT NULL,
	content   TEXT NOT NULL,
	UNIQUE (case_id, step)
);
CREATE INDEX IF NOT EXISTS ledger_entries_booked ON ledger_entries (booked_at);
CREATE TABLE IF NOT EXISTS ledger_lines (
	entry_id INTEGER NOT NULL REFERENCES ledger_entries (id),
	line     INTEGER NOT NULL,
	account  TEXT NOT NULL,
	asset    TEXT NOT NULL,
	debit    TEXT NOT NULL,
	credit   TEXT NOT NULL,
	usd      TEXT NOT NULL,
	PRIMARY KEY (entry_id, line)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_deposits (
	deposit_id TEXT NOT NULL PRIMARY KEY,
	case_id    TEXT NOT NULL,
	step       TEXT NOT NULL,
	FOREIGN KEY (case_id, step) REFERENCES ledger_entries (case_id, step)
) WITHOUT ROWID;`

// Open opens (creating when new) the ledger at target: a postgres:// or
// postgresql:// URL is a PostgreSQL database, anything else the path of a
// SQLite file.
func Open(ctx context.Context, target string) (*Store, error) {
	db, err := sqlstore.Open(ctx, target, store)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// store is how the ledger is opened in either database.
var store = sqlstore.Store{
	Name:           "ledger",
	SQLiteSchema:   sqliteSchema + sqliteSendsSchema,
	PostgresSchema: postgresSchema + postgresSendsSchema,
	SchemaLock:     schemaLock,
	// ledger_lines references ledger_entries.
	ForeignKeys: true,
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// timeLayout has a fixed width (nine fraction digits, four-digit year), so
// that stored times compare as text in time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// timeKey is t as stored. Bounds of a query outside the years 1–9999 are
// clamped to text before or after every stored time.
func timeKey(t time.Time) string {
	t = t.UTC()
	switch {
	case t.Year() < 1:
		return ""
	case t.Year() > 9999:
		return "~" // after every digit
	}
	return t.Format(timeLayout)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger: stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// Lines returns the lines of the entries booked in [from, to), in the
// order they were posted.
func (s *Store) Lines(ctx context.Context, from, to time.Time) ([]Line, error) {
	if to.Before(from) {
		return nil, recovery.FieldError("to", "the end of the period is before its start")
	}
	return s.lines(ctx, `WHERE e.booked_at >= $1 AND e.booked_at < $2`, timeKey(from), timeKey(to))
}

// CaseLines returns the lines of every entry of one case, in the order
// they were posted.
func (s *Store) CaseLines(ctx context.Context, caseID string) ([]Line, error) {
	return s.lines(ctx, `WHERE e.case_id = $1`, caseID)
}

func (s *Store) lines(ctx context.Context, where string, args ...any) ([]Line, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.id, e.case_id, e.step, e.network, e.category, e.booked_at,
			l.account, l.asset, l.debit, l.credit, l.usd
		FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id
		`+where+` ORDER BY e.id, l.line`, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	var out []Line
	for rows.Next() {
		var l Line
		var at, debit, credit, usd string
		if err := rows.Scan(&l.EntryID, &l.CaseID, &l.Step, &l.Network, &l.Category, &at,
			&l.Account, &l.Asset, &debit, &credit, &usd); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		if l.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if l.Debit, err = parseAmount(debit); err != nil {
			return nil, err
		}
		if l.Credit, err = parseAmount(credit); err != nil {
			return nil, err
		}
		if l.USD, err = decimal.NewFromString(usd); err != nil {
			return nil, fmt.Errorf("ledger: stored USD value %q: %w", usd, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func parseAmount(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("ledger: stored amount %q is not a decimal integer", s)
	}
	return n, nil
}

// isUserAccount reports whether account is a user's.
func isUserAccount(account string) bool { return strings.HasPrefix(account, AccountUsers+":") }
