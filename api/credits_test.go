package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCreditsImport(t *testing.T) {
	book := openBook(t)
	var logs bytes.Buffer
	srv := NewServer(Deps{Registry: registry(t), AddressBook: book, Logger: slog.New(slog.NewTextHandler(&logs, nil)), StaffTokens: map[string]Staff{
		"settlement-token-0123456789": {Person: "seth", Roles: []string{"settlement"}},
		"admin-token-0123456789":      {Person: "ada", Roles: []string{"admin"}},
		"wallet-token-0123456789":     {Person: "wanda", Roles: []string{"wallet"}},
		"specialist-token-0123456789": {Person: "sam", Roles: []string{"specialist"}},
	}})
	do := func(token, ctype, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("PUT", "/v1/credits", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	ctx := context.Background()
	h1, h2, h3 := strings.Repeat("a1", 32), strings.Repeat("b2", 32), strings.Repeat("c3", 32)
	csv := "network,tx_hash,index,user_id,amount,credited_at\n" +
		"eth,0x" + strings.ToUpper(h1) + ",v,alice,250000000000000000,2026-11-23T12:00:00Z\n" +
		"btc," + h2 + ",o1,bob,15000,2026-11-20\n"

	// Only settlement and admin import credits.
	for _, token := range []string{"specialist-token-0123456789", "wallet-token-0123456789"} {
		if rec := do(token, "text/csv", csv); rec.Code != 403 {
			t.Fatalf("%s imported credits: %d %s", token, rec.Code, rec.Body)
		}
	}
	if c, _ := book.Credited(ctx, "eth", h1, "v"); c != nil {
		t.Fatal("a refused import stored a credit")
	}
	if rec := do("settlement-token-0123456789", "text/csv", csv); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored": 2`) {
		t.Fatalf("csv import: %d %s", rec.Code, rec.Body)
	}
	// The diagnosis finds the credit under the deposit's bare hash.
	c, err := book.Credited(ctx, "eth", h1, "v")
	if err != nil || c == nil || c.UserID != "alice" || c.Amount != "250000000000000000" || !c.CreditedAt.Equal(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("stored credit: %v %+v", err, c)
	}
	if !strings.Contains(logs.String(), "audit: credits import") || !strings.Contains(logs.String(), "person=seth") || !strings.Contains(logs.String(), "credits=2") {
		t.Fatalf("no audit line naming the person: %s", logs.String())
	}
	// The same export again, by an admin, is accepted and changes nothing.
	if rec := do("admin-token-0123456789", "text/csv", csv); rec.Code != 200 {
		t.Fatalf("re-import: %d %s", rec.Code, rec.Body)
	}
	if again, _ := book.Credited(ctx, "btc", h2, "o1"); again == nil || again.UserID != "bob" || !again.CreditedAt.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("after re-import: %+v", again)
	}
	// JSON, with no content type as well.
	body := `{"credits":[{"network":"eth","tx_hash":"` + h3 + `","index":"l4","user_id":"carol","amount":"1000000","credited_at":"2026-11-24T08:30:00+02:00"}]}`
	if rec := do("settlement-token-0123456789", "", body); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"stored": 1`) {
		t.Fatalf("json import: %d %s", rec.Code, rec.Body)
	}
	if c, _ := book.Credited(ctx, "eth", h3, "l4"); c == nil || c.UserID != "carol" || !c.CreditedAt.Equal(time.Date(2026, 11, 24, 6, 30, 0, 0, time.UTC)) {
		t.Fatalf("json credit: %+v", c)
	}

	newHash := strings.Repeat("d4", 32)
	goodRow := "eth," + newHash + ",v,dan,5,2026-11-20\n"
	for name, tc := range map[string]struct {
		ctype, body string
		status      int
		want        string
	}{
		"bad csv line": {"text/csv", "network,tx_hash,index,user_id,amount,credited_at\n" + goodRow + "eth," + h3 + ",v,dan,1.5,2026-11-20\n", 400, "line 3: amount"},
		"bad header":   {"text/csv", "network,tx_hash,user_id,amount,credited_at\n" + goodRow, 400, "header: column"},
		"another user": {"text/csv", "network,tx_hash,index,user_id,amount,credited_at\n" + goodRow + "btc," + h2 + ",o1,mallory,15000,2026-11-20\n", 409, "btc." + h2 + ".o1"},
		"another amount": {"application/json", `{"credits":[{"network":"eth","tx_hash":"` + newHash + `","index":"v","user_id":"dan","amount":"5","credited_at":"2026-11-20"},` +
			`{"network":"eth","tx_hash":"` + h3 + `","index":"l4","user_id":"carol","amount":"2000000","credited_at":"2026-11-24"}]}`, 409, "eth." + h3 + ".l4"},
		"bad json credit": {"application/json", `{"credits":[{"network":"eth","tx_hash":"` + newHash + `","index":"v","user_id":"dan","amount":"5","credited_at":"2026-11-20"},{"network":"eth","tx_hash":"0x12","index":"v","user_id":"x","amount":"1","credited_at":"2026-11-20"}]}`, 400, "credit 2: tx_hash"},
		"bad json time":   {"application/json", `{"credits":[{"network":"eth","tx_hash":"` + newHash + `","index":"v","user_id":"dan","amount":"5","credited_at":"last week"}]}`, 400, "credit 1: credited_at"},
		"numeric amount":  {"application/json", `{"credits":[{"network":"eth","tx_hash":"` + newHash + `","index":"v","user_id":"dan","amount":5,"credited_at":"2026-11-20"}]}`, 400, "amount"},
		"unknown network": {"text/csv", "network,tx_hash,index,user_id,amount,credited_at\n" + goodRow + "nowhere," + h3 + ",v,dan,5,2026-11-20\n", 400, "nowhere"},
		"unknown field":   {"application/json", `{"credits":[],"extra":1}`, 400, "extra"},
		"empty":           {"application/json", `{"credits":[]}`, 400, "no credits"},
		"header only":     {"text/csv", "network,tx_hash,index,user_id,amount,credited_at\n", 400, "no credits"},
		"wrong type":      {"application/xml", "<a/>", 400, "text/csv or application/json"},
	} {
		rec := do("settlement-token-0123456789", tc.ctype, tc.body)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
		// A refused import stores nothing, not even its good lines.
		if c, _ := book.Credited(ctx, "eth", newHash, "v"); c != nil {
			t.Fatalf("%s: the good credit of a refused import was stored", name)
		}
	}
	// The conflicts left the stored credits as they were.
	if c, _ := book.Credited(ctx, "btc", h2, "o1"); c == nil || c.UserID != "bob" {
		t.Fatalf("after a conflict: %+v", c)
	}
}

// An import over the size limit is refused as too large (413), in either
// format, and nothing is stored.
func TestOversizedCreditsImportIsTooLarge(t *testing.T) {
	book := openBook(t)
	srv := NewServer(Deps{Registry: registry(t), AddressBook: book, StaffTokens: map[string]Staff{
		"settlement-token-0123456789": {Person: "seth", Roles: []string{"settlement"}},
	}})
	hash := strings.Repeat("e5", 32)
	row := "eth," + hash + ",v,amy,1,2026-11-20\n"
	jsonRow := `{"network":"eth","tx_hash":"` + hash + `","index":"v","user_id":"amy","amount":"1","credited_at":"2026-11-20"},`
	for _, tc := range []struct{ ctype, body string }{
		{"text/csv", "network,tx_hash,index,user_id,amount,credited_at\n" + strings.Repeat(row, maxAddressBook/len(row)+1)},
		{"application/json", `{"credits":[` + strings.Repeat(jsonRow, maxAddressBook/len(jsonRow)) + jsonRow[:len(jsonRow)-1] + `]}`},
	} {
		req := httptest.NewRequest("PUT", "/v1/credits", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer settlement-token-0123456789")
		req.Header.Set("Content-Type", tc.ctype)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var got errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 413 || got.Error.Code != "too_large" {
			t.Errorf("%s of %d bytes: %d %.300s", tc.ctype, len(tc.body), rec.Code, rec.Body)
		}
	}
	if c, err := book.Credited(context.Background(), "eth", hash, "v"); err != nil || c != nil {
		t.Errorf("an oversized import stored a credit: %+v (%v)", c, err)
	}
}

// Without an address book there is nowhere to keep credits.
func TestCreditsImportWithoutABook(t *testing.T) {
	srv := NewServer(Deps{Registry: registry(t), StaffTokens: map[string]Staff{
		"admin-token-0123456789": {Person: "ada", Roles: []string{"admin"}},
	}})
	req := httptest.NewRequest("PUT", "/v1/credits", strings.NewReader(`{"credits":[]}`))
	req.Header.Set("Authorization", "Bearer admin-token-0123456789")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 503 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
