package ledger

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/misdeposit/recovery"
)

// Recovery transactions are recorded before they are broadcast, so that
// money moves once: a retried activity, a restarted worker or a second
// worker finds the transaction already signed for a deposit's step and
// broadcasts that one again (a no-op for the chain) instead of signing a
// second. An EVM sender's nonces are handed out here too, since two
// transactions signed with one nonce would have one of them dropped, and
// one signed for a nonce another recovery already used is never mined.
//
// ledger_sends holds the transaction of each (deposit, step); ledger_nonces
// the nonce each (deposit, step) holds on its sending address. nonce is
// NULL for a UTXO transaction; raw is the signed transaction in hex.
const sqliteSendsSchema = `
CREATE TABLE IF NOT EXISTS ledger_sends (
	deposit_id   TEXT NOT NULL,
	step         TEXT NOT NULL,
	case_id      TEXT NOT NULL,
	network      TEXT NOT NULL,
	from_address TEXT NOT NULL,
	nonce        INTEGER,
	tx_hash      TEXT NOT NULL,
	raw          TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	PRIMARY KEY (deposit_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_nonces (
	network    TEXT NOT NULL,
	address    TEXT NOT NULL,
	nonce      INTEGER NOT NULL,
	deposit_id TEXT NOT NULL,
	step       TEXT NOT NULL,
	PRIMARY KEY (network, address, nonce),
	UNIQUE (deposit_id, step)
) WITHOUT ROWID;`

const postgresSendsSchema = `
CREATE TABLE IF NOT EXISTS ledger_sends (
	deposit_id   TEXT COLLATE "C" NOT NULL,
	step         TEXT COLLATE "C" NOT NULL,
	case_id      TEXT COLLATE "C" NOT NULL,
	network      TEXT COLLATE "C" NOT NULL,
	from_address TEXT COLLATE "C" NOT NULL,
	nonce        BIGINT,
	tx_hash      TEXT COLLATE "C" NOT NULL,
	raw          TEXT COLLATE "C" NOT NULL,
	created_at   TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (deposit_id, step)
);
CREATE TABLE IF NOT EXISTS ledger_nonces (
	network    TEXT COLLATE "C" NOT NULL,
	address    TEXT COLLATE "C" NOT NULL,
	nonce      BIGINT NOT NULL,
	deposit_id TEXT COLLATE "C" NOT NULL,
	step       TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (network, address, nonce),
	UNIQUE (deposit_id, step)
);`

// Send is a signed recovery transaction: the Step of the recovery of a
// deposit (e.g. "sweep", "topup", "return"), sent on Network from the
// address From.
type Send struct {
	DepositID, Step, CaseID, Network, From string

	Nonce *uint64 // EVM; nil for UTXO
	Hash  string
	Raw   []byte    // the signed transaction
	At    time.Time // when it was recorded; RecordSend takes now for zero
}

var (
	sendStepPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	addressPattern  = regexp.MustCompile(`^[A-Za-z0-9:._-]{1,128}$`)
	evmAddress      = regexp.MustCompile(`^0[xX][0-9a-fA-F]{40}$`)
	txHashPattern   = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
)

// maxRaw bounds a signed transaction, well above the largest a chain
// relays (BTC's 400,000 weight units; an EVM node's 128 KiB).
const maxRaw = 1 << 20

// reserveAttempts bounds how often ReserveNonce tries again after another
// caller took the nonce it chose: each lost attempt means another
// reservation of the address was made meanwhile.
const reserveAttempts = 64

// address is a sending address as keyed: an EVM address in lower case,
// since the checksummed and the lower-case forms are one account with one
// nonce sequence; any other as given.
func address(a string) string {
	if evmAddress.MatchString(a) {
		return strings.ToLower(a)
	}
	return a
}

func checkSendKey(depositID, step string) error {
	switch {
	case !recovery.ValidDepositID(depositID):
		return depositIDError(depositID)
	case !sendStepPattern.MatchString(step):
		return recovery.FieldError("step", "step must be a lowercase word of up to 32 letters, digits or _, not %q", clip(step))
	}
	return nil
}

// checkAccount checks a sending address and its network; field is what
// the caller calls the address.
func checkAccount(network, addr, field string) error {
	switch {
	case !networkPattern.MatchString(network):
		return recovery.FieldError("network", "network %q is not a network id", clip(network))
	case !addressPattern.MatchString(addr):
		return recovery.FieldError(field, "%s must be 1 to 128 letters, digits or : . _ -", field)
	}
	return nil
}

// validate checks sd and normalises it: the address as keyed, the time in
// UTC, now when not given.
func (sd *Send) validate() error {
	if err := checkSendKey(sd.DepositID, sd.Step); err != nil {
		return err
	}
	if !recovery.ValidCaseID(sd.CaseID) {
		return recovery.FieldError("case_id", "case_id %q is not a case id (network.hash.index)", clip(sd.CaseID))
	}
	if err := checkAccount(sd.Network, sd.From, "from"); err != nil {
		return err
	}
	switch {
	case sd.Nonce != nil && *sd.Nonce > math.MaxInt64:
		return recovery.FieldError("nonce", "nonce %d is above 2^63-1", *sd.Nonce)
	case !txHashPattern.MatchString(sd.Hash):
		return recovery.FieldError("hash", "the transaction hash must be 1 to 128 letters or digits")
	case len(sd.Raw) == 0:
		return recovery.FieldError("raw", "the signed transaction is required")
	case len(sd.Raw) > maxRaw:
		return recovery.FieldError("raw", "the signed transaction is larger than %d bytes", maxRaw)
	}
	if sd.At.IsZero() {
		sd.At = time.Now()
	}
	sd.From, sd.At = address(sd.From), sd.At.UTC()
	return checkTime("at", sd.At)
}

// Sent returns the recorded transaction of (depositID, step), ok false
// when none is recorded.
func (s *Store) Sent(ctx context.Context, depositID, step string) (Send, bool, error) {
	if err := checkSendKey(depositID, step); err != nil {
		return Send{}, false, err
	}
	sd, err := sent(ctx, s.db, depositID, step)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Send{}, false, nil
	case err != nil:
		return Send{}, false, err
	}
	return sd, true, nil
}

// querier is what sent reads through: the store's database or one of its
// transactions.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// sent reads a recorded transaction; sql.ErrNoRows when there is none.
func sent(ctx context.Context, q querier, depositID, step string) (Send, error) {
	sd := Send{DepositID: depositID, Step: step}
	var nonce sql.NullInt64
	var raw, at string
	err := q.QueryRowContext(ctx, `SELECT case_id, network, from_address, nonce, tx_hash, raw, created_at
		FROM ledger_sends WHERE deposit_id = $1 AND step = $2`, depositID, step).
		Scan(&sd.CaseID, &sd.Network, &sd.From, &nonce, &sd.Hash, &raw, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Send{}, err
	}
	if err != nil {
		return Send{}, fmt.Errorf("ledger: send %s %s: %w", depositID, step, err)
	}
	if nonce.Valid {
		if nonce.Int64 < 0 {
			return Send{}, fmt.Errorf("ledger: send %s %s: stored nonce %d is negative", depositID, step, nonce.Int64)
		}
		n := uint64(nonce.Int64)
		sd.Nonce = &n
	}
	if sd.Raw, err = hex.DecodeString(raw); err != nil {
		return Send{}, fmt.Errorf("ledger: send %s %s: stored transaction: %w", depositID, step, err)
	}
	if sd.At, err = parseTime(at); err != nil {
		return Send{}, err
	}
	return sd, nil
}

// ReserveNonce gives (depositID, step) the nonce of (network, address) it
// will send with: the one it already holds, else max(next, the highest
// reserved for the address + 1), where next is the node's pending nonce of
// the address. A retry or a restart gets the nonce it was given before;
// two callers never get the same one. A (depositID, step) that holds a
// nonce of another address is refused with recovery.EConflict.
//
// A nonce once reserved stays reserved: a recovery that reserves one must
// send with it, or the address's later transactions wait on the gap.
func (s *Store) ReserveNonce(ctx context.Context, network, addr, depositID, step string, next uint64) (uint64, error) {
	if err := checkSendKey(depositID, step); err != nil {
		return 0, err
	}
	if err := checkAccount(network, addr, "address"); err != nil {
		return 0, err
	}
	if next > math.MaxInt64 {
		return 0, recovery.FieldError("next", "next nonce %d is above 2^63-1", next)
	}
	addr = address(addr)
	for range reserveAttempts {
		nonce, ok, err := s.reserveNonce(ctx, network, addr, depositID, step, int64(next))
		if err != nil || ok {
			return uint64(nonce), err
		}
	}
	return 0, recovery.Errorf(recovery.EUnavailable, "no nonce of %s on %s could be reserved for %s %s in %d attempts; retry later",
		addr, network, depositID, step, reserveAttempts)
}

// reserveNonce makes one attempt, ok false when another caller took the
// nonce it chose, or reserved for (depositID, step) meanwhile.
func (s *Store) reserveNonce(ctx context.Context, network, addr, depositID, step string, next int64) (int64, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	var heldNetwork, heldAddr string
	var nonce int64
	err = tx.QueryRowContext(ctx, `SELECT network, address, nonce FROM ledger_nonces WHERE deposit_id = $1 AND step = $2`,
		depositID, step).Scan(&heldNetwork, &heldAddr, &nonce)
	switch {
	case err == nil && (heldNetwork != network || heldAddr != addr):
		return 0, false, &recovery.Error{Code: recovery.EConflict, Field: "address",
			Message: fmt.Sprintf("%s %s holds nonce %d of %s on %s, not a nonce of %s on %s", depositID, step, nonce, heldAddr, heldNetwork, addr, network)}
	case err == nil:
		return nonce, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, false, fmt.Errorf("ledger: nonce of %s %s: %w", depositID, step, err)
	}
	var highest sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(nonce) FROM ledger_nonces WHERE network = $1 AND address = $2`,
		network, addr).Scan(&highest); err != nil {
		return 0, false, fmt.Errorf("ledger: nonces of %s on %s: %w", addr, network, err)
	}
	nonce = next
	if highest.Valid && highest.Int64 >= next {
		if highest.Int64 == math.MaxInt64 {
			return 0, false, recovery.Errorf(recovery.EConflict, "%s on %s has reserved nonce 2^63-1; there is no next", addr, network)
		}
		nonce = highest.Int64 + 1
	}
	// Either key may be taken by a caller that got here first: the
	// nonce, by a reservation for another deposit; (deposit, step), by a
	// concurrent retry of this one. Both are found by the next attempt.
	res, err := tx.ExecContext(ctx, `INSERT INTO ledger_nonces (network, address, nonce, deposit_id, step)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, network, addr, nonce, depositID, step)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: reserve nonce %d of %s on %s: %w", nonce, addr, network, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, fmt.Errorf("ledger: reserve nonce %d of %s on %s: %w", nonce, addr, network, err)
	}
	if n == 0 {
		return 0, false, nil
	}
	return nonce, true, commit(tx)
}

// RecordSend records a signed transaction before it is broadcast. If
// (DepositID, Step) already has one, it returns that one and records
// nothing: the caller must broadcast the recorded transaction, never its
// own. Otherwise it returns sd as recorded (the address of an EVM sender
// in lower case, At now when zero).
//
// An EVM transaction (Nonce set) must carry the nonce that ReserveNonce
// gave (DepositID, Step) on (Network, From); one that does not is refused
// with recovery.EConflict on nonce, as it would take or skip a nonce of
// another recovery. Invalid input is refused with recovery.EInvalid naming
// the field.
func (s *Store) RecordSend(ctx context.Context, sd Send) (Send, error) {
	if err := sd.validate(); err != nil {
		return Send{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Send{}, fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	recorded, err := sent(ctx, tx, sd.DepositID, sd.Step)
	switch {
	case err == nil:
		return recorded, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Send{}, err
	}
	if sd.Nonce != nil {
		if err := checkReserved(ctx, tx, sd); err != nil {
			return Send{}, err
		}
	}
	var nonce sql.NullInt64
	if sd.Nonce != nil {
		nonce = sql.NullInt64{Int64: int64(*sd.Nonce), Valid: true}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO ledger_sends (deposit_id, step, case_id, network, from_address, nonce, tx_hash, raw, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (deposit_id, step) DO NOTHING`,
		sd.DepositID, sd.Step, sd.CaseID, sd.Network, sd.From, nonce, sd.Hash, hex.EncodeToString(sd.Raw), timeKey(sd.At))
	if err != nil {
		return Send{}, fmt.Errorf("ledger: record send %s %s: %w", sd.DepositID, sd.Step, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Send{}, fmt.Errorf("ledger: record send %s %s: %w", sd.DepositID, sd.Step, err)
	}
	if n == 0 {
		// Recorded by a concurrent caller since this one looked.
		recorded, err := sent(ctx, tx, sd.DepositID, sd.Step)
		if err != nil {
			return Send{}, fmt.Errorf("ledger: record send %s %s: %w", sd.DepositID, sd.Step, err)
		}
		return recorded, nil
	}
	if err := commit(tx); err != nil {
		return Send{}, err
	}
	return sd, nil
}

// checkReserved checks that sd's nonce is the one its (deposit, step)
// holds on its address.
func checkReserved(ctx context.Context, tx *sql.Tx, sd Send) error {
	var network, addr string
	var nonce int64
	err := tx.QueryRowContext(ctx, `SELECT network, address, nonce FROM ledger_nonces WHERE deposit_id = $1 AND step = $2`,
		sd.DepositID, sd.Step).Scan(&network, &addr, &nonce)
	if errors.Is(err, sql.ErrNoRows) {
		return &recovery.Error{Code: recovery.EConflict, Field: "nonce",
			Message: fmt.Sprintf("%s %s holds no nonce; reserve one before signing", sd.DepositID, sd.Step)}
	}
	if err != nil {
		return fmt.Errorf("ledger: nonce of %s %s: %w", sd.DepositID, sd.Step, err)
	}
	if network != sd.Network || addr != sd.From || uint64(nonce) != *sd.Nonce {
		return &recovery.Error{Code: recovery.EConflict, Field: "nonce",
			Message: fmt.Sprintf("%s %s holds nonce %d of %s on %s, not nonce %d of %s on %s",
				sd.DepositID, sd.Step, nonce, addr, network, *sd.Nonce, sd.From, sd.Network)}
	}
	return nil
}
