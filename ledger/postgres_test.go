package ledger

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPostgresErrorsHideThePassword(t *testing.T) {
	// Port 1 refuses the connection at once; no server is needed.
	for name, dsn := range map[string]string{
		"password in the user part": "postgres://recovery:s3cr%40t-pw@127.0.0.1:1/ledger?sslmode=disable",
		"password as a parameter":   "postgresql://recovery@127.0.0.1:1/ledger?sslmode=disable&password=s3cr%40t-pw",
		"driver quotes the url":     "postgres://recovery@127.0.0.1:1/ledger?password=s3cr%40t-pw&sslmode=bogus",
		"url does not parse":        "postgres://recovery:s3cr%40t-pw@127.0.0.1:port/ledger",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := Open(ctx, dsn)
		cancel()
		if err == nil {
			s.Close()
			t.Fatalf("%s: opened", name)
		}
		if msg := err.Error(); strings.Contains(msg, "s3cr") || !strings.Contains(msg, "ledger") {
			t.Errorf("%s: %s", name, msg)
		}
	}
}

func FuzzRedactedErrorHidesThePassword(f *testing.F) {
	f.Add("s3cr3t", false)
	f.Add("p@ss:w/rd?&=#%", true)
	f.Fuzz(func(t *testing.T, password string, asParameter bool) {
		u := url.URL{Scheme: "postgres", User: url.UserPassword("recovery", password), Host: "db.internal:5432", Path: "/ledger"}
		if asParameter {
			u.User = url.User("recovery")
			u.RawQuery = url.Values{"password": {password}}.Encode()
		}
		dsn := u.String()
		// What is left of the message without the password; a password
		// found in that is no leak.
		rest := "ledger postgres://recovery:xxxxx@db.internal:5432/ledger?password=xxxxx: cannot use  ()"
		if len(password) < 4 || strings.Contains(rest, password) {
			t.Skip()
		}
		// A driver may quote the URL, or the password, in any form.
		err := redactedError(dsn, fmt.Errorf("cannot use %s (%s)", dsn, password))
		if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), url.QueryEscape(password)) {
			t.Fatalf("%q in %q", password, err)
		}
	})
}
