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

// A look-up no node answers for longer than its budget leaves the case
// unavailable, not failed: it looks again on a timer and goes on by itself
// once a node answers.
func TestCaseWaitsOutANetworkWithNoNodeAnswering(t *testing.T) {
	env := newEnv(t)
	quoting(env)
	calls := 0
	var during *AppealState
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(func(context.Context, LookupRequest) (*LookupResult, error) {
		calls++
		if calls <= 25 {
			return nil, errors.New("unavailable: no answer from eth; try again later")
		}
		return foundETH(), nil
	})
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(ownedBy("u1"), nil)
	env.RegisterDelayedCallback(func() { during = query(t, env) }, 20*time.Minute)
	var after *AppealState
	env.RegisterDelayedCallback(func() { after = query(t, env); env.CancelWorkflow() }, 3*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.Equal(t, recovery.StatusUnavailable, during.Status)
	require.False(t, during.Closed)
	require.Equal(t, recovery.StatusAwaitingAcceptance, after.Status, "the case went on by itself: %v", codes(after))
	got := codes(after)
	require.Equal(t, []string{"received", "unavailable", "found"}, got[:3], "told once, then found")
}
