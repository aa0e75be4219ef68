package workflows

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/diagnosis"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/policy"
)

func lookupStub(ctx context.Context, req LookupRequest) (*LookupResult, error) {
	return nil, errors.New("replaced by OnActivity")
}

func diagnoseStub(ctx context.Context, req DiagnoseRequest) (*DiagnoseResult, error) {
	return nil, errors.New("replaced by OnActivity")
}

// newEnv returns a test environment whose Diagnose answers a regular
// deposit unless a test says otherwise (OnActivity before the first run).
func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(AppealWorkflow, workflow.RegisterOptions{Name: AppealWorkflowName})
	env.RegisterActivityWithOptions(lookupStub, activity.RegisterOptions{Name: LookupActivityName})
	env.RegisterActivityWithOptions(diagnoseStub, activity.RegisterOptions{Name: DiagnoseActivityName})
	env.RegisterActivityWithOptions(quoteStub, activity.RegisterOptions{Name: QuoteActivityName})
	registerRecoveryStubs(env)
	env.RegisterActivityWithOptions(joinStub, activity.RegisterOptions{Name: JoinActivityName})
	return env
}

// diagnosed is a Diagnose answer: category, and the policy's action (""
// for a regular deposit, which gets no decision).
func diagnosed(category string, action policy.Action, batch bool) *DiagnoseResult {
	res := &DiagnoseResult{Diagnosis: diagnosis.Diagnosis{
		Category:    category,
		Explanation: diagnosis.Message{Code: "diagnosis." + category},
		Evidence:    []diagnosis.Evidence{{Fact: "owner", Value: "u1"}},
	}}
	if action != "" {
		res.Decision = &policy.Decision{
			Network: "eth", Category: category, Action: action, Batch: batch, PolicyVersion: "test.1",
			Rule:     policy.Rule{Fee: &fees.Schedule{Flat: decimal.NewFromInt(10), Percent: decimal.NewFromInt(1), NetworkCost: fees.ChargeNetworkCost, MaxShare: decimal.RequireFromString("0.5")}},
			Signoffs: []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement},
		}
	}
	return res
}

func regular(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(diagnosed(diagnosis.CategoryRegularDeposit, "", false), nil)
}

func input() AppealInput {
	return AppealInput{
		AppealID:  "eth." + hash + ".v",
		Network:   "eth",
		TxHash:    hash,
		ToAddress: "0x00000000000000000000000000000000000000aa",
		UserID:    "u1",
		FiledAt:   time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
		Timing: Timing{
			NotFoundRechecks:     []time.Duration{time.Minute, time.Hour},
			ConfirmationPoll:     30 * time.Second,
			MaxConfirmationPolls: 10,
		},
	}
}

const hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func found(status recovery.TxStatus, conf uint64) *LookupResult {
	amount := big.NewInt(1_500_000_000)
	return &LookupResult{
		Found: true,
		Tx: &recovery.Tx{
			Network: "eth", Hash: "0x" + hash, Status: status,
			BlockNumber: 10, Confirmations: conf, Required: 3,
			Transfers: []recovery.Transfer{{Kind: recovery.KindNative, To: "0x00000000000000000000000000000000000000AA", Amount: amount}},
		},
		Deposit: &recovery.Transfer{Kind: recovery.KindNative, To: "0x00000000000000000000000000000000000000AA", Amount: amount},
		Scanned: []string{"eth"},
	}
}

func codes(st *AppealState) []string {
	var out []string
	for _, e := range st.Timeline {
		out = append(out, e.Code)
	}
	return out
}

func query(t *testing.T, env *testsuite.TestWorkflowEnvironment) *AppealState {
	t.Helper()
	v, err := env.QueryWorkflow(StatusQuery)
	require.NoError(t, err)
	var st AppealState
	require.NoError(t, v.Get(&st))
	return &st
}

// A final deposit is diagnosed, the policy decides, and the case moves to
// the status the decision calls for, with the user told why.
func TestConfirmedDepositIsDiagnosedAndDecided(t *testing.T) {
	cases := []struct {
		category string
		action   policy.Action
		batch    bool
		status   string
		closed   bool
		decision string
	}{
		{recovery.CategoryWrongNetworkEVM, policy.Direct, false, recovery.StatusAwaitingAcceptance, false, "decision.direct"},
		{recovery.CategoryUnlistedToken, policy.Conditional, false, recovery.StatusAwaitingAcceptance, false, "decision.conditional"},
		// A batched deposit is quoted (and signed off) first; it waits in its
		// batch after that.
		{recovery.CategoryBelowMinimum, policy.Conditional, true, recovery.StatusAwaitingAcceptance, false, "decision.batch"},
		{recovery.CategoryUnsupportedNetwork, policy.Park, false, recovery.StatusParked, false, "decision.park"},
		{recovery.CategoryAlreadyCredited, policy.Reject, false, recovery.StatusNotRecoverable, true, "decision.reject"},
		{diagnosis.CategoryRegularDeposit, "", false, recovery.StatusUnderReview, false, ""},
	}
	for _, c := range cases {
		t.Run(c.category, func(t *testing.T) {
			env := newEnv(t)
			quoting(env)
			env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil).Once()
			var req DiagnoseRequest
			env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
				req = args.Get(1).(DiagnoseRequest)
			}).Return(diagnosed(c.category, c.action, c.batch), nil).Once()
			var st *AppealState
			env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, time.Hour)
			env.ExecuteWorkflow(AppealWorkflowName, input())
			if c.closed {
				require.NoError(t, env.GetWorkflowError())
				var final AppealState
				require.NoError(t, env.GetWorkflowResult(&final))
				st = &final
			}

			require.Equal(t, c.status, st.Status)
			require.Equal(t, c.category, st.Category)
			require.Equal(t, c.closed, st.Closed)
			want := []string{"received", "found", "confirmed", "diagnosis." + c.category}
			if c.decision != "" {
				want = append(want, c.decision)
				if c.status == recovery.StatusAwaitingAcceptance {
					want = append(want, "quote.offered")
				}
				if c.batch {
					want = append(want, "quote.batch_share")
				}
				require.Equal(t, "test.1", st.Timeline[4].Params["policy_version"])
				require.Equal(t, c.action, st.Decision.Action)
			}
			require.Equal(t, want, codes(st))
			require.Equal(t, "u1", req.UserID)
			require.Equal(t, "0x"+hash, req.Tx.Hash)
			require.Equal(t, "owner", st.Diagnosis.Evidence[0].Fact)
		})
	}
}

func TestUnknownHashIsLookedUpAgainThenFound(t *testing.T) {
	env := newEnv(t)
	regular(env)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(&LookupResult{Scanned: []string{"eth", "bsc"}}, nil).Once()
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxSuccess, 3), nil).Once()
	var st *AppealState
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, 2*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.Equal(t, recovery.StatusUnderReview, st.Status)
	require.Equal(t, diagnosis.CategoryRegularDeposit, st.Category)
	require.Equal(t, []string{"received", "not_found_retry", "found", "confirmed", "diagnosis.regular_deposit"}, codes(st))
	require.Equal(t, "1m0s", st.Timeline[1].Params["wait"])
}

func TestHashNeverFoundEndsAsNotFound(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(&LookupResult{Scanned: []string{"eth"}}, nil).Times(3)
	var st *AppealState
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, 3*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.Equal(t, recovery.StatusNotFound, st.Status)
	require.Equal(t, recovery.CategoryNotFound, st.Category)
	require.Equal(t, []string{"received", "not_found_retry", "not_found_retry", "not_found_final"}, codes(st))
	env.AssertExpectations(t)
}

func TestPendingDepositWaitsForConfirmations(t *testing.T) {
	env := newEnv(t)
	regular(env)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxPending, 0), nil).Once()
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxSuccess, 1), nil).Once()
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxSuccess, 3), nil).Once()
	var during, after *AppealState
	env.RegisterDelayedCallback(func() { during = query(t, env) }, 10*time.Second)
	env.RegisterDelayedCallback(func() { after = query(t, env); env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.Equal(t, recovery.StatusConfirming, during.Status)
	require.Equal(t, recovery.CategoryPending, during.Category)
	require.Equal(t, recovery.StatusUnderReview, after.Status)
	require.Equal(t, []string{"received", "found", "confirming", "confirmed", "diagnosis.regular_deposit"}, codes(after))
}

func TestFailedTransactionClosesTheCase(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxFailed, 5), nil).Once()
	env.ExecuteWorkflow(AppealWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusNotRecoverable, st.Status)
	require.Equal(t, recovery.CategoryFailedTx, st.Category)
	require.True(t, st.Closed)
}

func TestWithdrawDuringRecheckEndsTheCase(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(&LookupResult{}, nil).Once()
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(WithdrawUpdate, "w1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Fatalf("withdraw rejected: %v", err) },
			OnAccept: func() {}, OnComplete: func(any, error) {},
		}, WithdrawRequest{Reason: "found it in my other account"})
	}, 30*time.Second)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.True(t, env.IsWorkflowCompleted())
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusWithdrawn, st.Status)
	require.True(t, st.Closed)
	require.Equal(t, []string{"received", "not_found_retry", "withdrawn"}, codes(&st))
	// Only the first look-up ran: the withdrawal cut the wait short.
	env.AssertExpectations(t)
}

func TestWithdrawRefusesAnOverlongReason(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxSuccess, 5), nil).Once()
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(WithdrawUpdate, "w1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err },
			OnAccept: func() { t.Fatal("overlong reason accepted") }, OnComplete: func(any, error) {},
		}, WithdrawRequest{Reason: string(make([]byte, 2001))})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 2*time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	require.Error(t, rejected)
	require.Contains(t, rejected.Error(), "2000 characters")
}

func TestInvalidHashFailsTheCase(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).
		Return(nil, temporal.NewNonRetryableApplicationError("bad hash", recovery.InvalidInput, nil)).Once()
	env.ExecuteWorkflow(AppealWorkflowName, input())
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, recovery.InvalidInput, appErr.Type())
}

func TestDepositOnAnotherNetworkThanNamedIsSaid(t *testing.T) {
	env := newEnv(t)
	regular(env)
	in := input()
	in.ClaimedNetwork = "bsc"
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxSuccess, 5), nil).Once()
	var st *AppealState
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, in)
	require.Equal(t, []string{"received", "found_elsewhere", "confirmed", "diagnosis.regular_deposit"}, codes(st))
	require.Equal(t, map[string]string{"network": "eth", "claimed": "bsc"}, st.Timeline[1].Params)
}

// A case whose filing found the deposit final starts from that answer: it
// asks the nodes nothing, and goes from filing to its quote in one step.
func TestCaseStartsFromTheFilingsLookUp(t *testing.T) {
	env := newEnv(t)
	quoting(env)
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false), nil).Once()
	in := input()
	in.Located = foundETH()
	var st *AppealState
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, in)

	require.Equal(t, recovery.StatusAwaitingAcceptance, st.Status)
	require.Equal(t, []string{"received", "found", "confirmed", "diagnosis." + recovery.CategoryWrongNetworkEVM, "decision.direct", "quote.offered"}, codes(st))
	env.AssertNotCalled(t, LookupActivityName, mock.Anything, mock.Anything)
	// The quote came within the filing's own second: no wait on a node or a
	// retry.
	require.Equal(t, st.Timeline[0].At, st.Timeline[5].At)

	// Found but still confirming at filing: the case polls the nodes as
	// before.
	env = newEnv(t)
	regular(env)
	in.Located = found(recovery.TxSuccess, 1)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxSuccess, 3), nil).Once()
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, in)
	require.Equal(t, []string{"received", "found", "confirming", "confirmed", "diagnosis.regular_deposit"}, codes(st))

	// Not found at filing: the case waits for its first re-check at once,
	// and only then asks the nodes.
	env = newEnv(t)
	regular(env)
	in.Located = &LookupResult{Scanned: []string{"eth", "bsc"}}
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found(recovery.TxSuccess, 3), nil).Once()
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, in)
	require.Equal(t, []string{"received", "not_found_retry", "found", "confirmed", "diagnosis.regular_deposit"}, codes(st))
	require.Equal(t, st.Timeline[0].At, st.Timeline[1].At)
	require.Equal(t, st.Timeline[0].At.Add(time.Minute), st.Timeline[2].At)
}
