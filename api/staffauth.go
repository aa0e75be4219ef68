package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
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
	proxies []netip.Prefix
}

// NewSignInThrottle is a throttle with no failure counted. A request from
// one of the trusted proxies is counted against the client its
// X-Forwarded-For names (see Client).
func NewSignInThrottle(trusted ...netip.Prefix) *SignInThrottle {
	return &SignInThrottle{clients: map[string]*rate.Limiter{}, proxies: trusted}
}

// Client is the address a request's failures count against: the peer's,
// or, when the peer is a trusted proxy, the rightmost address of
// X-Forwarded-For that is not a trusted proxy itself (the addresses left
// of it are whatever the client wrote). An entry that is not an address
// stops the walk at the proxy that passed it on, which errs on the side
// of refusing. Without trusted proxies the header is never read: any
// client can write it.
func (a *SignInThrottle) Client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !a.trusted(peer) {
		return host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := forwardedAddr(hops[i])
		if !ok {
			break
		}
		client = hop
		if !a.trusted(hop) {
			break
		}
	}
	return client.String()
}

func (a *SignInThrottle) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range a.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// forwardedAddr reads one X-Forwarded-For entry: an address, with a port
// or not ("203.0.113.7", "203.0.113.7:5120", "[2001:db8::1]:443").
func forwardedAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
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
