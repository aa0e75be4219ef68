package activities

import (
	"context"
	"errors"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery/workflows"
)

// JoinCase gives a deposit its one case: the case named after the deposit
// is started from the appeal that found it, or found when it exists
// (running or closed). A retry finds the case the first attempt started.
func (a *Activities) JoinCase(ctx context.Context, req workflows.JoinRequest) (*workflows.JoinResult, error) {
	if a.Temporal == nil {
		return nil, errors.New("this worker cannot reach Temporal")
	}
	id := req.Input.AppealID
	run, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: workflows.TaskQueue,
		// As the appeal API starts cases: a closed case is never started
		// again; a running one is the owner.
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    workflows.InitialSearchAttributes(req.Input.Network),
	}, workflows.AppealWorkflowName, req.Input)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
	case err != nil:
		return nil, err
	default:
		return &workflows.JoinResult{CaseID: run.GetID(), Started: true, SameUser: true}, nil
	}
	v, err := a.Temporal.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
	if err != nil {
		return nil, err
	}
	var st workflows.AppealState
	if err := v.Get(&st); err != nil {
		return nil, err
	}
	return &workflows.JoinResult{CaseID: id, SameUser: st.UserID == req.Input.UserID}, nil
}
