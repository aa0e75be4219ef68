// Package memotest holds what the tests of the memo-network adapters
// (xrp, xlm, atom) share: the network from the default registry, their
// testdata answers, servers and in-process transports that answer them,
// the checks every adapter must pass when a server is down or a hash is
// malformed, and the path from a looked-up transaction through the
// address book to a diagnosis, as the diagnose activity takes it.
package memotest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/diagnosis"
)

// Network is the network id of the default registry.
func Network(t testing.TB, id string) chains.Network {
	t.Helper()
	for _, n := range chains.DefaultNetworks() {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("no %s network", id)
	return chains.Network{}
}

// Fixture reads the test's testdata/name.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// Serve starts a server that h answers, closed when the test ends.
func Serve(t testing.TB, h http.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Answering is an HTTP client whose requests answer answers in process,
// so that a fuzz test reaches the adapter's reading without a socket.
func Answering(answer func(r *http.Request) (status int, body string)) *http.Client {
	return &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		status, body := answer(r)
		return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: r}, nil
	})}
}

// RefusesMalformedHash checks that a malformed hash is EInvalid.
func RefusesMalformedHash(t *testing.T, c chains.Lookup) {
	t.Helper()
	if _, err := c.LookupTx(context.Background(), "zz"); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("malformed hash: %v", err)
	}
}

// DownIsUnavailable checks that looking hash up on a server that is down
// is unavailable, never "not found", and that the error does not repeat
// a provider's key written in the endpoint. dial is the adapter's Dial.
func DownIsUnavailable(t *testing.T, dial func(endpoint string) chains.Lookup, hash string) {
	t.Helper()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c := dial(down.URL + "/?key=k3y-0f-the-provider")
	_, err := c.LookupTx(context.Background(), hash)
	if recovery.ErrorCode(err) != recovery.EUnavailable || strings.Contains(err.Error(), "k3y") {
		t.Fatalf("down: %v", err)
	}
}

// Book is an address book in the test's temporary directory holding
// entries.
func Book(t testing.TB, entries []addressbook.Entry) *addressbook.Store {
	t.Helper()
	ctx := context.Background()
	book, err := addressbook.Open(ctx, filepath.Join(t.TempDir(), "book.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { book.Close() })
	if err := book.Upsert(ctx, entries, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	return book
}

// Diagnose decides a case as the diagnose activity does: the transaction
// hash through a node pool of node, the owners of each transfer's
// destination from book by network and address, and userID claiming to
// have sent it to address on network n.
func Diagnose(t testing.TB, book *addressbook.Store, n chains.Network, node chains.Lookup, hash, address, userID string) diagnosis.Diagnosis {
	t.Helper()
	ctx := context.Background()
	p, err := pool.New(n.ID, []pool.Endpoint{{Lookup: node}}, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := p.LookupTx(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	f := diagnosis.Facts{Found: true, Tx: tx, Network: n, InPolicy: true, ClaimedNetwork: n.ID, ClaimedAddress: address, UserID: userID}
	for _, tr := range tx.Transfers {
		tf := diagnosis.TransferFacts{Transfer: tr}
		tf.Asset, tf.Listed, tf.Minimum = n.Asset(tr)
		entries, err := book.Owners(ctx, n.ID, tr.To)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			tf.Owners = append(tf.Owners, diagnosis.Owner{Entry: e, Match: diagnosis.MatchSameNetwork})
		}
		f.Transfers = append(f.Transfers, tf)
	}
	return diagnosis.Classify(f)
}

// WantDiagnosis checks that d decides category, credits the deposit to
// owner's entry, says whether that is someone other than the claimant
// (mismatch), and counts amount of asset as the deposit.
func WantDiagnosis(t testing.TB, d diagnosis.Diagnosis, category, owner string, mismatch bool, amount, asset string) {
	t.Helper()
	if d.Category != category || d.Owner == nil || d.Owner.Entry.UserID != owner || d.OwnerMismatch != mismatch {
		t.Fatalf("got %s owner %+v mismatch %v; want %s owner %s mismatch %v (evidence %+v)", d.Category, d.Owner, d.OwnerMismatch, category, owner, mismatch, d.Evidence)
	}
	if d.Deposit.Amount.String() != amount || d.Asset != asset {
		t.Errorf("deposit %s %s", d.Deposit.Amount, d.Asset)
	}
}

// WantNotFound checks that err is chains.ErrTxNotFound with code
// ENotFound: the server said, in its own words (what), that it does not
// know the transaction.
func WantNotFound(t testing.TB, err error, what string) {
	t.Helper()
	if !errors.Is(err, chains.ErrTxNotFound) || recovery.ErrorCode(err) != recovery.ENotFound {
		t.Fatalf("%s: %v", what, err)
	}
}

// OneCasePerDeposit checks that every transfer of tx names a deposit of its
// own, in an id the API and the ledger accept: two transfers sharing an id
// would be one case, and one of them never recovered.
func OneCasePerDeposit(t testing.TB, tx *recovery.Tx) {
	t.Helper()
	seen := map[string]bool{}
	for _, tr := range tx.Transfers {
		id := recovery.DepositID(tx.Network, tx.Hash, tr)
		if seen[id] || !recovery.ValidDepositID(id) {
			t.Fatalf("deposit %s (twice or malformed) in %+v", id, tx.Transfers)
		}
		seen[id] = true
	}
}
