package api

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/misdeposit/recovery"
)

// Per-user limits of the appeal API: requests of any kind, and appeals
// filed. Generous for a person, tight for a script.
const (
	userRate       = 2 // requests per second
	userBurst      = 30
	filingPerHour  = 30
	filingBurst    = 10
	limiterIdleTTL = time.Hour
)

// userLimits keeps a pair of token buckets per user, forgetting users idle
// for an hour so that the map does not grow without bound.
type userLimits struct {
	mu    sync.Mutex
	users map[string]*userLimit
	swept time.Time
}

type userLimit struct {
	requests, filings *rate.Limiter
	seen              time.Time
}

func newUserLimits() *userLimits { return &userLimits{users: map[string]*userLimit{}} }

func (l *userLimits) get(user string, now time.Time) *userLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > limiterIdleTTL {
		for id, u := range l.users {
			if now.Sub(u.seen) > limiterIdleTTL {
				delete(l.users, id)
			}
		}
		l.swept = now
	}
	u := l.users[user]
	if u == nil {
		u = &userLimit{
			requests: rate.NewLimiter(userRate, userBurst),
			filings:  rate.NewLimiter(rate.Every(time.Hour/filingPerHour), filingBurst),
		}
		l.users[user] = u
	}
	u.seen = now
	return u
}

// user authenticates the appeal API's caller by their user token and
// applies their request limit.
func (s *server) user(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.UserTokens == nil {
			s.writeError(w, r, recovery.Errorf(recovery.EUnavailable, "user sign-in is not configured on this engine (user_token_secret)"))
			return
		}
		if s.throttled(w, r) {
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="appeals"`)
			s.writeError(w, r, recovery.Errorf(recovery.EUnauthorized, "sign in first: send your user token as Authorization: Bearer ..."))
			return
		}
		user, err := s.UserTokens.Check(strings.TrimSpace(token))
		if err != nil {
			s.failures.Failed(s.failures.Client(r), s.Now())
			w.Header().Set("WWW-Authenticate", `Bearer realm="appeals", error="invalid_token"`)
			s.writeError(w, r, recovery.Errorf(recovery.EUnauthorized, "%s", err.Error()))
			return
		}
		lim := s.limits.get(user, s.Now())
		if !lim.requests.Allow() {
			s.tooMany(w, r, lim.requests)
			return
		}
		h(w, r, user)
	}
}

// tooMany answers 429 with the wait until the next request is allowed.
func (s *server) tooMany(w http.ResponseWriter, r *http.Request, l *rate.Limiter) {
	wait := time.Second
	if res := l.Reserve(); res.OK() {
		wait = res.Delay()
		res.Cancel()
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
	s.writeError(w, r, recovery.Errorf(recovery.ERateLimited, "too many requests; try again in %s", wait.Round(time.Second)+time.Second))
}

// devUserTokenTTL is how long a dev user token lasts.
const devUserTokenTTL = 30 * 24 * time.Hour

// devUserToken issues a user token for any user: recovery dev stands in
// for the exchange's sign-in.
func (s *server) devUserToken(w http.ResponseWriter, r *http.Request) {
	if !s.DevUserTokens || s.UserTokens == nil {
		s.writeError(w, r, recovery.Errorf(recovery.ENotFound, "user tokens are issued here in dev mode only; the exchange issues them in production"))
		return
	}
	var req devUserTokenRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.UserID = strings.TrimSpace(req.UserID)
	if !userIDPattern.MatchString(req.UserID) {
		s.writeError(w, r, recovery.FieldError("user_id", "user_id is required: 1 to 128 letters, digits or . _ @ : -"))
		return
	}
	exp := s.Now().Add(devUserTokenTTL).UTC()
	writeJSON(w, http.StatusOK, devUserTokenView{UserID: req.UserID, Token: s.UserTokens.Issue(req.UserID, devUserTokenTTL), ExpiresAt: exp})
}

// devUserTokenRequest and devUserTokenView are POST /v1/dev/user-token.
type devUserTokenRequest struct {
	UserID string `json:"user_id"`
}

type devUserTokenView struct {
	UserID    string    `json:"user_id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}
