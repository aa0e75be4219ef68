package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func staffRequest(srv http.Handler, from, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/v1/wallets", nil)
	req.RemoteAddr = from
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// Staff known only by their token's hash sign in with the token; a
// token's hash itself, or a prefix of the token, is no token.
func TestStaffKnownByTheirTokensHash(t *testing.T) {
	const token = "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg"
	staff := NewStaffTokens()
	staff.Add(sha256.Sum256([]byte(token)), Staff{Person: "wanda", Roles: []string{"wallet"}})
	srv := NewServer(Deps{Registry: registry(t), Staff: staff, HotWallets: fixedWallets{}})
	sum := sha256.Sum256([]byte(token))
	for _, tc := range []struct {
		token string
		code  int
	}{
		{token, 200},
		{" " + token + " ", 200},
		{token[:len(token)-1], 401},
		{string(sum[:]), 401},
		{"", 401},
	} {
		if rec := staffRequest(srv, "192.0.2.1:4000", tc.token); rec.Code != tc.code {
			t.Errorf("token %q: %d %s, want %d", tc.token, rec.Code, rec.Body, tc.code)
		}
	}
}

// An address that keeps presenting wrong tokens is refused for a while,
// its right tokens too, with the wait in Retry-After; other addresses are
// not affected, and the allowance comes back with time.
func TestFailedSignInsAreThrottled(t *testing.T) {
	const token = "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg"
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	srv := NewServer(Deps{Registry: registry(t), HotWallets: fixedWallets{}, Now: func() time.Time { return now },
		StaffTokens: map[string]Staff{token: {Person: "wanda", Roles: []string{"wallet"}}}})
	const attacker, colleague = "198.51.100.7:5000", "192.0.2.1:4000"
	for i := range authFailureBurst {
		if rec := staffRequest(srv, attacker, "guess-"+string(rune('a'+i))); rec.Code != 401 {
			t.Fatalf("guess %d: %d, want 401", i, rec.Code)
		}
	}
	rec := staffRequest(srv, attacker, "one-more-guess")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("guess past the allowance: %d %q, want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := staffRequest(srv, attacker, token); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("the right token from the throttled address: %d, want 429", rec.Code)
	}
	if rec := staffRequest(srv, colleague, token); rec.Code != 200 {
		t.Fatalf("the right token from another address: %d %s, want 200", rec.Code, rec.Body)
	}
	// Appeal requests with bad user tokens count against the same address.
	req := httptest.NewRequest("GET", "/v1/appeals/x", nil)
	req.RemoteAddr = attacker
	req.Header.Set("Authorization", "Bearer nope")
	urec := httptest.NewRecorder()
	srv.ServeHTTP(urec, req)
	if urec.Code != http.StatusTooManyRequests && urec.Code != http.StatusServiceUnavailable {
		t.Fatalf("appeal request from the throttled address: %d", urec.Code)
	}
	now = now.Add(authFailureEvery)
	if rec := staffRequest(srv, attacker, token); rec.Code != 200 {
		t.Fatalf("after the wait: %d %s, want 200", rec.Code, rec.Body)
	}
}

// Behind a trusted reverse proxy each client's failures count against the
// address the proxy forwarded, so that one guesser does not lock out every
// user behind the proxy; what a client writes in X-Forwarded-For itself
// changes nothing, and without trusted proxies the header is not read.
func TestThrottleCountsTheClientBehindATrustedProxy(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:1::/48")}
	behind := NewSignInThrottle(proxies...)
	direct := NewSignInThrottle()
	for _, c := range []struct {
		peer   string
		xff    []string
		behind string // the client behind the proxies
		direct string // with no proxy trusted
	}{
		{"10.1.2.3:443", []string{"203.0.113.7"}, "203.0.113.7", "10.1.2.3"},
		// The client wrote an address of its own; the proxy appended the real one.
		{"10.1.2.3:443", []string{"192.0.2.99, 203.0.113.7"}, "203.0.113.7", "10.1.2.3"},
		// Two proxies in a row, and the header split over two lines.
		{"10.1.2.3:443", []string{"192.0.2.99, 203.0.113.7", "10.9.9.9"}, "203.0.113.7", "10.1.2.3"},
		{"[2001:db8:1::5]:443", []string{"[2001:db8:2::7]:5120"}, "2001:db8:2::7", "2001:db8:1::5"},
		{"10.1.2.3:443", []string{"203.0.113.7:5120"}, "203.0.113.7", "10.1.2.3"},
		// Not an address: the proxy that passed it on is counted.
		{"10.1.2.3:443", []string{"203.0.113.7, unknown"}, "10.1.2.3", "10.1.2.3"},
		// Only proxies: the leftmost of them.
		{"10.1.2.3:443", []string{"10.4.4.4"}, "10.4.4.4", "10.1.2.3"},
		{"10.1.2.3:443", nil, "10.1.2.3", "10.1.2.3"},
		// A client that is not a proxy cannot name another address.
		{"198.51.100.7:5000", []string{"203.0.113.7"}, "198.51.100.7", "198.51.100.7"},
	} {
		req := httptest.NewRequest("GET", "/v1/wallets", nil)
		req.RemoteAddr = c.peer
		for _, v := range c.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		if got := behind.Client(req); got != c.behind {
			t.Errorf("%s %q behind trusted proxies: %s, want %s", c.peer, c.xff, got, c.behind)
		}
		if got := direct.Client(req); got != c.direct {
			t.Errorf("%s %q with no proxy trusted: %s, want %s", c.peer, c.xff, got, c.direct)
		}
	}

	// Through the API: a guesser behind the proxy is throttled, a colleague
	// behind the same proxy is not.
	const token = "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg"
	srv := NewServer(Deps{Registry: registry(t), HotWallets: fixedWallets{}, SignIns: NewSignInThrottle(proxies...),
		StaffTokens: map[string]Staff{token: {Person: "wanda", Roles: []string{"wallet"}}}})
	via := func(client, token string) int {
		req := httptest.NewRequest("GET", "/v1/wallets", nil)
		req.RemoteAddr = "10.1.2.3:443"
		req.Header.Set("X-Forwarded-For", client)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range authFailureBurst + 1 {
		via("198.51.100.7", fmt.Sprintf("guess-%d", i))
	}
	if code := via("198.51.100.7", token); code != http.StatusTooManyRequests {
		t.Errorf("the guesser behind the proxy: %d, want 429", code)
	}
	if code := via("192.0.2.1", token); code != http.StatusOK {
		t.Errorf("a colleague behind the same proxy: %d, want 200", code)
	}
}

// The throttle forgets whole allowances first and never grows past its
// bound, whatever number of addresses guess.
func TestThrottleMemoryIsBounded(t *testing.T) {
	a := NewSignInThrottle()
	now := time.Now()
	for i := range maxAuthClients * 2 {
		a.Failed(string(rune(i))+"-addr", now)
	}
	if n := len(a.clients); n > maxAuthClients {
		t.Fatalf("%d addresses kept, bound %d", n, maxAuthClients)
	}
}

// With the operations handler apart, /healthz and /metrics are served only
// there, not on the public API.
func TestMetricsOnTheInternalHandlerOnly(t *testing.T) {
	public, ops := NewHandlers(Deps{Registry: registry(t)}, true)
	get := func(h http.Handler, path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	if code := get(public, "/metrics"); code != 404 {
		t.Errorf("public /metrics: %d, want 404", code)
	}
	if code := get(ops, "/metrics"); code != 200 {
		t.Errorf("internal /metrics: %d, want 200", code)
	}
	if code := get(ops, "/v1/networks"); code != 404 {
		t.Errorf("internal /v1/networks: %d, want 404 (the API is not served there)", code)
	}
	together := NewServer(Deps{Registry: registry(t)})
	if code := get(together, "/metrics"); code != 200 {
		t.Errorf("/metrics without an internal handler: %d, want 200", code)
	}
}

// Every request's work ends at the request timeout, so a Temporal that
// does not answer cannot hold a connection for ever.
func TestRequestsHaveADeadline(t *testing.T) {
	s := &server{Deps: Deps{RequestTimeout: 20 * time.Millisecond}}
	var got error
	h := s.deadline(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		got = r.Context().Err()
	}))
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/cases", nil))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the request outlived its deadline")
	}
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Fatalf("request context ended with %v, want the deadline", got)
	}
}
