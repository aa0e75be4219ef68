package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/misdeposit/recovery"
)

func joinStub(context.Context, JoinRequest) (*JoinResult, error) {
	return nil, errors.New("replaced by OnActivity")
}

// A case filed under a provisional id (before the deposit could be
// resolved) hands over to the case named after the deposit once it finds
// it, and closes pointing at it; the user is told which case goes on, or
// that another account's appeal owns the deposit.
func TestProvisionalCaseJoinsTheCaseOfItsDeposit(t *testing.T) {
	for _, sameUser := range []bool{true, false} {
		env := newEnv(t)
		in := input()
		in.AppealID, in.Network = "any."+hash+".to-0123456789", ""
		env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil).Once()
		var asked []JoinRequest
		env.OnActivity(JoinActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, req JoinRequest) (*JoinResult, error) {
			asked = append(asked, req)
			return &JoinResult{CaseID: req.Input.AppealID, Started: sameUser, SameUser: sameUser}, nil
		})
		env.ExecuteWorkflow(AppealWorkflowName, in)

		require.NoError(t, env.GetWorkflowError())
		var st AppealState
		require.NoError(t, env.GetWorkflowResult(&st))
		owner := "eth." + hash + ".v"
		require.Len(t, asked, 1)
		require.Equal(t, owner, asked[0].Input.AppealID)
		require.Equal(t, "eth", asked[0].Input.Network)
		require.Equal(t, in.UserID, asked[0].Input.UserID)
		require.Equal(t, in.FiledAt, asked[0].Input.FiledAt)
		require.Equal(t, recovery.StatusJoined, st.Status)
		require.True(t, st.Closed)
		require.Equal(t, owner, st.JoinedCase)
		last := st.Timeline[len(st.Timeline)-1]
		want := "joined"
		if !sameUser {
			want = "claimed_elsewhere"
		}
		require.Equal(t, want, last.Code)
		require.Equal(t, owner, last.Params["case_id"])
	}
}

// A case already named after its deposit goes on by itself.
func TestCaseNamedAfterItsDepositDoesNotJoin(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil).Once()
	regular(env)
	var st *AppealState
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	require.Equal(t, "", st.JoinedCase)
	require.NotEqual(t, recovery.StatusJoined, st.Status)
}
