package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
)

// wayOut says, for every status a case can have, what moves a case on
// from it without the user withdrawing: the engine itself, the user, a
// team, or a specialist's action. A closing status needs none. A new
// status without an entry fails TestEveryStatusHasAWayOut.
var wayOut = map[string]string{
	recovery.StatusReceived:           "engine: the look-up starts",
	recovery.StatusLookingUp:          "engine: found, not found, or unavailable",
	recovery.StatusUnavailable:        "engine: looks again every 15 minutes (TestCaseWaitsOutANetworkWithNoNodeAnswering)",
	recovery.StatusNotFound:           "specialist: recheck or close (TestRecheckAndCloseANotFoundCase)",
	recovery.StatusConfirming:         "engine: confirmed, or under_review after the last poll",
	recovery.StatusUnderReview:        "specialist: recheck (too long unconfirmed), reclassify, reopen (a team refused), close (TestReopenARefusedRecovery)",
	recovery.StatusParked:             "engine: a policy that supports it resumes it; specialist: reclassify or close (TestCloseAParkedCase)",
	recovery.StatusAwaitingBatch:      "engine: the batch closes at its window or size (TestBatchedCaseIsCreditedWithItsShare); user: withdraw while it is open; specialist: close",
	recovery.StatusAwaitingQuote:      "engine: the quote; specialist: close",
	recovery.StatusAwaitingAcceptance: "user: accept or decline; specialist: confirm-proof, reassign-claimant, close (TestConfirmProofAndReassignClaimant)",
	recovery.StatusAwaitingSignoffs:   "teams: sign off or refuse; engine: escalates past the SLA; specialist: close",
	recovery.StatusApproved:           "engine: the recovery starts",
	recovery.StatusRecovering:         "engine: confirmed and credited, or recovery_failed; waits out outages",
}

func TestEveryStatusHasAWayOut(t *testing.T) {
	for _, s := range recovery.Statuses() {
		if recovery.Closing(s) {
			require.NotContains(t, wayOut, s, "%s closes the case", s)
			continue
		}
		require.NotEmpty(t, wayOut[s], "status %s has no way out", s)
	}
}

// A hash still unknown after the last re-check waits for a specialist: a
// recheck looks it up again (and the case goes on when it is found), a
// close ends it with the reason the user reads.
func TestRecheckAndCloseANotFoundCase(t *testing.T) {
	env := newEnv(t)
	quoting(env)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(&LookupResult{Scanned: []string{"eth"}}, nil).Times(3)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil)
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(ownedBy("u1"), nil)
	var early, byAdmin, rechecked, again, closed *error
	var notFound, found *AppealState
	env.RegisterDelayedCallback(func() {
		early = staffUpdate(env, RecheckUpdate, RecheckRequest{By: sam})
	}, 30*time.Second)
	env.RegisterDelayedCallback(func() {
		notFound = query(t, env)
		byAdmin = staffUpdate(env, RecheckUpdate, RecheckRequest{By: wanda})
		rechecked = staffUpdate(env, RecheckUpdate, RecheckRequest{By: sam, Note: "user sent the right hash by mail"})
	}, 3*time.Hour)
	env.RegisterDelayedCallback(func() {
		found = query(t, env)
		again = staffUpdate(env, RecheckUpdate, RecheckRequest{By: sam})
		closed = staffUpdate(env, CloseUpdate, CloseRequest{By: sam, Note: "the user asked us to stop"})
	}, 4*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	refusedAs(t, *early, ErrConflict) // still re-checking by itself
	require.Equal(t, recovery.StatusNotFound, notFound.Status)
	require.Equal(t, "not_found_final", notFound.Timeline[len(notFound.Timeline)-1].Code)
	refusedAs(t, *byAdmin, ErrForbidden)
	require.NoError(t, *rechecked)
	require.Equal(t, recovery.StatusAwaitingAcceptance, found.Status)
	require.Contains(t, codes(found), "rechecked")
	refusedAs(t, *again, ErrConflict) // found: nothing to recheck
	require.NoError(t, *closed)
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusClosed, st.Status)
	require.True(t, st.Closed)
	last := st.Timeline[len(st.Timeline)-1]
	require.Equal(t, "closed", last.Code)
	require.Equal(t, "the user asked us to stop", last.Params["reason"])
	require.Equal(t, []string{"recheck", "close"}, auditActions(&st))
}

// A parked case can be closed by a specialist; a close needs a reason.
func TestCloseAParkedCase(t *testing.T) {
	env := newEnv(t)
	offered(t, env, diagnosed(recovery.CategoryUnsupportedNetwork, policy.Park, false))
	var noReason, closed *error
	env.RegisterDelayedCallback(func() {
		noReason = staffUpdate(env, CloseUpdate, CloseRequest{By: sam})
		closed = staffUpdate(env, CloseUpdate, CloseRequest{By: sam, Note: "duplicate of a ticket already paid"})
	}, time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	refusedAs(t, *noReason, recovery.InvalidInput)
	require.NoError(t, *closed)
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusClosed, st.Status)
}

// A recovery a team refused goes back to the teams when a specialist
// reopens it: every team signs again, and the recovery goes on.
func TestReopenARefusedRecovery(t *testing.T) {
	env := newEnv(t)
	offered(t, env, ownedBy("u1"))
	env.OnActivity(PlanRecoveryActivityName, mock.Anything, mock.Anything).Return(&RecoveryPlan{Method: MethodInternalCredit}, nil)
	env.OnActivity(CreditActivityName, mock.Anything, mock.Anything).Return(nil)
	var early, reopened, twice *error
	var afterReopen *AppealState
	env.RegisterDelayedCallback(func() {
		answer(env, "a", QuoteAnswer{QuoteID: query(t, env).Quote.ID, Accept: true}, new(error))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		early = staffUpdate(env, ReopenUpdate, ReopenRequest{By: sam, Note: "?"})
		staffUpdate(env, SignoffUpdate, SignoffRequest{By: wanda, Team: recovery.TeamWallet, Approve: true})
		staffUpdate(env, SignoffUpdate, SignoffRequest{By: seth, Team: recovery.TeamSettlement, Note: "sender on a watch list"})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		reopened = staffUpdate(env, ReopenUpdate, ReopenRequest{By: sam, Note: "the watch list hit was a false positive"})
		twice = staffUpdate(env, ReopenUpdate, ReopenRequest{By: sam, Note: "again"})
	}, 3*time.Minute)
	env.RegisterDelayedCallback(func() {
		afterReopen = query(t, env)
		staffUpdate(env, SignoffUpdate, SignoffRequest{By: wanda, Team: recovery.TeamWallet, Approve: true})
		staffUpdate(env, SignoffUpdate, SignoffRequest{By: seth, Team: recovery.TeamSettlement, Approve: true})
	}, 4*time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	refusedAs(t, *early, ErrConflict)
	require.NoError(t, *reopened)
	refusedAs(t, *twice, ErrConflict)
	require.Equal(t, recovery.StatusAwaitingSignoffs, afterReopen.Status)
	require.Empty(t, afterReopen.Signoffs)
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusCredited, st.Status)
	require.Contains(t, auditActions(&st), "reopen")
	require.Equal(t, 2, countOf(auditActions(&st), "signoff settlement"), "the refusal stays in the audit trail")
}

// Where the chain names no sender, a specialist's recorded check stands
// for the claimant's signature; a case claimed by the wrong account goes
// to the one the specialist's check (or, with a sender, that account's own
// signature) points at, and the first account no longer has it.
func TestConfirmProofAndReassignClaimant(t *testing.T) {
	env := newEnv(t)
	res := ownedBy("u2")
	res.Diagnosis.OwnerMismatch = true
	offered(t, env, res)
	var noteless, confirmed, twice, reassigned, same *error
	var st *AppealState
	env.RegisterDelayedCallback(func() {
		noteless = staffUpdate(env, ConfirmProofUpdate, ConfirmProofRequest{By: sam})
		reassigned = staffUpdate(env, ReassignClaimantUpdate, ReassignClaimantRequest{By: sam, UserID: "u2", Note: "u2 showed the withdrawal record of the sending exchange"})
		same = staffUpdate(env, ReassignClaimantUpdate, ReassignClaimantRequest{By: sam, UserID: "u2", Note: "again"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		confirmed = staffUpdate(env, ConfirmProofUpdate, ConfirmProofRequest{By: sam, Note: "checked"})
		twice = staffUpdate(env, ConfirmProofUpdate, ConfirmProofRequest{By: sam, Note: "checked"})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() { st = query(t, env); env.CancelWorkflow() }, 3*time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	refusedAs(t, *noteless, recovery.InvalidInput)
	require.NoError(t, *reassigned)
	refusedAs(t, *same, ErrConflict)
	// The reassignment gave the proof: nothing is left to confirm.
	refusedAs(t, *confirmed, ErrConflict)
	refusedAs(t, *twice, ErrConflict)
	require.Equal(t, "u2", st.UserID)
	require.True(t, st.Proof.Given)
	require.Contains(t, codes(st), "claimant.reassigned")
}

// With a sender on chain, only the new claimant's signature moves the case.
func TestReassignClaimantNeedsTheSendersSignature(t *testing.T) {
	env := newEnv(t)
	quoting(env)
	found := foundETH()
	found.Tx.From = "0x00000000000000000000000000000000000000ee"
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(found, nil).Once()
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(ownedBy("u1"), nil).Once()
	var unsigned, forged *error
	env.RegisterDelayedCallback(func() {
		unsigned = staffUpdate(env, ReassignClaimantUpdate, ReassignClaimantRequest{By: sam, UserID: "u3", Note: "u3 says it is theirs"})
		forged = staffUpdate(env, ReassignClaimantUpdate, ReassignClaimantRequest{By: sam, UserID: "u3", Note: "u3 says it is theirs", Signature: "0x" + hash + hash + "1b"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 2*time.Minute)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	refusedAs(t, *unsigned, recovery.InvalidInput)
	refusedAs(t, *forged, recovery.InvalidInput)
}

func auditActions(st *AppealState) []string {
	var out []string
	for _, a := range st.Audit {
		out = append(out, a.Action)
	}
	return out
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
