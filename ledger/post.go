package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
)

// Recovery is one recovered deposit as the workflow posts it when the user
// is credited.
type Recovery struct {
	CaseID   string    // the workflow id, e.g. "btc.<64 hex>.o1"
	Step     string    // idempotency key within the case: StepCredit
	At       time.Time // when credited
	FiledAt  time.Time // when the appeal was filed (for time to recovery)
	Network  string
	Category string
	Asset    string // "BTC", "USDT", or a token contract
	Decimals int32
	Deposit  *big.Int // base units recovered from chain

	// DepositID is the deposit credited, network.hash.index as in a case
	// id but never its to-<fingerprint> form. A deposit is credited once,
	// whichever case posts it.
	DepositID string
	// ServiceFee is in base units of Asset, kept as the service fee.
	ServiceFee *big.Int
	// NetworkCostCharged is in base units of Asset, charged to the user for
	// the network cost.
	NetworkCostCharged *big.Int
	// NetworkCostPaid is what the exchange actually paid on chain, in the
	// network's native asset; its share of the batch for a batched case.
	NetworkCostPaid NetworkCost
	UserID          string
	PriceUSD        decimal.Decimal // USD per whole unit of Asset used by the quote
}

// NetworkCost is an amount of a network's native asset and its price.
type NetworkCost struct {
	Asset    string
	Decimals int32
	Amount   *big.Int
	PriceUSD decimal.Decimal // USD per whole unit of Asset
}

var (
	networkPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	userPattern    = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)
	assetPattern   = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

// Bounds of what a posting may hold: a uint256 is the largest amount any
// chain the engine knows can move, and 36 decimals covers every asset.
const (
	maxAmountBits = 256
	maxDecimals   = 36
	// maxPriceExp bounds a price at 10^18 USD per whole unit, far above
	// any asset, so that a typo cannot store an absurdly long number.
	maxPriceExp = 18
)

// validate checks r and normalises it: missing fees and costs are zero,
// times are UTC.
func (r *Recovery) validate() error {
	r.ServiceFee = orZero(r.ServiceFee)
	r.NetworkCostCharged = orZero(r.NetworkCostCharged)
	r.NetworkCostPaid.Amount = orZero(r.NetworkCostPaid.Amount)
	r.At, r.FiledAt = r.At.UTC(), r.FiledAt.UTC()
	switch {
	case !recovery.ValidCaseID(r.CaseID):
		return recovery.FieldError("case_id", "case_id %q is not a case id (network.hash.index)", clip(r.CaseID))
	case !recovery.ValidDepositID(r.DepositID):
		return depositIDError(r.DepositID)
	case r.Step == StepRefund:
		return recovery.FieldError("step", "a refund is posted with PostRefund, not PostRecovery")
	case r.Step != StepCredit:
		return recovery.FieldError("step", "step must be %q, not %q", StepCredit, clip(r.Step))
	}
	if err := checkTime("at", r.At); err != nil {
		return err
	}
	if err := checkTime("filed_at", r.FiledAt); err != nil {
		return err
	}
	switch {
	case r.FiledAt.After(r.At):
		return recovery.FieldError("filed_at", "the appeal was filed after the credit")
	case !networkPattern.MatchString(r.Network):
		return recovery.FieldError("network", "network %q is not a network id", clip(r.Network))
	case !recovery.IsCategory(r.Category):
		return recovery.FieldError("category", "category %q is not one of the categories", clip(r.Category))
	case !userPattern.MatchString(r.UserID):
		return recovery.FieldError("user_id", "user_id must be 1 to 128 letters, digits or . _ @ : -")
	case !assetPattern.MatchString(r.Asset):
		return recovery.FieldError("asset", "asset must be 1 to 128 letters, digits or . _ : -")
	case r.Decimals < 0 || r.Decimals > maxDecimals:
		return recovery.FieldError("decimals", "decimals must be 0 to %d, not %d", maxDecimals, r.Decimals)
	}
	if err := checkPrice("price_usd", r.PriceUSD, true); err != nil {
		return err
	}
	if r.Deposit == nil || r.Deposit.Sign() <= 0 {
		return recovery.FieldError("deposit", "deposit must be a positive amount in base units")
	}
	for _, a := range []struct {
		field string
		n     *big.Int
	}{
		{"deposit", r.Deposit},
		{"service_fee", r.ServiceFee},
		{"network_cost_charged", r.NetworkCostCharged},
		{"network_cost_paid.amount", r.NetworkCostPaid.Amount},
	} {
		if err := checkAmount(a.field, a.n); err != nil {
			return err
		}
	}
	if taken := new(big.Int).Add(r.ServiceFee, r.NetworkCostCharged); taken.Cmp(r.Deposit) > 0 {
		return recovery.FieldError("service_fee", "the service fee and network cost charged (%s) exceed the deposit (%s)", taken, r.Deposit)
	}
	c := r.NetworkCostPaid
	if c.Amount.Sign() == 0 && c.Asset == "" {
		return nil
	}
	switch {
	case !assetPattern.MatchString(c.Asset):
		return recovery.FieldError("network_cost_paid.asset", "the network cost's asset must be 1 to 128 letters, digits or . _ : -")
	case c.Decimals < 0 || c.Decimals > maxDecimals:
		return recovery.FieldError("network_cost_paid.decimals", "decimals must be 0 to %d, not %d", maxDecimals, c.Decimals)
	case c.Asset == r.Asset && c.Decimals != r.Decimals:
		// One asset cannot have two scales inside one balanced entry.
		return recovery.FieldError("network_cost_paid.decimals", "%s has %d decimals as the deposit, not %d", r.Asset, r.Decimals, c.Decimals)
	}
	return checkPrice("network_cost_paid.price_usd", c.PriceUSD, c.Amount.Sign() > 0)
}

func orZero(n *big.Int) *big.Int {
	if n == nil {
		return new(big.Int)
	}
	return n
}

// checkTime accepts the years that stored times can order (see timeKey),
// from the Unix epoch on.
func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return recovery.FieldError(field, "%s is required", field)
	}
	if y := t.Year(); y < 1970 || y > 9999 {
		return recovery.FieldError(field, "%s is in the year %d", field, y)
	}
	return nil
}

func checkAmount(field string, n *big.Int) error {
	switch {
	case n.Sign() < 0:
		return recovery.FieldError(field, "%s must not be negative", field)
	case n.BitLen() > maxAmountBits:
		return recovery.FieldError(field, "%s is larger than 2^%d base units", field, maxAmountBits)
	}
	return nil
}

func checkPrice(field string, p decimal.Decimal, required bool) error {
	switch {
	case p.Sign() < 0:
		return recovery.FieldError(field, "%s must not be negative", field)
	case p.Sign() == 0 && required:
		return recovery.FieldError(field, "%s is required to value the amount", field)
	case p.Sign() == 0:
		return nil
	}
	// Read off the digits rather than compare with decimal's operators,
	// which would scale a price written as 1e-999999999 to a billion
	// digits first.
	coef, exp := new(big.Int).Abs(p.Coefficient()), int64(p.Exponent())
	ten, digit := big.NewInt(10), new(big.Int)
	for exp < 0 {
		if q, _ := new(big.Int).QuoRem(coef, ten, digit); digit.Sign() == 0 {
			coef, exp = q, exp+1
			continue
		}
		break
	}
	switch {
	case exp < -maxDecimals:
		return recovery.FieldError(field, "%s has more than %d decimal places", field, maxDecimals)
	case int64(len(coef.String()))+exp > maxPriceExp:
		return recovery.FieldError(field, "%s must be below 10^%d", field, maxPriceExp)
	}
	return nil
}

func depositIDError(id string) error {
	if id == "" {
		return recovery.FieldError("deposit_id", "deposit_id is required")
	}
	return recovery.FieldError("deposit_id", "deposit_id %q is not a deposit id (network.hash.index, the index v, o<n>, l<n> or c<n>)", clip(id))
}

// clip shortens a rejected value quoted in an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// usd is the value of amount base units at price USD per whole unit. It is
// exact: the product of two finite decimals is one.
func usd(amount *big.Int, decimals int32, price decimal.Decimal) decimal.Decimal {
	return decimal.NewFromBigInt(amount, -decimals).Mul(price)
}

// creditLines is the entry of a credit. The deposit arrives in the hot
// wallet and is owed to the user less the fees; the network cost paid
// leaves the hot wallet, in the native asset, as an expense. Lines of zero
// are left out.
func creditLines(r Recovery) []Line {
	user := new(big.Int).Sub(r.Deposit, r.ServiceFee)
	user.Sub(user, r.NetworkCostCharged)
	c := r.NetworkCostPaid
	var lines []Line
	add := func(account, asset string, decimals int32, price decimal.Decimal, debit, credit *big.Int) {
		if debit.Sign() == 0 && credit.Sign() == 0 {
			return
		}
		value := debit
		if value.Sign() == 0 {
			value = credit
		}
		lines = append(lines, Line{Account: account, Asset: asset, Debit: debit, Credit: credit, USD: usd(value, decimals, price)})
	}
	zero := new(big.Int)
	add(AccountHotWallet, r.Asset, r.Decimals, r.PriceUSD, r.Deposit, zero)
	add(UserAccount(r.UserID), r.Asset, r.Decimals, r.PriceUSD, zero, user)
	add(AccountServiceFees, r.Asset, r.Decimals, r.PriceUSD, zero, r.ServiceFee)
	add(AccountNetworkCostRecovered, r.Asset, r.Decimals, r.PriceUSD, zero, r.NetworkCostCharged)
	add(AccountNetworkCost, c.Asset, c.Decimals, c.PriceUSD, c.Amount, zero)
	add(AccountHotWallet, c.Asset, c.Decimals, c.PriceUSD, zero, c.Amount)
	return lines
}

// refundLines is the entry that gives a credit's fees back to the user, at
// the price they were taken at, so that a refund cancels the charge in USD
// too. The network cost the exchange paid stays paid.
func refundLines(r Recovery) []Line {
	zero := new(big.Int)
	total := new(big.Int).Add(r.ServiceFee, r.NetworkCostCharged)
	var lines []Line
	for _, l := range []Line{
		{Account: AccountServiceFees, Debit: r.ServiceFee, Credit: zero},
		{Account: AccountNetworkCostRecovered, Debit: r.NetworkCostCharged, Credit: zero},
		{Account: UserAccount(r.UserID), Debit: zero, Credit: total},
	} {
		value := l.Debit
		if value.Sign() == 0 {
			value = l.Credit
		}
		if value.Sign() == 0 {
			continue
		}
		l.Asset = r.Asset
		l.USD = usd(value, r.Decimals, r.PriceUSD)
		lines = append(lines, l)
	}
	return lines
}

// balanced checks that every line has one side and that the debits equal
// the credits in every asset. The lines are derived so that they always
// do; the check is what stops a mistake in that derivation from ever
// reaching the journal.
func balanced(caseID string, lines []Line) error {
	type sums struct{ debit, credit big.Int }
	by := map[string]*sums{}
	var assets []string
	for _, l := range lines {
		if l.Debit.Sign() < 0 || l.Credit.Sign() < 0 || (l.Debit.Sign() == 0) == (l.Credit.Sign() == 0) {
			return recovery.Errorf(recovery.EInternal, "case %s: line %s %s has no single positive side", caseID, l.Account, l.Asset)
		}
		s := by[l.Asset]
		if s == nil {
			s = &sums{}
			by[l.Asset] = s
			assets = append(assets, l.Asset)
		}
		s.debit.Add(&s.debit, l.Debit)
		s.credit.Add(&s.credit, l.Credit)
	}
	slices.Sort(assets)
	for _, a := range assets {
		if s := by[a]; s.debit.Cmp(&s.credit) != 0 {
			return recovery.Errorf(recovery.EInternal, "case %s: entry does not balance in %s: debits %s, credits %s", caseID, a, &s.debit, &s.credit)
		}
	}
	if len(lines) == 0 {
		return recovery.Errorf(recovery.EInternal, "case %s: entry has no lines", caseID)
	}
	return nil
}

// content is a credit's input in canonical text form. It is stored with
// the entry, compared when the same case and step is posted again, and
// read back to refund the credit.
type content struct {
	// DepositID is empty in credits posted before deposits were recorded.
	DepositID          string `json:"deposit_id,omitempty"`
	At                 string `json:"at"`
	FiledAt            string `json:"filed_at"`
	Network            string `json:"network"`
	Category           string `json:"category"`
	Asset              string `json:"asset"`
	Decimals           int32  `json:"decimals"`
	Deposit            string `json:"deposit"`
	ServiceFee         string `json:"service_fee"`
	NetworkCostCharged string `json:"network_cost_charged"`
	CostAsset          string `json:"cost_asset"`
	CostDecimals       int32  `json:"cost_decimals"`
	CostAmount         string `json:"cost_amount"`
	CostPriceUSD       string `json:"cost_price_usd"`
	UserID             string `json:"user_id"`
	PriceUSD           string `json:"price_usd"`
}

func contentOf(r Recovery) content {
	return content{
		DepositID: r.DepositID, At: timeKey(r.At), FiledAt: timeKey(r.FiledAt),
		Network: r.Network, Category: r.Category, Asset: r.Asset, Decimals: r.Decimals,
		Deposit: r.Deposit.String(), ServiceFee: r.ServiceFee.String(), NetworkCostCharged: r.NetworkCostCharged.String(),
		CostAsset: r.NetworkCostPaid.Asset, CostDecimals: r.NetworkCostPaid.Decimals,
		CostAmount: r.NetworkCostPaid.Amount.String(), CostPriceUSD: r.NetworkCostPaid.PriceUSD.String(),
		UserID: r.UserID, PriceUSD: r.PriceUSD.String(),
	}
}

// recoveryOf reads back a stored credit.
func recoveryOf(caseID, step, stored string) (Recovery, error) {
	var c content
	if err := json.Unmarshal([]byte(stored), &c); err != nil {
		return Recovery{}, fmt.Errorf("ledger: stored entry of %s: %w", caseID, err)
	}
	r := Recovery{CaseID: caseID, DepositID: c.DepositID, Step: step, Network: c.Network, Category: c.Category, Asset: c.Asset,
		Decimals: c.Decimals, UserID: c.UserID, NetworkCostPaid: NetworkCost{Asset: c.CostAsset, Decimals: c.CostDecimals}}
	var errs []error
	var err error
	r.At, err = parseTime(c.At)
	errs = append(errs, err)
	r.FiledAt, err = parseTime(c.FiledAt)
	errs = append(errs, err)
	for _, a := range []struct {
		to   **big.Int
		text string
	}{
		{&r.Deposit, c.Deposit}, {&r.ServiceFee, c.ServiceFee}, {&r.NetworkCostCharged, c.NetworkCostCharged},
		{&r.NetworkCostPaid.Amount, c.CostAmount},
	} {
		*a.to, err = parseAmount(a.text)
		errs = append(errs, err)
	}
	r.PriceUSD, err = decimal.NewFromString(c.PriceUSD)
	errs = append(errs, err)
	r.NetworkCostPaid.PriceUSD, err = decimal.NewFromString(c.CostPriceUSD)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return Recovery{}, fmt.Errorf("ledger: stored entry of %s: %w", caseID, err)
	}
	return r, nil
}

// difference names the first field in which two valid credits differ, ""
// when they are the same credit. a is the stored credit: one posted before
// deposits were recorded has no deposit id, and is not compared on it.
func difference(a, b Recovery) string {
	ac, bc := a.NetworkCostPaid, b.NetworkCostPaid
	switch {
	case a.DepositID != "" && a.DepositID != b.DepositID:
		return "deposit_id"
	case !a.At.Equal(b.At):
		return "at"
	case !a.FiledAt.Equal(b.FiledAt):
		return "filed_at"
	case a.Network != b.Network:
		return "network"
	case a.Category != b.Category:
		return "category"
	case a.UserID != b.UserID:
		return "user_id"
	case a.Asset != b.Asset:
		return "asset"
	case a.Decimals != b.Decimals:
		return "decimals"
	case a.Deposit.Cmp(b.Deposit) != 0:
		return "deposit"
	case a.ServiceFee.Cmp(b.ServiceFee) != 0:
		return "service_fee"
	case a.NetworkCostCharged.Cmp(b.NetworkCostCharged) != 0:
		return "network_cost_charged"
	case !a.PriceUSD.Equal(b.PriceUSD):
		return "price_usd"
	case ac.Asset != bc.Asset:
		return "network_cost_paid.asset"
	case ac.Decimals != bc.Decimals:
		return "network_cost_paid.decimals"
	case ac.Amount.Cmp(bc.Amount) != 0:
		return "network_cost_paid.amount"
	case !ac.PriceUSD.Equal(bc.PriceUSD):
		return "network_cost_paid.price_usd"
	}
	return ""
}

// PostRecovery writes the journal entry of a credit: the recovered deposit
// debited to the hot wallet; the user credited with the deposit less the
// service fee and the network cost charged; those two credited as income;
// and the network cost the exchange paid debited as an expense against the
// hot wallet, in its own asset. The entry balances in every asset.
//
// Posting is idempotent by (CaseID, Step): the same credit posted again is
// a no-op that returns nil, so a retried activity never credits twice; a
// different credit under the same key is refused with recovery.EConflict.
// A deposit is credited once: a credit of a deposit that another case
// holds the credit of is refused with recovery.EConflict on deposit_id,
// and writes nothing. Invalid input is refused with recovery.EInvalid
// naming the field.
func (s *Store) PostRecovery(ctx context.Context, r Recovery) error {
	if err := r.validate(); err != nil {
		return err
	}
	lines := creditLines(r)
	if err := balanced(r.CaseID, lines); err != nil {
		return err
	}
	stored, err := json.Marshal(contentOf(r))
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	inserted, err := insertEntry(ctx, tx, r, string(stored), lines)
	if err != nil {
		return err
	}
	if inserted {
		if err := claimDeposit(ctx, tx, r); err != nil {
			return err
		}
		return commit(tx)
	}
	var existing string
	if err := tx.QueryRowContext(ctx, `SELECT content FROM ledger_entries WHERE case_id = $1 AND step = $2`,
		r.CaseID, r.Step).Scan(&existing); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	prior, err := recoveryOf(r.CaseID, r.Step, existing)
	if err != nil {
		return err
	}
	if field := difference(prior, r); field != "" {
		return &recovery.Error{Code: recovery.EConflict, Field: field,
			Message: fmt.Sprintf("case %s was already credited with a different %s", r.CaseID, field)}
	}
	return nil
}

// PostRefund gives a case's service fee and charged network cost back to
// the user, when the recovery failed after the fee was taken: an entry with
// step StepRefund that reverses the fee lines of the credit at the credit's
// price. The network cost the exchange paid is not reversed; it was spent.
//
// A case without a credit is refused with recovery.ENotFound, a refund
// dated before its credit with recovery.EInvalid. Refunding again is a
// no-op that returns nil (the first refund's time stands), as is refunding
// a credit that took no fee.
func (s *Store) PostRefund(ctx context.Context, caseID string, at time.Time) error {
	at = at.UTC()
	if !recovery.ValidCaseID(caseID) {
		return recovery.FieldError("case_id", "case_id %q is not a case id (network.hash.index)", clip(caseID))
	}
	if err := checkTime("at", at); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	credit, err := creditBefore(ctx, tx, caseID, at, "refund")
	if err != nil {
		return err
	}
	lines := refundLines(credit)
	if len(lines) == 0 {
		return nil
	}
	if err := balanced(caseID, lines); err != nil {
		return err
	}
	refund := credit
	refund.Step, refund.At = StepRefund, at
	marker, err := json.Marshal(struct {
		At     string `json:"at"`
		Refund string `json:"refund"`
	}{timeKey(at), StepCredit})
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	inserted, err := insertEntry(ctx, tx, refund, string(marker), lines)
	if err != nil || !inserted {
		return err
	}
	return commit(tx)
}

// PostReturn records that the net amount a case was credited left the hot
// wallet for the user's own address on chain, as an unlisted token is
// returned rather than kept: the user's account is debited and the hot
// wallet credited by the credit's net, at the credit's price, and the
// network cost of that transaction, cost, is booked as an expense paid
// from the hot wallet. A case without a credit is refused with
// recovery.ENotFound; posting the return again is a no-op that returns nil
// (the first one stands).
func (s *Store) PostReturn(ctx context.Context, caseID string, at time.Time, cost NetworkCost) error {
	at = at.UTC()
	cost.Amount = orZero(cost.Amount)
	if !recovery.ValidCaseID(caseID) {
		return recovery.FieldError("case_id", "case_id %q is not a case id (network.hash.index)", clip(caseID))
	}
	if err := checkTime("at", at); err != nil {
		return err
	}
	if err := checkAmount("network_cost.amount", cost.Amount); err != nil {
		return err
	}
	if cost.Amount.Sign() > 0 {
		if !assetPattern.MatchString(cost.Asset) {
			return recovery.FieldError("network_cost.asset", "the network cost's asset must be 1 to 128 letters, digits or . _ : -")
		}
		if err := checkPrice("network_cost.price_usd", cost.PriceUSD, true); err != nil {
			return err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer tx.Rollback()
	credit, err := creditBefore(ctx, tx, caseID, at, "return")
	if err != nil {
		return err
	}
	net := new(big.Int).Sub(credit.Deposit, credit.ServiceFee)
	net.Sub(net, credit.NetworkCostCharged)
	zero := new(big.Int)
	var lines []Line
	if net.Sign() > 0 {
		value := usd(net, credit.Decimals, credit.PriceUSD)
		lines = append(lines,
			Line{Account: UserAccount(credit.UserID), Asset: credit.Asset, Debit: net, Credit: zero, USD: value},
			Line{Account: AccountHotWallet, Asset: credit.Asset, Debit: zero, Credit: net, USD: value})
	}
	if cost.Amount.Sign() > 0 {
		value := usd(cost.Amount, cost.Decimals, cost.PriceUSD)
		lines = append(lines,
			Line{Account: AccountNetworkCost, Asset: cost.Asset, Debit: cost.Amount, Credit: zero, USD: value},
			Line{Account: AccountHotWallet, Asset: cost.Asset, Debit: zero, Credit: cost.Amount, USD: value})
	}
	if len(lines) == 0 {
		return nil
	}
	if err := balanced(caseID, lines); err != nil {
		return err
	}
	ret := credit
	ret.Step, ret.At = StepReturn, at
	marker, err := json.Marshal(struct {
		At     string `json:"at"`
		Return string `json:"return"`
	}{timeKey(at), StepCredit})
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	inserted, err := insertEntry(ctx, tx, ret, string(marker), lines)
	if err != nil || !inserted {
		return err
	}
	return commit(tx)
}

// creditBefore reads the credit of a case, which an entry of the kind what
// (a refund, a return) dated at follows: a case without a credit is
// recovery.ENotFound, an entry dated before its credit recovery.EInvalid.
func creditBefore(ctx context.Context, tx *sql.Tx, caseID string, at time.Time, what string) (Recovery, error) {
	var stored string
	err := tx.QueryRowContext(ctx, `SELECT content FROM ledger_entries WHERE case_id = $1 AND step = $2`,
		caseID, StepCredit).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return Recovery{}, recovery.Errorf(recovery.ENotFound, "case %s has no credit to %s", caseID, what)
	}
	if err != nil {
		return Recovery{}, fmt.Errorf("ledger: %w", err)
	}
	credit, err := recoveryOf(caseID, StepCredit, stored)
	if err != nil {
		return Recovery{}, err
	}
	if at.Before(credit.At) {
		return Recovery{}, recovery.FieldError("at", "the %s is dated before the credit of %s", what, credit.At.Format(time.RFC3339))
	}
	return credit, nil
}

// insertEntry writes an entry and its lines unless the case already has an
// entry for the step, and reports whether it wrote it.
func insertEntry(ctx context.Context, tx *sql.Tx, r Recovery, stored string, lines []Line) (bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO ledger_entries (case_id, step, booked_at, filed_at, network, category, user_id, content)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (case_id, step) DO NOTHING RETURNING id`,
		r.CaseID, r.Step, timeKey(r.At), timeKey(r.FiledAt), r.Network, r.Category, r.UserID, stored).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger: post %s %s: %w", r.CaseID, r.Step, err)
	}
	for i, l := range lines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_lines (entry_id, line, account, asset, debit, credit, usd)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, i, l.Account, l.Asset, l.Debit.String(), l.Credit.String(), l.USD.String()); err != nil {
			return false, fmt.Errorf("ledger: post %s %s: %w", r.CaseID, r.Step, err)
		}
	}
	return true, nil
}

// claimDeposit records that r's case holds the credit of r's deposit, in
// the transaction that writes the entry, unless another case holds it.
// The deposit's key is what makes a second case's credit of one deposit
// fail, also when both are posted at once: the later insert waits for the
// earlier transaction and then finds its row.
func claimDeposit(ctx context.Context, tx *sql.Tx, r Recovery) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO ledger_deposits (deposit_id, case_id, step) VALUES ($1, $2, $3)
		ON CONFLICT (deposit_id) DO NOTHING`, r.DepositID, r.CaseID, r.Step)
	if err != nil {
		return fmt.Errorf("ledger: post %s %s: %w", r.CaseID, r.Step, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("ledger: post %s %s: %w", r.CaseID, r.Step, err)
	}
	if n == 1 {
		return nil
	}
	var holder string
	if err := tx.QueryRowContext(ctx, `SELECT case_id FROM ledger_deposits WHERE deposit_id = $1`, r.DepositID).Scan(&holder); err != nil {
		return fmt.Errorf("ledger: post %s %s: deposit %s: %w", r.CaseID, r.Step, r.DepositID, err)
	}
	return &recovery.Error{Code: recovery.EConflict, Field: "deposit_id",
		Message: fmt.Sprintf("deposit %s was already credited by case %s", r.DepositID, holder)}
}

// CreditOf returns the case that holds the credit of a deposit, ok false
// when no case has credited it. Credits posted before deposits were
// recorded are not found.
func (s *Store) CreditOf(ctx context.Context, depositID string) (caseID string, ok bool, err error) {
	if !recovery.ValidDepositID(depositID) {
		return "", false, depositIDError(depositID)
	}
	err = s.db.QueryRowContext(ctx, `SELECT case_id FROM ledger_deposits WHERE deposit_id = $1`, depositID).Scan(&caseID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("ledger: %w", err)
	}
	return caseID, true, nil
}

func commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
