package addressbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backends are the stores every test runs against.
var backends = pgtest.Backends("book.db")

// eachBackend runs test once per backend, each time on an empty book.
func eachBackend(t *testing.T, test func(t *testing.T, s *Store)) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) { test(t, open(t, b.New(t))) })
	}
}

func open(t *testing.T, target string) *Store {
	t.Helper()
	s, err := Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestOwnersOfSharedAndOwnAddresses(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		err := s.Upsert(ctx, []Entry{
			{Network: "eth", Address: "0xBBF67B2e12db07B3C38D3A25A21F481Db89E0156", UserID: "alice"},
			{Network: "xrp", Address: "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh", Memo: "1001", UserID: "bob"},
			{Network: "xrp", Address: "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh", Memo: "1002", UserID: "carol"},
			{Network: "btc", Address: "mrrLgxhEaZ2r9cgvHHEgN1Bah3kZ5BFrgp", UserID: "dave", Status: "retired", PubKeyHash: "7C2B3E4B6A9F2C1D0E3F4A5B6C7D8E9F0A1B2C3D"},
		}, now, "test")
		if err != nil {
			t.Fatal(err)
		}
		// EVM addresses match whatever their case.
		got, err := s.Owners(ctx, "eth", "0xbbf67b2e12db07b3c38d3a25a21f481db89e0156")
		if err != nil || len(got) != 1 || got[0].UserID != "alice" || got[0].Status != Active {
			t.Fatalf("eth owner: %v %+v", err, got)
		}
		// The same EVM address is found from another chain.
		if got, _ := s.ByAddress(ctx, "0xBBF67B2E12DB07B3C38D3A25A21F481DB89E0156"); len(got) != 1 || got[0].Network != "eth" {
			t.Fatalf("by address: %+v", got)
		}
		shared, _ := s.Owners(ctx, "xrp", "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh")
		if len(shared) != 2 || shared[0].Memo != "1001" || shared[1].UserID != "carol" {
			t.Fatalf("shared address: %+v", shared)
		}
		byKey, err := s.ByPubKeyHash(ctx, "7c2b3e4b6a9f2c1d0e3f4a5b6c7d8e9f0a1b2c3d")
		if err != nil || len(byKey) != 1 || byKey[0].Status != Retired {
			t.Fatalf("by pubkey hash: %v %+v", err, byKey)
		}
		if none, _ := s.Owners(ctx, "bsc", "0xBBF67B2e12db07B3C38D3A25A21F481Db89E0156"); len(none) != 0 {
			t.Fatalf("an eth address is not ours on bsc by this lookup: %+v", none)
		}
	})
}

func TestUpsertIsAllOrNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		err := s.Upsert(ctx, []Entry{
			{Network: "eth", Address: "0x52908400098527886E0F7030069857D2E4169EE7", UserID: "u1"},
			{Network: "eth", Address: "0x8617E340B3D01FA5F11F306F4090FD50E238070D", UserID: "u2", Status: "frozen"},
		}, now, "test")
		if recovery.ErrorCode(err) != recovery.EInvalid || !strings.Contains(err.Error(), "entry 2") {
			t.Fatalf("error %v, want invalid entry 2", err)
		}
		if got, _ := s.Owners(ctx, "eth", "0x52908400098527886E0F7030069857D2E4169EE7"); len(got) != 0 {
			t.Fatal("the good entry of a refused batch was stored")
		}
	})
}

func TestRetiringAnAddressUpdatesIt(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		e := Entry{Network: "btc", Address: "mrrLgxhEaZ2r9cgvHHEgN1Bah3kZ5BFrgp", UserID: "dave"}
		if err := s.Upsert(ctx, []Entry{e}, now, "test"); err != nil {
			t.Fatal(err)
		}
		e.Status = Retired
		if err := s.Upsert(ctx, []Entry{e}, now.Add(time.Hour), "test"); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Owners(ctx, "btc", e.Address)
		if len(got) != 1 || got[0].Status != Retired {
			t.Fatalf("%+v", got)
		}
	})
}

func TestCreditsAreRecordedOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		hash := strings.Repeat("ab", 32)
		if c, err := s.Credited(ctx, "eth", hash, "v"); err != nil || c != nil {
			t.Fatalf("uncredited deposit: %v %+v", err, c)
		}
		c := Credit{Network: "eth", TxHash: strings.ToUpper(hash), Index: "v", UserID: "alice", Amount: "250000000000000000", CreditedAt: now}
		for range 2 {
			if err := s.RecordCredit(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Credited(ctx, "eth", hash, "v")
		if err != nil || got == nil || got.Amount != c.Amount || !got.CreditedAt.Equal(now) {
			t.Fatalf("credit: %v %+v", err, got)
		}
		if other, _ := s.Credited(ctx, "eth", hash, "l0"); other != nil {
			t.Fatal("another output of the same tx reads as credited")
		}
	})
}

func TestConcurrentUpserts(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		addr := func(i int) string { return fmt.Sprintf("0x%040x", i) }
		var shared []Entry
		for i := range 10 {
			shared = append(shared, Entry{Network: "eth", Address: addr(i), UserID: "u"})
		}
		reversed := slices.Clone(shared)
		slices.Reverse(reversed)
		// Twenty imports at once, each with an address of its own and the
		// same ten, half of them in the opposite order, as when two
		// operators import overlapping files together: none fails.
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Go(func() {
				entries := shared
				if i%2 == 1 {
					entries = reversed
				}
				entries = append(slices.Clone(entries), Entry{Network: "eth", Address: addr(100 + i), UserID: "u"})
				errs <- s.Upsert(ctx, entries, now, "test")
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range []int{0, 9, 100, 119} {
			if got, err := s.Owners(ctx, "eth", addr(i)); err != nil || len(got) != 1 {
				t.Fatalf("%s: %v %+v", addr(i), err, got)
			}
		}
	})
}

func TestMemosAreListedInByteOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const address = "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh"
		var entries []Entry
		for _, memo := range []string{"a", "_x", "B", "9", "10"} {
			entries = append(entries, Entry{Network: "xrp", Address: address, Memo: memo, UserID: "u"})
		}
		if err := s.Upsert(ctx, entries, now, "test"); err != nil {
			t.Fatal(err)
		}
		got, err := s.Owners(ctx, "xrp", address)
		if err != nil {
			t.Fatal(err)
		}
		var memos []string
		for _, e := range got {
			memos = append(memos, e.Memo)
		}
		// The same order from every backend, whatever the server's locale.
		if want := []string{"10", "9", "B", "_x", "a"}; !slices.Equal(memos, want) {
			t.Fatalf("memos %q, want %q", memos, want)
		}
	})
}

// The worker and the API open one book as they start together: both come
// up, and what one stores the other reads.
func TestProcessesShareOneBook(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			target := b.New(t)
			stores := make([]*Store, 4)
			errs := make([]error, len(stores))
			var wg sync.WaitGroup
			for i := range stores {
				wg.Go(func() { stores[i], errs[i] = Open(ctx, target) })
			}
			wg.Wait()
			for _, s := range stores {
				if s != nil {
					t.Cleanup(func() { s.Close() })
				}
			}
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			e := Entry{Network: "btc", Address: "mrrLgxhEaZ2r9cgvHHEgN1Bah3kZ5BFrgp", UserID: "dave"}
			if err := stores[0].Upsert(ctx, []Entry{e}, now, "test"); err != nil {
				t.Fatal(err)
			}
			if got, err := stores[3].Owners(ctx, "btc", e.Address); err != nil || len(got) != 1 || got[0].UserID != "dave" {
				t.Fatalf("%v %+v", err, got)
			}
		})
	}
}

func TestReadCSV(t *testing.T) {
	good := "\ufeffnetwork,address,memo,user_id,status\n" +
		"eth,0x52908400098527886E0F7030069857D2E4169EE7,,u1,active\n" +
		"xrp,rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh,1001,u2,\n"
	entries, err := ReadCSV(strings.NewReader(good))
	if err != nil || len(entries) != 2 || entries[0].Address != "0x52908400098527886e0f7030069857d2e4169ee7" || entries[1].Status != Active {
		t.Fatalf("%v %+v", err, entries)
	}
	for name, tc := range map[string]struct{ csv, want string }{
		"empty":          {"", "empty"},
		"unknown column": {"network,address,user_id,colour\n", `unknown column "colour"`},
		"missing column": {"network,address\n", `"user_id" is required`},
		"bad row":        {"network,address,user_id\neth,0x52908400098527886E0F7030069857D2E4169EE7,u1\neth,short,u2\n", "line 3"},
		"ragged row":     {"network,address,user_id\neth,0x52908400098527886E0F7030069857D2E4169EE7\n", "line 2"},
	} {
		_, err := ReadCSV(strings.NewReader(tc.csv))
		if recovery.ErrorCode(err) != recovery.EInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want invalid mentioning %q", name, err, tc.want)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add("network,address,user_id\neth,0x52908400098527886E0F7030069857D2E4169EE7,u1\n")
	f.Add("network,address,memo,user_id,status,pubkey_hash\nbtc,mrrLgxhEaZ2r9cgvHHEgN1Bah3kZ5BFrgp,,d,retired," + strings.Repeat("a", 40) + "\n")
	f.Add("\"unterminated")
	f.Fuzz(func(t *testing.T, data string) {
		entries, err := ReadCSV(strings.NewReader(data))
		if err != nil {
			if recovery.ErrorCode(err) != recovery.EInvalid {
				t.Fatalf("error code %q: %v", recovery.ErrorCode(err), err)
			}
			return
		}
		for _, e := range entries {
			if err := e.Validate(); err != nil {
				t.Fatalf("returned an invalid entry %+v: %v", e, err)
			}
		}
	})
}

// TestEveryChangeIsInTheAuditTrail gives an address to a user, to another
// user, retires it and imports it again unchanged: the book keeps who did
// each change and when, from the same transaction as the change, and a
// change nobody signed is refused.
func TestEveryChangeIsInTheAuditTrail(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const addr = "0xBBF67B2e12db07B3C38D3A25A21F481Db89E0156"
		steps := []struct {
			by   string
			user string
			st   string
		}{{"ada", "alice", Active}, {"ben", "bob", Active}, {"ada", "bob", Retired}, {"ben", "bob", Retired}}
		for i, step := range steps {
			if err := s.Upsert(ctx, []Entry{{Network: "eth", Address: addr, UserID: step.user, Status: step.st}}, now.Add(time.Duration(i)*time.Hour), step.by); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Upsert(ctx, []Entry{{Network: "eth", Address: addr, UserID: "mallory"}}, now, " "); err == nil {
			t.Fatal("a change with nobody behind it was stored")
		}
		changes, err := s.Changes(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		want := []Change{
			{At: now, Person: "ada", Network: "eth", Address: strings.ToLower(addr), After: "alice (active)"},
			{At: now.Add(time.Hour), Person: "ben", Network: "eth", Address: strings.ToLower(addr), Before: "alice (active)", After: "bob (active)"},
			{At: now.Add(2 * time.Hour), Person: "ada", Network: "eth", Address: strings.ToLower(addr), Before: "bob (active)", After: "bob (retired)"},
		}
		if len(changes) != len(want) {
			t.Fatalf("changes %+v, want %+v", changes, want)
		}
		for i := range want {
			if !changes[i].At.Equal(want[i].At) || changes[i].Person != want[i].Person || changes[i].Before != want[i].Before || changes[i].After != want[i].After || changes[i].Address != want[i].Address {
				t.Errorf("change %d: %+v, want %+v", i, changes[i], want[i])
			}
		}
		if owners, _ := s.Owners(ctx, "eth", addr); len(owners) != 1 || owners[0].UserID != "bob" {
			t.Fatalf("owners %+v after a refused change", owners)
		}
	})
}
