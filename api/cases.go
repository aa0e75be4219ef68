package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/diagnosis"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
)

// caseSummary is one row of a staff queue, read from Temporal visibility.
// caseList is GET /v1/cases: a queue, and the visibility query behind it.
type caseList struct {
	Cases []caseSummary `json:"cases"`
	Query string        `json:"query"`
}

type caseSummary struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Category string    `json:"category"`
	Network  string    `json:"network"`
	Opened   time.Time `json:"opened"`
	Closed   bool      `json:"closed"`
}

var filterValue = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// casesQuery builds the visibility query of a queue. Filter values are
// checked against a strict pattern because they are spliced into the query.
func casesQuery(q map[string]string) (string, error) {
	parts := []string{fmt.Sprintf("WorkflowType = '%s'", workflows.AppealWorkflowName)}
	for _, f := range []struct{ param, attr string }{
		{"status", "RecoveryStatus"},
		{"network", "RecoveryNetwork"},
		{"category", "RecoveryCategory"},
	} {
		v := q[f.param]
		if v == "" {
			continue
		}
		if !filterValue.MatchString(v) {
			return "", recovery.FieldError(f.param, "%s must be lower-case letters, digits, _ or -", f.param)
		}
		parts = append(parts, fmt.Sprintf("%s = '%s'", f.attr, v))
	}
	// No ORDER BY: SQL visibility (SQLite, Postgres) refuses it and already
	// lists the newest cases first.
	return strings.Join(parts, " AND "), nil
}

func (s *server) listCases(w http.ResponseWriter, r *http.Request, _ Staff) {
	params := map[string]string{}
	for _, k := range []string{"status", "network", "category"} {
		params[k] = r.URL.Query().Get(k)
	}
	query, err := casesQuery(params)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, recovery.FieldError("limit", "limit must be a number from 1 to 1000"))
			return
		}
		limit = n
	}
	resp, err := s.Temporal.ListWorkflow(r.Context(), &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: s.Namespace,
		Query:     query,
		PageSize:  int32(limit),
	})
	if err != nil {
		s.writeError(w, r, temporalError(err))
		return
	}
	out := []caseSummary{}
	dc := converter.GetDefaultDataConverter()
	for _, e := range resp.GetExecutions() {
		c := caseSummary{ID: e.GetExecution().GetWorkflowId(), Opened: e.GetStartTime().AsTime().UTC(), Closed: e.GetCloseTime() != nil}
		fields := e.GetSearchAttributes().GetIndexedFields()
		for attr, dst := range map[string]*string{"RecoveryStatus": &c.Status, "RecoveryCategory": &c.Category, "RecoveryNetwork": &c.Network} {
			if p, ok := fields[attr]; ok {
				_ = dc.FromPayload(p, dst) // a malformed attribute shows as empty rather than hiding the case
			}
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, caseList{Cases: out, Query: query})
}

// caseView is the staff view of a case: the user's view plus chain evidence.
type caseView struct {
	appealView
	Scanned []string `json:"scanned,omitempty"`
	Tx      any      `json:"tx,omitempty"`
	// Evidence is what decided the category; staff only.
	Evidence      []diagnosis.Evidence `json:"evidence,omitempty"`
	OwnerMismatch bool                 `json:"owner_mismatch,omitempty"`
	// PolicyDecision is the whole decision: reasons, sign-offs, fee rule.
	PolicyDecision *policy.Decision `json:"policy_decision,omitempty"`
	// QuoteDetail is the whole quote: base units, the network cost's gas
	// or feerate figures, the rule amounts before rounding.
	QuoteDetail *fees.Quote `json:"quote_detail,omitempty"`
	USD         string      `json:"usd,omitempty"`
	PriceSource string      `json:"price_source,omitempty"`
}

func (s *server) getCase(w http.ResponseWriter, r *http.Request, _ Staff) {
	st, err := s.queryState(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := caseView{appealView: publicView(st, "en", s.Registry, s.Now()), Scanned: st.Scanned}
	if st.Tx != nil {
		v.Tx = st.Tx
	}
	if d := st.Diagnosis; d != nil {
		v.Evidence, v.OwnerMismatch = d.Evidence, d.OwnerMismatch
	}
	v.PolicyDecision, v.USD, v.PriceSource, v.QuoteDetail = st.Decision, st.USD, st.PriceSource, st.Quote
	writeJSON(w, http.StatusOK, v)
}
