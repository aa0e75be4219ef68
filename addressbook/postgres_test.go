package addressbook

import (
	"context"
	"strings"
	"testing"
)

// An error opening the address book names it, and not the password; the other
// places a password can stand are tested in sqlstore. Port 1 refuses the
// connection at once, so no server is needed.
func TestPostgresErrorNamesTheStoreNotThePassword(t *testing.T) {
	_, err := Open(context.Background(), "postgres://recovery:s3cr%40t-pw@127.0.0.1:1/book?sslmode=disable")
	if err == nil || strings.Contains(err.Error(), "s3cr") || !strings.HasPrefix(err.Error(), "address book postgres://recovery:xxxxx@127.0.0.1:1/book") {
		t.Fatal(err)
	}
}
