package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// StaffTokens knows staff by the SHA-256 of their tokens only: a memory
// dump or a config file holding hashes gives no one a usable token, and a
// presented token is compared with every known one in constant time.
type StaffTokens struct {
	entries []staffEntry
}

type staffEntry struct {
	sum [32]byte
	who Staff
}

// NewStaffTokens is an empty set; Add fills it.
func NewStaffTokens() *StaffTokens { return &StaffTokens{} }

// Add admits the token whose SHA-256 is sum as who.
func (t *StaffTokens) Add(sum [32]byte, who Staff) {
	t.entries = append(t.entries, staffEntry{sum: sum, who: who})
}

// AddToken admits token as who, keeping only its hash.
func (t *StaffTokens) AddToken(token string, who Staff) { t.Add(sha256.Sum256([]byte(token)), who) }

// Len is how many tokens are known.
func (t *StaffTokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// Who is the staff member behind token. Every known token is compared,
// whether or not an earlier one matched, so that the time taken says
// nothing of which came close.
func (t *StaffTokens) Who(token string) (Staff, bool) {
	if t == nil || token == "" {
		return Staff{}, false
	}
	sum := sha256.Sum256([]byte(token))
	var who Staff
	found := 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(sum[:], e.sum[:]) == 1 {
			who, found = e.who, 1
		}
	}
	return who, found == 1
}

// FromRequest is the staff member whose token the request's Authorization
// header bears.
func (t *StaffTokens) FromRequest(r *http.Request) (Staff, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return Staff{}, false
	}
	return t.Who(strings.TrimSpace(token))
}

// Failed sign-ins are throttled by client address: authFailureBurst
// failures at once, then one more every authFailureEvery; while a client
// has none left every sign-in of its, right or wrong, is answered 429.
const (
	authFailureBurst = 10
	authFailureEvery = 6 * time.Second
	// maxAuthClients bounds the memory the throttle keeps: past it, the
	// clients whose allowance is whole again are forgotten.
	maxAuthClients = 10_000
)

// SignInThrottle counts failed sign-ins per client address. One is shared
// by everything that checks staff or user tokens (the API, the codec
// endpoint), so that guesses spread over them count together.
type SignInThrottle struct {
	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

// NewSignInThrottle is a throttle with no failure counted.
func NewSignInThrottle() *SignInThrottle {
	return &SignInThrottle{clients: map[string]*rate.Limiter{}}
}

// ClientAddr is the address the request came from. Behind a reverse
// proxy that is the proxy's: throttling then applies to all its clients
// together, which errs on the side of refusing.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Blocked says how long the client must wait before its next sign-in
// (0: it may try now).
func (a *SignInThrottle) Blocked(client string, now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.clients[client]
	if !ok || l.TokensAt(now) >= 1 {
		return 0
	}
	r := l.ReserveN(now, 1)
	defer r.CancelAt(now)
	return r.DelayFrom(now)
}

// Failed counts one failed sign-in of the client.
func (a *SignInThrottle) Failed(client string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.clients[client]
	if !ok {
		if len(a.clients) >= maxAuthClients {
			for c, cl := range a.clients {
				if cl.TokensAt(now) >= authFailureBurst {
					delete(a.clients, c)
				}
			}
		}
		if len(a.clients) >= maxAuthClients {
			// Under a spray from that many addresses: start afresh
			// rather than grow without bound.
			clear(a.clients)
		}
		l = rate.NewLimiter(rate.Every(authFailureEvery), authFailureBurst)
		a.clients[client] = l
	}
	l.AllowN(now, 1)
}
