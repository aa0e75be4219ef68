package workflows

import (
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
)

// Names of the batch workflow, its update and query, the case's side of
// it, and the activities of a batch.
const (
	BatchWorkflowName = "BatchWorkflow"
	// BatchJoinUpdate adds a signed-off case to an open batch.
	BatchJoinUpdate = "join"
	// BatchQuery answers the batch's state.
	BatchQuery = "batch"
	// BatchLockUpdate, on a case, holds it in the batch that is closing:
	// refused for a case that left (withdrawn), after which the case can
	// no longer leave.
	BatchLockUpdate = "batch-lock"
	// BatchResultSignal told a case what became of its batch; cases
	// started since batchResultChange hear it by BatchResultUpdate only,
	// which the engine vouches for (a signal cannot be refused).
	BatchResultSignal = "batch-result"
	// BatchResultUpdate tells a case what became of its batch.
	BatchResultUpdate = "batch-result"

	JoinBatchActivityName   = "JoinBatch"
	LockBatchActivityName   = "LockBatchMembers"
	PlanBatchActivityName   = "PlanBatch"
	SendBatchActivityName   = "SendBatch"
	NotifyBatchActivityName = "NotifyBatch"
)

// Batch statuses.
const (
	BatchOpen    = "open"    // gathering cases
	BatchSending = "sending" // closed: its transactions are being sent and confirmed
	BatchDone    = "done"    // every member told its result
	BatchEmpty   = "empty"   // closed with no member left
)

// BatchMember is one case in a batch.
type BatchMember struct {
	CaseID    string            `json:"case_id"`
	DepositID string            `json:"deposit_id"`
	TxHash    string            `json:"tx_hash"`
	Owner     string            `json:"owner"`
	Deposit   recovery.Transfer `json:"deposit"`
	USD       decimal.Decimal   `json:"usd"`
}

// BatchLimits close a batch: when its window ends, or when it holds
// MaxCases members or MaxUSD of value (zero: no such limit). Poll is the
// wait between looks at its unconfirmed transactions.
type BatchLimits struct {
	Window   time.Duration   `json:"window"`
	MaxCases int             `json:"max_cases,omitempty"`
	MaxUSD   decimal.Decimal `json:"max_usd"`
	Poll     time.Duration   `json:"poll"`
}

// BatchInput opens a batch of one network and asset.
type BatchInput struct {
	ID      string `json:"id"`
	Network string `json:"network"`
	Asset   string `json:"asset"`
	BatchLimits
}

// BatchState is what the batch query answers.
type BatchState struct {
	ID       string        `json:"id"`
	Network  string        `json:"network"`
	Asset    string        `json:"asset"`
	Status   string        `json:"status"`
	OpenedAt time.Time     `json:"opened_at"`
	ClosesAt time.Time     `json:"closes_at"`
	Members  []BatchMember `json:"members"`
	// Locked are the members still in when the batch closed.
	Locked []string `json:"locked,omitempty"`
	// Transactions are the batch's recovery transactions: one for a UTXO
	// batch, one per member on an EVM network.
	Transactions []RecoveryTx `json:"transactions,omitempty"`
	Failure      string       `json:"failure,omitempty"`
}

// BatchLockRequest holds a case in the closing batch.
type BatchLockRequest struct {
	BatchID string `json:"batch_id"`
}

// BatchResult is what became of a case's batch: the transaction that
// recovered its deposit and its share of the network cost, or why it
// failed.
type BatchResult struct {
	BatchID       string   `json:"batch_id"`
	TxHash        string   `json:"tx_hash,omitempty"`
	Confirmations uint64   `json:"confirmations,omitempty"`
	Required      uint64   `json:"required,omitempty"`
	Share         *big.Int `json:"share,omitempty"`
	Failure       string   `json:"failure,omitempty"`
}

// JoinBatchRequest asks for the open batch of a case's network and asset.
type JoinBatchRequest struct {
	Member  BatchMember `json:"member"`
	Network string      `json:"network"`
	Asset   string      `json:"asset"`
	BatchLimits
}

// LockBatchRequest locks a closing batch's members.
type LockBatchRequest struct {
	BatchID string   `json:"batch_id"`
	CaseIDs []string `json:"case_ids"`
}

// PlanBatchRequest asks how a batch's members are recovered.
type PlanBatchRequest struct {
	BatchID string        `json:"batch_id"`
	Network string        `json:"network"`
	Members []BatchMember `json:"members"`
}

// BatchPlan is how a batch is recovered: one UTXO sweep of every member's
// output, or one sweep per member on an EVM network.
type BatchPlan struct {
	Method    string    `json:"method"`
	HotWallet string    `json:"hot_wallet"`
	Txs       []BatchTx `json:"txs"`
	// Family is the batch network's chain family, whose task queue sends
	// and follows its transactions.
	Family recovery.Family `json:"family,omitempty"`
	// Failures says, by case, why a member cannot be recovered.
	Failures map[string]string `json:"failures,omitempty"`
}

// BatchTx is one transaction of a batch: the members whose deposits it
// moves, and each one's share of its network cost.
type BatchTx struct {
	Members []string   `json:"members"`
	Shares  []*big.Int `json:"shares"`
	// Tx is an EVM member's sweep.
	Tx *PlannedTx `json:"tx,omitempty"`
	// Sweep is a UTXO batch's one transaction.
	Sweep *PlannedSweep `json:"sweep,omitempty"`
}

// PlannedSweep is a UTXO transaction spending many outputs to one.
type PlannedSweep struct {
	Network string         `json:"network"`
	To      string         `json:"to"`
	Inputs  []PlannedInput `json:"inputs"`
	Fee     *big.Int       `json:"fee"`
}

// PlannedInput is one member's output in a sweep, and the owner whose
// deposit key signs it.
type PlannedInput struct {
	CaseID    string `json:"case_id"`
	DepositID string `json:"deposit_id"`
	Owner     string `json:"owner"`
	Address   string `json:"address"`
	TxID      string `json:"txid"`
	Index     uint32 `json:"index"`
	Script    []byte `json:"script"`
	Amount    int64  `json:"amount"`
}

// SendBatchRequest sends a UTXO batch's sweep.
type SendBatchRequest struct {
	BatchID string       `json:"batch_id"`
	Sweep   PlannedSweep `json:"sweep"`
}

// NotifyBatchRequest tells each member its result.
type NotifyBatchRequest struct {
	Results map[string]BatchResult `json:"results"`
	Order   []string               `json:"order"`
}

// Refusals of a join: the batch no longer takes members (the next one
// does), or the deposit is in it already (a retried join).
const (
	ErrBatchClosed = "BatchClosed"
	ErrInBatch     = "InBatch"
)

// stepBatch is the ledger step a UTXO batch's sweep is recorded under, for
// every member's deposit.
const stepBatch = "batch"

// BatchWorkflow gathers signed-off cases of one network and asset, and
// recovers them together when its window ends or it is full: it locks the
// members still in, sends one UTXO transaction for all of them (or one
// sweep each on an EVM network), follows each to its confirmations and
// tells every member its transaction and its share of the cost. Each case
// credits itself.
func BatchWorkflow(ctx workflow.Context, in BatchInput) (*BatchState, error) {
	now := workflow.Now(ctx).UTC()
	b := &batch{in: in, st: &BatchState{ID: in.ID, Network: in.Network, Asset: in.Asset, Status: BatchOpen,
		OpenedAt: now, ClosesAt: now.Add(in.Window), Members: []BatchMember{}}}
	if err := workflow.SetQueryHandler(ctx, BatchQuery, func() (*BatchState, error) { return b.st, nil }); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, BatchJoinUpdate, b.join, workflow.UpdateHandlerOptions{Validator: b.validateJoin}); err != nil {
		return nil, err
	}
	if _, err := workflow.AwaitWithTimeout(ctx, in.Window, b.full); err != nil {
		return nil, err
	}
	b.st.Status = BatchSending
	if err := b.recoverMembers(ctx); err != nil {
		return nil, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return nil, err
	}
	return b.st, nil
}

type batch struct {
	in BatchInput
	st *BatchState
	// family is the planned family, whose task queue sends.
	family recovery.Family
}

func (b *batch) full() bool {
	if b.in.MaxCases > 0 && len(b.st.Members) >= b.in.MaxCases {
		return true
	}
	if !b.in.MaxUSD.IsPositive() {
		return false
	}
	total := decimal.Zero
	for _, m := range b.st.Members {
		total = total.Add(m.USD)
	}
	return total.GreaterThanOrEqual(b.in.MaxUSD)
}

func (b *batch) validateJoin(_ workflow.Context, m BatchMember) error {
	switch {
	case slices.ContainsFunc(b.st.Members, func(x BatchMember) bool { return x.DepositID == m.DepositID }):
		return refuse("the deposit is in the batch already", ErrInBatch)
	case b.st.Status != BatchOpen || b.full():
		return refuse("the batch is closed", ErrBatchClosed)
	case m.CaseID == "" || m.DepositID == "" || m.Deposit.Amount == nil:
		return refuse("a member needs its case, its deposit and the amount", recovery.InvalidInput)
	}
	return nil
}

func (b *batch) join(_ workflow.Context, m BatchMember) (*BatchState, error) {
	b.st.Members = append(b.st.Members, m)
	return b.st, nil
}

// recoverMembers carries the closed batch out. A member the batch cannot
// recover is told why; nothing here fails the batch workflow but a
// cancellation.
func (b *batch) recoverMembers(ctx workflow.Context) error {
	ids := make([]string, len(b.st.Members))
	for i, m := range b.st.Members {
		ids[i] = m.CaseID
	}
	var locked []string
	if err := workflow.ExecuteActivity(sendOptions(ctx), LockBatchActivityName, LockBatchRequest{BatchID: b.in.ID, CaseIDs: ids}).Get(ctx, &locked); err != nil {
		return err
	}
	b.st.Locked = locked
	var members []BatchMember
	for _, m := range b.st.Members {
		if slices.Contains(locked, m.CaseID) {
			members = append(members, m)
		}
	}
	if len(members) == 0 {
		b.st.Status = BatchEmpty
		return nil
	}
	results := map[string]BatchResult{}
	fail := func(why string) {
		b.st.Failure = why
		for _, m := range members {
			if _, ok := results[m.CaseID]; !ok {
				results[m.CaseID] = BatchResult{BatchID: b.in.ID, Failure: why}
			}
		}
	}
	var plan BatchPlan
	if err := workflow.ExecuteActivity(sendOptions(ctx), PlanBatchActivityName, PlanBatchRequest{BatchID: b.in.ID, Network: b.in.Network, Members: members}).Get(ctx, &plan); err != nil {
		fail(refusalMessage(err))
	}
	b.family = plan.Family
	for id, why := range plan.Failures {
		results[id] = BatchResult{BatchID: b.in.ID, Failure: why}
	}
	settled := func(t BatchTx, tx RecoveryTx, err error) {
		for i, id := range t.Members {
			if err != nil {
				results[id] = BatchResult{BatchID: b.in.ID, Failure: refusalMessage(err)}
				continue
			}
			results[id] = BatchResult{BatchID: b.in.ID, TxHash: tx.Hash, Confirmations: tx.Confirmations, Required: tx.Required, Share: t.Shares[i]}
		}
	}
	if workflow.GetVersion(ctx, batchTogetherChange, workflow.DefaultVersion, 1) == 1 {
		if err := b.sendTogether(ctx, members, plan.Txs, settled); err != nil {
			return err
		}
	} else {
		for _, t := range plan.Txs {
			tx, err := b.send(ctx, members, t)
			settled(t, tx, err)
		}
	}
	if len(results) < len(members) {
		fail("the batch planned no transaction for this deposit")
	}
	order := make([]string, len(members))
	for i, m := range members {
		order[i] = m.CaseID
	}
	if err := workflow.ExecuteActivity(sendOptions(ctx), NotifyBatchActivityName, NotifyBatchRequest{Results: results, Order: order}).Get(ctx, nil); err != nil {
		return err
	}
	b.st.Status = BatchDone
	return nil
}

// batchTogetherChange sends every transaction of a batch before following
// them to their confirmations together; before it, each was followed to
// its confirmations before the next was sent, so that a batch of n EVM
// sweeps waited n times for its confirmations.
const batchTogetherChange = "batch-together"

// sendTogether sends every transaction of the batch, then follows all the
// sent ones to their confirmations at once, telling settled each one's
// outcome (a failed send or transaction fails only its own members).
func (b *batch) sendTogether(ctx workflow.Context, members []BatchMember, txs []BatchTx, settled func(BatchTx, RecoveryTx, error)) error {
	type following struct {
		t     BatchTx
		i     int // in b.st.Transactions
		check CheckRequest
	}
	var open []following
	for _, t := range txs {
		check, err := b.start(ctx, members, t)
		if err != nil {
			settled(t, RecoveryTx{}, err)
			continue
		}
		open = append(open, following{t: t, i: len(b.st.Transactions) - 1, check: check})
	}
	for len(open) > 0 {
		futures := make([]workflow.Future, len(open))
		for k, f := range open {
			futures[k] = workflow.ExecuteActivity(onFamilyQueue(sendOptions(ctx), b.family), CheckRecoveryActivityName, f.check)
		}
		var still []following
		for k, f := range open {
			var res TxCheck
			if err := futures[k].Get(ctx, &res); err != nil {
				settled(f.t, RecoveryTx{}, err)
				continue
			}
			done, err := b.checked(f.i, f.check, res)
			switch {
			case err != nil:
				settled(f.t, RecoveryTx{}, err)
			case done:
				settled(f.t, b.st.Transactions[f.i], nil)
			default:
				still = append(still, f)
			}
		}
		if open = still; len(open) == 0 {
			break
		}
		if err := workflow.Sleep(ctx, max(b.in.Poll, time.Second)); err != nil {
			return err
		}
	}
	return nil
}

// send sends one of the batch's transactions and follows it to its
// confirmations, sending the recorded one again if the network loses it.
func (b *batch) send(ctx workflow.Context, members []BatchMember, t BatchTx) (RecoveryTx, error) {
	check, err := b.start(ctx, members, t)
	if err != nil {
		return RecoveryTx{}, err
	}
	i := len(b.st.Transactions) - 1
	for {
		var res TxCheck
		if err := workflow.ExecuteActivity(onFamilyQueue(sendOptions(ctx), b.family), CheckRecoveryActivityName, check).Get(ctx, &res); err != nil {
			return RecoveryTx{}, err
		}
		done, err := b.checked(i, check, res)
		if err != nil {
			return RecoveryTx{}, err
		}
		if done {
			return b.st.Transactions[i], nil
		}
		if err := workflow.Sleep(ctx, max(b.in.Poll, time.Second)); err != nil {
			return RecoveryTx{}, err
		}
	}
}

// start sends one of the batch's transactions, records it in the batch's
// state and says how to follow it.
func (b *batch) start(ctx workflow.Context, members []BatchMember, t BatchTx) (CheckRequest, error) {
	byID := map[string]BatchMember{}
	for _, m := range members {
		byID[m.CaseID] = m
	}
	first := byID[t.Members[0]]
	var sent SentTx
	var check CheckRequest
	switch {
	case t.Sweep != nil:
		if err := workflow.ExecuteActivity(onFamilyQueue(sendOptions(ctx), b.family), SendBatchActivityName, SendBatchRequest{BatchID: b.in.ID, Sweep: *t.Sweep}).Get(ctx, &sent); err != nil {
			return CheckRequest{}, err
		}
		check = CheckRequest{DepositID: first.DepositID, Step: stepBatch, Network: t.Sweep.Network, Hash: sent.Hash}
	case t.Tx != nil:
		req := SendRequest{CaseID: first.CaseID, DepositID: first.DepositID, Owner: first.Owner, Tx: *t.Tx}
		if err := workflow.ExecuteActivity(onFamilyQueue(sendOptions(ctx), b.family), SendRecoveryActivityName, req).Get(ctx, &sent); err != nil {
			return CheckRequest{}, err
		}
		check = CheckRequest{DepositID: first.DepositID, Step: t.Tx.Step, Network: t.Tx.Network, Hash: sent.Hash}
	default:
		return CheckRequest{}, fmt.Errorf("batch transaction with nothing to send")
	}
	b.st.Transactions = append(b.st.Transactions, RecoveryTx{Network: check.Network, Hash: sent.Hash, Step: check.Step})
	return check, nil
}

// checked records a look at the batch's i-th transaction: done once it is
// confirmed, an error if it failed on chain.
func (b *batch) checked(i int, check CheckRequest, res TxCheck) (bool, error) {
	tx := &b.st.Transactions[i]
	tx.Confirmations, tx.Required, tx.Fee = res.Confirmations, res.Required, res.Fee
	if res.Resent {
		tx.Resent++
	}
	switch res.State {
	case TxStateFailed:
		return false, refuse(fmt.Sprintf("the batch transaction %s failed on %s", tx.Hash, check.Network), ErrRecoveryRefused)
	case TxStateConfirmed:
		tx.Confirmed = true
		return true, nil
	}
	return false, nil
}
