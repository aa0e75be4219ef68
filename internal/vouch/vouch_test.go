package vouch

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/diagnosis"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/internal/temporaldev"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
)

var (
	engineKey = Key{ID: "2026-11", Secret: []byte("the engine's action key, 32 chars or more")}
	otherKey  = Key{ID: "2026-11", Secret: []byte("a key someone guessed, also 32+ characters")}
	wanda     = workflows.Actor{Person: "wanda", Roles: []string{recovery.RoleWallet}}
)

func mustKeys(t *testing.T, current Key, previous ...Key) *Keys {
	t.Helper()
	k, err := NewKeys(current, previous)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A stamp vouches for one action on one case at one time: the same stamp
// on another case, another action, other arguments or another update id
// does not check, nor does it after the window, nor under another key.
func TestStampBindsTheAction(t *testing.T) {
	k := mustKeys(t, engineKey)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	k.now = func() time.Time { return at }
	signoff := []any{workflows.SignoffRequest{By: wanda, Team: recovery.TeamWallet, Approve: true}}
	h := map[string]*commonpb.Payload{}
	if err := k.sign(h, UpdateHeader, kindUpdate, "case-a", workflows.SignoffUpdate, "u1", false, signoff); err != nil {
		t.Fatal(err)
	}
	p := h[UpdateHeader]
	if err := k.check(p, kindUpdate, "case-a", workflows.SignoffUpdate, "u1", at.Add(time.Minute), signoff, false); err != nil {
		t.Fatalf("the stamped action is refused: %v", err)
	}
	settlement := []any{workflows.SignoffRequest{By: workflows.Actor{Person: "wanda", Roles: []string{recovery.RoleSettlement}}, Team: recovery.TeamSettlement, Approve: true}}
	for _, c := range []struct {
		name                 string
		keys                 *Keys
		kind, wf, action, id string
		at                   time.Time
		args                 []any
	}{
		{"another case", k, kindUpdate, "case-b", workflows.SignoffUpdate, "u1", at, signoff},
		{"another action", k, kindUpdate, "case-a", workflows.ReclassifyUpdate, "u1", at, signoff},
		{"another person or team", k, kindUpdate, "case-a", workflows.SignoffUpdate, "u1", at, settlement},
		{"another update id", k, kindUpdate, "case-a", workflows.SignoffUpdate, "u2", at, signoff},
		{"a start", k, kindStart, "case-a", workflows.SignoffUpdate, "u1", at, signoff},
		{"stale", k, kindUpdate, "case-a", workflows.SignoffUpdate, "u1", at.Add(Window + time.Second), signoff},
		{"another key", mustKeys(t, otherKey), kindUpdate, "case-a", workflows.SignoffUpdate, "u1", at, signoff},
	} {
		if err := c.keys.check(p, c.kind, c.wf, c.action, c.id, c.at, c.args, false); err == nil {
			t.Errorf("%s: the stamp checks", c.name)
		}
	}
	// A rotation: the new key stamps, the previous one is still accepted.
	rotated := mustKeys(t, Key{ID: "2026-12", Secret: []byte("the next action key, 32 characters long")}, engineKey)
	if err := rotated.check(p, kindUpdate, "case-a", workflows.SignoffUpdate, "u1", at, signoff, false); err != nil {
		t.Fatalf("a stamp of the previous key is refused during a rotation: %v", err)
	}
}

// A note with a byte that is not UTF-8 reaches the worker as U+FFFD; the
// stamp still checks there, and a big amount is bound to its last digit.
func TestStampSurvivesTheRoundTrip(t *testing.T) {
	k := mustKeys(t, engineKey)
	at := time.Now()
	sent := []any{workflows.NoteRequest{By: wanda, Note: "bad \xff byte"}}
	received := []any{workflows.NoteRequest{By: wanda, Note: "bad \ufffd byte"}}
	h := map[string]*commonpb.Payload{}
	if err := k.sign(h, UpdateHeader, kindUpdate, "case-a", workflows.NoteUpdate, "u1", false, sent); err != nil {
		t.Fatal(err)
	}
	if err := k.check(h[UpdateHeader], kindUpdate, "case-a", workflows.NoteUpdate, "u1", at, received, false); err != nil {
		t.Errorf("the note as the worker decodes it is refused: %v", err)
	}
	one, _ := new(big.Int).SetString("1000000000000000000000001", 10)
	other, _ := new(big.Int).SetString("1000000000000000000000000", 10)
	if err := k.sign(h, UpdateHeader, kindUpdate, "case-a", workflows.BatchResultUpdate, "u2", false, []any{workflows.BatchResult{BatchID: "b", Share: one}}); err != nil {
		t.Fatal(err)
	}
	if err := k.check(h[UpdateHeader], kindUpdate, "case-a", workflows.BatchResultUpdate, "u2", at, []any{workflows.BatchResult{BatchID: "b", Share: other}}, false); err == nil {
		t.Error("a stamp for one share checks for another")
	}
}

func TestKeysAreChecked(t *testing.T) {
	for _, c := range []struct {
		current  Key
		previous []Key
		want     string
	}{
		{Key{ID: "k", Secret: []byte("short")}, nil, "shorter than 32"},
		{Key{Secret: engineKey.Secret}, nil, "no id"},
		{engineKey, []Key{otherKey}, "listed twice"},
	} {
		if _, err := NewKeys(c.current, c.previous); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewKeys(%q): %v, want an error saying %q", c.current.ID, err, c.want)
		}
	}
}

// Whoever reaches Temporal without the engine's key cannot sign off as a
// wallet person, nor start a case from a forged look-up; the same
// sign-off from a client holding the key is taken. The case is unchanged
// by every refused attempt.
func TestForgedActionsAreRefusedByTheCase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal")
	}
	srv, err := temporaldev.Start(temporaldev.Options{SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	keys := mustKeys(t, engineKey)
	dial := func(ics ...interceptor.ClientInterceptor) client.Client {
		c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default", Interceptors: ics})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	engine := dial(keys.Interceptor())
	w := worker.New(engine, workflows.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.AppealWorkflow, workflow.RegisterOptions{Name: workflows.AppealWorkflowName})
	w.RegisterActivityWithOptions(diagnose, activity.RegisterOptions{Name: workflows.DiagnoseActivityName})
	w.RegisterActivityWithOptions(quote, activity.RegisterOptions{Name: workflows.QuoteActivityName})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	in := appealInput("1")
	if _, err := engine.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: in.AppealID, TaskQueue: workflows.TaskQueue}, workflows.AppealWorkflowName, in); err != nil {
		t.Fatal(err)
	}
	st := waitFor(ctx, t, engine, in.AppealID, recovery.StatusAwaitingAcceptance)
	update(ctx, t, engine, in.AppealID, workflows.QuoteUpdate, workflows.QuoteAnswer{QuoteID: st.Quote.ID, Accept: true})
	waitFor(ctx, t, engine, in.AppealID, recovery.StatusAwaitingSignoffs)

	stale := mustKeys(t, engineKey)
	stale.now = func() time.Time { return time.Now().Add(-time.Hour) }
	signoff := workflows.SignoffRequest{By: wanda, Team: recovery.TeamWallet, Approve: true}
	for name, c := range map[string]client.Client{
		"no stamp":      dial(),
		"another key":   dial(mustKeys(t, otherKey).Interceptor()),
		"a stale stamp": dial(stale.Interceptor()),
	} {
		err := update(ctx, t, c, in.AppealID, workflows.SignoffUpdate, signoff)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != ErrUnvouched {
			t.Errorf("%s: a sign-off sent straight to Temporal got %v, want a refusal of type %s", name, err, ErrUnvouched)
		}
	}
	st = query(ctx, t, engine, in.AppealID)
	if st.Status != recovery.StatusAwaitingSignoffs || len(st.Signoffs) != 0 || len(st.Audit) != 0 {
		t.Fatalf("forged sign-offs changed the case: status %s, sign-offs %v, audit %v", st.Status, st.Signoffs, st.Audit)
	}
	if err := update(ctx, t, engine, in.AppealID, workflows.SignoffUpdate, signoff); err != nil {
		t.Fatalf("the engine's sign-off is refused: %v", err)
	}
	if st = query(ctx, t, engine, in.AppealID); len(st.Signoffs) != 1 || st.Signoffs[0].Person != "wanda" {
		t.Fatalf("the engine's sign-off is not on the case: %v", st.Signoffs)
	}

	// A case started straight on Temporal, from a look-up nobody made,
	// ends at once: no activity runs, nothing is quoted or sent.
	forged := appealInput("2")
	run, err := dial().ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: forged.AppealID, TaskQueue: workflows.TaskQueue}, workflows.AppealWorkflowName, forged)
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrUnvouched {
		t.Fatalf("a forged case ended with %v, want a refusal of type %s", err, ErrUnvouched)
	}
	it := engine.GetWorkflowHistory(ctx, forged.AppealID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, enumspb.EVENT_TYPE_MARKER_RECORDED, enumspb.EVENT_TYPE_TIMER_STARTED:
			t.Fatalf("a forged case made progress: %s", ev.GetEventType())
		}
	}

	// Replaying the signed case with another key (a rotation that dropped
	// the old one) gives the same case: validators do not run on replay.
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Interceptors: []interceptor.WorkerInterceptor{mustKeys(t, otherKey).Interceptor()}})
	if err != nil {
		t.Fatal(err)
	}
	replayer.RegisterWorkflowWithOptions(workflows.AppealWorkflow, workflow.RegisterOptions{Name: workflows.AppealWorkflowName})
	if err := replayer.ReplayWorkflowExecution(ctx, engine.WorkflowService(), nil, "default", workflow.Execution{ID: in.AppealID}); err != nil {
		t.Fatalf("the case does not replay under a new key: %v", err)
	}
}

func appealInput(n string) workflows.AppealInput {
	hash := strings.Repeat("ab", 31) + "0" + n
	amount, _ := new(big.Int).SetString("1500000000000000000", 10)
	deposit := &recovery.Transfer{Kind: recovery.KindNative, To: "0x00000000000000000000000000000000000000AA", Amount: amount}
	return workflows.AppealInput{
		AppealID: "eth." + hash + ".v", Network: "eth", TxHash: hash,
		ToAddress: "0x00000000000000000000000000000000000000aa", UserID: "u1",
		FiledAt: time.Now().UTC(), Timing: workflows.DefaultTiming(),
		Located: &workflows.LookupResult{
			Found: true, Deposit: deposit, Scanned: []string{"eth"},
			Tx: &recovery.Tx{Network: "eth", Hash: "0x" + hash, Status: recovery.TxSuccess, BlockNumber: 10, Confirmations: 5, Required: 3,
				Transfers: []recovery.Transfer{*deposit}},
		},
	}
}

// diagnose stands for the exchange's records and the policy: a deposit on
// the wrong network, recoverable once wallet and settlement sign.
func diagnose(_ context.Context, req workflows.DiagnoseRequest) (*workflows.DiagnoseResult, error) {
	return &workflows.DiagnoseResult{
		Diagnosis: diagnosis.Diagnosis{
			Category: recovery.CategoryWrongNetworkEVM, Deposit: &req.Tx.Transfers[0],
			Explanation: diagnosis.Message{Code: "diagnosis." + recovery.CategoryWrongNetworkEVM},
			Evidence:    []diagnosis.Evidence{{Fact: "owner", Value: "u1"}},
		},
		Decision: &policy.Decision{
			Network: "eth", Category: recovery.CategoryWrongNetworkEVM, Action: policy.Direct, PolicyVersion: "test.1",
			Rule:     policy.Rule{Fee: &fees.Schedule{Flat: decimal.NewFromInt(10), NetworkCost: fees.ChargeNetworkCost, MaxShare: decimal.RequireFromString("0.5")}},
			Signoffs: []recovery.Team{recovery.TeamWallet, recovery.TeamSettlement},
		},
	}, nil
}

// quote quotes 1.5 ETH at 3000 USD with a network cost of 21000 gas at 10 gwei.
func quote(_ context.Context, req workflows.QuoteRequest) (*fees.Quote, error) {
	q, err := fees.NewQuote(fees.QuoteInput{
		ID: req.ID, Network: req.Network, Asset: "ETH", Decimals: 18, Amount: req.Deposit.Amount,
		Price:    fees.Price{Value: decimal.NewFromInt(3000), Source: "test prices", At: req.Now},
		Schedule: req.Schedule, Urgent: req.Urgent, Now: req.Now, TTL: req.TTL,
		NetworkCost: &recovery.NetworkCost{Network: "eth", Asset: "ETH", Decimals: 18, Amount: big.NewInt(21000 * 10_000_000_000), Method: recovery.MethodLegacy},
	})
	return &q, err
}

func update(ctx context.Context, t *testing.T, c client.Client, id, name string, arg any) error {
	t.Helper()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

func query(ctx context.Context, t *testing.T, c client.Client, id string) *workflows.AppealState {
	t.Helper()
	v, err := c.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st workflows.AppealState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func waitFor(ctx context.Context, t *testing.T, c client.Client, id, status string) *workflows.AppealState {
	t.Helper()
	for {
		st := query(ctx, t, c, id)
		if st.Status == status {
			return st
		}
		select {
		case <-ctx.Done():
			t.Fatalf("case %s is %s, never %s", id, st.Status, status)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
