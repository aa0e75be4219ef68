package api

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
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
	// AmountBand is the band of the deposit's USD value (no amount is
	// indexed); DueAt when the desk must have acted on the decision.
	AmountBand string     `json:"amount_band,omitempty"`
	DueAt      *time.Time `json:"due_at,omitempty"`
	Overdue    bool       `json:"overdue"`
}

var filterValue = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// queueFilter is what a queue selects on, from GET /v1/cases.
type queueFilter struct {
	status, network, category, amountBand string
	// overdue selects running cases past their due time; olderThan the
	// cases opened more than that long ago.
	overdue   bool
	olderThan time.Duration
}

func parseQueueFilter(q url.Values) (queueFilter, error) {
	f := queueFilter{status: q.Get("status"), network: q.Get("network"), category: q.Get("category"), amountBand: q.Get("amount_band")}
	// In a fixed order, the documented one, so that a request with several
	// bad values is always told of the same one.
	for _, c := range []struct{ name, v string }{
		{"status", f.status},
		{"network", f.network},
		{"category", f.category},
		{"amount_band", f.amountBand},
	} {
		if c.v != "" && !filterValue.MatchString(c.v) {
			return f, recovery.FieldError(c.name, "%s must be lower-case letters, digits, _ or -", c.name)
		}
	}
	if f.amountBand != "" && !slices.Contains(workflows.AmountBands(), f.amountBand) {
		return f, recovery.FieldError("amount_band", "amount_band is one of %s", strings.Join(workflows.AmountBands(), ", "))
	}
	switch v := q.Get("overdue"); v {
	case "", "false":
	case "true":
		f.overdue = true
	default:
		return f, recovery.FieldError("overdue", "overdue is true or false")
	}
	if v := q.Get("older_than"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 10*365*24*time.Hour {
			return f, recovery.FieldError("older_than", "older_than is a duration such as 36h or 90m")
		}
		f.olderThan = d
	}
	return f, nil
}

// casesQuery builds the visibility query of a queue. Values are checked
// against strict patterns before they are spliced into the query; times
// are the engine's own.
func casesQuery(f queueFilter, now time.Time) string {
	parts := []string{fmt.Sprintf("WorkflowType = '%s'", workflows.AppealWorkflowName)}
	for _, c := range []struct{ v, attr string }{
		{f.status, "RecoveryStatus"},
		{f.network, "RecoveryNetwork"},
		{f.category, "RecoveryCategory"},
		{f.amountBand, "RecoveryAmountBand"},
	} {
		if c.v != "" {
			parts = append(parts, fmt.Sprintf("%s = '%s'", c.attr, c.v))
		}
	}
	if f.overdue {
		parts = append(parts, "ExecutionStatus = 'Running'", fmt.Sprintf("RecoveryDueAt < '%s'", now.UTC().Format(time.RFC3339)))
	}
	if f.olderThan > 0 {
		parts = append(parts, fmt.Sprintf("StartTime < '%s'", now.Add(-f.olderThan).UTC().Format(time.RFC3339)))
	}
	// No ORDER BY: SQL visibility (SQLite, Postgres) refuses it and already
	// lists the newest cases first.
	return strings.Join(parts, " AND ")
}

func (s *server) listCases(w http.ResponseWriter, r *http.Request, _ Staff) {
	filter, err := parseQueueFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	query := casesQuery(filter, s.Now())
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
		for attr, dst := range map[string]*string{"RecoveryStatus": &c.Status, "RecoveryCategory": &c.Category, "RecoveryNetwork": &c.Network, "RecoveryAmountBand": &c.AmountBand} {
			if p, ok := fields[attr]; ok {
				_ = dc.FromPayload(p, dst) // a malformed attribute shows as empty rather than hiding the case
			}
		}
		if p, ok := fields["RecoveryDueAt"]; ok {
			var due time.Time
			if dc.FromPayload(p, &due) == nil && !due.IsZero() {
				c.DueAt = &due
				c.Overdue = !c.Closed && due.Before(s.Now())
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
	// The staff's work: who has the case, whether it is escalated, the
	// teams' sign-offs and every staff action (who, when, what, before and
	// after).
	Assignee  string                 `json:"assignee,omitempty"`
	Escalated bool                   `json:"escalated,omitempty"`
	Signoffs  []workflows.Signoff    `json:"signoffs,omitempty"`
	Audit     []workflows.AuditEntry `json:"audit,omitempty"`
}

func (s *server) getCase(w http.ResponseWriter, r *http.Request, _ Staff) {
	st, err := s.queryState(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.caseView(st))
}

// caseView is what staff see of a case.
func (s *server) caseView(st *workflows.AppealState) caseView {
	v := caseView{appealView: publicView(st, "en", s.Registry, s.Now()), Scanned: st.Scanned}
	if st.Tx != nil {
		v.Tx = st.Tx
	}
	if d := st.Diagnosis; d != nil {
		v.Evidence, v.OwnerMismatch = d.Evidence, d.OwnerMismatch
	}
	v.PolicyDecision, v.USD, v.PriceSource, v.QuoteDetail = st.Decision, st.USD, st.PriceSource, st.Quote
	v.Assignee, v.Escalated, v.Signoffs, v.Audit = st.Assignee, st.Escalated, st.Signoffs, st.Audit
	return v
}
