package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/misdeposit/recovery/addressbook"
)

func TestAddressBookImportAndLookup(t *testing.T) {
	book := openBook(t)
	srv := NewServer(Deps{Registry: registry(t), AddressBook: book, StaffTokens: map[string]Staff{
		"wallet-token-0123456789":     {Person: "wanda", Roles: []string{"wallet"}},
		"specialist-token-0123456789": {Person: "sam", Roles: []string{"specialist"}},
	}})
	do := func(method, path, token, ctype, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	csv := "network,address,memo,user_id,status\nxrp,rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh,1001,bob,\neth,0x52908400098527886E0F7030069857D2E4169EE7,,amy,retired\n"

	if rec := do("PUT", "/v1/addressbook", "specialist-token-0123456789", "text/csv", csv); rec.Code != 403 {
		t.Fatalf("a specialist imported the address book: %d %s", rec.Code, rec.Body)
	}
	if rec := do("PUT", "/v1/addressbook", "wallet-token-0123456789", "text/csv", csv); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored": 2`) {
		t.Fatalf("csv import: %d %s", rec.Code, rec.Body)
	}
	rec := do("GET", "/v1/addressbook?address=0x52908400098527886e0f7030069857d2e4169ee7", "specialist-token-0123456789", "", "")
	var got struct {
		Entries []addressbook.Entry
		Changes []addressbook.Change
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Entries) != 1 || got.Entries[0].UserID != "amy" || got.Entries[0].Status != "retired" {
		t.Fatalf("lookup: %d %s", rec.Code, rec.Body)
	}
	// The import is on the address's audit trail, with who sent it.
	if len(got.Changes) != 1 || got.Changes[0].Person != "wanda" || got.Changes[0].After != "amy (retired)" || got.Changes[0].Before != "" {
		t.Fatalf("the address's changes: %s", rec.Body)
	}
	for name, tc := range map[string]struct {
		ctype, body string
		status      int
		want        string
	}{
		"unknown network": {"application/json", `{"entries":[{"network":"nowhere","address":"rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh","user_id":"x"}]}`, 400, "nowhere"},
		"unknown field":   {"application/json", `{"entries":[],"extra":1}`, 400, "extra"},
		"empty":           {"application/json", `{"entries":[]}`, 400, "no entries"},
		"bad csv line":    {"text/csv", "network,address,user_id\neth,short,x\n", 400, "line 2"},
		"wrong type":      {"application/xml", "<a/>", 400, "text/csv or application/json"},
	} {
		rec := do("PUT", "/v1/addressbook", "wallet-token-0123456789", tc.ctype, tc.body)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
}

// TestOversizedAddressBookIsTooLarge: an import over the size limit is
// refused as too large (413), in either format, and nothing is stored.
func TestOversizedAddressBookIsTooLarge(t *testing.T) {
	book := openBook(t)
	srv := NewServer(Deps{Registry: registry(t), AddressBook: book, StaffTokens: map[string]Staff{
		"wallet-token-0123456789": {Person: "wanda", Roles: []string{"wallet"}},
	}})
	row := "eth,0x52908400098527886E0F7030069857D2E4169EE7,,amy,\n"
	rows := strings.Repeat(row, maxAddressBook/len(row)+1)
	jsonRow := `{"network":"eth","address":"0x52908400098527886E0F7030069857D2E4169EE7","user_id":"amy"},`
	for _, tc := range []struct{ ctype, body string }{
		{"text/csv", "network,address,memo,user_id,status\n" + rows},
		{"application/json", `{"entries":[` + strings.Repeat(jsonRow, maxAddressBook/len(jsonRow)) + jsonRow[:len(jsonRow)-1] + `]}`},
	} {
		req := httptest.NewRequest("PUT", "/v1/addressbook", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer wallet-token-0123456789")
		req.Header.Set("Content-Type", tc.ctype)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var got errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 413 || got.Error.Code != "too_large" {
			t.Errorf("%s of %d bytes: %d %.300s", tc.ctype, len(tc.body), rec.Code, rec.Body)
		}
	}
	if entries, err := book.ByAddress(context.Background(), "0x52908400098527886E0F7030069857D2E4169EE7"); err != nil || len(entries) != 0 {
		t.Errorf("an oversized import stored %d entries (%v)", len(entries), err)
	}
}

// openBook opens an empty address book for the test.
func openBook(t *testing.T) *addressbook.Store {
	t.Helper()
	book, err := addressbook.Open(context.Background(), filepath.Join(t.TempDir(), "book.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { book.Close() })
	return book
}
