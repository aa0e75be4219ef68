package addressbook

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/misdeposit/recovery"
)

// creditColumns are the columns ReadCreditsCSV understands, all required.
var creditColumns = []string{"network", "tx_hash", "index", "user_id", "amount", "credited_at"}

// maxProblems is how many bad lines a refusal lists: enough to fix a
// file's pattern of mistakes, few enough to read.
const maxProblems = 20

// ReadCreditsCSV parses the exchange's export of credited deposits, with a
// header row naming the columns network, tx_hash, index, user_id, amount
// and credited_at (an RFC 3339 time or a date) in any order. As ReadCSV,
// it reports every problem with its line and returns nothing unless every
// row is good.
func ReadCreditsCSV(r io.Reader) ([]Credit, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, recovery.Errorf(recovery.EInvalid, "the file is empty; expected a header row: %s", strings.Join(creditColumns, ","))
	}
	if err != nil {
		return nil, recovery.Errorf(recovery.EInvalid, "header: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(creditColumns, name) {
			return nil, recovery.Errorf(recovery.EInvalid, "header: unknown column %q (known: %s)", h, strings.Join(creditColumns, ", "))
		}
		if _, dup := col[name]; dup {
			return nil, recovery.Errorf(recovery.EInvalid, "header: column %q appears twice", name)
		}
		col[name] = i
	}
	for _, need := range creditColumns {
		if _, ok := col[need]; !ok {
			return nil, recovery.Errorf(recovery.EInvalid, "header: column %q is required", need)
		}
	}
	var out []Credit
	var problems []string
	for len(problems) < maxProblems {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A parse error carries its own line.
			problems = append(problems, err.Error())
			continue
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string { return rec[col[name]] }
		c, err := creditRow(get)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, recovery.ErrorMessage(err)))
			continue
		}
		out = append(out, c)
	}
	if len(problems) > 0 {
		return nil, recovery.Errorf(recovery.EInvalid, "%s", strings.Join(problems, "; "))
	}
	return out, nil
}

// creditRow builds and validates the credit of one row.
func creditRow(get func(column string) string) (Credit, error) {
	at, err := ParseCreditTime(get("credited_at"))
	if err != nil {
		return Credit{}, err
	}
	c := Credit{Network: get("network"), TxHash: get("tx_hash"), Index: get("index"),
		UserID: get("user_id"), Amount: get("amount"), CreditedAt: at}
	return c, c.Validate()
}
