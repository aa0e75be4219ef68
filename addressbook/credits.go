package addressbook

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/misdeposit/recovery"
)

var (
	txHashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	digits        = regexp.MustCompile(`^[0-9]{1,100}$`)
	// maxAmount is 2^256: no chain holds a larger amount in one transfer.
	maxAmount = new(big.Int).Lsh(big.NewInt(1), 256)
)

// creditSkew is how far in the future a credit time may lie: the
// exchange's clock and ours differ, and a date-only time is midnight UTC
// of a day that has begun somewhere else.
const creditSkew = 24 * time.Hour

// Validate checks a credit and normalises it: the hash to 64 lower-case
// hex digits without 0x, the index to lower case, the amount to its
// shortest digits and the time to UTC, so that the credit is stored under
// the key the diagnosis looks it up by.
func (c *Credit) Validate() error {
	c.Network = strings.TrimSpace(c.Network)
	c.TxHash = strings.ToLower(strings.TrimSpace(c.TxHash))
	c.TxHash = strings.TrimPrefix(c.TxHash, "0x")
	c.Index = strings.ToLower(strings.TrimSpace(c.Index))
	c.UserID = strings.TrimSpace(c.UserID)
	c.Amount = strings.TrimSpace(c.Amount)
	switch {
	case !networkPattern.MatchString(c.Network):
		return recovery.FieldError("network", "network %q is not a network id", c.Network)
	case !txHashPattern.MatchString(c.TxHash):
		return recovery.FieldError("tx_hash", "tx_hash must be 64 hexadecimal digits, with or without 0x")
	case !recovery.ValidIndexCode(c.Index):
		return recovery.FieldError("index", "index must be v (native value), v<n> (native payment of operation or message n), o<n> (output), l<n> (token log) or c<n> (internal call), without leading zeros, not %q", c.Index)
	case !userPattern.MatchString(c.UserID):
		return recovery.FieldError("user_id", "user_id must be 1 to 128 letters, digits or . _ @ : -")
	}
	amount, err := parseAmount(c.Amount)
	if err != nil {
		return err
	}
	c.Amount = amount.String()
	switch {
	case c.CreditedAt.IsZero():
		return recovery.FieldError("credited_at", "credited_at is required")
	case c.CreditedAt.After(time.Now().Add(creditSkew)):
		return recovery.FieldError("credited_at", "credited_at %s is in the future", c.CreditedAt.UTC().Format(time.RFC3339))
	}
	c.CreditedAt = c.CreditedAt.UTC()
	return nil
}

// parseAmount reads a positive whole number of base units.
func parseAmount(s string) (*big.Int, error) {
	if !digits.MatchString(s) {
		return nil, recovery.FieldError("amount", "amount must be a whole number of base units (digits only, no decimal point), not %q", s)
	}
	n, _ := new(big.Int).SetString(s, 10)
	switch {
	case n.Sign() <= 0:
		return nil, recovery.FieldError("amount", "amount must be more than 0")
	case n.Cmp(maxAmount) > 0:
		return nil, recovery.FieldError("amount", "amount is larger than 2^256 base units")
	}
	return n, nil
}

// ParseCreditTime reads when a deposit was credited: an RFC 3339 time, or a
// date (2006-01-02), taken as midnight UTC.
func ParseCreditTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, recovery.FieldError("credited_at", "credited_at is required")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, recovery.FieldError("credited_at", "credited_at must be an RFC 3339 time (2006-01-02T15:04:05Z) or a date (2006-01-02), not %q", s)
}

// depositKey names a credit's deposit as a case id does.
func (c Credit) depositKey() string { return c.Network + "." + c.TxHash + "." + c.Index }

// RecordCredits validates and stores credited deposits in one transaction:
// all of them or none. A deposit is credited once: a credit already
// recorded with the same user and amount is left as it is, so a sync can
// be sent again, while one that names another user or amount is refused as
// a conflict, and nothing of the batch is stored.
func (s *Store) RecordCredits(ctx context.Context, credits []Credit) error {
	ordered := slices.Clone(credits)
	for i := range ordered {
		if err := ordered[i].Validate(); err != nil {
			var e *recovery.Error
			if errors.As(err, &e) {
				return &recovery.Error{Code: e.Code, Message: fmt.Sprintf("credit %d: %s", i+1, e.Message), Field: e.Field}
			}
			return err
		}
	}
	// Key order, as in Upsert, so that overlapping imports queue on
	// PostgreSQL instead of deadlocking.
	slices.SortStableFunc(ordered, func(a, b Credit) int {
		return cmp.Or(strings.Compare(a.Network, b.Network), strings.Compare(a.TxHash, b.TxHash), strings.Compare(a.Index, b.Index))
	})
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("address book: %w", err)
	}
	defer tx.Rollback()
	insert, err := tx.PrepareContext(ctx, `INSERT INTO credits (network, tx_hash, idx, user_id, amount, credited_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (network, tx_hash, idx) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("address book: %w", err)
	}
	defer insert.Close()
	for _, c := range ordered {
		res, err := insert.ExecContext(ctx, c.Network, c.TxHash, c.Index, c.UserID, c.Amount, c.CreditedAt.Format(time.RFC3339Nano))
		if err != nil {
			return fmt.Errorf("address book: record credit %s: %w", c.depositKey(), err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("address book: record credit %s: %w", c.depositKey(), err)
		} else if n == 1 {
			continue
		}
		if err := sameCredit(ctx, tx, c); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// sameCredit checks that the credit recorded for c's deposit is c's: the
// same user and amount. When it was credited is not compared, as the
// exchange may write its time more or less precisely from one export to
// the next.
func sameCredit(ctx context.Context, tx *sql.Tx, c Credit) error {
	var user, amount string
	err := tx.QueryRowContext(ctx, `SELECT user_id, amount FROM credits WHERE network = $1 AND tx_hash = $2 AND idx = $3`,
		c.Network, c.TxHash, c.Index).Scan(&user, &amount)
	if err != nil {
		return fmt.Errorf("address book: read credit %s: %w", c.depositKey(), err)
	}
	stored, ok := new(big.Int).SetString(amount, 10)
	if user == c.UserID && ok && stored.String() == c.Amount {
		return nil
	}
	return recovery.Errorf(recovery.EConflict, "deposit %s is already credited to %s (amount %s), not to %s (amount %s); nothing was imported",
		c.depositKey(), user, amount, c.UserID, c.Amount)
}
