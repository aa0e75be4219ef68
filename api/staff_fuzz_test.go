package api

import (
	"errors"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/workflows"
)

// staffActions are the staff's case actions: the body each decodes and the
// function turning it into the workflow update's argument.
var staffActions = []struct {
	name string
	body any
	arg  func([]byte, workflows.Actor) (any, error)
}{
	{"assign", assignBody{}, assignArg},
	{"note", noteBody{}, noteArg},
	{"escalate", escalateBody{}, escalateArg},
	{"reclassify", reclassifyBody{}, reclassifyArg},
	{"signoff", signoffBody{}, signoffArg},
	{"recheck", recheckBody{}, recheckArg},
	{"close", recheckBody{}, closeArg},
	{"reopen", recheckBody{}, reopenArg},
	{"confirm-proof", recheckBody{}, confirmProofArg},
	{"reassign-claimant", reassignClaimantBody{}, reassignClaimantArg},
}

// jsonFieldKind is the JSON kind of body's field tagged name ("boolean" or
// "string"), "" when body has no such field.
func jsonFieldKind(body any, name string) string {
	t := reflect.TypeOf(body)
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != name {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Bool {
			return "boolean"
		}
		return "string"
	}
	return ""
}

// A staff action's body is either refused with an invalid-input error that
// names a field of that body (or an unknown field) in words a person can
// act on, or it becomes an update argument that carries the token's
// person and roles, never ones from the body, the fields the action
// requires, and only text a person could type: a note of at most 2000
// characters over lines, a one-line assignee.
func FuzzStaffAction(f *testing.F) {
	for _, s := range []struct {
		action uint8
		body   string
	}{
		{0, `{"assignee":"bob","note":"takes the eth queue"}`},
		{0, `{"assignee":"  ","note":""}`},
		{1, `{"note":"called the user"}`},
		{1, `{"note":"   "}`},
		{2, `{"note":"large amount, needs a lead"}`},
		{3, `{"category":"wrong_network_evm","note":"the user sent on bsc"}`},
		{3, `{"category":"regular_deposit","note":"x"}`},
		{4, `{"team":"wallet","approve":true,"note":"hot wallet funded"}`},
		{4, `{"team":"security","approve":false}`},
		{4, `{"team":"wallet","approve":"yes"}`},
		{4, `{"team":"finance","approve":true}`},
		{4, `{"team":"settlement"}`},
		{5, `{}`},
		{5, `{"note":"node was lagging"}`},
		{6, `{"note":"user withdrew by email"}`},
		{7, `{"note":"the wallet team funded the hot wallet"}`},
		{8, `{"note":"checked the exchange's withdrawal record"}`},
		{9, `{"user_id":"u-42","signature":"0xabc","note":"proved by signature"}`},
		{9, `{"user_id":"bad user","note":"x"}`},
		{1, `{"note":"a","by":{"person":"mallory","roles":["admin"]}}`},
		{1, `{"note":1}`},
		{1, `[]`},
		{1, `"note"`},
		{5, `null`},
		{1, ``},
		{1, `{"note":"a"} {"note":"b"}`},
		{1, "{\"note\":\"\xff\"}"},
	} {
		f.Add(s.action, s.body)
	}
	by := workflows.Actor{Person: "ann", Roles: []string{"specialist"}}
	f.Fuzz(func(t *testing.T, action uint8, body string) {
		act := staffActions[int(action)%len(staffActions)]
		raw, err := readBody(strings.NewReader(body))
		if err == nil {
			var a any
			a, err = act.arg(raw, workflows.Actor{Person: by.Person, Roles: slices.Clone(by.Roles)})
			if err == nil {
				checkStaffArg(t, act.name, by, a)
				return
			}
		}
		var e *recovery.Error
		if !errors.As(err, &e) || (e.Code != recovery.EInvalid && e.Code != recovery.ETooLarge) {
			t.Fatalf("%s %q: refused with %v, want an invalid-input error", act.name, body, err)
		}
		msg := e.Message
		if msg == "" || strings.TrimSpace(msg) != msg || strings.Contains(msg, "json:") || strings.Contains(msg, "Go ") {
			t.Fatalf("%s %q: refusal message %q is not one a person can act on", act.name, body, msg)
		}
		if e.Field == "" {
			return
		}
		kind := jsonFieldKind(act.body, e.Field)
		switch {
		case kind == "":
			if !strings.HasPrefix(msg, "unknown field") {
				t.Fatalf("%s %q: refusal names field %q, which the body does not have", act.name, body, e.Field)
			}
		case strings.Contains(msg, "must be a JSON") && !strings.Contains(msg, "JSON "+kind):
			t.Fatalf("%s %q: %q, but %s is a %s", act.name, body, msg, e.Field, kind)
		}
	})
}

func checkStaffArg(t *testing.T, action string, by workflows.Actor, a any) {
	t.Helper()
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	var got workflows.Actor
	// note is the action's note; needed names it when the action must
	// have one.
	var note, needed string
	switch r := a.(type) {
	case workflows.AssignRequest:
		got, note = r.By, r.Note
		if strings.TrimSpace(r.Assignee) != r.Assignee || !typedText(r.Assignee, maxLabel, false) {
			t.Fatalf("%s: accepted the assignee %q", action, r.Assignee)
		}
	case workflows.NoteRequest:
		got, note, needed = r.By, r.Note, "a note"
	case workflows.EscalateRequest:
		got, note, needed = r.By, r.Note, "a note"
	case workflows.ReclassifyRequest:
		got, note, needed = r.By, r.Note, "a note"
		if !recovery.IsCategory(r.Category) {
			t.Fatalf("%s: accepted %+v", action, r)
		}
	case workflows.SignoffRequest:
		got, note = r.By, r.Note
		if !slices.Contains(recovery.Teams(), r.Team) {
			t.Fatalf("%s: accepted team %q", action, r.Team)
		}
	case workflows.RecheckRequest:
		got, note = r.By, r.Note
	case workflows.CloseRequest:
		got, note, needed = r.By, r.Note, "a reason"
	case workflows.ReopenRequest:
		got, note, needed = r.By, r.Note, "a reason"
	case workflows.ConfirmProofRequest:
		got, note, needed = r.By, r.Note, "a reason"
	case workflows.ReassignClaimantRequest:
		got, note, needed = r.By, r.Note, "a reason"
		if !userIDPattern.MatchString(r.UserID) || strings.TrimSpace(r.Signature) != r.Signature {
			t.Fatalf("%s: accepted %+v", action, r)
		}
	default:
		t.Fatalf("%s: argument of type %T", action, a)
	}
	if needed != "" && blank(note) {
		t.Fatalf("%s: accepted without %s", action, needed)
	}
	if !typedText(note, maxNote, true) {
		t.Fatalf("%s: accepted the note %q", action, note)
	}
	if !reflect.DeepEqual(got, by) {
		t.Fatalf("%s: the update is made by %+v, the token is %+v's", action, got, by)
	}
}

// typedText reports whether s is text a person could have typed: UTF-8,
// at most max characters, no control character but, in lines, line
// breaks (\n, \r\n) and tabs.
func typedText(s string, max int, lines bool) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	if lines {
		s = strings.NewReplacer("\r\n", "", "\n", "", "\t", "").Replace(s)
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// queueClause is one condition of a queue's visibility query: an
// attribute, = or <, and a quoted value with no quote inside.
var queueClause = regexp.MustCompile(`^(WorkflowType|RecoveryStatus|RecoveryNetwork|RecoveryCategory|RecoveryAmountBand|ExecutionStatus|RecoveryDueAt|StartTime) (=|<) '([^']*)'$`)

var queueFilterFields = []string{"status", "network", "category", "amount_band", "overdue", "older_than"}

// Whatever query string a queue is asked with, GET /v1/cases refuses it
// naming the filter at fault, or builds a visibility query made only of
// the engine's own clauses, each value the one asked for: no value can
// add a clause or close a quote.
func FuzzQueueFilter(f *testing.F) {
	for _, s := range []string{
		"",
		"status=parked",
		"status=awaiting_signoff&network=eth&category=wrong_network_evm",
		"amount_band=1k_10k&overdue=true&older_than=36h",
		"network=avax-c&older_than=1h0m0s",
		"overdue=false&limit=50",
		"network=eth'%20OR%201%3D1",
		"status=PARKED",
		"amount_band=huge",
		"older_than=-1h",
		"older_than=87601h",
		"overdue=yes",
		"status=a&status=b",
		"network=%zz",
		"category=" + strings.Repeat("a", 65),
	} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		q := (&url.URL{RawQuery: rawQuery}).Query() // as r.URL.Query() reads it
		filter, err := parseQueueFilter(q)
		if err != nil {
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EInvalid || !slices.Contains(queueFilterFields, e.Field) {
				t.Fatalf("%q: refused with %v, want an invalid-input error naming a filter", rawQuery, err)
			}
			return
		}
		want := map[string]string{}
		for _, c := range []struct{ param, attr string }{
			{"status", "RecoveryStatus"}, {"network", "RecoveryNetwork"},
			{"category", "RecoveryCategory"}, {"amount_band", "RecoveryAmountBand"},
		} {
			if v := q.Get(c.param); v != "" {
				want[c.attr] = v
			}
		}
		query := casesQuery(filter, now)
		got := map[string]string{}
		for clause := range strings.SplitSeq(query, " AND ") {
			m := queueClause.FindStringSubmatch(clause)
			if m == nil {
				t.Fatalf("%q: query %q has the clause %q", rawQuery, query, clause)
			}
			if _, dup := got[m[1]]; dup {
				t.Fatalf("%q: query %q names %s twice", rawQuery, query, m[1])
			}
			got[m[1]] = m[3]
		}
		if got["WorkflowType"] != workflows.AppealWorkflowName {
			t.Fatalf("%q: query %q is not over appeals", rawQuery, query)
		}
		for attr, v := range want {
			if got[attr] != v || !filterValue.MatchString(v) {
				t.Fatalf("%q: query %q selects %s %q, asked %q", rawQuery, query, attr, got[attr], v)
			}
		}
		if _, overdue := got["RecoveryDueAt"]; overdue != (q.Get("overdue") == "true") {
			t.Fatalf("%q: query %q, overdue=%q", rawQuery, query, q.Get("overdue"))
		}
		if v := q.Get("older_than"); v != "" {
			d, _ := time.ParseDuration(v)
			if d <= 0 || got["StartTime"] != now.Add(-d).Format(time.RFC3339) {
				t.Fatalf("%q: query %q for older_than %q", rawQuery, query, v)
			}
		}
		if len(got) != 1+len(want)+2*boolInt(q.Get("overdue") == "true")+boolInt(q.Get("older_than") != "") {
			t.Fatalf("%q: query %q has clauses nobody asked for", rawQuery, query)
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Every queue casectl asks for (cases list --status --network --category
// --amount-band --overdue --older-than) is one the API reads as meant: a
// value of the allowed form is never refused, and --older-than reaches the
// query as the same duration, however casectl writes it.
func FuzzCasectlQueue(f *testing.F) {
	f.Add("parked", "eth", "wrong_network_evm", "1k_10k", true, int64(48*time.Hour))
	f.Add("", "avax-c", "", "", false, int64(90*time.Minute))
	f.Add("credited", "", "", "unpriced", false, int64(1500*time.Millisecond))
	f.Add("", "", "", "", false, int64(0))
	f.Add("", "", "", "", false, int64(10*365*24*time.Hour))
	f.Add("", "", "", "", false, int64(10*365*24*time.Hour+1))
	f.Add("Parked", "eth", "", "huge", false, int64(-time.Hour))
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status, network, category, band string, overdue bool, olderThan int64) {
		// What casectl's cases list puts in the query string.
		q := url.Values{}
		for k, v := range map[string]string{"status": status, "network": network, "category": category, "amount_band": band} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if overdue {
			q.Set("overdue", "true")
		}
		d := time.Duration(olderThan)
		if d > 0 {
			q.Set("older_than", d.String())
		}
		read := (&url.URL{RawQuery: q.Encode()}).Query()
		filter, err := parseQueueFilter(read)

		wellFormed := d <= 10*365*24*time.Hour && (band == "" || slices.Contains(workflows.AmountBands(), band))
		for _, v := range []string{status, network, category, band} {
			wellFormed = wellFormed && (v == "" || filterValue.MatchString(v))
		}
		switch {
		case wellFormed && err != nil:
			t.Fatalf("casectl's queue %v refused: %v", q, err)
		case !wellFormed && err == nil:
			t.Fatalf("casectl's queue %v accepted as %+v", q, filter)
		case err != nil:
			return
		}
		if filter.status != status || filter.network != network || filter.category != category || filter.amountBand != band || filter.overdue != overdue {
			t.Fatalf("casectl's queue %v read as %+v", q, filter)
		}
		if want := max(d, 0); filter.olderThan != want {
			t.Fatalf("--older-than %v read as %v", d, filter.olderThan)
		}
		if d > 0 && !strings.Contains(casesQuery(filter, now), now.Add(-d).Format(time.RFC3339)) {
			t.Fatalf("--older-than %v: query %q", d, casesQuery(filter, now))
		}
	})
}
