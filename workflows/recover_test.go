package workflows

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/diagnosis"
	"github.com/misdeposit/recovery/policy"
)

func planStub(context.Context, PlanRequest) (*RecoveryPlan, error) {
	return nil, errors.New("no nodes in this test")
}
func sendStub(context.Context, SendRequest) (*SentTx, error) {
	return nil, errors.New("no nodes in this test")
}
func checkStub(context.Context, CheckRequest) (*TxCheck, error) {
	return nil, errors.New("no nodes in this test")
}
func creditStub(context.Context, CreditRequest) error { return errors.New("no ledger in this test") }
func returnStub(context.Context, ReturnRequest) error { return errors.New("no ledger in this test") }

// registerRecoveryStubs registers the recovery's activities; a test that
// goes past the sign-offs answers them with OnActivity.
func registerRecoveryStubs(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(planStub, activity.RegisterOptions{Name: PlanRecoveryActivityName})
	env.RegisterActivityWithOptions(sendStub, activity.RegisterOptions{Name: SendRecoveryActivityName})
	env.RegisterActivityWithOptions(checkStub, activity.RegisterOptions{Name: CheckRecoveryActivityName})
	env.RegisterActivityWithOptions(creditStub, activity.RegisterOptions{Name: CreditActivityName})
	env.RegisterActivityWithOptions(returnStub, activity.RegisterOptions{Name: ReturnActivityName})
}

// ownedBy is a wrong-network diagnosis whose address is u1's.
func ownedBy(user string) *DiagnoseResult {
	res := diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false)
	res.Diagnosis.Owner = &diagnosis.Owner{Entry: addressbook.Entry{Network: "bsc", Address: "0x00000000000000000000000000000000000000AA", UserID: user, Status: addressbook.Active}}
	return res
}

// signedOff answers the quote and signs the recovery off for both teams.
func signedOff(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
	env.RegisterDelayedCallback(func() {
		answer(env, "a", QuoteAnswer{QuoteID: query(t, env).Quote.ID, Accept: true}, new(error))
		staffUpdate(env, SignoffUpdate, SignoffRequest{By: wanda, Team: recovery.TeamWallet, Approve: true})
		staffUpdate(env, SignoffUpdate, SignoffRequest{By: seth, Team: recovery.TeamSettlement, Approve: true})
	}, time.Minute)
}

var sweep = PlannedTx{Step: "sweep", Network: "eth", Signer: "deposit", From: "0x00000000000000000000000000000000000000AA",
	To: "0x00000000000000000000000000000000000000BB", Value: big.NewInt(1_499_000), Gas: 21000, GasPrice: big.NewInt(10), Fee: big.NewInt(210_000)}

// After the last sign-off the deposit is swept on chain, its transaction
// followed to its confirmations (and sent again when the network lost
// it), and the user credited net of the fee, once; the case ends credited
// and can no longer be withdrawn or signed.
func TestApprovedRecoveryIsSentConfirmedAndCredited(t *testing.T) {
	env := newEnv(t)
	offered(t, env, ownedBy("u1"))
	signedOff(t, env)
	env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, req PlanRequest) (*RecoveryPlan, error) {
		require.Equal(t, "u1", req.Owner)
		require.Equal(t, "eth."+hash+".v", req.DepositID)
		return &RecoveryPlan{Method: MethodEVMSweep, HotWallet: sweep.To, Txs: []PlannedTx{sweep}}, nil
	}).Once()
	env.OnActivity(SendRecoveryActivityName, mock.Anything, mock.Anything).Return(&SentTx{Hash: "0xfeed"}, nil).Once()
	checks := []*TxCheck{
		{State: TxStatePending, Confirmations: 1, Required: 3},
		{State: TxStatePending, Resent: true},
		{State: TxStateConfirmed, Confirmations: 3, Required: 3, Fee: big.NewInt(210_000)},
	}
	var withdrawn *error
	for i, c := range checks {
		env.OnActivity(CheckRecoveryActivityName, mock.Anything, mock.Anything).Return(func(context.Context, CheckRequest) (*TxCheck, error) {
			if i == 0 {
				withdrawn = new(error)
				env.UpdateWorkflow(WithdrawUpdate, "w", &testsuite.TestUpdateCallback{OnReject: func(err error) { *withdrawn = err }, OnAccept: func() {}, OnComplete: func(any, error) {}}, WithdrawRequest{})
			}
			return c, nil
		}).Once()
	}
	var credited []CreditRequest
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, req CreditRequest) error {
		credited = append(credited, req)
		return nil
	})
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.NoError(t, env.GetWorkflowError())
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusCredited, st.Status)
	require.True(t, st.Closed)
	refusedAs(t, *withdrawn, ErrConflict)
	require.Len(t, credited, 1)
	c := credited[0]
	require.Equal(t, "eth."+hash+".v", c.DepositID)
	require.Equal(t, "u1", c.UserID)
	require.Equal(t, st.Deposit.Amount, c.Deposit)
	taken := new(big.Int).Add(c.ServiceFee, c.NetworkCostCharged)
	require.Equal(t, st.Quote.FeeBase.String(), taken.String(), "the fee taken is the accepted quote's")
	require.Equal(t, "210000", c.CostAmount.String(), "the network cost paid is what the transaction paid")
	rs := st.Recovery
	require.Equal(t, MethodEVMSweep, rs.Method)
	require.Len(t, rs.Transactions, 1)
	require.True(t, rs.Transactions[0].Confirmed)
	require.Equal(t, 1, rs.Transactions[0].Resent)
	require.Equal(t, "0xfeed", rs.Credit.TxHash)
	require.True(t, rs.Credit.Net.Equal(st.Quote.Net))
	got := codes(&st)
	require.Equal(t, []string{"recovery.started", "recovery.sent", "recovery.resent", "recovery.confirmed", "recovery.credited"}, got[len(got)-5:])
}

// A recovery's transactions are sent and followed on the task queue of
// their chain family, which the workers holding that family's nodes and
// keys serve; planning and the credit stay on the cases' queue.
func TestRecoveryTransactionsGoToTheirFamilysQueue(t *testing.T) {
	env := newEnv(t)
	offered(t, env, ownedBy("u1"))
	signedOff(t, env)
	queues := map[string]string{}
	seen := func(ctx context.Context, name string) { queues[name] = activity.GetInfo(ctx).TaskQueue }
	env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ PlanRequest) (*RecoveryPlan, error) {
		seen(ctx, PlanRecoveryActivityName)
		return &RecoveryPlan{Method: MethodEVMSweep, HotWallet: sweep.To, Txs: []PlannedTx{sweep}, Family: recovery.FamilyEVM}, nil
	}).Once()
	env.OnActivity(SendRecoveryActivityName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ SendRequest) (*SentTx, error) {
		seen(ctx, SendRecoveryActivityName)
		return &SentTx{Hash: "0xfeed"}, nil
	}).Once()
	env.OnActivity(CheckRecoveryActivityName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ CheckRequest) (*TxCheck, error) {
		seen(ctx, CheckRecoveryActivityName)
		return &TxCheck{State: TxStateConfirmed, Confirmations: 3, Required: 3, Fee: big.NewInt(210_000)}, nil
	}).Once()
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ CreditRequest) error {
		seen(ctx, CreditActivityName)
		return nil
	})
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, "recovery.evm", FamilyTaskQueue(recovery.FamilyEVM))
	require.Equal(t, FamilyTaskQueue(recovery.FamilyEVM), queues[SendRecoveryActivityName])
	require.Equal(t, FamilyTaskQueue(recovery.FamilyEVM), queues[CheckRecoveryActivityName])
	require.NotEqual(t, FamilyTaskQueue(recovery.FamilyEVM), queues[PlanRecoveryActivityName])
	require.NotEqual(t, FamilyTaskQueue(recovery.FamilyEVM), queues[CreditActivityName])
}

// A recovery the chain or the ledger refuses ends the case saying why,
// with nothing credited.
func TestRefusedRecoveryFailsTheCaseWithItsReason(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mock   func(env *testsuite.TestWorkflowEnvironment)
		reason string
	}{
		{"plan refused", func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(nil,
				temporal.NewNonRetryableApplicationError("output 0 of ab is already spent", ErrRecoveryRefused, nil))
		}, "output 0 of ab is already spent"},
		{"credited by another case", func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(&RecoveryPlan{Method: MethodInternalCredit}, nil)
			env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(
				temporal.NewNonRetryableApplicationError("deposit x was already credited by case y", ErrAlreadyCredited, nil))
		}, "deposit x was already credited by case y"},
		{"reverted", func(env *testsuite.TestWorkflowEnvironment) {
			env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(&RecoveryPlan{Method: MethodEVMSweep, Txs: []PlannedTx{sweep}}, nil)
			env.OnActivity(SendRecoveryActivityName, mock.Anything, mock.Anything).Return(&SentTx{Hash: "0xbad"}, nil)
			env.OnActivity(CheckRecoveryActivityName, mock.Anything, mock.Anything).Return(&TxCheck{State: TxStateFailed}, nil)
		}, "the recovery transaction 0xbad failed on eth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			offered(t, env, ownedBy("u1"))
			signedOff(t, env)
			tc.mock(env)
			env.ExecuteWorkflow(AppealWorkflowName, input())
			require.NoError(t, env.GetWorkflowError())
			var st AppealState
			require.NoError(t, env.GetWorkflowResult(&st))
			require.Equal(t, recovery.StatusRecoveryFailed, st.Status)
			require.True(t, st.Closed)
			require.Equal(t, tc.reason, st.Recovery.Failure)
			require.Nil(t, st.Recovery.Credit)
			require.Equal(t, "recovery.failed", st.Timeline[len(st.Timeline)-1].Code)
		})
	}
}

// A token listed on no network is swept (after a gas top-up), credited,
// then sent back net of the fee to the address it came from; each
// transaction is sent and confirmed in order, and the return is booked.
func TestUnlistedTokenIsSweptCreditedAndReturned(t *testing.T) {
	env := newEnv(t)
	res := ownedBy("u1")
	res.Diagnosis.Category = recovery.CategoryUnlistedToken
	quoting(env)
	found := foundETH()
	found.Tx.From = "0x00000000000000000000000000000000000000aa"
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found, nil).Once()
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(res, nil).Once()
	signedOff(t, env)
	token := "0x00000000000000000000000000000000000000CC"
	topup := PlannedTx{Step: "topup", Network: "eth", Signer: "hot", From: sweep.To, To: sweep.From, Value: big.NewInt(2_000_000), Gas: 21000, GasPrice: big.NewInt(10), Fee: big.NewInt(210_000)}
	sweepToken := PlannedTx{Step: "sweep", Network: "eth", Signer: "deposit", From: sweep.From, To: sweep.To, Token: token, Value: big.NewInt(1_500_000), Gas: 200_000, GasPrice: big.NewInt(10), Fee: big.NewInt(2_000_000)}
	back := PlannedTx{Step: "return", Network: "eth", Signer: "hot", From: sweep.To, To: "0x00000000000000000000000000000000000000DD", Token: token, Value: big.NewInt(1_000_000), Gas: 200_000, GasPrice: big.NewInt(10), Fee: big.NewInt(2_000_000)}
	env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, req PlanRequest) (*RecoveryPlan, error) {
		require.Equal(t, "0x00000000000000000000000000000000000000aa", req.ReturnTo, "the chain's sender, as nobody proved another")
		return &RecoveryPlan{Method: MethodTokenSweep, HotWallet: sweep.To, Txs: []PlannedTx{topup, sweepToken},
			Outcome: OutcomeReturn, ReturnTo: back.To, Return: &back}, nil
	})
	var sent []string
	env.OnActivity(SendRecoveryActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, req SendRequest) (*SentTx, error) {
		sent = append(sent, req.Tx.Step)
		return &SentTx{Hash: "0x" + req.Tx.Step}, nil
	})
	env.OnActivity(CheckRecoveryActivityName, mock.Anything, mock.Anything).Return(&TxCheck{State: TxStateConfirmed, Confirmations: 3, Required: 3, Fee: big.NewInt(100)}, nil)
	var creditedCost, returns []*big.Int
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, req CreditRequest) error {
		creditedCost = append(creditedCost, req.CostAmount)
		return nil
	})
	env.OnActivity(ReturnActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, req ReturnRequest) error {
		returns = append(returns, req.CostAmount)
		return nil
	})
	in := input()
	env.ExecuteWorkflow(AppealWorkflowName, in)

	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusCredited, st.Status)
	require.Equal(t, []string{"topup", "sweep", "return"}, sent)
	require.Equal(t, []*big.Int{big.NewInt(200)}, creditedCost, "the gas of the top-up and the sweep")
	require.Equal(t, []*big.Int{big.NewInt(100)}, returns, "the gas of the return")
	require.Equal(t, back.To, st.Recovery.Credit.ReturnedTo)
	require.Equal(t, "0xreturn", st.Recovery.Credit.ReturnTxHash)
	require.Equal(t, "0xsweep", st.Recovery.Credit.TxHash)
	require.Equal(t, OutcomeReturn, st.Recovery.Outcome)
	got := codes(&st)
	require.Equal(t, []string{"recovery.credited"}, got[len(got)-1:])
	require.Contains(t, got, "recovery.returned")
}

// A credit the exchange's records show for the deposit, imported while the
// case was under way, stops the recovery before anything is sent: the case
// closes as already credited, saying so.
func TestRecoveryStopsForADepositCreditedMeanwhile(t *testing.T) {
	env := newEnv(t)
	offered(t, env, ownedBy("u1"))
	signedOff(t, env)
	env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("the exchange's records show this deposit credited to u1 on 2026-11-29T10:00:00Z", ErrDepositCredited, nil))
	env.ExecuteWorkflow(AppealWorkflowName, input())
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusNotRecoverable, st.Status)
	require.Equal(t, recovery.CategoryAlreadyCredited, st.Category)
	require.True(t, st.Closed)
	require.Empty(t, st.Recovery.Transactions)
	last := st.Timeline[len(st.Timeline)-1]
	require.Equal(t, "recovery.already_credited", last.Code)
	require.Contains(t, last.Params["reason"], "credited to u1")
}
