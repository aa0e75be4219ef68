package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/ledger"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
	"github.com/misdeposit/recovery/workflows/policyclient"
)

type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]schema `json:"schemas"`
	} `json:"components"`
}

type schema struct {
	Type                 string            `json:"type"`
	Properties           map[string]schema `json:"properties"`
	Required             []string          `json:"required"`
	AllOf                []schema          `json:"allOf"`
	Ref                  string            `json:"$ref"`
	AdditionalProperties any               `json:"additionalProperties"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var d openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return d
}

// The document lists exactly the routes the server serves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	d := loadOpenAPI(t)
	served := map[string]bool{}
	for _, rt := range (&server{metrics: newMetrics()}).routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if path == "/{$}" {
			path = "/"
		}
		key := strings.ToLower(method) + " " + path
		served[key] = true
		if _, ok := d.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("%s is served but not in openapi.json", rt.pattern)
		}
	}
	for path, ops := range d.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			if !served[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which is not served", strings.ToUpper(method), path)
			}
		}
	}
	rec := httptest.NewRecorder()
	NewServer(Deps{Registry: registry(t)}).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/openapi.json", nil))
	if rec.Code != 200 || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("GET /v1/openapi.json: %d", rec.Code)
	}
}

// bodies maps each schema of the document to the Go type the handlers read
// or write. A schema not listed must be opaque (an object of any fields).
var bodies = map[string]any{
	"Error": errorBody{}, "ErrorDetail": errorDetail{},
	"AppealRequest": appealRequest{}, "AppealCreated": appealCreated{}, "Appeal": appealView{},
	"Deposit": depositView{}, "Chain": chainView{}, "Decision": decisionView{}, "Quote": quoteView{},
	"Price": priceView{}, "QuoteLine": quoteLineView{}, "Advice": adviceView{}, "TimelineEntry": timelineEntry{},
	"Recovery": recoveryView{}, "RecoveryTx": recoveryTxView{}, "Credit": creditView{}, "Wallet": Wallet{}, "WalletList": walletList{},
	"BatchList": batchList{}, "BatchSummary": batchSummary{}, "Batch": workflows.BatchState{}, "BatchMember": workflows.BatchMember{},
	"QuoteAnswer": quoteAnswer{}, "WithdrawRequest": workflows.WithdrawRequest{},
	"NetworkList": networkList{}, "Network": networkView{}, "Token": chains.Token{}, "NodeHealth": pool.NodeHealth{},
	"DevUserTokenRequest": devUserTokenRequest{}, "DevUserToken": devUserTokenView{}, "DepositAddress": depositAddressView{},
	"CaseList": caseList{}, "CaseSummary": caseSummary{}, "Case": caseView{},
	"AddressBookEntries": addressBookEntries{}, "AddressBookEntry": addressbook.Entry{}, "AddressBookStored": addressBookStored{},
	"AddressBookLookup": addressBookLookup{}, "AddressBookChange": addressbook.Change{},
	"CreditsImport": creditsImport{}, "DepositCredit": creditRow{}, "CreditsStored": creditsStored{},
	"PolicyState": policyView{}, "AppliedPolicy": workflows.AppliedPolicy{}, "NetworkCategory": policy.NetworkCategory{},
	"PolicyApplied": policyclient.Result{}, "PolicyProblems": policyProblems{}, "PolicyProblem": policy.Problem{},
	"Health":     healthView{},
	"AssignBody": assignBody{}, "NoteBody": noteBody{}, "EscalateBody": escalateBody{}, "ReclassifyBody": reclassifyBody{},
	"SignoffBody": signoffBody{}, "RecheckBody": recheckBody{}, "ReassignClaimantBody": reassignClaimantBody{}, "Signoff": workflows.Signoff{}, "AuditEntry": workflows.AuditEntry{},
	"Proof": workflows.ProofState{}, "ProofBody": proofBody{},
}

// marshalled maps the schemas of bodies written by a MarshalJSON of their
// own to the keys that JSON has.
func marshalled(t *testing.T) map[string][]string {
	raw, err := json.Marshal(ledger.Report{Rows: []ledger.ReportRow{{Group: "eth"}}})
	if err != nil {
		t.Fatal(err)
	}
	var report map[string]json.RawMessage
	var row map[string]any
	if json.Unmarshal(raw, &report) != nil || json.Unmarshal(report["total"], &row) != nil {
		t.Fatalf("report JSON: %s", raw)
	}
	keys := func(m map[string]any) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	top := map[string]any{}
	for k := range report {
		top[k] = nil
	}
	return map[string][]string{"FeeReport": keys(top), "FeeReportRow": keys(row)}
}

// jsonFields lists the JSON names of a struct's fields, embedded structs
// flattened as encoding/json does.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// properties lists a schema's properties, following allOf and $ref.
func properties(d openAPIDoc, s schema) []string {
	var out []string
	if s.Ref != "" {
		return properties(d, d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")])
	}
	for name := range s.Properties {
		out = append(out, name)
	}
	for _, part := range s.AllOf {
		out = append(out, properties(d, part)...)
	}
	sort.Strings(out)
	return out
}

// Every field the handlers read or write is in the document, and every
// field the document names exists.
func TestOpenAPIFieldsMatchTheHandlers(t *testing.T) {
	d := loadOpenAPI(t)
	for name, s := range d.Components.Schemas {
		if keys, ok := marshalled(t)[name]; ok {
			if got := properties(d, s); !slices.Equal(got, keys) {
				t.Errorf("schema %s has %v; the JSON written has %v", name, got, keys)
			}
			continue
		}
		v, ok := bodies[name]
		if !ok {
			if s.Type != "object" || s.AdditionalProperties != true || len(s.Properties) != 0 {
				t.Errorf("schema %s is neither tied to a Go type nor opaque", name)
			}
			continue
		}
		want := jsonFields(reflect.TypeOf(v))
		got := properties(d, s)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s has %v; %T has %v", name, got, v, want)
		}
		for _, r := range s.Required {
			if !slices.Contains(got, r) {
				t.Errorf("schema %s requires %s, which it does not have", name, r)
			}
		}
	}
	for name := range bodies {
		if _, ok := d.Components.Schemas[name]; !ok {
			t.Errorf("%s is not in openapi.json", name)
		}
	}
	// Every reference resolves.
	var all any
	json.Unmarshal(openAPIDocument, &all)
	components, _ := all.(map[string]any)["components"].(map[string]any)
	var refs func(v any)
	refs = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				kind, name, _ := strings.Cut(strings.TrimPrefix(r, "#/components/"), "/")
				section, _ := components[kind].(map[string]any)
				if _, ok := section[name]; !ok {
					t.Errorf("dangling reference %s", r)
				}
			}
			for _, e := range x {
				refs(e)
			}
		case []any:
			for _, e := range x {
				refs(e)
			}
		}
	}
	refs(all)
}

// The reference page loads its script and the document from the engine
// itself, and its policy lets the browser load nothing from elsewhere.
func TestDocsPageLoadsOnlyTheEnginesOwnAssets(t *testing.T) {
	srv := NewServer(Deps{Registry: registry(t)})
	page := httptest.NewRecorder()
	srv.ServeHTTP(page, httptest.NewRequest("GET", "/v1/docs", nil))
	if page.Code != 200 || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /v1/docs: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	csp := page.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "http") || strings.Contains(csp, "*") {
		t.Errorf("Content-Security-Policy %q admits more than the engine's own script", csp)
	}
	base, _ := url.Parse("http://engine.test/v1/docs")
	assets := regexp.MustCompile(`(?:src|href|spec-url)="([^"]*)"`).FindAllStringSubmatch(page.Body.String(), -1)
	if len(assets) != 2 {
		t.Fatalf("the page names %d assets, want the script and the document: %s", len(assets), page.Body)
	}
	want := map[string]string{"/v1/docs/redoc.standalone.js": "text/javascript", "/v1/openapi.json": "application/json"}
	for _, a := range assets {
		u, err := base.Parse(a[1])
		if err != nil || u.Host != base.Host {
			t.Errorf("%q is not on the engine", a[1])
			continue
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", u.Path, nil))
		if ct := rec.Header().Get("Content-Type"); rec.Code != 200 || want[u.Path] == "" || !strings.HasPrefix(ct, want[u.Path]) {
			t.Errorf("%s (from %q): %d %s", u.Path, a[1], rec.Code, ct)
		}
	}
}

// The script is served as JavaScript, and a browser that has it keeps it.
func TestDocsScriptIsJavaScript(t *testing.T) {
	srv := NewServer(Deps{Registry: registry(t)})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/docs/redoc.standalone.js", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /v1/docs/redoc.standalone.js: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !bytes.Equal(rec.Body.Bytes(), redocJS) || !bytes.Contains(redocJS[:200], []byte("redoc.standalone.js.LICENSE.txt")) {
		t.Errorf("the script served is not the Redoc bundle")
	}
	again := httptest.NewRequest("GET", "/v1/docs/redoc.standalone.js", nil)
	again.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, again)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("with its ETag: %d, %d bytes", rec.Code, rec.Body.Len())
	}
}
