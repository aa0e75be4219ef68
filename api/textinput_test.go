package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/misdeposit/recovery/workflows"
)

// inputServer serves the API with a user sign-in, dev user tokens, an
// address book and staff tokens for every role, and no Temporal: each
// request below must be refused before a case is looked at.
type inputServer struct {
	t     *testing.T
	srv   http.Handler
	users *UserTokens
	n     int
}

const (
	inputSpecialist = "input-specialist-token-0123456789"
	inputAdmin      = "input-admin-token-0123456789"
)

func newInputServer(t *testing.T) *inputServer {
	users := testUsers(t, nil)
	srv := NewServer(Deps{Registry: registry(t), UserTokens: users, DevUserTokens: true, AddressBook: openBook(t),
		StaffTokens: map[string]Staff{
			inputSpecialist: {Person: "sam", Roles: []string{"specialist", "wallet", "settlement", "security"}},
			inputAdmin:      {Person: "ada", Roles: []string{"admin"}},
		}})
	return &inputServer{t: t, srv: srv, users: users}
}

// refusal sends body to method path and returns the error answered, after
// checking that the answer is a 400 in the API's error shape. token ""
// signs in as a new user, so that no user's rate limit is reached.
func (s *inputServer) refusal(method, path, token, contentType, body string) errorDetail {
	s.t.Helper()
	if token == "" {
		s.n++
		token = s.users.Issue(fmt.Sprintf("input-user-%d", s.n), time.Hour)
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.srv.ServeHTTP(rec, req)
	var got errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		s.t.Fatalf("%s %s %q: answer is not the error shape: %d %s", method, path, body, rec.Code, rec.Body)
	}
	if rec.Code != http.StatusBadRequest || got.Error.Code != "invalid" {
		s.t.Fatalf("%s %s %q: %d %+v, want 400 invalid", method, path, body, rec.Code, got.Error)
	}
	return got.Error
}

// bodyEndpoints are the endpoints that read a JSON object: the staff token
// each needs ("" for a user token) and the content type sent.
var bodyEndpoints = []struct{ method, path, token, contentType string }{
	{"POST", "/v1/appeals", "", ""},
	{"POST", "/v1/appeals/a-1/withdraw", "", ""},
	{"POST", "/v1/appeals/a-1/quote", "", ""},
	{"POST", "/v1/appeals/a-1/proof", "", ""},
	{"POST", "/v1/dev/user-token", "", ""},
	{"POST", "/v1/cases/c-1/assign", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/note", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/escalate", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/reclassify", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/signoff", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/recheck", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/close", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/reopen", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/confirm-proof", inputSpecialist, ""},
	{"POST", "/v1/cases/c-1/reassign-claimant", inputSpecialist, ""},
	{"PUT", "/v1/addressbook", inputAdmin, "application/json"},
	{"PUT", "/v1/credits", inputAdmin, "application/json"},
}

// A body of null, an array, a string, a number or a boolean is refused by
// every endpoint that reads a JSON object: null used to pass as an empty
// request.
func TestBodyMustBeAJSONObject(t *testing.T) {
	s := newInputServer(t)
	for _, ep := range bodyEndpoints {
		for _, body := range []string{`null`, " null\n", `[]`, `[{}]`, `"note"`, `1`, `true`} {
			e := s.refusal(ep.method, ep.path, ep.token, ep.contentType, body)
			if e.Message != "the request body must be a JSON object" || e.Field != "" {
				t.Errorf("%s %s %q: %+v, want the body refused as not an object", ep.method, ep.path, body, e)
			}
		}
	}
}

// Every staff note is at most 2000 characters of UTF-8 text, with line
// breaks and tabs but no other control character; an assignee is one line
// of at most 128 characters. Each refusal names the field.
func TestStaffTextIsRefusedNamingTheField(t *testing.T) {
	s := newInputServer(t)
	long := strings.Repeat("é", maxNote+1)
	for _, tc := range []struct {
		name, action, body, field, message string
	}{
		{"note too long", "note", `{"note":"` + long + `"}`, "note", "note is longer than 2000 characters (it has 2001)"},
		{"note with a bell", "note", `{"note":"called\u0007"}`, "note", "note contains a control character (U+0007 at character 7); only line breaks and tabs are allowed"},
		{"note with a bare carriage return", "note", "{\"note\":\"over\\rwritten\"}", "note", "note contains a control character (U+000D at character 5); only line breaks and tabs are allowed"},
		{"note not UTF-8", "note", "{\"note\":\"caf\xe9\"}", "note", "note is not valid UTF-8"},
		{"escalation with an escape", "escalate", `{"note":"\u001b[31mred"}`, "note", "note contains a control character (U+001B at character 1); only line breaks and tabs are allowed"},
		{"reclassification too long", "reclassify", `{"category":"wrong_network_evm","note":"` + long + `"}`, "note", "note is longer than 2000 characters (it has 2001)"},
		{"sign-off note with NUL", "signoff", `{"team":"wallet","approve":false,"note":"no\u0000"}`, "note", "note contains a control character (U+0000 at character 3); only line breaks and tabs are allowed"},
		{"recheck note with C1 control", "recheck", `{"note":"\u0085"}`, "note", "note contains a control character (U+0085 at character 1); only line breaks and tabs are allowed"},
		{"close reason too long", "close", `{"note":"` + long + `"}`, "note", "note is longer than 2000 characters (it has 2001)"},
		{"reopen reason not UTF-8", "reopen", "{\"note\":\"\xff\xfe\"}", "note", "note is not valid UTF-8"},
		{"confirm-proof reason with DEL", "confirm-proof", `{"note":"ok\u007f"}`, "note", "note contains a control character (U+007F at character 3); only line breaks and tabs are allowed"},
		{"reassignment reason too long", "reassign-claimant", `{"user_id":"u-42","note":"` + long + `"}`, "note", "note is longer than 2000 characters (it has 2001)"},
		{"assignment note with a bell", "assign", `{"assignee":"bob","note":"\u0007"}`, "note", "note contains a control character (U+0007 at character 1); only line breaks and tabs are allowed"},
		{"assignee on two lines", "assign", `{"assignee":"bob\nsmith"}`, "assignee", "assignee contains a control character (U+000A at character 4)"},
		{"assignee with a tab", "assign", `{"assignee":"bob\tsmith"}`, "assignee", "assignee contains a control character (U+0009 at character 4)"},
		{"assignee too long", "assign", `{"assignee":"` + strings.Repeat("ü", maxLabel+1) + `"}`, "assignee", "assignee is longer than 128 characters (it has 129)"},
		{"assignee not UTF-8", "assign", "{\"assignee\":\"b\xc3\"}", "assignee", "assignee is not valid UTF-8"},
	} {
		e := s.refusal("POST", "/v1/cases/c-1/"+tc.action, inputSpecialist, "", tc.body)
		if e.Field != tc.field || e.Message != tc.message {
			t.Errorf("%s: %+v, want field %q and message %q", tc.name, e, tc.field, tc.message)
		}
	}
}

// A note may run over lines (\n or \r\n) and tabs, and its limit counts
// characters, not bytes: 2000 characters of Chinese pass. What passes
// reaches the case exactly as typed.
func TestStaffTextPassesAsTyped(t *testing.T) {
	by := workflows.Actor{Person: "sam", Roles: []string{"specialist"}}
	note := "line one\n\tindented\r\nline three " + strings.Repeat("語", maxNote-31)
	if n := len([]rune(note)); n != maxNote {
		t.Fatalf("the note has %d characters", n)
	}
	raw, _ := json.Marshal(map[string]string{"note": note})
	a, err := noteArg(raw, by)
	if err != nil {
		t.Fatalf("a note of %d characters over lines refused: %v", maxNote, err)
	}
	if got := a.(workflows.NoteRequest).Note; got != note {
		t.Fatalf("the note reached the case as %q", got)
	}
	assignee := strings.Repeat("é", maxLabel)
	raw, _ = json.Marshal(map[string]string{"assignee": " " + assignee + " ", "note": "yours"})
	a, err = assignArg(raw, by)
	if err != nil {
		t.Fatalf("an assignee of %d characters refused: %v", maxLabel, err)
	}
	if got := a.(workflows.AssignRequest).Assignee; got != assignee {
		t.Fatalf("the assignee reached the case as %q", got)
	}
}

// The appeal's free text is checked as the staff's is: bytes that are not
// UTF-8 used to reach the case replaced unseen.
func TestAppealTextIsRefusedNamingTheField(t *testing.T) {
	s := newInputServer(t)
	appeal := func(extra string) string {
		return `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1",` + extra + `}`
	}
	for _, tc := range []struct {
		name, body, field, message string
	}{
		{"contact not UTF-8", appeal("\"contact\":\"bob@ex\xe4mple.com\""), "contact", "contact is not valid UTF-8"},
		{"memo not UTF-8", appeal("\"memo\":\"\xff\""), "memo", "memo is not valid UTF-8"},
		{"contact too long", appeal(`"contact":"` + strings.Repeat("ç", 257) + `"`), "contact", "contact is longer than 256 characters (it has 257)"},
		{"contact on two lines", appeal(`"contact":"bob\r\nalice"`), "contact", "contact contains a control character (U+000D at character 4)"},
	} {
		e := s.refusal("POST", "/v1/appeals", "", "", tc.body)
		if e.Field != tc.field || e.Message != tc.message {
			t.Errorf("%s: %+v, want field %q and message %q", tc.name, e, tc.field, tc.message)
		}
	}
	// The reason a user gives for withdrawing is a note as staff write.
	for _, tc := range []struct{ name, body, message string }{
		{"reason too long", `{"reason":"` + strings.Repeat("é", 2001) + `"}`, "reason is longer than 2000 characters (it has 2001)"},
		{"reason with a bell", `{"reason":"no\u0007"}`, "reason contains a control character (U+0007 at character 3); only line breaks and tabs are allowed"},
	} {
		e := s.refusal("POST", "/v1/appeals/eth.x.v/withdraw", "", "application/json", tc.body)
		if e.Field != "reason" || e.Message != tc.message {
			t.Errorf("%s: %+v, want field reason and message %q", tc.name, e, tc.message)
		}
	}
}

// An address book memo is one line of text, in CSV as in JSON, and the
// refusal names the entry.
func TestAddressBookMemoIsOneLineOfText(t *testing.T) {
	s := newInputServer(t)
	const addr = "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh"
	for _, tc := range []struct {
		name, contentType, body, field, message string
	}{
		{"csv memo with a bell", "text/csv", "network,address,memo,user_id,status\nxrp," + addr + ",1001,bob,\nxrp," + addr + ",10\a02,amy,\n",
			"memo", "entry 2: memo contains a control character (U+0007 at character 3)"},
		{"csv memo not UTF-8", "text/csv", "network,address,memo,user_id,status\nxrp," + addr + ",\xff,bob,\n",
			"memo", "entry 1: memo is not valid UTF-8"},
		{"json memo with an escape", "application/json", `{"entries":[{"network":"xrp","address":"` + addr + `","memo":"\u001b","user_id":"bob"}]}`,
			"memo", "entry 1: memo contains a control character (U+001B at character 1)"},
		{"json memo not UTF-8", "application/json", "{\"entries\":[{\"network\":\"xrp\",\"address\":\"" + addr + "\",\"memo\":\"\xff\",\"user_id\":\"bob\"}]}",
			"entries", "entries is not valid UTF-8"},
	} {
		e := s.refusal("PUT", "/v1/addressbook", inputAdmin, tc.contentType, tc.body)
		if e.Field != tc.field || e.Message != tc.message {
			t.Errorf("%s: %+v, want field %q and message %q", tc.name, e, tc.field, tc.message)
		}
	}
}
