package workflows

import (
	"context"
	"errors"
	"strings"
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

func redecideStub(ctx context.Context, req RedecideRequest) (*RedecideResult, error) {
	return nil, errors.New("replaced by OnActivity")
}

var (
	sam   = Actor{Person: "sam", Roles: []string{recovery.RoleSpecialist}}
	wanda = Actor{Person: "wanda", Roles: []string{recovery.RoleWallet}}
	seth  = Actor{Person: "seth", Roles: []string{recovery.RoleSettlement}}
	// twoHats holds two team roles: he may sign for one of them only.
	twoHats = Actor{Person: "tom", Roles: []string{recovery.RoleWallet, recovery.RoleSettlement}}
	boss    = Actor{Person: "ada", Roles: []string{recovery.RoleAdmin}}
)

// staffUpdate sends a staff action and records its refusal, if any.
func staffUpdate(env *testsuite.TestWorkflowEnvironment, name string, arg any) *error {
	var refused error
	env.UpdateWorkflow(name, name+time.Now().String(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) { refused = err }, OnAccept: func() {},
		OnComplete: func(_ any, err error) {
			if err != nil {
				refused = err
			}
		},
	}, arg)
	return &refused
}

func refusedAs(t *testing.T, err error, kind string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, kind, appErr.Type(), appErr.Message())
}

// A note's limit counts characters, as the API does: 2,000 characters of
// Chinese (6,000 bytes) are taken, 2,001 are not.
func TestNoteLimitCountsCharacters(t *testing.T) {
	env := newEnv(t)
	offered(t, env, diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false))
	var full, over *error
	env.RegisterDelayedCallback(func() {
		full = staffUpdate(env, NoteUpdate, NoteRequest{By: sam, Note: strings.Repeat("中", 2000)})
		over = staffUpdate(env, NoteUpdate, NoteRequest{By: sam, Note: strings.Repeat("中", 2001)})
		env.CancelWorkflow()
	}, time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	require.NoError(t, *full)
	refusedAs(t, *over, recovery.InvalidInput)
}

// A recovery is approved once every team the decision names has signed,
// each by a person of that team, one team per person; every action is in
// the audit trail.
func TestSignoffsAndTheAuditTrail(t *testing.T) {
	env := newEnv(t)
	offered(t, env, diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false))
	var early, notOfTeam, adminOnly, first, sameTeam, secondHat, last *error
	var st *AppealState
	at := func(d time.Duration, f func()) { env.RegisterDelayedCallback(f, d) }
	at(time.Minute, func() {
		early = staffUpdate(env, SignoffUpdate, SignoffRequest{By: wanda, Team: recovery.TeamWallet, Approve: true})
		staffUpdate(env, AssignUpdate, AssignRequest{By: sam, Assignee: "sam"})
		staffUpdate(env, NoteUpdate, NoteRequest{By: sam, Note: "user called"})
		answer(env, "a", QuoteAnswer{QuoteID: query(t, env).Quote.ID, Accept: true}, new(error))
	})
	at(2*time.Minute, func() {
		notOfTeam = staffUpdate(env, SignoffUpdate, SignoffRequest{By: sam, Team: recovery.TeamWallet, Approve: true})
		adminOnly = staffUpdate(env, SignoffUpdate, SignoffRequest{By: boss, Team: recovery.TeamWallet, Approve: true})
		first = staffUpdate(env, SignoffUpdate, SignoffRequest{By: twoHats, Team: recovery.TeamWallet, Approve: true})
	})
	at(3*time.Minute, func() {
		sameTeam = staffUpdate(env, SignoffUpdate, SignoffRequest{By: wanda, Team: recovery.TeamWallet, Approve: true})
		secondHat = staffUpdate(env, SignoffUpdate, SignoffRequest{By: twoHats, Team: recovery.TeamSettlement, Approve: true})
	})
	at(4*time.Minute, func() {
		last = staffUpdate(env, SignoffUpdate, SignoffRequest{By: seth, Team: recovery.TeamSettlement, Approve: true, Note: "ok"})
	})
	at(5*time.Minute, func() { st = query(t, env); env.CancelWorkflow() })
	env.ExecuteWorkflow(AppealWorkflowName, input())

	refusedAs(t, *early, ErrConflict) // no quote accepted yet
	refusedAs(t, *notOfTeam, ErrForbidden)
	refusedAs(t, *adminOnly, ErrForbidden)
	require.NoError(t, *first)
	refusedAs(t, *sameTeam, ErrConflict)
	refusedAs(t, *secondHat, ErrForbidden)
	require.NoError(t, *last)
	// Approved, the recovery starts at once (its plan waits for nodes the
	// test has none of).
	require.Equal(t, recovery.StatusRecovering, st.Status)
	require.Equal(t, "sam", st.Assignee)
	require.Len(t, st.Signoffs, 2)
	var actions []string
	for _, a := range st.Audit {
		actions = append(actions, a.Person+" "+a.Action)
	}
	require.Equal(t, []string{"sam assign", "sam note", "tom signoff wallet", "seth signoff settlement"}, actions)
	require.Equal(t, "sam", st.Audit[0].After)
	require.Equal(t, "signoffs.complete", st.Timeline[len(st.Timeline)-1].Code)
}

func TestARefusedSignoffSendsTheCaseBackToASpecialist(t *testing.T) {
	env := newEnv(t)
	offered(t, env, diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false))
	var noReason, refused *error
	var st *AppealState
	env.RegisterDelayedCallback(func() {
		answer(env, "a", QuoteAnswer{QuoteID: query(t, env).Quote.ID, Accept: true}, new(error))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		noReason = staffUpdate(env, SignoffUpdate, SignoffRequest{By: wanda, Team: recovery.TeamWallet})
		refused = staffUpdate(env, SignoffUpdate, SignoffRequest{By: wanda, Team: recovery.TeamWallet, Note: "address flagged"})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, 3*time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	refusedAs(t, *noReason, recovery.InvalidInput)
	require.NoError(t, *refused)
	require.Equal(t, recovery.StatusUnderReview, st.Status)
	require.Equal(t, "signoffs.refused", st.Timeline[len(st.Timeline)-1].Code)
}

// A specialist's new category goes back to the policy; the quote on offer
// is withdrawn and a new one made under the new decision.
func TestReclassifiedCaseIsDecidedAgain(t *testing.T) {
	env := newEnv(t)
	env.RegisterActivityWithOptions(redecideStub, activity.RegisterOptions{Name: RedecideActivityName})
	quoting(env)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil).Once()
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(diagnosed(recovery.CategoryUnlistedToken, policy.Park, false), nil).Once()
	var asked RedecideRequest
	retired := diagnosed(recovery.CategoryRetiredAddress, policy.Direct, false).Decision
	env.OnActivity(RedecideActivityName, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		asked = args.Get(1).(RedecideRequest)
	}).Return(&RedecideResult{Decision: *retired}, nil).Once()
	var noNote, bad, byWallet, ok *error
	var st *AppealState
	env.RegisterDelayedCallback(func() {
		noNote = staffUpdate(env, ReclassifyUpdate, ReclassifyRequest{By: sam, Category: recovery.CategoryRetiredAddress})
		bad = staffUpdate(env, ReclassifyUpdate, ReclassifyRequest{By: sam, Category: "pending", Note: "x"})
		byWallet = staffUpdate(env, ReclassifyUpdate, ReclassifyRequest{By: wanda, Category: recovery.CategoryRetiredAddress, Note: "x"})
		ok = staffUpdate(env, ReclassifyUpdate, ReclassifyRequest{By: sam, Category: recovery.CategoryRetiredAddress, Note: "old address of hers"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, 2*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	refusedAs(t, *noNote, recovery.InvalidInput)
	refusedAs(t, *bad, recovery.InvalidInput)
	refusedAs(t, *byWallet, ErrForbidden)
	require.NoError(t, *ok)
	require.Equal(t, recovery.CategoryRetiredAddress, asked.Category)
	require.Equal(t, recovery.CategoryRetiredAddress, st.Category)
	require.Equal(t, recovery.StatusAwaitingAcceptance, st.Status)
	got := codes(st)
	require.Equal(t, []string{"decision.park", "reclassified", "decision.direct", "quote.offered"}, got[len(got)-4:])
	require.Equal(t, "reclassify", st.Audit[0].Action)
	require.Equal(t, recovery.CategoryUnlistedToken, st.Audit[0].Before)
}

// Sign-offs not given within the decision's SLA escalate the case by
// themselves; the teams can still sign.
func TestOverdueSignoffsEscalate(t *testing.T) {
	env := newEnv(t)
	res := diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false)
	res.Decision.SLA = 48 * time.Hour
	offered(t, env, res)
	var before, after *AppealState
	var late *error
	env.RegisterDelayedCallback(func() {
		answer(env, "a", QuoteAnswer{QuoteID: query(t, env).Quote.ID, Accept: true}, new(error))
		staffUpdate(env, SignoffUpdate, SignoffRequest{By: wanda, Team: recovery.TeamWallet, Approve: true})
	}, 10*time.Minute)
	env.RegisterDelayedCallback(func() { before = query(t, env) }, 47*time.Hour)
	env.RegisterDelayedCallback(func() {
		after = query(t, env)
		late = staffUpdate(env, SignoffUpdate, SignoffRequest{By: seth, Team: recovery.TeamSettlement, Approve: true})
	}, 49*time.Hour)
	// Signed at last, the recovery goes on (here a credit with nothing to
	// send).
	env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(&RecoveryPlan{Method: MethodInternalCredit}, nil)
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(nil)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	var final AppealState
	require.NoError(t, env.GetWorkflowResult(&final))

	require.False(t, before.Escalated)
	require.True(t, after.Escalated)
	last := after.Timeline[len(after.Timeline)-1]
	require.Equal(t, "signoffs.overdue", last.Code)
	require.Equal(t, "settlement", last.Params["teams"])
	require.Equal(t, "engine", after.Audit[len(after.Audit)-1].Person)
	require.NoError(t, *late)
	require.Equal(t, recovery.StatusCredited, final.Status)
}
