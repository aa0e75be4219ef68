package addressbook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
)

func TestCreditValidateNormalisesAndNamesTheField(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	c := Credit{Network: " eth ", TxHash: "0x" + strings.ToUpper(hash), Index: "L3", UserID: "alice", Amount: "000250", CreditedAt: now.In(time.FixedZone("CET", 3600))}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Network != "eth" || c.TxHash != hash || c.Index != "l3" || c.Amount != "250" || c.CreditedAt.Location() != time.UTC {
		t.Fatalf("normalised to %+v", c)
	}
	most := "115792089237316195423570985008687907853269984665640564039457584007913129639936" // 2^256
	for _, tc := range []struct {
		field  string
		change func(*Credit)
	}{
		{"network", func(c *Credit) { c.Network = "ETH" }},
		{"tx_hash", func(c *Credit) { c.TxHash = hash[:63] }},
		{"tx_hash", func(c *Credit) { c.TxHash = "0x" + hash[:62] + "zz" }},
		{"index", func(c *Credit) { c.Index = "" }},
		{"index", func(c *Credit) { c.Index = "o01" }},
		{"index", func(c *Credit) { c.Index = "x1" }},
		{"index", func(c *Credit) { c.Index = "o1234567" }},
		{"user_id", func(c *Credit) { c.UserID = "al ice" }},
		{"amount", func(c *Credit) { c.Amount = "" }},
		{"amount", func(c *Credit) { c.Amount = "0" }},
		{"amount", func(c *Credit) { c.Amount = "-5" }},
		{"amount", func(c *Credit) { c.Amount = "1.5" }},
		{"amount", func(c *Credit) { c.Amount = "1e18" }},
		{"amount", func(c *Credit) { c.Amount = most + "0" }},
		{"credited_at", func(c *Credit) { c.CreditedAt = time.Time{} }},
		{"credited_at", func(c *Credit) { c.CreditedAt = time.Now().Add(49 * time.Hour) }},
	} {
		c := Credit{Network: "eth", TxHash: hash, Index: "v", UserID: "alice", Amount: "1", CreditedAt: now}
		tc.change(&c)
		err := c.Validate()
		var e *recovery.Error
		if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != tc.field {
			t.Errorf("%+v: %v, want invalid %s", c, err, tc.field)
		}
	}
	// The largest amount a chain can hold, and a credit stamped a few
	// hours ahead by a clock that runs fast, are accepted.
	ok := Credit{Network: "btc", TxHash: hash, Index: "o12", UserID: "u", Amount: most, CreditedAt: time.Now().Add(5 * time.Hour)}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRecordCreditsIsAllOrNothingAndIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		h1, h2, h3 := strings.Repeat("a1", 32), strings.Repeat("b2", 32), strings.Repeat("c3", 32)
		batch := []Credit{
			{Network: "eth", TxHash: "0x" + strings.ToUpper(h1), Index: "v", UserID: "alice", Amount: "250000000000000000", CreditedAt: now},
			{Network: "eth", TxHash: h1, Index: "l2", UserID: "alice", Amount: "1000000", CreditedAt: now},
			{Network: "btc", TxHash: h2, Index: "o0", UserID: "bob", Amount: "15000", CreditedAt: now},
		}
		if err := s.RecordCredits(ctx, batch); err != nil {
			t.Fatal(err)
		}
		// The diagnosis looks a deposit up by its bare lower-case hash.
		got, err := s.Credited(ctx, "eth", h1, "v")
		if err != nil || got == nil || got.UserID != "alice" || got.Amount != "250000000000000000" || !got.CreditedAt.Equal(now) {
			t.Fatalf("credit: %v %+v", err, got)
		}
		// The same export again, its times written to the day, is a no-op.
		again := []Credit{batch[2], batch[0], batch[1]}
		for i := range again {
			again[i].CreditedAt = now.Truncate(24 * time.Hour)
		}
		if err := s.RecordCredits(ctx, again); err != nil {
			t.Fatalf("re-import: %v", err)
		}
		if got, _ := s.Credited(ctx, "btc", h2, "o0"); got == nil || !got.CreditedAt.Equal(now) {
			t.Fatalf("a re-import changed the credit: %+v", got)
		}
		// A batch with a new credit and one that credits a known deposit
		// to someone else is refused as a conflict naming the deposit, and
		// its new credit is not stored.
		err = s.RecordCredits(ctx, []Credit{
			{Network: "eth", TxHash: h3, Index: "v", UserID: "carol", Amount: "7", CreditedAt: now},
			{Network: "btc", TxHash: h2, Index: "o0", UserID: "mallory", Amount: "15000", CreditedAt: now},
		})
		if recovery.ErrorCode(err) != recovery.EConflict || !strings.Contains(err.Error(), "btc."+h2+".o0") {
			t.Fatalf("another user: %v, want a conflict naming the deposit", err)
		}
		if got, _ := s.Credited(ctx, "eth", h3, "v"); got != nil {
			t.Fatal("the good credit of a refused batch was stored")
		}
		// Another amount is a conflict too.
		changed := batch[1]
		changed.Amount = "999"
		if err := s.RecordCredits(ctx, []Credit{changed}); recovery.ErrorCode(err) != recovery.EConflict {
			t.Fatalf("another amount: %v", err)
		}
		// So is one deposit credited twice, differently, in one batch.
		err = s.RecordCredits(ctx, []Credit{
			{Network: "eth", TxHash: h3, Index: "c1", UserID: "carol", Amount: "7", CreditedAt: now},
			{Network: "eth", TxHash: h3, Index: "c1", UserID: "dave", Amount: "7", CreditedAt: now},
		})
		if recovery.ErrorCode(err) != recovery.EConflict {
			t.Fatalf("one deposit twice in a batch: %v", err)
		}
		if got, _ := s.Credited(ctx, "eth", h3, "c1"); got != nil {
			t.Fatal("a conflicting batch stored a credit")
		}
		// An invalid credit refuses the batch before anything is written,
		// naming its place in the batch.
		err = s.RecordCredits(ctx, []Credit{
			{Network: "eth", TxHash: h3, Index: "v", UserID: "carol", Amount: "7", CreditedAt: now},
			{Network: "eth", TxHash: h3, Index: "v0", UserID: "carol", Amount: "7", CreditedAt: now},
		})
		if recovery.ErrorCode(err) != recovery.EInvalid || !strings.Contains(err.Error(), "credit 2") {
			t.Fatalf("invalid credit: %v", err)
		}
		if got, _ := s.Credited(ctx, "eth", h3, "v"); got != nil {
			t.Fatal("the good credit of an invalid batch was stored")
		}
	})
}

// Two operators sync overlapping exports at once: both succeed, and every
// deposit is credited once.
func TestConcurrentCreditImports(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		credit := func(i int) Credit {
			return Credit{Network: "eth", TxHash: fmt.Sprintf("%064x", i), Index: "v", UserID: "u", Amount: "1", CreditedAt: now}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for i := range 10 {
			wg.Go(func() {
				var batch []Credit
				for j := range 10 {
					if i%2 == 0 {
						batch = append(batch, credit(j))
					} else {
						batch = append(batch, credit(9-j))
					}
				}
				errs <- s.RecordCredits(ctx, append(batch, credit(100+i)))
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range []int{0, 9, 100, 109} {
			if got, err := s.Credited(ctx, "eth", credit(i).TxHash, "v"); err != nil || got == nil {
				t.Fatalf("%d: %v %+v", i, err, got)
			}
		}
	})
}

func TestReadCreditsCSV(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	good := "\ufeffnetwork,tx_hash,index,user_id,amount,credited_at\n" +
		"eth,0x" + strings.ToUpper(hash) + ",v,alice,250000000000000000,2026-11-23T12:00:00+01:00\n" +
		"btc," + hash + ",o1,bob,15000,2026-11-20\n"
	credits, err := ReadCreditsCSV(strings.NewReader(good))
	if err != nil || len(credits) != 2 {
		t.Fatalf("%v %+v", err, credits)
	}
	if c := credits[0]; c.TxHash != hash || !c.CreditedAt.Equal(now.Add(-time.Hour)) {
		t.Fatalf("first row: %+v", c)
	}
	if c := credits[1]; c.Index != "o1" || !c.CreditedAt.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("a date is midnight UTC: %+v", c)
	}
	// Columns in another order are read by name.
	reordered := "credited_at,amount,user_id,index,tx_hash,network\n2026-11-20,5,u,c2," + hash + ",eth\n"
	if credits, err := ReadCreditsCSV(strings.NewReader(reordered)); err != nil || len(credits) != 1 || credits[0].Index != "c2" || credits[0].Amount != "5" {
		t.Fatalf("reordered: %v %+v", err, credits)
	}
	head := "network,tx_hash,index,user_id,amount,credited_at\n"
	row := "eth," + hash + ",v,alice,1,2026-11-20\n"
	var many strings.Builder
	many.WriteString(head)
	for range 30 {
		many.WriteString("eth," + hash + ",v,alice,1.5,2026-11-20\n")
	}
	for name, tc := range map[string]struct{ csv, want string }{
		"empty":            {"", "empty"},
		"unknown column":   {head[:len(head)-1] + ",colour\n", `unknown column "colour"`},
		"missing column":   {"network,tx_hash,index,user_id,amount\n", `"credited_at" is required`},
		"twice":            {"network,network,tx_hash,index,user_id,amount,credited_at\n", "appears twice"},
		"bad hash":         {head + row + "eth,abc,v,alice,1,2026-11-20\n", "line 3: tx_hash"},
		"decimal amount":   {head + "eth," + hash + ",v,alice,0.25,2026-11-20\n", "line 2: amount"},
		"bad time":         {head + "eth," + hash + ",v,alice,1,23/11/2026\n", "line 2: credited_at"},
		"future":           {head + "eth," + hash + ",v,alice,1,2999-01-01\n", "line 2: credited_at"},
		"ragged":           {head + "eth," + hash + ",v,alice,1\n", "line 2"},
		"every bad line":   {head + "eth,x,v,a,1,2026-11-20\n" + row + "eth," + hash + ",q,a,1,2026-11-20\n", "line 2: tx_hash must be 64 hexadecimal digits, with or without 0x; line 4: index"},
		"at most 20 lines": {many.String(), "line 21: amount"},
	} {
		credits, err := ReadCreditsCSV(strings.NewReader(tc.csv))
		if recovery.ErrorCode(err) != recovery.EInvalid || !strings.Contains(err.Error(), tc.want) || credits != nil {
			t.Errorf("%s: %v, want invalid mentioning %q", name, err, tc.want)
		}
		if name == "at most 20 lines" && strings.Contains(err.Error(), "line 22") {
			t.Errorf("more than 20 problems listed: %v", err)
		}
	}
}

func FuzzReadCreditsCSV(f *testing.F) {
	hash := strings.Repeat("ab", 32)
	f.Add("network,tx_hash,index,user_id,amount,credited_at\neth,0x" + hash + ",v,alice,250000000000000000,2026-11-23T12:00:00Z\n")
	f.Add("credited_at,amount,user_id,index,tx_hash,network\n2026-11-20,5,u,o12," + strings.ToUpper(hash) + ",btc\n")
	f.Add("network,tx_hash,index,user_id,amount,credited_at\neth," + hash + ",l01,a,1.5,yesterday\n")
	f.Add("\"unterminated")
	f.Fuzz(func(t *testing.T, data string) {
		credits, err := ReadCreditsCSV(strings.NewReader(data))
		if err != nil {
			if recovery.ErrorCode(err) != recovery.EInvalid {
				t.Fatalf("error code %q: %v", recovery.ErrorCode(err), err)
			}
			return
		}
		for _, c := range credits {
			before := c
			if err := c.Validate(); err != nil {
				t.Fatalf("returned an invalid credit %+v: %v", before, err)
			}
			// What is returned is already in the form it is stored in.
			if c.Network != before.Network || c.TxHash != before.TxHash || c.Index != before.Index || c.UserID != before.UserID ||
				c.Amount != before.Amount || !c.CreditedAt.Equal(before.CreditedAt) {
				t.Fatalf("returned %+v, not normalised to %+v", before, c)
			}
		}
	})
}
