// Package workflows holds the deterministic orchestration of the engine:
// one AppealWorkflow per deposit, whose run method reads as the case's
// steps, and the PolicyWorkflow holding the policy in force. Update
// handlers validate and record what people did; the main function moves
// the case on. Side effects live in activities, and a policy document is
// read by the caller that applies it (policyclient), never here.
package workflows

import (
	"errors"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/diagnosis"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/internal/obs"
	"github.com/misdeposit/recovery/policy"
)

// Names registered with the worker and used by clients.
const (
	AppealWorkflowName = "AppealWorkflow"
	StatusQuery        = "status"
	WithdrawUpdate     = "withdraw"
	TaskQueue          = "recovery"
)

// AppealInput is what the user filed, normalised by the API.
type AppealInput struct {
	AppealID string `json:"appeal_id"`
	// Network is where the deposit was found or the network the user named;
	// "" when neither is known yet.
	Network string `json:"network,omitempty"`
	// ClaimedNetwork is the network the user named, kept to tell them when
	// the deposit was found on another one.
	ClaimedNetwork string    `json:"claimed_network,omitempty"`
	TxHash         string    `json:"tx_hash"`
	Asset          string    `json:"asset,omitempty"`
	Amount         string    `json:"amount,omitempty"` // decimal text as the user wrote it
	ToAddress      string    `json:"to_address"`
	Memo           string    `json:"memo,omitempty"`
	UserID         string    `json:"user_id"`
	Contact        string    `json:"contact,omitempty"`
	Lang           string    `json:"lang,omitempty"`
	Urgent         bool      `json:"urgent,omitempty"`
	FiledAt        time.Time `json:"filed_at"`
	Timing         Timing    `json:"timing"`
	// Located is the look-up made when the appeal was filed (which named
	// the case after the deposit when it found it); the case starts from
	// it instead of asking the nodes again. Nil when no node answered.
	Located *LookupResult `json:"located,omitempty"`
}

// Timing holds the waits of the workflow. It travels in the input so that a
// running case keeps the schedule it started with across deployments.
type Timing struct {
	// NotFoundRechecks are the waits before each new look-up of a hash no
	// node knows yet (node lag, a user filing before broadcasting).
	NotFoundRechecks []time.Duration `json:"not_found_rechecks"`
	// ConfirmationPoll is the wait between look-ups while a deposit gathers
	// confirmations.
	ConfirmationPoll time.Duration `json:"confirmation_poll"`
	// MaxConfirmationPolls bounds that wait; past it a specialist looks.
	MaxConfirmationPolls int `json:"max_confirmation_polls"`
	// QuoteTTL is how long a fee quote can be accepted; 0 means
	// DefaultQuoteTTL.
	QuoteTTL time.Duration `json:"quote_ttl,omitempty"`
}

// DefaultTiming suits public networks.
func DefaultTiming() Timing {
	return Timing{
		NotFoundRechecks:     []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 12 * time.Hour},
		ConfirmationPoll:     time.Minute,
		MaxConfirmationPolls: 24 * 60,
		QuoteTTL:             DefaultQuoteTTL,
	}
}

// Event is one line of a case's timeline. Code selects the localised text;
// Params fill it in.
type Event struct {
	At     time.Time         `json:"at"`
	Code   string            `json:"code"`
	Params map[string]string `json:"params,omitempty"`
}

// AppealState is what the status query answers.
type AppealState struct {
	AppealID string `json:"appeal_id"`
	// UserID is who filed the appeal: only they see it on the appeal API.
	UserID string `json:"user_id"`
	// Lang is the language the appeal was filed in, which the appeal API
	// answers in unless the request asks for another.
	Lang     string `json:"lang,omitempty"`
	Status   string `json:"status"`
	Category string `json:"category"`
	Network  string `json:"network,omitempty"`
	TxHash   string `json:"tx_hash"`
	// Tx is the latest chain look-up, nil until the hash is found.
	Tx *recovery.Tx `json:"tx,omitempty"`
	// Deposit is the transfer to the address the user named, when found.
	Deposit *recovery.Transfer `json:"deposit,omitempty"`
	Scanned []string           `json:"scanned,omitempty"`
	// Diagnosis is the category with its evidence (for staff) and its
	// explanation (for the user); nil until the deposit is final.
	Diagnosis *diagnosis.Diagnosis `json:"diagnosis,omitempty"`
	// Decision is the policy's decision, with the policy version it used;
	// nil for a regular deposit and before the diagnosis.
	Decision *policy.Decision `json:"decision,omitempty"`
	// PolicySeq is the sequence number of the applied policy the decision
	// used (0: the built-in default); a parked case resumes only for a
	// later one.
	PolicySeq int64 `json:"policy_seq,omitempty"`
	// USD is the deposit's value when priced, and where the price came from.
	USD         string `json:"usd,omitempty"`
	PriceSource string `json:"price_source,omitempty"`
	// Quote is the fee quote on offer or accepted; nil before the quote
	// step. QuoteAccepted says the user accepted it.
	Quote         *fees.Quote `json:"quote,omitempty"`
	QuoteAccepted bool        `json:"quote_accepted,omitempty"`
	// Proof is the claimant's proof of sending, when the case needs it
	// before a quote can be accepted.
	Proof *ProofState `json:"proof,omitempty"`
	// Staff: who works the case, whether it is escalated, the teams'
	// sign-offs, and every staff action.
	Assignee  string       `json:"assignee,omitempty"`
	Escalated bool         `json:"escalated,omitempty"`
	Signoffs  []Signoff    `json:"signoffs,omitempty"`
	Audit     []AuditEntry `json:"audit,omitempty"`
	// JoinedCase is the case that owns the deposit, when this one was
	// filed under a provisional id and closed in its favour.
	JoinedCase string `json:"joined_case,omitempty"`
	// Recovery is the recovery on chain and the credit; nil until the
	// last sign-off.
	Recovery *RecoveryState `json:"recovery,omitempty"`
	Timeline []Event        `json:"timeline"`
	Closed   bool           `json:"closed"`
}

// LookupRequest asks the chains where a hash is.
type LookupRequest struct {
	Network   string `json:"network,omitempty"`
	TxHash    string `json:"tx_hash"`
	ToAddress string `json:"to_address"`
	Memo      string `json:"memo,omitempty"`
}

// LookupResult is the answer of the lookup activity. Not finding the hash is
// an answer, not an error.
type LookupResult struct {
	Found   bool               `json:"found"`
	Tx      *recovery.Tx       `json:"tx,omitempty"`
	Deposit *recovery.Transfer `json:"deposit,omitempty"`
	// Scanned lists the networks asked when no network was named or the
	// named one did not know the hash.
	Scanned []string `json:"scanned,omitempty"`
}

// NewLookupResult is the answer of a look-up that scanned the networks
// named and found tx (nil: nothing) with the deposit d (nil: no transfer to
// the address the user named).
func NewLookupResult(scanned []string, tx *recovery.Tx, d *recovery.Transfer) *LookupResult {
	return &LookupResult{Found: tx != nil, Tx: tx, Deposit: d, Scanned: scanned}
}

// LookupActivityName is the registered name of the lookup activity.
const LookupActivityName = "LookupDeposit"

// WithdrawRequest is the user's withdrawal.
type WithdrawRequest struct {
	Reason string `json:"reason,omitempty"`
}

// ErrClosed is returned by updates on a case that already ended.
const ErrClosed = "CaseClosed"

// AppealWorkflow runs one case from filing to its end.
func AppealWorkflow(ctx workflow.Context, in AppealInput) (*AppealState, error) {
	c := &appeal{in: in, st: &AppealState{
		AppealID: in.AppealID,
		UserID:   in.UserID,
		Lang:     in.Lang,
		Status:   recovery.StatusReceived,
		Category: recovery.CategoryUnclassified,
		Network:  in.Network,
		TxHash:   in.TxHash,
	}}
	// Cases started before the steps change let the update handlers move
	// the case on after an answer to the quote and a sign-off; they keep
	// doing so, so that their histories replay.
	c.handlersMoveOn = workflow.GetVersion(ctx, stepsChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion
	c.local = workflow.GetVersion(ctx, localChange, workflow.DefaultVersion, 1) == 1
	if workflow.GetVersion(ctx, indexOnceChange, workflow.DefaultVersion, 1) == 1 {
		c.indexOnce(ctx)
	}
	if in.Contact != "" && workflow.GetVersion(ctx, notifyChange, workflow.DefaultVersion, 1) == 1 {
		c.notifyUser(ctx)
	}
	if err := c.register(ctx); err != nil {
		return nil, err
	}
	err := c.run(ctx)
	c.flushIndex(ctx)
	c.awaitNotices(ctx)
	if errors.Is(err, errWithdrawn) {
		return c.st, nil
	}
	if err != nil {
		return nil, err
	}
	// Handlers may still be running when the case closes; let them finish so
	// their callers get an answer.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return nil, err
	}
	return c.st, nil
}

// stepsChange marks the version in which the main function carries the
// case from the user's answer to the quote to the end of the sign-offs,
// and the handlers of those updates only record what people did.
const stepsChange = "steps"

var errWithdrawn = errors.New("case withdrawn")

// run is the case's life, step by step (DESIGN §5). Each step returns at
// once when the case is not in it: a deposit parked by the policy is not
// quoted until a policy supports it, a declined quote is not signed. A
// specialist's reclassification sends the case back to the policy and
// through the same steps again. The user may withdraw at any time, which
// ends every wait (errWithdrawn).
func (c *appeal) run(ctx workflow.Context) error {
	c.event(ctx, "received", map[string]string{"tx_hash": c.in.TxHash})
	c.setStatus(ctx, recovery.StatusLookingUp)
	for {
		final, err := c.lookUp(ctx) // until the deposit is final, or never found
		if err != nil {
			return err
		}
		if final && workflow.GetVersion(ctx, diagnoseChange, workflow.DefaultVersion, 1) == 1 {
			break
		}
		// Not found after every re-check, or too long unconfirmed: the
		// case waits for a specialist's recheck or close (or the user's
		// withdrawal).
		again, err := c.awaitRecheck(ctx)
		if err != nil || !again {
			return err
		}
	}
	if err := c.diagnose(ctx, 0); err != nil { // category and the policy's decision
		return err
	}
	for {
		if err := c.awaitSupport(ctx); err != nil { // parked until a policy supports it
			return err
		}
		if err := c.quote(ctx); err != nil { // the fee quote and the user's answer
			return err
		}
		if err := c.awaitSignoffs(ctx); err != nil { // the teams the decision names
			return err
		}
		if err := c.recover(ctx); err != nil { // on chain, then the ledger credit
			return err
		}
		// A case still open waits for a specialist: a new category, or a
		// refused recovery reopened for the teams.
		more, err := c.awaitReclassification(ctx)
		if err != nil || !more {
			return err
		}
		if c.reopened {
			c.reopened = false
			continue
		}
		if err := c.redecide(ctx); err != nil {
			return err
		}
	}
}

// awaitReclassification waits until a specialist sets a new category or
// reopens a refused recovery (true), or the case closes (false).
func (c *appeal) awaitReclassification(ctx workflow.Context) (bool, error) {
	err := workflow.Await(ctx, func() bool { return c.st.Closed || c.reclass != nil || c.reopened })
	return err == nil && !c.st.Closed, err
}

// awaitSupport keeps a parked case waiting for a policy that supports it.
func (c *appeal) awaitSupport(ctx workflow.Context) error {
	if c.st.Status != recovery.StatusParked || workflow.GetVersion(ctx, resumeChange, workflow.DefaultVersion, 1) != 1 {
		return nil
	}
	return c.awaitResume(ctx)
}

type appeal struct {
	in AppealInput
	st *AppealState
	// local: the diagnosis and the quote run as local activities (a case
	// started since localChange).
	local bool
	// indexing: the search attribute updates of a step wait in pending
	// and go to the server as one (a case started since indexOnceChange).
	indexing bool
	pending  []temporal.SearchAttributeUpdate
	// handlersMoveOn: the update handlers move the case on themselves (a
	// case started before stepsChange).
	handlersMoveOn bool
	// What people did, recorded by the update handlers for the main
	// function: the user's answer to the quote, a new sign-off, a
	// specialist's new category waiting for the policy.
	answer  *QuoteAnswer
	signed  bool
	reclass *ReclassifyRequest
	// recheckable: the main function waits for a specialist's recheck;
	// rechecked: one asked for it; reopened: a specialist sent a refused
	// recovery back to the teams.
	recheckable, rechecked, reopened bool
	// batched: the decision sends the case to a batch once signed off;
	// batchResult is what the batch said of it.
	batched     bool
	batchResult *BatchResult
	// joiningBatch is true while the case asks for its batch: the batch
	// may fill with it and lock it before the case hears which it joined.
	joiningBatch bool
	// acceptedAt is when the user accepted the quote, for the sign-off
	// wait metrics.
	acceptedAt time.Time
	// dueAt is when the desk must have carried the decision out (decision
	// time + the rule's SLA); zero without an SLA.
	dueAt time.Time
	// family and params describe the deposit's network, for checking a
	// signed message; from the diagnosis.
	family recovery.Family
	params string
	// The signal listeners, each started once: requests for a new quote,
	// and announcements of policies that may resume a parked case.
	requoteListening, requoteAsked bool
	quotes                         int // quotes made, numbering their ids
	resumeListening                bool
	nextResume                     *ResumeRequest
	// notify: the user hears of the case at their contact (a case with
	// one, started since notifyChange); nil otherwise.
	notify *notifier
}

// register sets the query and update handlers.
func (c *appeal) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (*AppealState, error) { return c.st, nil }); err != nil {
		return err
	}
	handlers := []updateHandler{
		{WithdrawUpdate, c.withdraw, c.validateWithdraw},
		{QuoteUpdate, c.answerQuote, c.validateQuoteAnswer},
		{AssignUpdate, c.assign, c.validateAssign},
		{NoteUpdate, c.note, c.validateNote},
		{EscalateUpdate, c.escalate, c.validateEscalate},
		{SignoffUpdate, c.signoff, c.validateSignoff},
		{ReclassifyUpdate, c.reclassify, c.validateReclassify},
		{ProofUpdate, c.prove, c.validateProof},
	}
	handlers = append(handlers, updateHandler{BatchLockUpdate, c.lockInBatch, c.validateLockInBatch},
		updateHandler{BatchResultUpdate, c.takeBatchResult, c.validateBatchResult},
		updateHandler{ResumeUpdate, c.resume, c.validateResume})
	for _, h := range append(handlers, c.deadEndHandlers()...) {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler, workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return err
		}
	}
	return nil
}

// updateHandler is an update's name, handler and validator.
type updateHandler struct {
	name      string
	handler   any
	validator any
}

// metrics are the case's metrics, recorded with the network and category
// (never anything personal); nothing is recorded while replaying.
func (c *appeal) metrics(ctx workflow.Context) client.MetricsHandler {
	return workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"network": c.st.Network, "category": c.st.Category})
}

// diagnoseChange marks the version of the workflow that classifies a
// final deposit and asks the policy; cases started before it stop at
// under_review as they did.
const diagnoseChange = "diagnose"

// queuesChange marks the version that indexes a decided case's amount band
// and due time for the queues.
const queuesChange = "queues"

// diagnose classifies the deposit, records the policy's decision and moves
// the case to the status the decision calls for. minSeq asks for a policy
// at least as recent as that applied policy (a resumed case).
func (c *appeal) diagnose(ctx workflow.Context, minSeq int64) error {
	req := DiagnoseRequest{
		Tx: c.st.Tx, ClaimedNetwork: c.in.ClaimedNetwork, ToAddress: c.in.ToAddress,
		Memo: c.in.Memo, UserID: c.in.UserID, Now: workflow.Now(ctx).UTC(), MinPolicySeq: minSeq,
	}
	var res DiagnoseResult
	if err := c.read(ctx, DiagnoseActivityName, req).Get(ctx, &res); err != nil {
		return err
	}
	if c.st.Closed {
		return errWithdrawn
	}
	if c.reclass != nil {
		// A specialist set the category meanwhile: theirs is decided next.
		return nil
	}
	return c.decided(ctx, res, true)
}

// decided records a diagnosis and its decision and moves the case to the
// status the decision calls for. announce tells the user the diagnosis
// when it is new to them.
func (c *appeal) decided(ctx workflow.Context, res DiagnoseResult, announce bool) error {
	d := res.Diagnosis
	again := c.st.Diagnosis != nil && c.st.Diagnosis.Category == d.Category
	c.st.Diagnosis, c.st.Decision, c.st.USD, c.st.PriceSource = &d, res.Decision, res.USD, res.PriceSource
	c.st.PolicySeq = res.PolicySeq
	if res.Family != "" {
		c.family, c.params = res.Family, res.Params
	}
	if d.Deposit != nil {
		c.st.Deposit = d.Deposit
	}
	c.setCategory(ctx, d.Category)
	if announce && !again {
		// A resumed case diagnosed the same tells the user only what
		// changed: the decision.
		c.event(ctx, d.Explanation.Code, d.Explanation.Params)
	}
	dec := res.Decision
	if workflow.GetVersion(ctx, queuesChange, workflow.DefaultVersion, 1) == 1 {
		c.upsert(ctx, amountBandKey.ValueSet(amountBand(res.USD)))
		if dec != nil && dec.SLA > 0 && dec.Action != policy.Reject {
			c.upsert(ctx, dueKey.ValueSet(workflow.Now(ctx).Add(dec.SLA).UTC()))
		}
	}
	if dec == nil {
		// A regular deposit: nothing for the policy; a specialist finds
		// out why the normal crediting missed it.
		c.setStatus(ctx, recovery.StatusUnderReview)
		return nil
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"network": c.st.Network, "category": d.Category, "action": string(dec.Action)}).
		Counter(obs.CasesDecided).Inc(1)
	c.dueAt = time.Time{}
	if dec.SLA > 0 {
		c.dueAt = workflow.Now(ctx).Add(dec.SLA)
	}
	params := map[string]string{"policy_version": dec.PolicyVersion}
	switch {
	case dec.Action == policy.Reject:
		c.event(ctx, "decision.reject", params)
		c.setStatus(ctx, recovery.StatusNotRecoverable)
		c.st.Closed = true
	case dec.Action == policy.Park:
		c.event(ctx, "decision.park", params)
		c.setStatus(ctx, recovery.StatusParked)
	case dec.Batch && workflow.GetVersion(ctx, batchChange, workflow.DefaultVersion, 1) == 1:
		// Quoted and signed off like any recovery (the network cost an
		// upper bound: the batch shares it), then recovered in a batch.
		c.batched = true
		c.event(ctx, "decision.batch", params)
		c.askProof(ctx, d.Category, d.OwnerMismatch)
		c.setStatus(ctx, recovery.StatusAwaitingQuote)
	case dec.Batch:
		c.event(ctx, "decision.batch", params)
		c.setStatus(ctx, recovery.StatusAwaitingBatch)
	default:
		c.event(ctx, "decision."+string(dec.Action), params)
		if dec.Outcome == policy.OutcomeReturn {
			c.event(ctx, "decision.return", nil)
		}
		c.askProof(ctx, d.Category, d.OwnerMismatch)
		c.setStatus(ctx, recovery.StatusAwaitingQuote)
	}
	return nil
}

// localChange marks the version that runs the diagnosis and the quote as
// local activities: steps of milliseconds that read the exchange's records,
// prices and a fee estimate, which then cost the Temporal server no
// round trip of their own. A case from filing to its quote is then one
// workflow task when the filing found its deposit.
const localChange = "local"

// read runs a step that only reads: as a local activity in a case started
// since localChange, else as the activity it always was, so that older
// cases replay. Each attempt gets a minute; an outage is retried with
// backoff for up to a day, and InvalidInput and the refusals named are
// not retried, either way.
func (c *appeal) read(ctx workflow.Context, name string, arg any, refusals ...string) workflow.Future {
	if !c.local {
		return workflow.ExecuteActivity(readOptions(ctx, refusals...), name, arg)
	}
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            readRetry(refusals),
	})
	return workflow.ExecuteLocalActivity(ctx, name, arg)
}

// readOptions are the options of an activity that only reads (the
// exchange's records, prices, nodes): each attempt gets a minute, and an
// outage is retried with backoff for up to a day. InvalidInput and the
// refusals named are not retried.
func readOptions(ctx workflow.Context, refusals ...string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		RetryPolicy:            readRetry(refusals),
		ScheduleToCloseTimeout: 24 * time.Hour,
	})
}

func readRetry(refusals []string) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        5 * time.Minute,
		NonRetryableErrorTypes: append([]string{recovery.InvalidInput}, refusals...),
	}
}

// sleep waits d or until the case is withdrawn, and says which happened.
func (c *appeal) sleep(ctx workflow.Context, d time.Duration) (withdrawn bool) {
	ok, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return c.st.Closed })
	return ok || err != nil
}

func (c *appeal) validateWithdraw(ctx workflow.Context, req WithdrawRequest) error {
	if c.st.Closed {
		return temporal.NewNonRetryableApplicationError("the case is already closed", ErrClosed, nil)
	}
	if c.st.Status == recovery.StatusRecovering {
		return temporal.NewNonRetryableApplicationError("the recovery is under way on chain; it can no longer be withdrawn", ErrConflict, nil)
	}
	if utf8.RuneCountInString(req.Reason) > 2000 {
		return temporal.NewNonRetryableApplicationError("reason is longer than 2000 characters", recovery.InvalidInput, nil)
	}
	return nil
}

func (c *appeal) withdraw(ctx workflow.Context, req WithdrawRequest) (*AppealState, error) {
	c.event(ctx, "withdrawn", nil)
	c.setStatus(ctx, recovery.StatusWithdrawn)
	c.st.Closed = true
	return c.st, nil
}

func (c *appeal) event(ctx workflow.Context, code string, params map[string]string) {
	c.st.Timeline = append(c.st.Timeline, Event{At: workflow.Now(ctx).UTC(), Code: code, Params: params})
}

func (c *appeal) setStatus(ctx workflow.Context, s string) {
	if c.st.Status == s {
		return
	}
	c.st.Status = s
	c.upsert(ctx, statusKey.ValueSet(s))
}

func (c *appeal) setCategory(ctx workflow.Context, cat string) {
	if c.st.Category == cat {
		return
	}
	c.st.Category = cat
	c.upsert(ctx, categoryKey.ValueSet(cat))
}

func (c *appeal) upsert(ctx workflow.Context, u temporal.SearchAttributeUpdate) {
	if c.indexing {
		c.pending = append(c.pending, u)
		return
	}
	c.upsertNow(ctx, u)
}

func (c *appeal) upsertNow(ctx workflow.Context, u ...temporal.SearchAttributeUpdate) {
	// Visibility is an index for queues, never the source of truth: a failed
	// upsert is logged and the case goes on.
	if err := workflow.UpsertTypedSearchAttributes(ctx, u...); err != nil {
		workflow.GetLogger(ctx).Warn("search attribute upsert failed", "err", err)
	}
}

// indexOnceChange marks the version in which a case sends the search
// attribute changes of a step (status, category, network, amount band,
// due time) to the server as one upsert, when the step ends, instead of
// one upsert each: each upsert is a write of the visibility index, and a
// case's first step alone changes its status four times.
const indexOnceChange = "index-once"

// indexOnce starts collecting the search attribute changes, and a
// coroutine that sends them whenever the case's other coroutines wait:
// at the end of each step, in the same workflow task.
func (c *appeal) indexOnce(ctx workflow.Context) {
	c.indexing = true
	workflow.Go(ctx, func(ctx workflow.Context) {
		for workflow.Await(ctx, func() bool { return len(c.pending) > 0 }) == nil {
			c.flushIndex(ctx)
		}
	})
}

// flushIndex sends the collected search attribute changes as one upsert.
func (c *appeal) flushIndex(ctx workflow.Context) {
	if len(c.pending) == 0 {
		return
	}
	u := c.pending
	c.pending = nil
	c.upsertNow(ctx, u...)
}

// DiagnoseRequest asks for the category of a found, final deposit and the
// policy's decision on it.
type DiagnoseRequest struct {
	Tx             *recovery.Tx `json:"tx"`
	ClaimedNetwork string       `json:"claimed_network,omitempty"`
	ToAddress      string       `json:"to_address"`
	Memo           string       `json:"memo,omitempty"`
	UserID         string       `json:"user_id"`
	// Now is the workflow's clock, for the policy's age conditions.
	Now time.Time `json:"now"`
	// MinPolicySeq asks for an applied policy at least this recent: the
	// one that resumed the case, even if this worker has not seen it yet.
	MinPolicySeq int64 `json:"min_policy_seq,omitempty"`
}

// DiagnoseResult is the diagnosis and, for a mis-deposit, the policy's
// decision under the policy version it names.
type DiagnoseResult struct {
	Diagnosis diagnosis.Diagnosis `json:"diagnosis"`
	// Decision is nil for a regular deposit, which no policy covers.
	Decision *policy.Decision `json:"decision,omitempty"`
	// USD is the deposit's value as decimal text, "" when unpriced.
	USD         string `json:"usd,omitempty"`
	PriceSource string `json:"price_source,omitempty"`
	// PolicySeq is the sequence number of the applied policy used (0: the
	// built-in default).
	PolicySeq int64 `json:"policy_seq,omitempty"`
	// Family and Params describe the deposit's network, for checking a
	// claimant's signed message.
	Family recovery.Family `json:"family,omitempty"`
	Params string          `json:"params,omitempty"`
}

// DiagnoseActivityName is the registered name of the diagnosis activity.
const DiagnoseActivityName = "Diagnose"
