package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgMaxConns bounds each process's pool: a worker or an API serves a
// handful of activities or requests at once, and a few processes at this
// bound stay well inside PostgreSQL's default max_connections of 100.
const pgMaxConns = 10

func openPostgres(ctx context.Context, dsn string, s Store) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, redactedError(s.Name, dsn, err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgMaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := createSchema(ctx, db, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", s.SchemaLock), s.PostgresSchema); err != nil {
		db.Close()
		return nil, redactedError(s.Name, dsn, err)
	}
	return db, nil
}

// openError is a failure to open a PostgreSQL store, its text rid of the
// URL's password; errors.Is and errors.As still reach the cause.
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
func redactedError(name, dsn string, err error) error {
	u, perr := url.Parse(dsn)
	if perr != nil {
		// Without the URL's parts there is no telling where the password
		// is, so nothing of it is repeated.
		return errors.New(name + ": the PostgreSQL URL does not parse; expected postgres://user:password@host:port/database")
	}
	msg := fmt.Sprintf("%s %s: %v", name, redactURL(u), err)
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
