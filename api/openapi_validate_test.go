package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// TestMain checks every response the package's tests receive from the
// API's handlers against openapi.json: a status the document does not give
// for the operation, or a body that does not match its schema, fails the
// run, naming the test, the request and what is wrong.
func TestMain(m *testing.M) {
	check, err := newResponseChecker(openAPIDocument)
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi.json:", err)
		os.Exit(1)
	}
	checkResponses = check.wrap
	code := m.Run()
	if testing.Verbose() {
		fmt.Printf("%d responses checked against openapi.json\n", check.checked)
	}
	if problems := check.report(); problems != "" {
		fmt.Fprintf(os.Stderr, "--- FAIL: responses that do not match openapi.json:\n%s", problems)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// responseChecker validates responses against the document and keeps what
// does not match.
type responseChecker struct {
	router routers.Router
	mu     sync.Mutex
	// failures, by test then request, without repeats.
	failures map[string]map[string]bool
	checked  int
}

func newResponseChecker(doc []byte) (*responseChecker, error) {
	spec, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(context.Background()); err != nil {
		return nil, err
	}
	// The document's server is relative ("/"); the tests' requests come
	// with any host.
	spec.Servers = openapi3.Servers{{URL: "/"}}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, err
	}
	// The pages and the script are checked for their status and content
	// type; their bodies are text.
	for _, ct := range []string{"text/html", "text/javascript"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
	return &responseChecker{router: router, failures: map[string]map[string]bool{}}, nil
}

// wrap records each response h writes, passes it on unchanged, and checks it.
func (c *responseChecker) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
		// What the handler sees of the request is kept for the check: the
		// handler may read the body, and the router needs the URL as sent.
		req := r.Clone(r.Context())
		h.ServeHTTP(rec, r)
		if problem := c.check(req, rec.status, rec.Header(), rec.body.Bytes()); problem != "" {
			c.fail(testName(), fmt.Sprintf("%s %s → %d: %s", r.Method, r.URL.RequestURI(), rec.status, problem))
		}
	})
}

// check returns what is wrong with a response, or "" when the document
// allows it.
func (c *responseChecker) check(r *http.Request, status int, header http.Header, body []byte) string {
	c.mu.Lock()
	c.checked++
	c.mu.Unlock()
	if r.Method == http.MethodHead {
		return ""
	}
	// The answer of a listener that does not serve the address (another
	// route, or an API route asked of the internal listener) belongs to
	// no operation.
	var e errorBody
	if status == http.StatusNotFound && json.Unmarshal(body, &e) == nil && strings.HasPrefix(e.Error.Message, "no such endpoint: ") {
		return ""
	}
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		return "no operation in the document: " + err.Error()
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(r.Context(), in); err != nil {
		msg := err.Error()
		if len(body) > 600 {
			body = append(body[:600:600], "…"...)
		}
		return fmt.Sprintf("%s\n      body: %s", msg, bytes.TrimSpace(body))
	}
	return ""
}

func (c *responseChecker) fail(test, what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failures[test] == nil {
		c.failures[test] = map[string]bool{}
	}
	c.failures[test][what] = true
}

// report lists the failures by test, or "" when there are none.
func (c *responseChecker) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	tests := make([]string, 0, len(c.failures))
	for t := range c.failures {
		tests = append(tests, t)
	}
	sort.Strings(tests)
	for _, t := range tests {
		fmt.Fprintf(&b, "  %s:\n", t)
		whats := make([]string, 0, len(c.failures[t]))
		for w := range c.failures[t] {
			whats = append(whats, w)
		}
		sort.Strings(whats)
		for _, w := range whats {
			fmt.Fprintf(&b, "    %s\n", w)
		}
	}
	return b.String()
}

// testName is the test whose goroutine serves the request: the handlers
// are mostly called straight from the test (httptest.NewRecorder). A
// request that came over the network is served on a goroutine of its own.
func testName() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		name := f.Function[strings.LastIndex(f.Function, "/")+1:]
		if name, ok := strings.CutPrefix(name, "api."); ok && (strings.HasPrefix(name, "Test") || strings.HasPrefix(name, "Fuzz")) {
			if i := strings.Index(name, "."); i > 0 {
				name = name[:i]
			}
			return name
		}
		if !more {
			return "(a request served over HTTP)"
		}
	}
}

// recordingWriter passes a response on and keeps a copy of it.
type recordingWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.wroteHeader = true
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps io.Copy from going around Write.
func (w *recordingWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recordingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// The check is not a formality: it refuses a status the document does not
// give and a body that does not match, and passes one that does.
func TestResponseCheckRefusesWhatTheDocumentDoesNotSay(t *testing.T) {
	c, err := newResponseChecker(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	asJSON := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	for _, tc := range []struct {
		path   string
		status int
		body   string
		ok     bool
	}{
		{"/v1/networks", 200, `{"networks": [], "policy_version": "v1"}`, true},
		{"/v1/networks", 500, `{"error": {"code": "internal", "message": "x"}}`, false},
		{"/v1/networks", 200, `{"networks": "eth"}`, false},
		{"/healthz", 503, `{"status": "unavailable", "temporal": "unreachable"}`, true},
		{"/healthz", 503, `{"error": "down"}`, false},
		{"/v1/no-such-thing", 200, `{}`, false},
	} {
		problem := c.check(httptest.NewRequest("GET", tc.path, nil), tc.status, asJSON, []byte(tc.body))
		if (problem == "") != tc.ok {
			t.Errorf("GET %s → %d %s: problem %q, want ok=%v", tc.path, tc.status, tc.body, problem, tc.ok)
		}
	}
}
