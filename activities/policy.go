package activities

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
)

// PolicySource answers the policy in force.
type PolicySource interface {
	// Policy returns the policy in force and its sequence number (0: the
	// built-in default), at least as recent as the applied policy minSeq.
	Policy(ctx context.Context, minSeq int64) (*policy.Policy, int64, error)
}

// queryValue is what a network id or category may look like to be put in
// a visibility query.
var queryValue = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// resumePageSize is the page size of the parked-case listing.
const resumePageSize = 500

// ResumeParked signals every parked case of the network and category
// pairs a newly applied policy supports. It lists them from visibility
// twice: once at once, and again after req.Settle, to catch the cases that
// were being decided under the previous policy during the first pass. A
// case told twice, or told of a policy older than its decision, ignores
// it. It heartbeats its progress and is safe to retry.
func (a *Activities) ResumeParked(ctx context.Context, req workflows.ResumeParkedRequest) (*workflows.ResumeParkedResult, error) {
	if a.Temporal == nil {
		return nil, invalidInput("resume: no Temporal client")
	}
	queries, err := parkedQueries(req.Resumes)
	if err != nil {
		return nil, err
	}
	signalled := map[string]bool{}
	pass := func() error {
		for _, q := range queries {
			if err := a.signalParked(ctx, q, req.Policy, signalled); err != nil {
				return err
			}
		}
		return nil
	}
	if err := pass(); err != nil {
		return nil, err
	}
	if err := heartbeatSleep(ctx, req.Settle, len(signalled)); err != nil {
		return nil, err
	}
	if err := pass(); err != nil {
		return nil, err
	}
	activity.GetLogger(ctx).Info("parked cases resumed", "policy", req.Policy.PolicyVersion, "cases", len(signalled))
	return &workflows.ResumeParkedResult{Signalled: len(signalled)}, nil
}

// parkedQueries turns the pairs into one visibility query per network.
func parkedQueries(pairs []policy.NetworkCategory) ([]string, error) {
	byNetwork := map[string][]string{}
	var networks []string
	for _, p := range pairs {
		if !queryValue.MatchString(p.Network) || !queryValue.MatchString(p.Category) {
			return nil, invalidInput(fmt.Sprintf("resume: unusable network or category %q/%q", p.Network, p.Category))
		}
		if _, ok := byNetwork[p.Network]; !ok {
			networks = append(networks, p.Network)
		}
		byNetwork[p.Network] = append(byNetwork[p.Network], "'"+p.Category+"'")
	}
	slices.Sort(networks)
	var out []string
	for _, n := range networks {
		out = append(out, fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND RecoveryStatus = '%s' AND RecoveryNetwork = '%s' AND RecoveryCategory IN (%s)",
			workflows.AppealWorkflowName, recovery.StatusParked, n, strings.Join(byNetwork[n], ", ")))
	}
	return out, nil
}

// signalParked tells every case the query lists, page by page, by an
// update the engine vouches for.
func (a *Activities) signalParked(ctx context.Context, query string, r workflows.ResumeRequest, signalled map[string]bool) error {
	var token []byte
	for {
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: a.Namespace, PageSize: resumePageSize, NextPageToken: token, Query: query,
		})
		if err != nil {
			return recovery.Errorf(recovery.EUnavailable, "list parked cases: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.ResumeUpdate,
				Args: []any{r}, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err == nil {
				err = h.Get(ctx, nil)
			}
			var nf *serviceerror.NotFound
			switch {
			case errors.As(err, &nf):
				// Closed since it was listed (withdrawn): nothing to resume.
			case err != nil:
				return recovery.Errorf(recovery.EUnavailable, "resume %s: %v", id, err)
			default:
				signalled[id] = true
			}
		}
		activity.RecordHeartbeat(ctx, len(signalled))
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return nil
		}
	}
}

// heartbeatSleep waits d, heartbeating so that the wait does not look like
// a stuck activity.
func heartbeatSleep(ctx context.Context, d time.Duration, progress int) error {
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(left, 10*time.Second)):
			activity.RecordHeartbeat(ctx, progress)
		}
	}
}
