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
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
)

func newBatchEnv() *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(BatchWorkflow, workflow.RegisterOptions{Name: BatchWorkflowName})
	env.RegisterActivityWithOptions(func(context.Context, LockBatchRequest) ([]string, error) { return nil, errors.New("mocked") }, activity.RegisterOptions{Name: LockBatchActivityName})
	env.RegisterActivityWithOptions(func(context.Context, PlanBatchRequest) (*BatchPlan, error) { return nil, errors.New("mocked") }, activity.RegisterOptions{Name: PlanBatchActivityName})
	env.RegisterActivityWithOptions(func(context.Context, SendBatchRequest) (*SentTx, error) { return nil, errors.New("mocked") }, activity.RegisterOptions{Name: SendBatchActivityName})
	env.RegisterActivityWithOptions(func(context.Context, NotifyBatchRequest) error { return errors.New("mocked") }, activity.RegisterOptions{Name: NotifyBatchActivityName})
	registerRecoveryStubs(env)
	return env
}

// batchNotices answers the batch's NotifyBatch, and returns what it was told.
func batchNotices(env *testsuite.TestWorkflowEnvironment) func() NotifyBatchRequest {
	var told NotifyBatchRequest
	env.OnActivity(NotifyBatchActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r NotifyBatchRequest) error {
		told = r
		return nil
	})
	return func() NotifyBatchRequest { return told }
}

// batchState is the finished batch's result.
func batchState(t *testing.T, env *testsuite.TestWorkflowEnvironment) BatchState {
	t.Helper()
	require.NoError(t, env.GetWorkflowError())
	var st BatchState
	require.NoError(t, env.GetWorkflowResult(&st))
	return st
}

// batchedCaseEnv runs a small deposit the policy sends to a batch (of 20
// at most, within a day), quoted, accepted and signed off.
func batchedCaseEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	env := newEnv(t)
	env.RegisterActivityWithOptions(func(context.Context, JoinBatchRequest) (string, error) { return "", errors.New("mocked") }, activity.RegisterOptions{Name: JoinBatchActivityName})
	res := ownedBy("u1")
	res.Diagnosis.Category = recovery.CategoryBelowMinimum
	res.Decision.Category, res.Decision.Action, res.Decision.Batch = recovery.CategoryBelowMinimum, policy.Conditional, true
	res.Decision.BatchWindow, res.Decision.BatchMaxCases = 24*time.Hour, 20
	offered(t, env, res)
	signedOff(t, env)
	return env
}

func member(n int) BatchMember {
	return BatchMember{CaseID: "btc.case" + string(rune('a'+n)), DepositID: "btc.dep" + string(rune('a'+n)) + ".o0", TxHash: "h",
		Owner: "u", Deposit: recovery.Transfer{Kind: recovery.KindOutput, Amount: big.NewInt(10_000)}, USD: decimal.NewFromInt(9)}
}

// A batch closes as soon as it is full, locks the members still in (a
// withdrawn one drops out), sends one transaction for them and tells each
// its transaction and its share of the cost.
func TestBatchClosesWhenFullAndRecoversItsMembersInOneTransaction(t *testing.T) {
	env := newBatchEnv()
	var late *error
	env.RegisterDelayedCallback(func() {
		for i := range 3 {
			staffUpdate(env, BatchJoinUpdate, member(i))
		}
		late = staffUpdate(env, BatchJoinUpdate, member(3))
	}, time.Minute)
	env.OnActivity(LockBatchActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r LockBatchRequest) ([]string, error) {
		require.Len(t, r.CaseIDs, 3)
		return []string{r.CaseIDs[0], r.CaseIDs[2]}, nil // the second was withdrawn
	})
	env.OnActivity(PlanBatchActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r PlanBatchRequest) (*BatchPlan, error) {
		require.Len(t, r.Members, 2)
		return &BatchPlan{Method: MethodUTXOSpend, Family: recovery.FamilyUTXO, Txs: []BatchTx{{Members: []string{r.Members[0].CaseID, r.Members[1].CaseID},
			Shares: []*big.Int{big.NewInt(70), big.NewInt(71)}, Sweep: &PlannedSweep{Network: "btc", Fee: big.NewInt(141)}}}}, nil
	})
	// The sweep is sent and followed on the UTXO family's task queue.
	var queues []string
	env.OnActivity(SendBatchActivityName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ SendBatchRequest) (*SentTx, error) {
		queues = append(queues, activity.GetInfo(ctx).TaskQueue)
		return &SentTx{Hash: "sweep"}, nil
	}).Once()
	for _, c := range []*TxCheck{{State: TxStatePending, Confirmations: 1, Required: 2}, {State: TxStateConfirmed, Confirmations: 2, Required: 2, Fee: big.NewInt(141)}} {
		env.OnActivity(CheckRecoveryActivityName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ CheckRequest) (*TxCheck, error) {
			queues = append(queues, activity.GetInfo(ctx).TaskQueue)
			return c, nil
		}).Once()
	}
	told := batchNotices(env)
	env.ExecuteWorkflow(BatchWorkflowName, BatchInput{ID: "batch.btc.BTC.1.0", Network: "btc", Asset: "BTC",
		BatchLimits: BatchLimits{Window: 24 * time.Hour, MaxCases: 3, Poll: time.Second}})

	st := batchState(t, env)
	refusedAs(t, *late, ErrBatchClosed)
	require.Equal(t, BatchDone, st.Status)
	require.Len(t, st.Members, 3)
	require.Len(t, st.Transactions, 1)
	require.True(t, st.Transactions[0].Confirmed)
	require.Equal(t, []string{member(0).CaseID, member(2).CaseID}, told().Order)
	require.Equal(t, "sweep", told().Results[member(0).CaseID].TxHash)
	require.Equal(t, "71", told().Results[member(2).CaseID].Share.String())
	require.NotContains(t, told().Results, member(1).CaseID)
	require.Equal(t, []string{"recovery.utxo", "recovery.utxo", "recovery.utxo"}, queues)
}

// An EVM batch sends every member's sweep before following them: the
// sweeps confirm together (one wait for confirmations, not one per
// member), and a sweep that cannot be sent fails only its own member.
func TestEVMBatchSendsEverySweepBeforeWaitingForConfirmations(t *testing.T) {
	env := newBatchEnv()
	env.RegisterDelayedCallback(func() {
		for i := range 3 {
			staffUpdate(env, BatchJoinUpdate, member(i))
		}
	}, time.Minute)
	env.OnActivity(LockBatchActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r LockBatchRequest) ([]string, error) {
		return r.CaseIDs, nil
	})
	env.OnActivity(PlanBatchActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r PlanBatchRequest) (*BatchPlan, error) {
		plan := &BatchPlan{Method: MethodBatch}
		for i, m := range r.Members {
			plan.Txs = append(plan.Txs, BatchTx{Members: []string{m.CaseID}, Shares: []*big.Int{big.NewInt(int64(100 + i))},
				Tx: &PlannedTx{Step: "sweep", Network: "eth", From: "0xdep" + m.CaseID}})
		}
		return plan, nil
	})
	var sent, order []string
	env.OnActivity(SendRecoveryActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r SendRequest) (*SentTx, error) {
		if r.CaseID == member(1).CaseID {
			return nil, refuse("the deposit address holds too little for its gas", ErrRecoveryRefused)
		}
		sent = append(sent, r.CaseID)
		order = append(order, "send")
		return &SentTx{Hash: "0x" + r.CaseID}, nil
	})
	looks := map[string]int{}
	env.OnActivity(CheckRecoveryActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r CheckRequest) (*TxCheck, error) {
		looks[r.Hash]++
		order = append(order, "look")
		if looks[r.Hash] == 1 {
			return &TxCheck{State: TxStatePending, Confirmations: 1, Required: 2}, nil
		}
		return &TxCheck{State: TxStateConfirmed, Confirmations: 2, Required: 2, Fee: big.NewInt(21000)}, nil
	})
	told := batchNotices(env)
	env.ExecuteWorkflow(BatchWorkflowName, BatchInput{ID: "batch.eth.ETH.1.0", Network: "eth", Asset: "ETH",
		BatchLimits: BatchLimits{Window: 24 * time.Hour, MaxCases: 3, Poll: time.Minute}})

	st := batchState(t, env)
	require.Equal(t, BatchDone, st.Status)
	require.Equal(t, []string{member(0).CaseID, member(2).CaseID}, sent)
	require.Equal(t, []string{"send", "send", "look", "look", "look", "look"}, order, "both sweeps were out before the first look")
	require.Equal(t, map[string]int{"0x" + member(0).CaseID: 2, "0x" + member(2).CaseID: 2}, looks)
	require.Len(t, st.Transactions, 2)
	require.Equal(t, "0x"+member(2).CaseID, told().Results[member(2).CaseID].TxHash)
	require.Equal(t, "102", told().Results[member(2).CaseID].Share.String())
	require.Contains(t, told().Results[member(1).CaseID].Failure, "too little for its gas")
}

// A case the policy sends to a batch is quoted and signed off first, joins
// the batch, is held once the batch closes (no withdrawal then), and is
// credited from the batch's result with its share of the cost, which
// settles the upper bound the quote charged.
func TestBatchedCaseIsCreditedWithItsShare(t *testing.T) {
	env := batchedCaseEnv(t)
	var joined JoinBatchRequest
	env.OnActivity(JoinBatchActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r JoinBatchRequest) (string, error) {
		joined = r
		return "batch.eth.ETH.1.0", nil
	})
	var waiting, locked *AppealState
	var withdrawn *error
	env.RegisterDelayedCallback(func() {
		waiting = query(t, env)
		staffUpdate(env, BatchLockUpdate, BatchLockRequest{BatchID: "batch.eth.ETH.1.0"})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		locked = query(t, env)
		withdrawn = staffUpdate(env, WithdrawUpdate, WithdrawRequest{})
		staffUpdate(env, BatchResultUpdate, BatchResult{BatchID: "batch.eth.ETH.1.0", TxHash: "0xsweep", Confirmations: 3, Required: 3, Share: big.NewInt(1000)})
	}, 3*time.Hour)
	var credited CreditRequest
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, r CreditRequest) error {
		credited = r
		return nil
	})
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.NoError(t, env.GetWorkflowError())
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, 20, joined.MaxCases)
	require.Equal(t, "eth."+hash+".v", joined.Member.DepositID)
	require.Equal(t, recovery.StatusAwaitingBatch, waiting.Status)
	require.Equal(t, recovery.StatusRecovering, locked.Status)
	refusedAs(t, *withdrawn, ErrConflict)
	require.Equal(t, recovery.StatusCredited, st.Status)
	require.Contains(t, codes(&st), "quote.batch_share", "the quote says its network cost is an upper bound")
	require.Equal(t, "1000", credited.CostAmount.String(), "the share of the batch's cost was paid")
	require.Equal(t, "1000", credited.NetworkCostCharged.String(), "the quote's upper bound is settled at the share")
	require.Equal(t, "0xsweep", st.Recovery.Credit.TxHash)
	require.Equal(t, "batch.eth.ETH.1.0", st.Recovery.Batch)
	wantNet := new(big.Int).Sub(credited.Deposit, credited.ServiceFee)
	wantNet.Sub(wantNet, big.NewInt(1000))
	require.Equal(t, wantNet.String(), st.Recovery.Credit.NetBase.String())
}

// The case that fills a batch may be locked by it before the case hears
// which batch it joined: the lock waits for the join instead of being
// refused, so the batch keeps the case and tells it its result (refused,
// the case would wait in awaiting_batch for ever).
func TestCaseLockedBeforeItHearsItJoinedStaysInTheBatch(t *testing.T) {
	env := batchedCaseEnv(t)
	env.OnActivity(JoinBatchActivityName, mock.Anything, mock.Anything).After(2*time.Hour).Return("batch.eth.ETH.1.0", nil)
	var lockErr, otherErr *error
	var joining *AppealState
	env.RegisterDelayedCallback(func() {
		joining = query(t, env)
		otherErr = staffUpdate(env, BatchLockUpdate, BatchLockRequest{BatchID: "batch.eth.ETH.9.0"})
		lockErr = staffUpdate(env, BatchLockUpdate, BatchLockRequest{BatchID: "batch.eth.ETH.1.0"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		staffUpdate(env, BatchResultUpdate, BatchResult{BatchID: "batch.eth.ETH.1.0", TxHash: "0xsweep", Confirmations: 3, Required: 3, Share: big.NewInt(1000)})
	}, 4*time.Hour)
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(nil)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.NoError(t, env.GetWorkflowError())
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusAwaitingBatch, joining.Status)
	require.Nil(t, joining.Recovery, "the case had not heard of its batch when the lock came")
	require.NoError(t, *lockErr, "its own batch's lock waits for the join and holds the case")
	refusedAs(t, *otherErr, ErrConflict)
	require.Equal(t, recovery.StatusCredited, st.Status)
	require.Equal(t, "0xsweep", st.Recovery.Credit.TxHash)
}

// A batch result only counts when it comes as the engine's update for the
// case's own batch: a signal (which anyone reaching Temporal can send,
// and no validator can refuse) or a result for another batch leaves the
// case waiting, never credited.
func TestBatchedCaseTakesOnlyItsBatchsResult(t *testing.T) {
	env := batchedCaseEnv(t)
	env.OnActivity(JoinBatchActivityName, mock.Anything, mock.Anything).Return("batch.eth.ETH.1.0", nil)
	credited := false
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(func(context.Context, CreditRequest) error {
		credited = true
		return nil
	})
	var other *error
	var st *AppealState
	env.RegisterDelayedCallback(func() {
		forged := BatchResult{BatchID: "batch.eth.ETH.1.0", TxHash: "0xforged", Confirmations: 3, Required: 3, Share: big.NewInt(1)}
		env.SignalWorkflow(BatchResultSignal, forged)
		forged.BatchID = "batch.eth.ETH.9.9"
		other = staffUpdate(env, BatchResultUpdate, forged)
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, 4*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	refusedAs(t, *other, ErrConflict)
	require.False(t, credited, "a forged batch result credited the user")
	require.Equal(t, recovery.StatusAwaitingBatch, st.Status)
	require.Empty(t, st.Recovery.Transactions)
}
