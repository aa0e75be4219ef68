package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/workflows"
)

// batchIDPattern is the shape of a batch id:
// batch.<network>.<asset>.<window>.<k>.
var batchIDPattern = regexp.MustCompile(`^batch\.[a-z][a-z0-9-]{1,31}\.[a-z0-9._:-]{1,128}\.[0-9]{1,12}\.[0-9]{1,3}$`)

// batchSummary is one batch in the list.
type batchSummary struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"` // open, sending, done, empty, or the workflow's end
	Opened  time.Time `json:"opened"`
	Closed  bool      `json:"closed"`
	Members int       `json:"members"`
}

type batchList struct {
	Batches []batchSummary `json:"batches"`
}

// listBatches answers GET /v1/batches: the batches newest first, each with
// its state when it still answers.
func (s *server) listBatches(w http.ResponseWriter, r *http.Request, _ Staff) {
	resp, err := s.Temporal.ListWorkflow(r.Context(), &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: s.Namespace,
		Query:     fmt.Sprintf("WorkflowType = '%s'", workflows.BatchWorkflowName),
		PageSize:  100,
	})
	if err != nil {
		s.writeError(w, r, temporalError(err))
		return
	}
	out := batchList{Batches: []batchSummary{}}
	for _, e := range resp.GetExecutions() {
		b := batchSummary{ID: e.GetExecution().GetWorkflowId(), Opened: e.GetStartTime().AsTime().UTC(), Closed: e.GetCloseTime() != nil,
			Status: e.GetStatus().String()}
		if st, err := s.queryBatch(r, b.ID); err == nil {
			b.Status, b.Members = st.Status, len(st.Members)
		}
		out.Batches = append(out.Batches, b)
	}
	writeJSON(w, http.StatusOK, out)
}

// getBatch answers GET /v1/batches/{id}: its members, the ones locked in
// when it closed, its transactions.
func (s *server) getBatch(w http.ResponseWriter, r *http.Request, _ Staff) {
	st, err := s.queryBatch(r, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *server) queryBatch(r *http.Request, id string) (*workflows.BatchState, error) {
	if !batchIDPattern.MatchString(id) {
		return nil, recovery.Errorf(recovery.ENotFound, "no batch with this id")
	}
	v, err := s.Temporal.QueryWorkflow(r.Context(), id, "", workflows.BatchQuery)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, recovery.Errorf(recovery.ENotFound, "no batch with this id")
		}
		return nil, temporalError(err)
	}
	var st workflows.BatchState
	if err := v.Get(&st); err != nil {
		return nil, fmt.Errorf("decode batch state: %w", err)
	}
	return &st, nil
}
