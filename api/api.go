// Package api serves the public appeal API, the staff API and the health
// and metrics endpoints over HTTP. Handlers translate between JSON and the
// workflows; they hold no case state of their own.
package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/internal/obs"
	"github.com/misdeposit/recovery/ledger"
	"github.com/misdeposit/recovery/workflows"
	"github.com/misdeposit/recovery/workflows/policyclient"
)

// Staff is a person behind a staff token.
type Staff struct {
	Person string
	Roles  []string
}

// Deps are what the API needs.
type Deps struct {
	Temporal  client.Client
	Namespace string
	Registry  *chains.Registry
	// Scanner finds the deposit at filing time so that the case id names
	// the exact output; nil files every appeal unresolved.
	Scanner *chains.Scanner
	// AddressBook knows the exchange's addresses; nil disables its routes.
	AddressBook *addressbook.Store
	// Ledger is the journal the fee reports read; nil disables them.
	Ledger *ledger.Store
	// Staff knows the staff tokens (by their hashes).
	Staff *StaffTokens
	// SignIns throttles failed sign-ins; nil gives the API one of its own.
	SignIns *SignInThrottle
	// StaffTokens maps bearer tokens to staff, for small set-ups and
	// tests: NewServer keeps only their hashes, with Staff's.
	StaffTokens map[string]Staff
	Timing      workflows.Timing
	// DepositAddress answers GET /v1/deposit-address; only set in dev.
	DepositAddress func(userID, network string) (string, error)
	// HotWallets lists each network's hot wallet and balance; nil answers
	// GET /v1/wallets as unavailable.
	HotWallets Wallets
	// Demo lists the demo mis-deposits of the local chains; only set in dev.
	Demo   func() any
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ResolveTimeout bounds the chain look-up done while filing.
	ResolveTimeout time.Duration
	// RequestTimeout bounds each request's work; 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// UserTokens checks the users' tokens on the appeal API; nil refuses
	// every appeal request (no sign-in configured).
	UserTokens *UserTokens
	// DevUserTokens serves POST /v1/dev/user-token, which issues a token
	// for any user: recovery dev only.
	DevUserTokens bool
	// Notifications says the workers tell users of their case at the
	// contact an appeal gives (notify_url, or recovery dev's outbox).
	// Without them an appeal that gives a contact is refused: the contact
	// would be kept with the case and never used.
	Notifications bool
}

type server struct {
	Deps
	log     *slog.Logger
	metrics *metrics
	limits  *userLimits
	// staffSet knows the staff tokens; failures throttles failed sign-ins.
	staffSet *StaffTokens
	failures *SignInThrottle
	// policies is the policy in force, read from the policy workflow at
	// most every few seconds however often /v1/networks is asked.
	policies *policyclient.Source
}

// route is one endpoint: "METHOD /path" and its handler. The OpenAPI
// document describes exactly these (a test checks it both ways).
type route struct {
	pattern string
	handler http.Handler
}

func (s *server) routes() []route {
	f := func(pattern string, h http.HandlerFunc) route { return route{pattern, h} }
	return []route{
		// Appeal API (users, with their user token).
		f("POST /v1/appeals", s.user(s.createAppeal)),
		f("GET /v1/appeals/{id}", s.user(s.getAppeal)),
		f("POST /v1/appeals/{id}/withdraw", s.user(s.withdrawAppeal)),
		f("POST /v1/appeals/{id}/quote", s.user(s.answerQuote)),
		f("POST /v1/appeals/{id}/proof", s.user(s.proveSending)),
		f("GET /v1/networks", s.listNetworks),
		f("GET /v1/openapi.json", s.openAPI),
		f("GET /v1/docs", s.docsPage),
		f("GET /v1/docs/redoc.standalone.js", s.docsScript),
		f("GET /{$}", s.appealForm),
		// Dev only.
		f("POST /v1/dev/user-token", s.devUserToken),
		f("GET /v1/deposit-address", s.depositAddress),
		// Staff API (staff tokens).
		f("GET /v1/cases", s.staff(s.listCases)),
		f("GET /v1/cases/{id}", s.staff(s.getCase)),
		f("POST /v1/cases/{id}/assign", s.staff(s.caseAction(workflows.AssignUpdate, assignArg))),
		f("POST /v1/cases/{id}/note", s.staff(s.caseAction(workflows.NoteUpdate, noteArg))),
		f("POST /v1/cases/{id}/escalate", s.staff(s.caseAction(workflows.EscalateUpdate, escalateArg))),
		f("POST /v1/cases/{id}/reclassify", s.staff(s.caseAction(workflows.ReclassifyUpdate, reclassifyArg))),
		f("POST /v1/cases/{id}/signoff", s.staff(s.caseAction(workflows.SignoffUpdate, signoffArg))),
		f("POST /v1/cases/{id}/recheck", s.staff(s.caseAction(workflows.RecheckUpdate, recheckArg))),
		f("POST /v1/cases/{id}/close", s.staff(s.caseAction(workflows.CloseUpdate, closeArg))),
		f("POST /v1/cases/{id}/reopen", s.staff(s.caseAction(workflows.ReopenUpdate, reopenArg))),
		f("POST /v1/cases/{id}/confirm-proof", s.staff(s.caseAction(workflows.ConfirmProofUpdate, confirmProofArg))),
		f("POST /v1/cases/{id}/reassign-claimant", s.staff(s.caseAction(workflows.ReassignClaimantUpdate, reassignClaimantArg))),
		f("GET /v1/demo", s.staff(s.demo)),
		f("PUT /v1/addressbook", s.staff(s.putAddressBook)),
		f("GET /v1/addressbook", s.staff(s.getAddressBook)),
		f("PUT /v1/credits", s.staff(s.putCredits)),
		f("GET /v1/policy", s.staff(s.getPolicy)),
		f("PUT /v1/policy", s.staff(s.putPolicy)),
		f("GET /v1/reports/fees", s.staff(s.feeReport)),
		f("GET /v1/wallets", s.staff(s.listWallets)),
		f("GET /v1/batches", s.staff(s.listBatches)),
		f("GET /v1/batches/{id}", s.staff(s.getBatch)),
		// Operations.
		f("GET /healthz", s.health),
		{"GET /metrics", promhttp.HandlerFor(prometheus.Gatherers{s.metrics.registry, obs.Registry}, promhttp.HandlerOpts{})},
	}
}

// NewServer returns the API handler, /healthz and /metrics included.
func NewServer(d Deps) http.Handler {
	public, _ := NewHandlers(d, false)
	return public
}

// opsRoutes are served on the internal listener when it is apart.
var opsRoutes = []string{"GET /healthz", "GET /metrics"}

// DefaultRequestTimeout bounds each request's work, the calls to Temporal
// it waits on included, unless Deps.RequestTimeout says otherwise.
const DefaultRequestTimeout = 30 * time.Second

// NewHandlers returns the API handler and the operations handler
// (/healthz and /metrics). With opsApart the API handler leaves those two
// out: they are served only where the operations handler is, e.g. a port
// only the monitoring network reaches.
func NewHandlers(d Deps, opsApart bool) (public, ops http.Handler) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ResolveTimeout == 0 {
		d.ResolveTimeout = 3 * time.Second
	}
	if d.RequestTimeout == 0 {
		d.RequestTimeout = DefaultRequestTimeout
	}
	staff := NewStaffTokens()
	if d.Staff != nil {
		staff.entries = append(staff.entries, d.Staff.entries...)
	}
	for token, who := range d.StaffTokens {
		staff.AddToken(token, who)
	}
	d.StaffTokens = nil
	s := &server{Deps: d, log: d.Logger, metrics: newMetrics(), limits: newUserLimits(), staffSet: staff, failures: d.SignIns}
	if s.failures == nil {
		s.failures = NewSignInThrottle()
	}
	if d.Temporal != nil {
		s.policies = policyclient.NewSource(d.Temporal)
	}
	s.metrics.registry.MustRegister(newCaseCounts(s))
	mux, opsMux := http.NewServeMux(), http.NewServeMux()
	for _, rt := range s.routes() {
		if slices.Contains(opsRoutes, rt.pattern) {
			opsMux.Handle(rt.pattern, rt.handler)
			if opsApart {
				continue
			}
		}
		mux.Handle(rt.pattern, rt.handler)
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, recovery.Errorf(recovery.ENotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	}
	mux.HandleFunc("/", notFound)
	opsMux.HandleFunc("/", notFound)
	public, ops = noSniff(s.instrument(s.deadline(mux))), noSniff(opsMux)
	if checkResponses != nil {
		public, ops = checkResponses(public), checkResponses(ops)
	}
	return public, ops
}

// checkResponses, when set (by the tests), wraps both handlers to look at
// every response they write, e.g. against the OpenAPI document.
var checkResponses func(http.Handler) http.Handler

// deadline bounds the work of each request, so that a Temporal that does
// not answer costs the client a clear 503 within RequestTimeout rather
// than a connection held open.
func (s *server) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// noSniff tells browsers to take every response as the content type it
// declares, so a JSON error echoing user input is never run as a script.
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		s.log.Warn("health check: temporal unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, healthView{Status: "unavailable", Temporal: "unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, healthView{Status: "ok", Temporal: "ok"})
}

// healthView is GET /healthz.
type healthView struct {
	Status   string `json:"status"`
	Temporal string `json:"temporal"`
}

// networkList is GET /v1/networks.
type networkList struct {
	Networks      []networkView `json:"networks"`
	PolicyVersion string        `json:"policy_version"`
}

// networkView is a network as the API shows it: never its node URLs,
// which may carry credentials.
type networkView struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Family        recovery.Family `json:"family"`
	ChainID       uint64          `json:"chain_id,omitempty"`
	Params        string          `json:"params,omitempty"`
	Confirmations uint64          `json:"confirmations"`
	NativeAsset   string          `json:"native_asset"`
	Decimals      int32           `json:"decimals"`
	Tier          chains.Tier     `json:"tier"`
	MinDeposit    string          `json:"min_deposit,omitempty"`
	Tokens        []chains.Token  `json:"tokens,omitempty"`
	// Recoverable is how the policy in force recovers deposits on this
	// network: direct, conditional or park (not in the policy).
	Recoverable string            `json:"recoverable,omitempty"`
	Lookup      bool              `json:"lookup"`          // the engine has a node for it
	Nodes       []pool.NodeHealth `json:"nodes,omitempty"` // what the engine knows of each node
}

// nodeHealth is a Lookup that can tell how its nodes are (chains/pool).
type nodeHealth interface {
	Health() []pool.NodeHealth
}

func (s *server) listNetworks(w http.ResponseWriter, r *http.Request) {
	var out []networkView
	recoverable, version := s.recoverability(r.Context())
	for _, n := range s.Registry.Networks() {
		v := networkView{
			ID: n.ID, Name: n.Name, Family: n.Family, ChainID: n.ChainID, Params: n.Params, Confirmations: n.Confirmations,
			NativeAsset: n.NativeAsset, Decimals: n.Decimals, Tier: n.Tier, MinDeposit: n.MinDeposit, Tokens: n.Tokens,
			Recoverable: recoverable[n.ID],
		}
		if s.Scanner != nil {
			var l chains.Lookup
			l, v.Lookup = s.Scanner.Lookup(n.ID)
			if h, ok := l.(nodeHealth); ok {
				v.Nodes = h.Health()
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, networkList{Networks: out, PolicyVersion: version})
}

// depositAddressView is GET /v1/deposit-address.
type depositAddressView struct {
	UserID  string `json:"user_id"`
	Network string `json:"network"`
	Address string `json:"address"`
}

func (s *server) depositAddress(w http.ResponseWriter, r *http.Request) {
	if s.DepositAddress == nil {
		s.writeError(w, r, recovery.Errorf(recovery.ENotFound, "deposit addresses are served in dev mode only"))
		return
	}
	user := r.URL.Query().Get("user_id")
	network := r.URL.Query().Get("network")
	if !userIDPattern.MatchString(user) {
		s.writeError(w, r, recovery.FieldError("user_id", "user_id is required: 1 to 128 letters, digits or . _ @ : -"))
		return
	}
	if _, err := s.Registry.Lookup(network); err != nil {
		s.writeError(w, r, err)
		return
	}
	addr, err := s.DepositAddress(user, network)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, depositAddressView{UserID: user, Network: network, Address: addr})
}

func (s *server) demo(w http.ResponseWriter, r *http.Request, _ Staff) {
	if s.Demo == nil {
		s.writeError(w, r, recovery.Errorf(recovery.ENotFound, "demo deposits exist in dev mode only"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deposits": s.Demo()})
}

// staff wraps a handler that needs a staff bearer token. A client that
// keeps presenting wrong tokens is refused for a while (429), right ones
// included, so that tokens cannot be guessed at the API's speed.
func (s *server) staff(h func(http.ResponseWriter, *http.Request, Staff)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.throttled(w, r) {
			return
		}
		who, known := s.staffSet.FromRequest(r)
		if !known {
			s.failures.Failed(s.failures.Client(r), s.Now())
			w.Header().Set("WWW-Authenticate", `Bearer realm="staff"`)
			s.writeError(w, r, recovery.Errorf(recovery.EUnauthorized, "a valid staff token is required (Authorization: Bearer ...)"))
			return
		}
		h(w, r, who)
	}
}

// throttled answers 429 to a client with too many failed sign-ins.
func (s *server) throttled(w http.ResponseWriter, r *http.Request) bool {
	wait := s.failures.Blocked(s.failures.Client(r), s.Now())
	if wait <= 0 {
		return false
	}
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, r, recovery.Errorf(recovery.ERateLimited, "too many failed sign-ins from this address; try again in %ds", secs))
	return true
}

func shortHash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:5]
}

// temporalError turns a Temporal client error into a domain error.
func temporalError(err error) error {
	var re *recovery.Error
	if errors.As(err, &re) {
		return err
	}
	var late *serviceerror.DeadlineExceeded
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &late) {
		// A query no worker took in time says so in the same words.
		return &recovery.Error{Code: recovery.EUnavailable, Message: "the workflow service did not answer in time; try again"}
	}
	var down *serviceerror.Unavailable
	var busy *serviceerror.ResourceExhausted
	if errors.As(err, &down) || errors.As(err, &busy) {
		return &recovery.Error{Code: recovery.EUnavailable, Message: "the workflow service is busy or unreachable; try again"}
	}
	return err
}
