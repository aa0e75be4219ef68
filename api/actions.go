package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/misdeposit/recovery"
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
	// recheckBody, closeBody, reopenBody and confirmProofBody carry a note:
	// optional for a recheck, the reason for the others.
	recheckBody struct {
		Note string `json:"note"`
	}
	reassignClaimantBody struct {
		UserID    string `json:"user_id"`
		Signature string `json:"signature"`
		Note      string `json:"note"`
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
		st, err := s.updateCase(r.Context(), id, update, a)
		if err != nil {
			s.writeError(w, r, refusal(err, "case"))
			return
		}
		s.log.Info("audit", "person", who.Person, "action", update, "case", id, "status", st.Status)
		writeJSON(w, http.StatusOK, s.caseView(st))
	}
}

func decodeAction[T any](raw []byte) (T, error) {
	var b T
	return b, decodeStrictBytes(raw, &b)
}

// checkNote checks the note of a staff action. why, when not "", says
// what the note is required for; "" makes it optional.
func checkNote(note, why string) error {
	if why != "" && strings.TrimSpace(note) == "" {
		return recovery.FieldError("note", "note is required: %s", why)
	}
	return validateNote("note", note)
}

func assignArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[assignBody](raw)
	b.Assignee = strings.TrimSpace(b.Assignee)
	if err == nil {
		err = validateText("assignee", b.Assignee, maxLabel)
	}
	if err == nil {
		err = checkNote(b.Note, "")
	}
	return workflows.AssignRequest{By: by, Assignee: b.Assignee, Note: b.Note}, err
}

func noteArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[noteBody](raw)
	if err == nil {
		err = checkNote(b.Note, "write what the next person on the case should know")
	}
	return workflows.NoteRequest{By: by, Note: b.Note}, err
}

func escalateArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[escalateBody](raw)
	if err == nil {
		err = checkNote(b.Note, "say why the case is escalated")
	}
	return workflows.EscalateRequest{By: by, Note: b.Note}, err
}

func reclassifyArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[reclassifyBody](raw)
	switch {
	case err != nil:
	case !recovery.IsCategory(b.Category):
		err = recovery.FieldError("category", "category is one of %s", strings.Join(recovery.Categories(), ", "))
	default:
		err = checkNote(b.Note, "say why the category changes")
	}
	return workflows.ReclassifyRequest{By: by, Category: b.Category, Note: b.Note}, err
}

func recheckArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[recheckBody](raw)
	if err == nil {
		err = checkNote(b.Note, "")
	}
	return workflows.RecheckRequest{By: by, Note: b.Note}, err
}

// noted decodes a body that carries a required note, the reason of the
// action named what.
func noted(raw []byte, what string) (string, error) {
	b, err := decodeAction[recheckBody](raw)
	if err == nil {
		err = checkNote(b.Note, what)
	}
	return b.Note, err
}

func closeArg(raw []byte, by workflows.Actor) (any, error) {
	note, err := noted(raw, "say why the case is closed; the user reads it")
	return workflows.CloseRequest{By: by, Note: note}, err
}

func reopenArg(raw []byte, by workflows.Actor) (any, error) {
	note, err := noted(raw, "say what changed since the refusal")
	return workflows.ReopenRequest{By: by, Note: note}, err
}

func confirmProofArg(raw []byte, by workflows.Actor) (any, error) {
	note, err := noted(raw, "record what was checked")
	return workflows.ConfirmProofRequest{By: by, Note: note}, err
}

func reassignClaimantArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[reassignClaimantBody](raw)
	switch {
	case err != nil:
	case !userIDPattern.MatchString(b.UserID):
		err = recovery.FieldError("user_id", "user_id is required: 1 to 128 letters, digits or . _ @ : -")
	default:
		err = checkNote(b.Note, "say why the case changes hands")
	}
	return workflows.ReassignClaimantRequest{By: by, UserID: b.UserID, Signature: strings.TrimSpace(b.Signature), Note: b.Note}, err
}

func signoffArg(raw []byte, by workflows.Actor) (any, error) {
	b, err := decodeAction[signoffBody](raw)
	team := recovery.Team(b.Team)
	switch {
	case err != nil:
	case !slices.Contains(recovery.Teams(), team):
		err = recovery.FieldError("team", "team is wallet, settlement or security")
	case b.Approve == nil:
		err = recovery.FieldError("approve", "approve is required: true or false")
	default:
		// The case requires the note of a refusal, after its own checks.
		err = checkNote(b.Note, "")
	}
	req := workflows.SignoffRequest{By: by, Team: team, Note: b.Note}
	if b.Approve != nil {
		req.Approve = *b.Approve
	}
	return req, err
}
