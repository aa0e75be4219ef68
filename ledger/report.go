package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
)

// GroupBy is how a fee report groups its rows.
type GroupBy string

// The groupings of the fee report.
const (
	GroupByNetwork  GroupBy = "network"
	GroupByCategory GroupBy = "category"
	GroupByMonth    GroupBy = "month" // "2026-11", UTC
)

// ParseGroupBy reads the group_by parameter of the fee report.
func ParseGroupBy(s string) (GroupBy, error) {
	switch g := GroupBy(s); g {
	case GroupByNetwork, GroupByCategory, GroupByMonth:
		return g, nil
	}
	return "", recovery.FieldError("group_by", "group_by must be network, category or month, not %q", clip(s))
}

// ReportRow is one group of a fee report, or its total. Every entry counts
// in the period it was booked in: a refund in the month it was made, even
// when its credit was in an earlier one.
type ReportRow struct {
	Group   string
	Cases   int // recoveries credited in the period
	Refunds int // fee refunds made in the period
	// RecoveredUSD is the deposits' value at the quote price.
	RecoveredUSD decimal.Decimal
	// FeesChargedUSD is the service fees and network cost charged.
	FeesChargedUSD  decimal.Decimal
	FeesRefundedUSD decimal.Decimal
	// NetworkCostUSD is what the exchange paid on chain.
	NetworkCostUSD decimal.Decimal
	// NetUSD is fees charged − refunded − network cost paid.
	NetUSD decimal.Decimal
	// CreditedUSD is what users received: credits net of fees, and the
	// fees refunded.
	CreditedUSD decimal.Decimal
	// MedianTimeToRecovery is from the filing of the appeal to the credit,
	// over the credits of the period; zero when there are none.
	MedianTimeToRecovery time.Duration
}

// Report is the finance fee report over [From, To).
type Report struct {
	From    time.Time
	To      time.Time
	GroupBy GroupBy
	Rows    []ReportRow // in order of Group
	Total   ReportRow   // Group is TotalGroup
}

// TotalGroup is the Group of a report's total row. No group can have this
// name: network ids and categories are lower case, months are digits.
const TotalGroup = "Total"

// FeeReport computes the fee report of the entries booked in [from, to),
// from the journal's lines: the hot wallet's debits are the deposits
// recovered, the income accounts' credits the fees charged and their debits
// the fees refunded, the expense's debits the network cost paid, and the
// users' credits what they received.
func (s *Store) FeeReport(ctx context.Context, from, to time.Time, by GroupBy) (*Report, error) {
	if _, err := ParseGroupBy(string(by)); err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, recovery.FieldError("to", "the end of the period must be after its start")
	}
	// The entries of the period first, then their lines. The journal is
	// only ever appended to, so the lines of an entry posted between the
	// two queries are left out, and the report is the journal as of the
	// first.
	rows, err := s.db.QueryContext(ctx, `SELECT id, step, booked_at, filed_at, network, category FROM ledger_entries
		WHERE booked_at >= $1 AND booked_at < $2`, timeKey(from), timeKey(to))
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	groups := map[string]*tally{}
	entries := map[int64]*tally{}
	for rows.Next() {
		var id int64
		var step, bookedAt, filedAt, network, category string
		if err := rows.Scan(&id, &step, &bookedAt, &filedAt, &network, &category); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		key := network
		switch by {
		case GroupByCategory:
			key = category
		case GroupByMonth:
			key = bookedAt[:len("2006-01")]
		}
		g := groups[key]
		if g == nil {
			g = &tally{row: ReportRow{Group: key}}
			groups[key] = g
		}
		if err := g.entry(step, bookedAt, filedAt); err != nil {
			return nil, err
		}
		entries[id] = g
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	rows.Close()

	rows, err = s.db.QueryContext(ctx, `SELECT l.entry_id, l.account, l.debit, l.usd
		FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id
		WHERE e.booked_at >= $1 AND e.booked_at < $2`, timeKey(from), timeKey(to))
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var account, debit, value string
		if err := rows.Scan(&id, &account, &debit, &value); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		if g := entries[id]; g != nil {
			if err := g.line(account, debit != "0", value); err != nil {
				return nil, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}

	// Sums of decimals are exact, so the total is the sum of the groups.
	total := &tally{row: ReportRow{Group: TotalGroup}}
	report := &Report{From: from.UTC(), To: to.UTC(), GroupBy: by}
	for _, g := range groups {
		total.add(g)
		report.Rows = append(report.Rows, g.finish())
	}
	report.Total = total.finish()
	slices.SortFunc(report.Rows, func(a, b ReportRow) int { return strings.Compare(a.Group, b.Group) })
	return report, nil
}

// tally adds up one group of a report.
type tally struct {
	row   ReportRow
	times []time.Duration // to recovery, of each credit
}

// entry counts an entry of the group.
func (t *tally) entry(step, bookedAt, filedAt string) error {
	switch step {
	case StepCredit:
		at, err1 := parseTime(bookedAt)
		filed, err2 := parseTime(filedAt)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		t.row.Cases++
		t.times = append(t.times, at.Sub(filed))
	case StepRefund:
		t.row.Refunds++
	}
	return nil
}

// line adds the USD value of a line to the column its account and side
// belong in.
func (t *tally) line(account string, debit bool, value string) error {
	var to *decimal.Decimal
	switch {
	case account == AccountHotWallet && debit:
		to = &t.row.RecoveredUSD
	case (account == AccountServiceFees || account == AccountNetworkCostRecovered) && !debit:
		to = &t.row.FeesChargedUSD
	case account == AccountServiceFees || account == AccountNetworkCostRecovered:
		to = &t.row.FeesRefundedUSD
	case account == AccountNetworkCost && debit:
		to = &t.row.NetworkCostUSD
	case isUserAccount(account) && !debit:
		to = &t.row.CreditedUSD
	default:
		return nil // the hot wallet paying the network cost
	}
	usd, err := decimal.NewFromString(value)
	if err != nil {
		return fmt.Errorf("ledger: stored USD value %q: %w", value, err)
	}
	*to = to.Add(usd)
	return nil
}

// add adds another group's counts and sums to t.
func (t *tally) add(o *tally) {
	t.row.Cases += o.row.Cases
	t.row.Refunds += o.row.Refunds
	for i, d := range t.row.amounts() {
		*d = d.Add(*o.row.amounts()[i])
	}
	t.times = append(t.times, o.times...)
}

// finish computes the net and the median.
func (t *tally) finish() ReportRow {
	r := t.row
	r.NetUSD = r.FeesChargedUSD.Sub(r.FeesRefundedUSD).Sub(r.NetworkCostUSD)
	r.MedianTimeToRecovery = median(t.times)
	return r
}

// median is the middle duration, or the mean of the two middle ones; zero
// for none. It sorts ds.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	mid := len(ds) / 2
	if len(ds)%2 == 1 {
		return ds[mid]
	}
	// Halving before adding cannot overflow; the two halves' remainders
	// are added back.
	a, b := ds[mid-1], ds[mid]
	return a/2 + b/2 + (a%2+b%2)/2
}
