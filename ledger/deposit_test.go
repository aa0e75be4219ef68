package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/misdeposit/recovery"
)

// Two cases filed for one deposit (a user who appealed twice, or a
// deposit found by two scans) credit it once: the second is refused with a
// conflict that names the case holding the credit, and writes nothing.
func TestADepositIsCreditedOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		first := usdtOnBSC()
		if _, ok, err := s.CreditOf(ctx, first.DepositID); ok || err != nil {
			t.Fatalf("credit of a deposit not yet credited: %v %v", ok, err)
		}
		if err := s.PostRecovery(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := usdtOnBSC()
		second.CaseID = fmt.Sprintf("bsc.%064x.to-0123456789", 1)
		err := s.PostRecovery(ctx, second)
		var e *recovery.Error
		if !errors.As(err, &e) || e.Code != recovery.EConflict || e.Field != "deposit_id" ||
			e.Message != fmt.Sprintf("deposit %s was already credited by case %s", first.DepositID, first.CaseID) {
			t.Fatalf("a second case's credit of the deposit: %v", err)
		}
		if lines, err := s.CaseLines(ctx, second.CaseID); err != nil || len(lines) != 0 {
			t.Fatalf("the refused credit wrote %q (%v)", lineTexts(lines), err)
		}
		// The first case's retry is still the no-op it was.
		if err := s.PostRecovery(ctx, first); err != nil {
			t.Fatalf("posting the first credit again: %v", err)
		}
		if caseID, ok, err := s.CreditOf(ctx, first.DepositID); caseID != first.CaseID || !ok || err != nil {
			t.Fatalf("CreditOf = %q %v %v, want %s", caseID, ok, err, first.CaseID)
		}
		// The second case can credit a deposit of its own.
		second.DepositID = caseID("bsc", 2)
		if err := s.PostRecovery(ctx, second); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreditOf(ctx, fmt.Sprintf("bsc.%064x.to-0123456789", 1)); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Fatalf("CreditOf a case's fallback form: %v, want invalid", err)
		}
	})
}

// Twenty workers credit one deposit under twenty cases at once: one entry
// is written, the other nineteen are refused naming its case.
func TestConcurrentCasesOfOneDepositCreditOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r := usdtOnBSC()
				r.CaseID = fmt.Sprintf("bsc.%064x.o%d", 1, i)
				errs[i] = s.PostRecovery(ctx, r)
			})
		}
		wg.Wait()
		holder, ok, err := s.CreditOf(ctx, usdtOnBSC().DepositID)
		if !ok || err != nil {
			t.Fatalf("no case holds the credit: %v", err)
		}
		entries := map[int64]bool{}
		winners := 0
		for i, err := range errs {
			id := fmt.Sprintf("bsc.%064x.o%d", 1, i)
			lines, lerr := s.CaseLines(ctx, id)
			if lerr != nil {
				t.Fatal(lerr)
			}
			for _, l := range lines {
				entries[l.EntryID] = true
			}
			if err == nil {
				winners++
				if id != holder || len(lines) != 6 {
					t.Errorf("case %d credited with %d lines; CreditOf names %s", i, len(lines), holder)
				}
				continue
			}
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EConflict || e.Field != "deposit_id" || !strings.HasSuffix(e.Message, "by case "+holder) {
				t.Errorf("case %d: %v, want a conflict naming %s", i, err, holder)
			}
			if len(lines) != 0 {
				t.Errorf("refused case %d wrote %q", i, lineTexts(lines))
			}
		}
		if winners != 1 || len(entries) != 1 {
			t.Fatalf("%d credits accepted, %d entries written; want one", winners, len(entries))
		}
	})
}

// A ledger written before deposits were recorded gets their table when it
// is opened, and its credits, which name no deposit, are still the same
// credits when posted again with one.
func TestCreditsOfALedgerBeforeDeposits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r := usdtOnBSC()
	if err := s.PostRecovery(ctx, r); err != nil {
		t.Fatal(err)
	}
	// What the credit looked like before: no deposit in its content, no
	// table of deposits.
	for _, stmt := range []string{
		`DROP TABLE ledger_deposits`,
		`UPDATE ledger_entries SET content = replace(content, '"deposit_id":"` + r.DepositID + `",', '')`,
	} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM ledger_entries WHERE content LIKE '%deposit_id%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d credits still name their deposit (%v)", n, err)
	}
	s.Close()
	s = open(t, path)
	if err := s.PostRecovery(ctx, r); err != nil {
		t.Fatalf("posting a credit of before again: %v", err)
	}
	if err := s.PostRecovery(ctx, ltcToBTC()); err != nil {
		t.Fatalf("a new credit after the upgrade: %v", err)
	}
	if caseID, ok, err := s.CreditOf(ctx, ltcToBTC().DepositID); !ok || err != nil || caseID != ltcToBTC().CaseID {
		t.Fatalf("CreditOf after the upgrade: %q %v %v", caseID, ok, err)
	}
	if lines, err := s.CaseLines(ctx, r.CaseID); err != nil || len(lines) != 6 {
		t.Fatalf("%v %q", err, lineTexts(lines))
	}
}
