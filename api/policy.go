package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
	"github.com/misdeposit/recovery/workflows/policyclient"
)

// policyView is GET /v1/policy: the policy in force, the document, and the
// policies applied before it.
type policyView struct {
	Current  workflows.AppliedPolicy   `json:"current"`
	Document string                    `json:"document"`
	History  []workflows.AppliedPolicy `json:"history"`
}

func (s *server) getPolicy(w http.ResponseWriter, r *http.Request, _ Staff) {
	st, err := policyclient.Query(r.Context(), s.Temporal)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := policyView{Current: st.Current, Document: string(st.Document), History: st.History}
	if v.History == nil {
		v.History = []workflows.AppliedPolicy{}
	}
	writeJSON(w, http.StatusOK, v)
}

// policyProblems is the answer to an invalid policy: the error envelope
// with every problem and its field path.
type policyProblems struct {
	Error    errorDetail      `json:"error"`
	Problems []policy.Problem `json:"problems"`
}

// putPolicy applies the policy document in the body (YAML or JSON). An
// invalid document is never applied; parked cases the new policy supports
// resume by themselves.
func (s *server) putPolicy(w http.ResponseWriter, r *http.Request, who Staff) {
	if !who.may(recovery.RoleAdmin) {
		s.writeError(w, r, recovery.Errorf(recovery.EForbidden, "applying a policy needs the admin role"))
		return
	}
	doc, err := io.ReadAll(http.MaxBytesReader(w, r.Body, policy.MaxDocument))
	if err != nil {
		s.writeError(w, r, recovery.Errorf(recovery.ETooLarge, "the policy is larger than %d bytes", policy.MaxDocument))
		return
	}
	if len(doc) == 0 {
		s.writeError(w, r, recovery.Errorf(recovery.EInvalid, "send the policy document (YAML or JSON) as the body"))
		return
	}
	res, err := policyclient.Apply(r.Context(), s.Temporal, doc, who.Person, s.Registry.Networks())
	var ve *policy.ValidationError
	if errors.As(err, &ve) {
		body := policyProblems{Problems: ve.Problems, Error: errorDetail{Code: recovery.EInvalid,
			Message: fmt.Sprintf("the policy is not applied: %d problem(s)", len(ve.Problems))}}
		if len(ve.Problems) > 0 {
			body.Error.Field = ve.Problems[0].Path
		}
		writeJSON(w, http.StatusBadRequest, body)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("policy applied", "by", who.Person, "version", res.Applied.Version, "seq", res.Applied.Seq, "unchanged", res.Unchanged, "resumes", len(res.Applied.Resumes))
	writeJSON(w, http.StatusOK, res)
}

// recoverability says how each network is recoverable under the policy in
// force: its recoverable action, or park for a network the policy does
// not name. It is nil when the policy cannot be read.
func (s *server) recoverability(ctx context.Context) (map[string]string, string) {
	if s.policies == nil {
		return nil, ""
	}
	p, _, err := s.policies.Policy(ctx, 0)
	if err != nil {
		s.log.Warn("policy in force unknown", "err", err)
		return nil, ""
	}
	out := map[string]string{}
	for _, n := range s.Registry.Networks() {
		out[n.ID] = string(policy.Park)
		if np, ok := p.Networks[n.ID]; ok {
			out[n.ID] = string(np.Recoverable)
		}
	}
	return out, p.Version
}
