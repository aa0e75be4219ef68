package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
)

// inbox records what the notification activity was asked to deliver;
// answer says how each attempt ends (nil: delivered).
type inbox struct {
	mu        sync.Mutex
	attempts  map[string]int // by idempotency key
	delivered []NotifyRequest
	// giveUp is how long the case keeps trying a notification.
	giveUp time.Duration
	answer func(req NotifyRequest, attempt int) error
}

func listen(env *testsuite.TestWorkflowEnvironment, answer func(NotifyRequest, int) error) *inbox {
	in := &inbox{attempts: map[string]int{}, answer: answer}
	env.RegisterActivityWithOptions(func(ctx context.Context, req NotifyRequest) error {
		in.mu.Lock()
		defer in.mu.Unlock()
		in.attempts[req.IdempotencyKey()]++
		in.giveUp = activity.GetInfo(ctx).ScheduleToCloseTimeout
		if in.answer != nil {
			if err := in.answer(req, in.attempts[req.IdempotencyKey()]); err != nil {
				return err
			}
		}
		in.delivered = append(in.delivered, req)
		return nil
	}, activity.RegisterOptions{Name: NotifyActivityName})
	return in
}

func (in *inbox) events() []string {
	var out []string
	for _, r := range in.delivered {
		out = append(out, r.Event+" "+r.Status)
	}
	return out
}

// credited takes a case from its quote to its credit.
func credited(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
	offered(t, env, ownedBy("u1"))
	signedOff(t, env)
	env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(&RecoveryPlan{Method: MethodEVMSweep, HotWallet: sweep.To, Txs: []PlannedTx{sweep}}, nil)
	env.OnActivity(SendRecoveryActivityName, mock.Anything, mock.Anything).Return(&SentTx{Hash: "0xfeed"}, nil)
	env.OnActivity(CheckRecoveryActivityName, mock.Anything, mock.Anything).Return(&TxCheck{State: TxStateConfirmed, Confirmations: 3, Required: 3, Fee: sweep.Fee}, nil)
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(nil)
}

func withContact() AppealInput {
	in := input()
	in.Contact, in.Lang = "u1@example.com", "fr"
	return in
}

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) *AppealState {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	return &st
}

// A user who left a contact hears of the quote to accept and of the
// credit, with the events as the case's timeline has them, each under its
// own idempotency key.
func TestCaseWithAContactHearsOfItsQuoteAndItsCredit(t *testing.T) {
	env := newEnv(t)
	box := listen(env, nil)
	credited(t, env)
	in := withContact()
	env.ExecuteWorkflow(AppealWorkflowName, in)

	st := result(t, env)
	require.Equal(t, recovery.StatusCredited, st.Status)
	require.Equal(t, []string{"quote.offered awaiting_acceptance", "recovery.credited credited"}, box.events())
	timeline := map[string]Event{}
	for _, e := range st.Timeline {
		timeline[e.Code] = e
	}
	keys := map[string]bool{}
	for i, r := range box.delivered {
		e := timeline[r.Event]
		require.Equal(t, e.Params, r.Params, "%s carries the case's text", r.Event)
		require.True(t, e.At.Equal(r.At))
		require.Equal(t, in.AppealID, r.AppealID)
		require.Equal(t, "u1", r.UserID)
		require.Equal(t, "u1@example.com", r.Contact)
		require.Equal(t, "fr", r.Lang)
		require.Equal(t, i+1, r.Seq)
		keys[r.IdempotencyKey()] = true
	}
	require.NotEmpty(t, box.delivered[0].Params["fee"])
	require.Equal(t, st.Recovery.Credit.Net.String(), box.delivered[1].Params["net"])
	require.Len(t, keys, 2)
	require.Equal(t, in.AppealID+"/recovery.credited/2", box.delivered[1].IdempotencyKey())
}

// Without a contact nobody is notified, and the case goes the same way.
func TestCaseWithoutAContactNotifiesNoOne(t *testing.T) {
	env := newEnv(t)
	box := listen(env, nil)
	credited(t, env)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.Equal(t, recovery.StatusCredited, result(t, env).Status)
	require.Empty(t, box.attempts)
}

// A notification service that refuses or is down changes nothing for the
// case; one down for a while still gets the closing notice, which the case
// waits for before it ends.
func TestFailingNotifierDoesNotStopTheCase(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(NotifyRequest, int) error
		check  func(t *testing.T, box *inbox)
	}{
		{"refused", func(NotifyRequest, int) error {
			return temporal.NewNonRetryableApplicationError("no such contact", "NotificationRefused", nil)
		}, func(t *testing.T, box *inbox) {
			require.Empty(t, box.delivered)
			require.Equal(t, map[string]int{"eth." + hash + ".v/quote.offered/1": 1, "eth." + hash + ".v/recovery.credited/2": 1}, box.attempts)
		}},
		{"down for good", func(NotifyRequest, int) error { return errors.New("connection refused") }, func(t *testing.T, box *inbox) {
			require.Empty(t, box.delivered)
			require.Len(t, box.attempts, 2)
			for key, n := range box.attempts {
				require.Greater(t, n, 1, "%s is retried", key)
			}
			require.Equal(t, 24*time.Hour, box.giveUp)
		}},
		{"down for a while", func(req NotifyRequest, attempt int) error {
			if req.Event == "recovery.credited" && attempt < 3 {
				return errors.New("503 Service Unavailable")
			}
			return nil
		}, func(t *testing.T, box *inbox) {
			require.Equal(t, []string{"quote.offered awaiting_acceptance", "recovery.credited credited"}, box.events())
			require.Equal(t, 3, box.attempts["eth."+hash+".v/recovery.credited/2"])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			box := listen(env, tc.answer)
			credited(t, env)
			env.ExecuteWorkflow(AppealWorkflowName, withContact())

			st := result(t, env)
			require.Equal(t, recovery.StatusCredited, st.Status)
			require.True(t, st.Closed)
			require.Equal(t, "recovery.credited", st.Timeline[len(st.Timeline)-1].Code)
			tc.check(t, box)
		})
	}
}

// Whatever closes the case, the user hears it, with the status it closed
// in; a proof of sending to give is announced too.
func TestEveryClosingIsNotified(t *testing.T) {
	withdraw := func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() { staffUpdate(env, WithdrawUpdate, WithdrawRequest{Reason: "found it"}) }, time.Minute)
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, env *testsuite.TestWorkflowEnvironment)
		want  []string
	}{
		{"declined", func(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
			offered(t, env, diagnosed(recovery.CategoryRetiredAddress, policy.Direct, false))
			env.RegisterDelayedCallback(func() {
				answer(env, "d", QuoteAnswer{QuoteID: query(t, env).Quote.ID}, new(error))
			}, time.Minute)
		}, []string{"quote.offered awaiting_acceptance", "quote.declined declined"}},
		{"withdrawn after a proof was asked", func(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
			res := diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false)
			res.Diagnosis.OwnerMismatch = true
			offered(t, env, res)
			withdraw(env)
		}, []string{"proof.required awaiting_quote", "quote.offered awaiting_acceptance", "withdrawn withdrawn"}},
		{"refused by the policy", func(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
			offered(t, env, diagnosed(recovery.CategoryNotOurAddress, policy.Reject, false))
		}, []string{"decision.reject not_recoverable"}},
		{"closed by a specialist", func(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
			offered(t, env, diagnosed(recovery.CategoryUnsupportedNetwork, policy.Park, false))
			env.RegisterDelayedCallback(func() {
				staffUpdate(env, CloseUpdate, CloseRequest{By: sam, Note: "the network will not be supported"})
			}, time.Minute)
		}, []string{"closed closed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			box := listen(env, nil)
			tc.setup(t, env)
			env.ExecuteWorkflow(AppealWorkflowName, withContact())

			st := result(t, env)
			require.True(t, st.Closed)
			require.Equal(t, tc.want, box.events())
			last := box.delivered[len(box.delivered)-1]
			require.Equal(t, st.Status, last.Status)
			require.Equal(t, st.Timeline[len(st.Timeline)-1].Params, last.Params)
		})
	}
}
