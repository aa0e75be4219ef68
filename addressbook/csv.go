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
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, recovery.Errorf(recovery.EInvalid, "the file is empty; expected a header row: %s", strings.Join(csvColumns, ","))
	}
	if err != nil {
		return nil, recovery.Errorf(recovery.EInvalid, "header: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(csvColumns, name) {
			return nil, recovery.Errorf(recovery.EInvalid, "header: unknown column %q (known: %s)", h, strings.Join(csvColumns, ", "))
		}
		if _, dup := col[name]; dup {
			return nil, recovery.Errorf(recovery.EInvalid, "header: column %q appears twice", name)
		}
		col[name] = i
	}
	for _, need := range []string{"network", "address", "user_id"} {
		if _, ok := col[need]; !ok {
			return nil, recovery.Errorf(recovery.EInvalid, "header: column %q is required", need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out []Entry
	var problems []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A parse error carries its own line; FieldPos is only valid
			// for a record that was read.
			problems = append(problems, err.Error())
			if len(problems) >= 20 {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		e := Entry{Network: get(rec, "network"), Address: get(rec, "address"), Memo: get(rec, "memo"),
			UserID: get(rec, "user_id"), Status: get(rec, "status"), PubKeyHash: get(rec, "pubkey_hash")}
		if err := e.Validate(); err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, recovery.ErrorMessage(err)))
			if len(problems) >= 20 {
				break
			}
			continue
		}
		out = append(out, e)
	}
	if len(problems) > 0 {
		return nil, recovery.Errorf(recovery.EInvalid, "%s", strings.Join(problems, "; "))
	}
	return out, nil
}
