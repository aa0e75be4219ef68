package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestUserTokens(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	users := testUsers(t, clock)
	tok := users.Issue("alice@example", time.Hour)
	if u, err := users.Check(tok); err != nil || u != "alice@example" {
		t.Fatalf("own token: %q %v", u, err)
	}
	other, _ := NewUserTokens([]byte("another-secret-another-secret-00"), clock)
	parts := strings.Split(tok, ".")
	for name, bad := range map[string]string{
		"empty":                "",
		"signed with another":  other.Issue("alice@example", time.Hour),
		"user changed":         strings.Join([]string{parts[0], "Ym9i", parts[2], parts[3]}, "."),
		"expiry pushed":        strings.Join([]string{parts[0], parts[1], "9999999999", parts[3]}, "."),
		"not four parts":       "u1.abc",
		"another version":      "u2" + tok[2:],
		"long":                 strings.Repeat("a", 1000),
		"user id not allowed":  users.Issue("a b", time.Hour),
		"mac not base64":       strings.Join(append(parts[:3:3], "!!"), "."),
		"expiry not a number":  users.Issue("x", time.Hour)[:3] + "eA.x.y",
		"signature truncated":  tok[:len(tok)-2],
		"trailing dot segment": tok + ".",
	} {
		if u, err := users.Check(bad); err == nil {
			t.Errorf("%s: accepted as %q", name, u)
		}
	}
	now = now.Add(time.Hour)
	if _, err := users.Check(tok); err != errTokenExpired {
		t.Errorf("at expiry: %v, want expired", err)
	}
	if _, err := NewUserTokens([]byte("short"), nil); err == nil {
		t.Error("a short secret is accepted")
	}
}

func FuzzUserToken(f *testing.F) {
	users := testUsers(f, nil)
	f.Add(users.Issue("u1", time.Hour))
	f.Add("u1.dTE.1.x")
	f.Fuzz(func(t *testing.T, token string) {
		u, err := users.Check(token)
		if err == nil && (!userIDPattern.MatchString(u) || users.Issue(u, time.Hour) == "") {
			t.Fatalf("%q accepted as %q", token, u)
		}
	})
}

func TestAppealRoutesNeedTheUsersToken(t *testing.T) {
	users := testUsers(t, nil)
	srv := NewServer(Deps{Registry: registry(t), UserTokens: users})
	body := `{"tx_hash":"` + goodHash + `","to_address":"` + goodAddr + `","user_id":"u1"}`
	do := func(method, path, auth, body string) (int, errorBody) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var e errorBody
		json.Unmarshal(rec.Body.Bytes(), &e)
		return rec.Code, e
	}
	for _, tc := range []struct {
		method, path, auth string
		status             int
		code, field        string
	}{
		{"POST", "/v1/appeals", "", 401, "unauthorized", ""},
		{"POST", "/v1/appeals", "Bearer nope", 401, "unauthorized", ""},
		{"GET", "/v1/appeals/eth.x.v", "", 401, "unauthorized", ""},
		{"POST", "/v1/appeals/eth.x.v/quote", "", 401, "unauthorized", ""},
		{"POST", "/v1/appeals/eth.x.v/withdraw", "", 401, "unauthorized", ""},
		{"POST", "/v1/appeals", "Bearer " + users.Issue("u2", time.Hour), 403, "forbidden", "user_id"},
		{"POST", "/v1/appeals", "Bearer " + users.Issue("u1", -time.Second), 401, "unauthorized", ""},
	} {
		if code, e := do(tc.method, tc.path, tc.auth, body); code != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field {
			t.Errorf("%s %s (%s): %d %+v, want %d %s %s", tc.method, tc.path, tc.auth, code, e.Error, tc.status, tc.code, tc.field)
		}
	}
	// Without sign-in configured nothing is served to anyone.
	bare := NewServer(Deps{Registry: registry(t)})
	rec := httptest.NewRecorder()
	bare.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/appeals/eth.x.v", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("no sign-in configured: %d", rec.Code)
	}
	// Dev tokens come from recovery dev only.
	if code, _ := do("POST", "/v1/dev/user-token", "", `{"user_id":"u1"}`); code != 404 {
		t.Errorf("dev user token outside dev: %d", code)
	}
}

func TestUserRequestLimit(t *testing.T) {
	users := testUsers(t, nil)
	srv := NewServer(Deps{Registry: registry(t), UserTokens: users})
	auth := "Bearer " + users.Issue("busy", time.Hour)
	var limited *httptest.ResponseRecorder
	for i := 0; i < userBurst+5 && limited == nil; i++ {
		req := httptest.NewRequest("POST", "/v1/appeals", strings.NewReader(`{}`))
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code == http.StatusTooManyRequests {
			limited = rec
		}
	}
	if limited == nil || limited.Header().Get("Retry-After") == "" || !strings.Contains(limited.Body.String(), `"rate_limited"`) {
		t.Fatalf("no 429 with Retry-After after a burst: %+v", limited)
	}
	// Another user is not held back by the first.
	req := httptest.NewRequest("POST", "/v1/appeals", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+users.Issue("calm", time.Hour))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code == http.StatusTooManyRequests {
		t.Fatal("the limit is not per user")
	}
}

// Errors answer in the user's language; English keeps the detailed
// message.
func TestErrorsInTheUsersLanguage(t *testing.T) {
	users := testUsers(t, nil)
	srv := NewServer(Deps{Registry: registry(t), UserTokens: users})
	body := `{"tx_hash":"0x12","to_address":"` + goodAddr + `","user_id":"u1"}`
	for lang, want := range map[string]string{
		"en": "this one has 2", // the engine's own, detailed message
		"fr": "Le hash de transaction n'est pas valide",
		"zh": "交易哈希无效",
		"hu": "A tranzakció hash nem érvényes",
	} {
		req := httptest.NewRequest("POST", "/v1/appeals", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+users.Issue("u1", time.Hour))
		req.Header.Set("Accept-Language", lang)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var e errorBody
		json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != 400 || e.Error.Field != "tx_hash" || !strings.Contains(e.Error.Message, want) {
			t.Errorf("%s: %d %+v", lang, rec.Code, e.Error)
		}
	}
	req := httptest.NewRequest("GET", "/v1/appeals/x?lang=fr", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "Veuillez vous reconnecter") {
		t.Errorf("fr 401: %s", rec.Body)
	}
}
