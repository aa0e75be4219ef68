package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
)

const hotWallet = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

// deposit is the id of the n-th test deposit on bsc.
func deposit(n int) string { return caseID("bsc", n) }

// sweep is the EVM sweep of deposit n with nonce, signed as raw.
func sweep(n int, nonce uint64, raw string) Send {
	return Send{
		DepositID: deposit(n), Step: "sweep", CaseID: caseID("bsc", n), Network: "bsc", From: hotWallet,
		Nonce: &nonce, Hash: fmt.Sprintf("0x%064x", len(raw)), Raw: []byte(raw), At: credited,
	}
}

func reserve(t *testing.T, s *Store, addr string, n int, step string, next uint64) uint64 {
	t.Helper()
	nonce, err := s.ReserveNonce(context.Background(), "bsc", addr, deposit(n), step, next)
	if err != nil {
		t.Fatal(err)
	}
	return nonce
}

func TestReserveNonce(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// The first reservation takes the node's pending nonce; a retry,
		// even after the node's count moved on, gets the same one.
		if got := reserve(t, s, hotWallet, 1, "sweep", 7); got != 7 {
			t.Fatalf("first reservation: %d, want the pending nonce 7", got)
		}
		if got := reserve(t, s, hotWallet, 1, "sweep", 9); got != 7 {
			t.Fatalf("the same deposit and step again: %d, want 7", got)
		}
		// Another deposit, and another step of the first, follow on from
		// the reservations while the node has not seen them.
		if got := reserve(t, s, hotWallet, 2, "sweep", 7); got != 8 {
			t.Fatalf("a second deposit: %d, want 8", got)
		}
		// The address in lower case is the same account.
		if got := reserve(t, s, strings.ToLower(hotWallet), 1, "return", 7); got != 9 {
			t.Fatalf("another step, the address in lower case: %d, want 9", got)
		}
		// A pending nonce above every reservation (the address sent
		// otherwise meanwhile) wins.
		if got := reserve(t, s, hotWallet, 3, "sweep", 20); got != 20 {
			t.Fatalf("next above the reservations: %d, want 20", got)
		}
		// Each address, and each network, has its own sequence.
		other := "0x" + strings.Repeat("1", 40)
		if got := reserve(t, s, other, 4, "topup", 0); got != 0 {
			t.Fatalf("another address: %d, want 0", got)
		}
		if got, err := s.ReserveNonce(ctx, "eth", hotWallet, deposit(5), "sweep", 3); got != 3 || err != nil {
			t.Fatalf("another network: %d %v, want 3", got, err)
		}
		// A deposit's step sends from one address.
		if _, err := s.ReserveNonce(ctx, "bsc", other, deposit(1), "sweep", 0); recovery.ErrorCode(err) != recovery.EConflict {
			t.Fatalf("the same deposit and step from another address: %v, want a conflict", err)
		}
	})
}

func TestReserveNonceRefusesInvalidInput(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ledger.db"))
	for _, c := range []struct {
		name                     string
		network, addr, dep, step string
		next                     uint64
		field                    string
	}{
		{"network not an id", "BSC", hotWallet, deposit(1), "sweep", 0, "network"},
		{"no address", "bsc", "", deposit(1), "sweep", 0, "address"},
		{"address of 129 characters", "bsc", strings.Repeat("a", 129), deposit(1), "sweep", 0, "address"},
		{"address with a space", "bsc", "0x 12", deposit(1), "sweep", 0, "address"},
		{"case fallback form as the deposit", "bsc", hotWallet, fmt.Sprintf("bsc.%064x.to-0123456789", 1), "sweep", 0, "deposit_id"},
		{"no step", "bsc", hotWallet, deposit(1), "", 0, "step"},
		{"upper-case step", "bsc", hotWallet, deposit(1), "Sweep", 0, "step"},
		{"step of two words", "bsc", hotWallet, deposit(1), "sweep again", 0, "step"},
		{"next above 2^63-1", "bsc", hotWallet, deposit(1), "sweep", math.MaxInt64 + 1, "next"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.ReserveNonce(context.Background(), c.network, c.addr, c.dep, c.step, c.next)
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != c.field {
				t.Fatalf("error %v, want invalid %s", err, c.field)
			}
		})
	}
	if got := reserve(t, s, hotWallet, 1, "sweep", math.MaxInt64); got != math.MaxInt64 {
		t.Fatalf("nonce 2^63-1: %d", got)
	}
	if _, err := s.ReserveNonce(context.Background(), "bsc", hotWallet, deposit(2), "sweep", 0); err == nil {
		t.Fatal("a nonce above 2^63-1 was reserved")
	}
}

// Twenty recoveries from one address reserve at once: each gets its own
// nonce, and together they leave no gap. Retries of one racing with them
// all get its one nonce.
func TestConcurrentReservationsGetDistinctNonces(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const n = 20
		nonces := make([]uint64, n)
		retried := make([]uint64, 5)
		errs := make([]error, n+len(retried))
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { nonces[i], errs[i] = s.ReserveNonce(ctx, "bsc", hotWallet, deposit(i), "sweep", 100) })
		}
		for i := range retried {
			wg.Go(func() { retried[i], errs[n+i] = s.ReserveNonce(ctx, "bsc", hotWallet, deposit(0), "sweep", 100) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		sorted := slices.Sorted(slices.Values(nonces))
		for i, nonce := range sorted {
			if nonce != 100+uint64(i) {
				t.Fatalf("nonces %v, want 100 to 119 once each", sorted)
			}
		}
		for _, nonce := range retried {
			if nonce != nonces[0] {
				t.Fatalf("retries of deposit 0 got %v, it holds %d", retried, nonces[0])
			}
		}
	})
}

func TestRecordSend(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, ok, err := s.Sent(ctx, deposit(1), "sweep"); ok || err != nil {
			t.Fatalf("Sent before anything was recorded: %v %v", ok, err)
		}
		nonce := reserve(t, s, hotWallet, 1, "sweep", 7)
		first := sweep(1, nonce, "\x02signed-first")
		got, err := s.RecordSend(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		first.From = strings.ToLower(hotWallet) // one account, keyed in lower case
		checkSend(t, "recorded", got, first)
		// A retry signed anew (another fee, another signature) gets the
		// first transaction back, which stays as it was.
		second := sweep(1, nonce, "\x02signed-second-with-a-higher-fee")
		second.At = credited.Add(time.Minute)
		got, err = s.RecordSend(ctx, second)
		if err != nil {
			t.Fatal(err)
		}
		checkSend(t, "recorded again", got, first)
		stored, ok, err := s.Sent(ctx, deposit(1), "sweep")
		if !ok || err != nil {
			t.Fatalf("Sent: %v %v", ok, err)
		}
		checkSend(t, "stored", stored, first)
		if _, ok, _ := s.Sent(ctx, deposit(1), "return"); ok {
			t.Fatal("another step of the deposit was sent")
		}

		// A UTXO transaction has no nonce.
		utxo := Send{DepositID: caseID("ltc", 2), Step: "return", CaseID: caseID("ltc", 2), Network: "ltc",
			From: "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", Hash: strings.Repeat("ab", 32), Raw: []byte{1, 0, 0, 0}, At: credited}
		if got, err := s.RecordSend(ctx, utxo); err != nil {
			t.Fatal(err)
		} else {
			checkSend(t, "UTXO send", got, utxo)
		}
		if got, ok, err := s.Sent(ctx, utxo.DepositID, "return"); !ok || err != nil {
			t.Fatalf("Sent of the UTXO send: %v %v", ok, err)
		} else {
			checkSend(t, "stored UTXO send", got, utxo)
		}

		// An EVM transaction signed with a nonce its deposit does not
		// hold would take another recovery's, or leave a gap.
		other := reserve(t, s, hotWallet, 3, "sweep", 0)
		for _, sd := range []Send{sweep(4, other, "unreserved"), sweep(3, other+1, "another nonce")} {
			if _, err := s.RecordSend(ctx, sd); recovery.ErrorCode(err) != recovery.EConflict {
				t.Fatalf("send of %s with nonce %d: %v, want a conflict", sd.DepositID, *sd.Nonce, err)
			}
			if _, ok, _ := s.Sent(ctx, sd.DepositID, sd.Step); ok {
				t.Fatalf("the refused send of %s was recorded", sd.DepositID)
			}
		}
	})
}

func checkSend(t *testing.T, what string, got, want Send) {
	t.Helper()
	if got.DepositID != want.DepositID || got.Step != want.Step || got.CaseID != want.CaseID || got.Network != want.Network ||
		got.From != want.From || got.Hash != want.Hash || !bytes.Equal(got.Raw, want.Raw) || !got.At.Equal(want.At) ||
		(got.Nonce == nil) != (want.Nonce == nil) || (got.Nonce != nil && *got.Nonce != *want.Nonce) {
		t.Fatalf("%s: %+v, want %+v", what, got, want)
	}
}

// Workers that signed one deposit's sweep each their own way record at
// once: one transaction is recorded, and every worker is told to
// broadcast that one.
func TestConcurrentRecordsOfOneSendAgree(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		nonce := reserve(t, s, hotWallet, 1, "sweep", 0)
		got := make([]Send, 10)
		errs := make([]error, len(got))
		var wg sync.WaitGroup
		for i := range got {
			wg.Go(func() { got[i], errs[i] = s.RecordSend(ctx, sweep(1, nonce, strings.Repeat("x", i+1))) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		stored, ok, err := s.Sent(ctx, deposit(1), "sweep")
		if !ok || err != nil {
			t.Fatalf("Sent: %v %v", ok, err)
		}
		for i, sd := range got {
			checkSend(t, fmt.Sprintf("worker %d", i), sd, stored)
		}
	})
}

// A worker restarted after recording finds the transaction.
func TestSendSurvivesReopening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	nonce := reserve(t, s, hotWallet, 1, "sweep", 5)
	want, err := s.RecordSend(ctx, sweep(1, nonce, "signed"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path)
	if got := reserve(t, s, hotWallet, 1, "sweep", 6); got != nonce {
		t.Fatalf("nonce after the restart: %d, want %d", got, nonce)
	}
	got, ok, err := s.Sent(ctx, deposit(1), "sweep")
	if !ok || err != nil {
		t.Fatalf("Sent after the restart: %v %v", ok, err)
	}
	checkSend(t, "after the restart", got, want)
}

func TestRecordSendRefusesInvalidInput(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ledger.db"))
	for _, c := range []struct {
		name   string
		change func(sd *Send)
		field  string
	}{
		{"no deposit", func(sd *Send) { sd.DepositID = "" }, "deposit_id"},
		{"no step", func(sd *Send) { sd.Step = "" }, "step"},
		{"step of 33 letters", func(sd *Send) { sd.Step = strings.Repeat("s", 33) }, "step"},
		{"not a case id", func(sd *Send) { sd.CaseID = "bsc.1.o1" }, "case_id"},
		{"network not an id", func(sd *Send) { sd.Network = "" }, "network"},
		{"no sender", func(sd *Send) { sd.From = "" }, "from"},
		{"sender of 129 characters", func(sd *Send) { sd.From = strings.Repeat("a", 129) }, "from"},
		{"nonce above 2^63-1", func(sd *Send) { n := uint64(math.MaxInt64) + 1; sd.Nonce = &n }, "nonce"},
		{"no hash", func(sd *Send) { sd.Hash = "" }, "hash"},
		{"hash with a space", func(sd *Send) { sd.Hash = "ab cd" }, "hash"},
		{"no transaction", func(sd *Send) { sd.Raw = nil }, "raw"},
		{"transaction of 1 MiB and a byte", func(sd *Send) { sd.Raw = make([]byte, 1<<20+1) }, "raw"},
		{"in the year 10000", func(sd *Send) { sd.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "at"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sd := sweep(1, 0, "signed")
			c.change(&sd)
			_, err := s.RecordSend(context.Background(), sd)
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != c.field {
				t.Fatalf("error %v, want invalid %s", err, c.field)
			}
		})
	}
	if _, _, err := s.Sent(context.Background(), deposit(1), "Sweep"); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("Sent of a malformed step: %v", err)
	}
}
