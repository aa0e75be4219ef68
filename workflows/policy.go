package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
)

// Names of the policy in force and of parked cases resuming.
const (
	// PolicyWorkflowID is the one workflow that holds the applied policy:
	// every worker and API process reads the same policy from it.
	PolicyWorkflowID   = "recovery-policy"
	PolicyWorkflowName = "PolicyWorkflow"
	// PolicyQuery answers the policy in force (PolicyState).
	PolicyQuery = "policy"
	// ApplyPolicyUpdate applies a new policy (ApplyPolicyRequest).
	ApplyPolicyUpdate = "apply"
	// ResumeSignal tells a parked case that a policy supporting it was
	// applied (ResumeRequest).
	ResumeSignal = "resume"
	// ResumeUpdate tells a parked case that a policy supporting it was
	// applied (ResumeRequest), as an update the engine vouches for; cases
	// started since resumeUpdateChange hear it only so.
	ResumeUpdate = "resume"
	// ResumeActivityName is the registered name of the activity that
	// signals the parked cases a new policy supports.
	ResumeActivityName = "ResumeParked"
	// ErrPolicyInvalid and ErrPolicyUnchanged refuse an apply;
	// ErrPolicyMoved refuses one read against a policy that is no longer
	// in force (another was applied meanwhile: read again).
	ErrPolicyInvalid   = "PolicyInvalid"
	ErrPolicyUnchanged = "PolicyUnchanged"
	ErrPolicyMoved     = "PolicyMoved"
)

// ResumeRequest is sent to a parked case.
type ResumeRequest struct {
	PolicyVersion string `json:"policy_version"`
	PolicySeq     int64  `json:"policy_seq"`
}

// AppliedPolicy is one applied policy document.
type AppliedPolicy struct {
	// Seq numbers the applied policies from 1; 0 is the built-in default.
	Seq       int64     `json:"seq"`
	Version   string    `json:"version"`
	SHA256    string    `json:"sha256"`
	AppliedAt time.Time `json:"applied_at"`
	AppliedBy string    `json:"applied_by"`
	// Resumes lists the network and category pairs this policy newly
	// supports; their parked cases were resumed.
	Resumes []policy.NetworkCategory `json:"resumes,omitempty"`
	// Resumed counts the parked cases signalled; set once the resume ran.
	Resumed *int `json:"resumed,omitempty"`
}

// PolicyState is the answer of the policy query.
type PolicyState struct {
	Current AppliedPolicy `json:"current"`
	// Document is the current policy document as applied (YAML or JSON).
	Document []byte `json:"document"`
	// History lists the applied policies, the newest last (without their
	// documents).
	History []AppliedPolicy `json:"history"`
}

// ApplyPolicyRequest applies a policy document. The caller reads and
// validates the document (policyclient.Apply): the workflow never parses a
// policy, so that a change to the parser cannot change a replay. It checks
// that the version is not the one in force and that the request was read
// against the policy in force.
type ApplyPolicyRequest struct {
	Document  []byte `json:"document"`
	AppliedBy string `json:"applied_by"`
	// Version is the document's version.
	Version string `json:"version,omitempty"`
	// Resumes lists the network and category pairs the document newly
	// supports next to the policy in force (policy.NewlySupported).
	Resumes []policy.NetworkCategory `json:"resumes,omitempty"`
	// BasedOnSeq is the sequence number of the policy in force that
	// Resumes were computed against.
	BasedOnSeq int64 `json:"based_on_seq"`
}

// ResumeParkedRequest asks the resume activity to signal the parked cases
// of the pairs a newly applied policy supports.
type ResumeParkedRequest struct {
	Policy  ResumeRequest            `json:"policy"`
	Resumes []policy.NetworkCategory `json:"resumes"`
	// Settle is how long to wait before a second pass over the parked
	// cases, to catch cases that were being decided under the previous
	// policy while the first pass ran.
	Settle time.Duration `json:"settle"`
}

// ResumeParkedResult counts the cases signalled.
type ResumeParkedResult struct {
	Signalled int `json:"signalled"`
}

// PolicyInput starts (or continues) the policy workflow.
type PolicyInput struct {
	// State is the policy in force; on the first start the caller gives
	// the built-in default (nil: read from the embedded default, as
	// workflows started before the caller gave it).
	State *PolicyState `json:"state,omitempty"`
	// Settle is passed to the resume activity; 0 means a minute.
	Settle time.Duration `json:"settle,omitempty"`
}

// historyLimit bounds the history kept in the workflow state; the older
// entries stay in the workflow's event history.
const historyLimit = 200

// PolicyWorkflow holds the policy in force. Applying a policy is an update
// (validated: it must be a new version, read against the policy in force);
// after it, every parked case of a network and category the new policy
// makes recoverable is resumed by an activity, with no one having to act.
func PolicyWorkflow(ctx workflow.Context, in PolicyInput) error {
	st := in.State
	if st == nil {
		st = recordedBuiltinState()
	}
	settle := in.Settle
	if settle <= 0 {
		settle = time.Minute
	}
	if err := workflow.SetQueryHandler(ctx, PolicyQuery, func() (*PolicyState, error) { return st, nil }); err != nil {
		return err
	}
	pending := 0 // resumes still running
	validate := func(ctx workflow.Context, req ApplyPolicyRequest) error {
		switch {
		case req.Version == "":
			return temporal.NewNonRetryableApplicationError("the request does not name the policy's version", ErrPolicyInvalid, nil)
		case req.Version == st.Current.Version:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("policy %s is already in force", req.Version), ErrPolicyUnchanged, nil)
		case req.BasedOnSeq != st.Current.Seq:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("policy %s was applied meanwhile", st.Current.Version), ErrPolicyMoved, nil)
		}
		return nil
	}
	apply := func(ctx workflow.Context, req ApplyPolicyRequest) (*AppliedPolicy, error) {
		if req.Version == "" {
			var err error
			if req, err = readRecordedRequest(st, req); err != nil {
				return nil, err
			}
		}
		sum := sha256.Sum256(req.Document)
		rec := AppliedPolicy{
			Seq: st.Current.Seq + 1, Version: req.Version, SHA256: hex.EncodeToString(sum[:]),
			AppliedAt: workflow.Now(ctx).UTC(), AppliedBy: req.AppliedBy, Resumes: req.Resumes,
		}
		st.Current, st.Document = rec, append([]byte(nil), req.Document...)
		st.History = append(st.History, rec)
		if len(st.History) > historyLimit {
			st.History = st.History[len(st.History)-historyLimit:]
		}
		if len(rec.Resumes) > 0 {
			pending++
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer func() { pending-- }()
				resume(ctx, st, rec, settle)
			})
		}
		return &rec, nil
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ApplyPolicyUpdate, apply, workflow.UpdateHandlerOptions{Validator: validate}); err != nil {
		return err
	}
	// Runs until its history grows long, then continues as new with the
	// state, once no resume is running and every update has been answered.
	if err := workflow.Await(ctx, func() bool {
		return pending == 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested() && workflow.AllHandlersFinished(ctx)
	}); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, PolicyWorkflowName, PolicyInput{State: st, Settle: in.Settle})
}

// readRecordedRequest reads an apply request recorded before callers sent
// the version and the newly supported pairs with the document, the way
// the workflow read it then, so that those histories replay. New requests
// never come here: the validator refuses a request without a version.
func readRecordedRequest(st *PolicyState, req ApplyPolicyRequest) (ApplyPolicyRequest, error) {
	next, err := policy.Parse(req.Document, policy.FormatAuto)
	if err != nil {
		return req, temporal.NewNonRetryableApplicationError("the policy does not parse: "+err.Error(), ErrPolicyInvalid, nil)
	}
	prev, err := policy.Parse(st.Document, policy.FormatAuto)
	if err != nil {
		prev = nil // every recoverable pair is then new: resuming too much is harmless
	}
	req.Version, req.Resumes = next.Version, next.NewlySupported(prev)
	return req, nil
}

// recordedBuiltinState is the state a policy workflow started without one
// began with: the embedded default.
func recordedBuiltinState() *PolicyState {
	doc := policy.DefaultDocument()
	sum := sha256.Sum256(doc)
	return &PolicyState{Current: AppliedPolicy{Version: policy.Default().Version, SHA256: hex.EncodeToString(sum[:]), AppliedBy: "built-in"}, Document: doc}
}

// resume runs the resume activity for one applied policy and records how
// many cases it signalled. It retries for as long as it takes: a parked
// case must not be forgotten because the cluster was down for a while.
func resume(ctx workflow.Context, st *PolicyState, rec AppliedPolicy, settle time.Duration) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
		},
	})
	req := ResumeParkedRequest{Policy: ResumeRequest{PolicyVersion: rec.Version, PolicySeq: rec.Seq}, Resumes: rec.Resumes, Settle: settle}
	var res ResumeParkedResult
	if err := workflow.ExecuteActivity(actx, ResumeActivityName, req).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Error("resuming parked cases failed", "policy", rec.Version, "err", err)
		return
	}
	n := res.Signalled
	for i := range st.History {
		if st.History[i].Seq == rec.Seq {
			st.History[i].Resumed = &n
		}
	}
	if st.Current.Seq == rec.Seq {
		st.Current.Resumed = &n
	}
}

// resumeChange marks the version of the workflow in which a parked case
// waits for a policy that supports it; cases started before it stay parked
// until a specialist acts.
const resumeChange = "resume"

// awaitResume keeps a parked case waiting until a policy applied after the
// one that parked it is announced, decides the case again under it, and
// repeats while the case stays parked.
func (c *appeal) awaitResume(ctx workflow.Context) error {
	if !c.resumeListening && workflow.GetVersion(ctx, resumeUpdateChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// One listener for the case's life: a case parked again after a
		// reclassification keeps it. Cases started since
		// resumeUpdateChange take ResumeUpdate instead.
		c.resumeListening = true
		ch := workflow.GetSignalChannel(ctx, ResumeSignal)
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				var r ResumeRequest
				if !ch.Receive(ctx, &r) {
					return
				}
				c.announced(r)
			}
		})
	}
	for c.st.Status == recovery.StatusParked && !c.st.Closed {
		if err := workflow.Await(ctx, func() bool {
			return c.st.Closed || c.reclass != nil || (c.nextResume != nil && c.nextResume.PolicySeq > c.st.PolicySeq)
		}); err != nil {
			return err
		}
		if c.st.Closed || c.reclass != nil {
			return nil
		}
		r := *c.nextResume
		c.event(ctx, "policy.resumed", map[string]string{"policy_version": r.PolicyVersion, "network": c.st.Network})
		if err := c.diagnose(ctx, r.PolicySeq); err != nil {
			if errors.Is(err, errWithdrawn) {
				return nil
			}
			return err
		}
		if c.st.PolicySeq < r.PolicySeq {
			// The worker answered under an older policy than announced;
			// it cannot, but never loop on it.
			c.st.PolicySeq = r.PolicySeq
		}
	}
	return nil
}

// resumeUpdateChange marks the version in which a parked case hears of a
// policy that supports it by ResumeUpdate, which the engine vouches for,
// instead of a signal anyone who reaches Temporal could send (and which
// could hold the case parked by announcing a policy that never comes).
const resumeUpdateChange = "resume-update"

// announced keeps the most recent policy announced to the case.
func (c *appeal) announced(r ResumeRequest) {
	if c.nextResume == nil || r.PolicySeq > c.nextResume.PolicySeq {
		c.nextResume = &r
	}
}

func (c *appeal) validateResume(_ workflow.Context, r ResumeRequest) error {
	if r.PolicySeq <= 0 || r.PolicyVersion == "" {
		return refuse("a resume names the applied policy's version and sequence number", recovery.InvalidInput)
	}
	return nil
}

func (c *appeal) resume(_ workflow.Context, r ResumeRequest) error {
	c.announced(r)
	return nil
}
