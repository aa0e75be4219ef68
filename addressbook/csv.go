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

// csvColumns are the columns ReadCSV understands; network, address and
// user_id are required, the others optional.
var csvColumns = []string{"network", "address", "memo", "user_id", "status", "pubkey_hash"}

// ReadCSV parses an address book export with a header row. Every problem is
// reported with its line, and nothing is returned unless every row is good,
// so that a bad file is never half-imported.
func ReadCSV(r io.Reader) ([]Entry, error) {
	return readRows(r, csvColumns, []string{"network", "address", "user_id"}, func(get func(string) string) (Entry, error) {
		e := Entry{Network: get("network"), Address: get("address"), Memo: get("memo"),
			UserID: get("user_id"), Status: get("status"), PubKeyHash: get("pubkey_hash")}
		return e, e.Validate()
	})
}

// readRows parses a CSV file whose header row names its columns, in any
// order, of those known (required ones must be there), and makes a T of
// every row. Every problem is reported with its line, up to maxProblems,
// and nothing is returned unless every row is good.
func readRows[T any](r io.Reader, known, required []string, row func(get func(column string) string) (T, error)) ([]T, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, recovery.Errorf(recovery.EInvalid, "the file is empty; expected a header row: %s", strings.Join(known, ","))
	}
	if err != nil {
		return nil, recovery.Errorf(recovery.EInvalid, "header: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(known, name) {
			return nil, recovery.Errorf(recovery.EInvalid, "header: unknown column %q (known: %s)", h, strings.Join(known, ", "))
		}
		if _, dup := col[name]; dup {
			return nil, recovery.Errorf(recovery.EInvalid, "header: column %q appears twice", name)
		}
		col[name] = i
	}
	for _, need := range required {
		if _, ok := col[need]; !ok {
			return nil, recovery.Errorf(recovery.EInvalid, "header: column %q is required", need)
		}
	}
	var out []T
	var problems []string
	for len(problems) < maxProblems {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A parse error carries its own line; FieldPos is only valid
			// for a record that was read.
			problems = append(problems, err.Error())
			continue
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		v, err := row(get)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, recovery.ErrorMessage(err)))
			continue
		}
		out = append(out, v)
	}
	if len(problems) > 0 {
		return nil, recovery.Errorf(recovery.EInvalid, "%s", strings.Join(problems, "; "))
	}
	return out, nil
}
