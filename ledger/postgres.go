package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresSchema is sqliteSchema in PostgreSQL's dialect. Every text column
// is COLLATE "C": a database's default collation follows its locale, while
// the time ranges and group orders of this package rely on byte order, as
// SQLite gives.
const postgresSchema = `
CREATE TABLE IF NOT EXISTS ledger_entries (
	id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	case_id   TEXT COLLATE "C" NOT NULL,
	step      TEXT COLLATE "C" NOT NULL,
	booked_at TEXT COLLATE "C" NOT NULL,
	filed_at  TEXT COLLATE "C" NOT NULL,
	network   TEXT COLLATE "C" NOT NULL,
	category  TEXT COLLATE "C" NOT NULL,
	user_id   TEXT COLLATE "C" NOT NULL,
	content   TEXT COLLATE "C" NOT NULL,
	UNIQUE (case_id, step)
);
CREATE INDEX IF NOT EXISTS ledger_entries_booked ON ledger_entries (booked_at);
CREATE TABLE IF NOT EXISTS ledger_lines (
	entry_id BIGINT NOT NULL REFERENCES ledger_entries (id),
	line     INTEGER NOT NULL,
	account  TEXT COLLATE "C" NOT NULL,
	asset    TEXT COLLATE "C" NOT NULL,
	debit    TEXT COLLATE "C" NOT NULL,
	credit   TEXT COLLATE "C" NOT NULL,
	usd      TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (entry_id, line)
);`

// schemaLock is the advisory lock under which the schema is created: the
// worker and the API start together, and two concurrent CREATE TABLE IF NOT
// EXISTS of one table can fail in PostgreSQL. The key spells "ledger".
const schemaLock = 0x6c6564676572

// pgMaxConns bounds each process's pool, as the address book does.
const pgMaxConns = 10

func isPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, redactedError(dsn, err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgMaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := createSchema(ctx, db, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", schemaLock), postgresSchema); err != nil {
		db.Close()
		return nil, redactedError(dsn, err)
	}
	return &Store{db: db}, nil
}

// openError is a failure to open a PostgreSQL ledger, its text rid
// of the URL's password; errors.Is and errors.As still reach the cause.
type openError struct {
	msg string
	err error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

// redactedError names the database that could not be opened without its
// password, and takes the password out of the driver's message too, which
// may quote the URL (pgx hides a password in the user part, not one given
// as ?password=).
func redactedError(dsn string, err error) error {
	u, perr := url.Parse(dsn)
	if perr != nil {
		// Without the URL's parts there is no telling where the password
		// is, so nothing of it is repeated.
		return errors.New("ledger: the PostgreSQL URL does not parse; expected postgres://user:password@host:port/database")
	}
	msg := fmt.Sprintf("ledger %s: %v", redactURL(u), err)
	for _, secret := range secrets(dsn, u) {
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
	}
	return &openError{msg: msg, err: err}
}

// redactURL is the URL with its password, in either place, replaced.
func redactURL(u *url.URL) string {
	r := *u
	if q := r.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		r.RawQuery = q.Encode()
	}
	return r.Redacted()
}

// secrets are the forms in which the URL's passwords may appear in a
// message: as written in the URL, decoded and escaped anew. The longest
// come first, so that none is left half-replaced.
func secrets(dsn string, u *url.URL) []string {
	var raw []string
	if pw, ok := u.User.Password(); ok {
		raw = append(raw, pw)
		// The user part as written, which is where url.Parse finds it.
		_, authority, _ := strings.Cut(dsn, "://")
		authority, _, _ = strings.Cut(authority, "/")
		authority, _, _ = strings.Cut(authority, "?")
		if i := strings.LastIndex(authority, "@"); i >= 0 {
			if _, pw, ok := strings.Cut(authority[:i], ":"); ok {
				raw = append(raw, pw)
			}
		}
	}
	raw = append(raw, u.Query()["password"]...)
	for kv := range strings.SplitSeq(u.RawQuery, "&") {
		if pw, ok := strings.CutPrefix(kv, "password="); ok {
			raw = append(raw, pw)
		}
	}
	var out []string
	for _, pw := range raw {
		out = append(out, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	return slices.Compact(out)
}
