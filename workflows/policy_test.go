package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/policy"
)

// A parked case waits; a policy applied after the one that parked it
// resumes it, and it goes on to its quote. An announcement of a policy no
// newer than its decision is ignored.
func TestParkedCaseResumesUnderANewPolicy(t *testing.T) {
	env := newEnv(t)
	quoting(env)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil).Once()
	parked := diagnosed(recovery.CategoryUnsupportedNetwork, policy.Park, false)
	parked.PolicySeq = 1
	var requests []DiagnoseRequest
	record := func(args mock.Arguments) { requests = append(requests, args.Get(1).(DiagnoseRequest)) }
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Run(record).Return(parked, nil).Once()
	supported := diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false)
	supported.PolicySeq = 2
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Run(record).Return(supported, nil).Once()

	var stale, resumed *AppealState
	env.RegisterDelayedCallback(func() {
		staffUpdate(env, ResumeUpdate, ResumeRequest{PolicyVersion: "v1", PolicySeq: 1})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		stale = query(t, env)
		staffUpdate(env, ResumeUpdate, ResumeRequest{PolicyVersion: "v2", PolicySeq: 2})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() { resumed = query(t, env); env.CancelWorkflow() }, 3*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.Equal(t, recovery.StatusParked, stale.Status, "the announcement of the policy that parked it changed nothing")
	require.NotContains(t, codes(stale), "policy.resumed")
	require.Len(t, requests, 2)
	require.Equal(t, int64(2), requests[1].MinPolicySeq)
	require.Equal(t, recovery.StatusAwaitingAcceptance, resumed.Status)
	require.Equal(t, recovery.CategoryWrongNetworkEVM, resumed.Category)
	require.Equal(t, int64(2), resumed.PolicySeq)
	got := codes(resumed)
	i := slices.Index(got, "policy.resumed")
	require.GreaterOrEqual(t, i, 0, "timeline %v", got)
	require.Equal(t, []string{"decision.park", "policy.resumed", "diagnosis.wrong_network_evm", "decision.direct", "quote.offered"}, got[i-1:])
	require.Equal(t, "v2", resumed.Timeline[i].Params["policy_version"])
}

func TestWithdrawWhileParkedEndsTheCase(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil).Once()
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Return(diagnosed(recovery.CategoryUnsupportedNetwork, policy.Park, false), nil).Once()
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(WithdrawUpdate, "w", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("withdraw refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, WithdrawRequest{})
	}, 24*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())
	var st AppealState
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, recovery.StatusWithdrawn, st.Status)
}

func resumeStub(ctx context.Context, req ResumeParkedRequest) (*ResumeParkedResult, error) {
	return nil, errors.New("replaced by OnActivity")
}

func newPolicyEnv() *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(PolicyWorkflow, workflow.RegisterOptions{Name: PolicyWorkflowName})
	env.RegisterActivityWithOptions(resumeStub, activity.RegisterOptions{Name: ResumeActivityName})
	return env
}

// withoutBSC is the default policy without bsc, as version.
func withoutBSC(t *testing.T, version string) []byte {
	doc := strings.Replace(string(policy.DefaultDocument()), policy.Default().Version, version, 1)
	// The default policy names bsc on one line in its networks list.
	var out []string
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "bsc:") {
			continue
		}
		out = append(out, line)
	}
	p, err := policy.Parse([]byte(strings.Join(out, "\n")), policy.FormatYAML)
	require.NoError(t, err)
	require.NotContains(t, p.Networks, "bsc")
	return []byte(strings.Join(out, "\n"))
}

func withVersion(version string) []byte {
	return []byte(strings.Replace(string(policy.DefaultDocument()), policy.Default().Version, version, 1))
}

func TestApplyingAPolicyResumesWhatItNewlySupports(t *testing.T) {
	env := newPolicyEnv()
	var resumes []ResumeParkedRequest
	env.OnActivity(ResumeActivityName, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		resumes = append(resumes, args.Get(1).(ResumeParkedRequest))
	}).Return(&ResumeParkedResult{Signalled: 300}, nil)

	results := map[string]*AppliedPolicy{}
	errs := map[string]error{}
	// Requests as policyclient.Apply makes them: the caller reads the
	// document and what it newly supports next to the policy in force.
	request := func(doc []byte, prev []byte, basedOn int64) ApplyPolicyRequest {
		next, err := policy.Parse(doc, policy.FormatAuto)
		require.NoError(t, err)
		old, err := policy.Parse(prev, policy.FormatAuto)
		require.NoError(t, err)
		return ApplyPolicyRequest{Document: doc, AppliedBy: "pat", Version: next.Version, Resumes: next.NewlySupported(old), BasedOnSeq: basedOn}
	}
	apply := func(name string, req ApplyPolicyRequest) {
		env.UpdateWorkflow(ApplyPolicyUpdate, name, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { errs[name] = err }, OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if err != nil {
					errs[name] = err
					return
				}
				results[name] = v.(*AppliedPolicy)
			},
		}, req)
	}
	var state *PolicyState
	v1 := withoutBSC(t, "v1")
	env.RegisterDelayedCallback(func() { apply("v1", request(v1, policy.DefaultDocument(), 0)) }, time.Minute)
	env.RegisterDelayedCallback(func() { apply("v1 again", request(v1, v1, 1)) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		apply("no version", ApplyPolicyRequest{Document: []byte("version: ["), AppliedBy: "pat", BasedOnSeq: 1})
	}, 3*time.Minute)
	env.RegisterDelayedCallback(func() { apply("stale", request(withVersion("v3"), policy.DefaultDocument(), 0)) }, 4*time.Minute)
	env.RegisterDelayedCallback(func() { apply("v2", request(withVersion("v2"), v1, 1)) }, 5*time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(PolicyQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&state))
		env.CancelWorkflow()
	}, 10*time.Minute)
	env.ExecuteWorkflow(PolicyWorkflowName, PolicyInput{Settle: time.Second})

	// v1 drops bsc: it supports nothing new, so nothing resumes.
	require.Equal(t, int64(1), results["v1"].Seq)
	require.Empty(t, results["v1"].Resumes)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, errs["v1 again"], &appErr)
	require.Equal(t, ErrPolicyUnchanged, appErr.Type())
	require.ErrorAs(t, errs["no version"], &appErr)
	require.Equal(t, ErrPolicyInvalid, appErr.Type())
	// Read against the built-in default while v1 is in force: refused, to
	// be read again.
	require.ErrorAs(t, errs["stale"], &appErr)
	require.Equal(t, ErrPolicyMoved, appErr.Type())
	// v2 brings bsc back: its parked cases resume.
	v2 := results["v2"]
	require.Equal(t, int64(2), v2.Seq)
	require.Contains(t, v2.Resumes, policy.NetworkCategory{Network: "bsc", Category: recovery.CategoryUnsupportedNetwork})
	for _, r := range v2.Resumes {
		require.Equal(t, "bsc", r.Network)
	}
	require.Len(t, resumes, 1)
	require.Equal(t, ResumeRequest{PolicyVersion: "v2", PolicySeq: 2}, resumes[0].Policy)
	require.Equal(t, time.Second, resumes[0].Settle)

	require.Equal(t, "v2", state.Current.Version)
	require.Equal(t, string(withVersion("v2")), string(state.Document))
	require.Len(t, state.History, 2)
	require.Equal(t, "pat", state.History[1].AppliedBy)
	require.NotNil(t, state.History[1].Resumed)
	require.Equal(t, 300, *state.History[1].Resumed)
}

// A resume only counts when it comes as the engine's update: a signal,
// which anyone reaching Temporal can send and no validator can refuse,
// announcing a policy that never comes, neither moves the parked case nor
// holds it when the real policy is applied.
func TestParkedCaseIgnoresASignalledResume(t *testing.T) {
	env := newEnv(t)
	quoting(env)
	env.OnActivity(LookupActivityName, mock.Anything, mock.Anything).Return(foundETH(), nil).Once()
	parked := diagnosed(recovery.CategoryUnsupportedNetwork, policy.Park, false)
	parked.PolicySeq = 1
	var requests []DiagnoseRequest
	record := func(args mock.Arguments) { requests = append(requests, args.Get(1).(DiagnoseRequest)) }
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Run(record).Return(parked, nil).Once()
	supported := diagnosed(recovery.CategoryWrongNetworkEVM, policy.Direct, false)
	supported.PolicySeq = 2
	env.OnActivity(DiagnoseActivityName, mock.Anything, mock.Anything).Run(record).Return(supported, nil).Once()

	var forged, resumed *AppealState
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(ResumeSignal, ResumeRequest{PolicyVersion: "forged", PolicySeq: 1 << 40})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		forged = query(t, env)
		staffUpdate(env, ResumeUpdate, ResumeRequest{PolicyVersion: "v2", PolicySeq: 2})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() { resumed = query(t, env); env.CancelWorkflow() }, 3*time.Hour)
	env.ExecuteWorkflow(AppealWorkflowName, input())

	require.Equal(t, recovery.StatusParked, forged.Status)
	require.NotContains(t, codes(forged), "policy.resumed")
	require.Len(t, requests, 2)
	require.Equal(t, int64(2), requests[1].MinPolicySeq)
	require.Equal(t, recovery.StatusAwaitingAcceptance, resumed.Status)
}
