// Package policyclient is the client side of the policy workflow: reading
// the policy in force (with a short cache for the workers), and applying a
// new policy document after reading and validating it against the
// networks the engine knows. It does the parsing the workflow must not.
package policyclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
)

// Source reads the policy in force from the policy workflow, the
// one place every worker and API process shares. It keeps the answer for
// MaxAge so that a burst of diagnoses asks once, and asks again at once
// when a case names a newer policy than it has.
type Source struct {
	Temporal client.Client
	MaxAge   time.Duration // 0: 2 s

	mu      sync.Mutex
	current *policy.Policy
	seq     int64
	fetched time.Time
}

// NewSource reads policies through c.
func NewSource(c client.Client) *Source { return &Source{Temporal: c} }

// Policy implements activities.PolicySource.
func (s *Source) Policy(ctx context.Context, minSeq int64) (*policy.Policy, int64, error) {
	maxAge := s.MaxAge
	if maxAge <= 0 {
		maxAge = 2 * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil && s.seq >= minSeq && time.Since(s.fetched) < maxAge {
		return s.current, s.seq, nil
	}
	st, err := Query(ctx, s.Temporal)
	if err != nil {
		return nil, 0, err
	}
	if st.Current.Seq < minSeq {
		return nil, 0, recovery.Errorf(recovery.EUnavailable, "the policy workflow answers policy #%d, not yet #%d", st.Current.Seq, minSeq)
	}
	if s.current == nil || st.Current.Seq != s.seq {
		p, err := policy.Parse(st.Document, policy.FormatAuto)
		if err != nil {
			return nil, 0, fmt.Errorf("applied policy %s: %w", st.Current.Version, err)
		}
		s.current, s.seq = p, st.Current.Seq
	}
	s.fetched = time.Now()
	return s.current, s.seq, nil
}

// Query asks the policy workflow for the policy in force. Before any
// policy was applied the workflow does not exist, and the built-in default
// is in force.
func Query(ctx context.Context, c client.Client) (*workflows.PolicyState, error) {
	v, err := c.QueryWorkflow(ctx, workflows.PolicyWorkflowID, "", workflows.PolicyQuery)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return BuiltinState(), nil
	}
	if err != nil {
		return nil, recovery.Errorf(recovery.EUnavailable, "policy workflow: %v", err)
	}
	var st workflows.PolicyState
	if err := v.Get(&st); err != nil {
		return nil, fmt.Errorf("decode policy state: %w", err)
	}
	return &st, nil
}

// Result is the outcome of Apply.
type Result struct {
	Applied workflows.AppliedPolicy `json:"applied"`
	// Unchanged is true when the document's version was already in force:
	// nothing was applied.
	Unchanged bool `json:"unchanged,omitempty"`
}

// BuiltinState is the policy in force before any policy is applied: the
// embedded default, sequence number 0.
func BuiltinState() *workflows.PolicyState {
	doc := policy.DefaultDocument()
	return &workflows.PolicyState{
		Current:  workflows.AppliedPolicy{Seq: 0, Version: policy.Default().Version, SHA256: sha(doc), AppliedBy: "built-in"},
		Document: doc,
	}
}

// Apply validates a policy document against networks and applies it. An
// invalid policy is never applied: the error is a *policy.ValidationError
// with every problem and its field path. A document whose version is
// already in force changes nothing (Result.Unchanged); the same version
// with a different content is refused, since a decision names the version
// it used.
func Apply(ctx context.Context, c client.Client, doc []byte, by string, networks []chains.Network) (*Result, error) {
	p, err := policy.Parse(doc, policy.FormatAuto)
	if err == nil {
		err = p.Validate(networks)
	}
	if err != nil {
		return nil, err
	}
	// Another policy applied between reading the one in force and the
	// update is refused by the workflow (ErrPolicyMoved); read again.
	for attempt := 1; ; attempt++ {
		res, err := apply(ctx, c, doc, p, by)
		var appErr *temporal.ApplicationError
		if attempt < 3 && errors.As(err, &appErr) && appErr.Type() == workflows.ErrPolicyMoved {
			continue
		}
		return res, err
	}
}

func apply(ctx context.Context, c client.Client, doc []byte, p *policy.Policy, by string) (*Result, error) {
	cur, err := Query(ctx, c)
	if err != nil {
		return nil, err
	}
	if cur.Current.Version == p.Version {
		if sum := sha(doc); sum != cur.Current.SHA256 {
			return nil, &recovery.Error{Code: recovery.EConflict, Field: "version",
				Message: fmt.Sprintf("policy %s is in force with another content; give the changed policy a new version", p.Version)}
		}
		return &Result{Applied: cur.Current, Unchanged: true}, nil
	}
	prev, err := policy.Parse(cur.Document, policy.FormatAuto)
	if err != nil {
		prev = nil // every recoverable pair is then new: resuming too much is harmless
	}
	req := workflows.ApplyPolicyRequest{
		Document: doc, AppliedBy: by, Version: p.Version,
		Resumes: p.NewlySupported(prev), BasedOnSeq: cur.Current.Seq,
	}
	start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       workflows.PolicyWorkflowID,
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.PolicyWorkflowName, workflows.PolicyInput{State: cur})
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   workflows.PolicyWorkflowID,
			UpdateName:   workflows.ApplyPolicyUpdate,
			Args:         []any{req},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		var rec workflows.AppliedPolicy
		if err = h.Get(ctx, &rec); err == nil {
			return &Result{Applied: rec}, nil
		}
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.ErrPolicyUnchanged:
			// Applied by someone else meanwhile.
			return nil, recovery.Errorf(recovery.EConflict, "%s", appErr.Message())
		case workflows.ErrPolicyInvalid:
			return nil, recovery.Errorf(recovery.EInvalid, "%s", appErr.Message())
		case workflows.ErrPolicyMoved:
			return nil, fmt.Errorf("%w: %w", recovery.Errorf(recovery.EConflict, "%s; apply again", appErr.Message()), err)
		}
	}
	return nil, recovery.Errorf(recovery.EUnavailable, "apply policy %s: %v", p.Version, err)
}

func sha(doc []byte) string {
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}
