package api

import (
	"errors"
	"net/http"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
)

// Bodies of the staff's actions on a case (POST /v1/cases/{id}/...).
type (
	assignBody struct {
		Assignee string `json:"assignee"`
		Note     string `json:"note"`
	}
	noteBody struct {
		Note string `json:"note"`
	}
	escalateBody struct {
		Note string `json:"note"`
	}
	reclassifyBody struct {
		Category string `json:"category"`
		Note     string `json:"note"`
	}
	signoffBody struct {
		Team    string `json:"team"`
		Approve *bool  `json:"approve"`
		Note    string `json:"note"`
	}
)

// caseAction serves one staff action: the body is decoded strictly and
// turned into the workflow update's argument with the person and roles
// of the staff token; the case answers with its staff view. The update's
// validator has the last word on roles and state, and the action is kept
// in the case's audit trail.
func (s *server) caseAction(update string, arg func(raw []byte, by workflows.Actor) (any, error)) func(http.ResponseWriter, *http.Request, Staff) {
	return func(w http.ResponseWriter, r *http.Request, who Staff) {
		id := r.PathValue("id")
		raw, err := readBody(r.Body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		a, err := arg(raw, workflows.Actor{Person: who.Person, Roles: who.Roles})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if _, err := s.queryState(r.Context(), id); err != nil {
			s.writeError(w, r, err)
			return
		}
		h, err := s.Temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: update, Args: []any{a}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var st workflows.AppealState
		if err == nil {
			err = h.Get(r.Context(), &st)
		}
		if err != nil {
			s.writeError(w, r, staffRefusal(err))
			return
		}
		s.log.Info("audit", "person", who.Person, "action", update, "case", id, "status", st.Status)
		writeJSON(w, http.StatusOK, s.caseView(&st))
	}
}

// staffRefusal turns the refusal of a staff action into a domain error.
func staffRefusal(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.ErrForbidden:
			return recovery.Errorf(recovery.EForbidden, "%s", appErr.Message())
		case workflows.ErrConflict, workflows.ErrClosed:
			return recovery.Errorf(recovery.EConflict, "%s", appErr.Message())
		}
		return recovery.Errorf(recovery.EInvalid, "%s", appErr.Message())
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) || strings.Contains(err.Error(), "workflow execution already completed") {
		return recovery.Errorf(recovery.EConflict, "this case is already closed")
	}
	return temporalError(err)
}

func decodeAction[T any](raw []byte) (T, error) {
	var b T
	return b, decodeStrictBytes(raw, &b)
}

func assignArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[assignBody](raw)
	return workflows.AssignRequest{By: by, Assignee: strings.TrimSpace(b.Assignee), Note: b.Note}, err
}

func noteArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[noteBody](raw)
	if err == nil && strings.TrimSpace(b.Note) == "" {
		err = recovery.FieldError("note", "note is required")
	}
	return workflows.NoteRequest{By: by, Note: b.Note}, err
}

func escalateArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[escalateBody](raw)
	if err == nil && strings.TrimSpace(b.Note) == "" {
		err = recovery.FieldError("note", "note is required: say why the case is escalated")
	}
	return workflows.EscalateRequest{By: by, Note: b.Note}, err
}

func reclassifyArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[reclassifyBody](raw)
	switch {
	case err != nil:
	case !policy.IsCategory(b.Category):
		err = recovery.FieldError("category", "category is one of %s", strings.Join(policy.Categories(), ", "))
	case strings.TrimSpace(b.Note) == "":
		err = recovery.FieldError("note", "note is required: say why the category changes")
	}
	return workflows.ReclassifyRequest{By: by, Category: b.Category, Note: b.Note}, err
}

func signoffArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[signoffBody](raw)
	team := policy.Team(b.Team)
	switch {
	case err != nil:
	case !isTeam(team):
		err = recovery.FieldError("team", "team is wallet, settlement or security")
	case b.Approve == nil:
		err = recovery.FieldError("approve", "approve is required: true or false")
	}
	req := workflows.SignoffRequest{By: by, Team: team, Note: b.Note}
	if b.Approve != nil {
		req.Approve = *b.Approve
	}
	return req, err
}

func isTeam(t policy.Team) bool {
	for _, x := range policy.Teams() {
		if x == t {
			return true
		}
	}
	return false
}
