package workflows

import (
	"math/big"

	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
)

// batchChange marks the version in which a deposit the policy sends to a
// batch is quoted and signed off as any other, then recovered in a batch;
// cases decided before it wait in awaiting_batch.
const batchChange = "batch"

// MethodBatch is the method of a recovery carried out by a batch.
const MethodBatch = "batch"

// recoverInBatch joins the signed-off case to the open batch of its
// network and asset and waits for the batch's result: then the case is
// credited with its share of the batch's network cost, as any recovery.
// Until the batch closes and locks it, the user may still withdraw.
func (c *appeal) recoverInBatch(ctx workflow.Context) error {
	q, dec := c.st.Quote, c.st.Decision
	depositID := recovery.DepositID(c.st.Network, c.in.TxHash, *c.st.Deposit)
	owner := ""
	if d := c.st.Diagnosis; d != nil && d.Owner != nil {
		owner = d.Owner.Entry.UserID
	}
	usd := q.DepositUSD
	req := JoinBatchRequest{
		Member:  BatchMember{CaseID: c.in.AppealID, DepositID: depositID, TxHash: c.in.TxHash, Owner: owner, Deposit: *c.st.Deposit, USD: usd},
		Network: c.st.Network, Asset: q.Asset,
		BatchLimits: BatchLimits{Window: dec.BatchWindow, MaxCases: dec.BatchMaxCases, MaxUSD: dec.BatchMaxUSD, Poll: c.in.Timing.ConfirmationPoll},
	}
	c.listenForBatchResult(ctx)
	c.setStatus(ctx, recovery.StatusAwaitingBatch)
	var batchID string
	c.joiningBatch = true
	err := workflow.ExecuteActivity(sendOptions(ctx), JoinBatchActivityName, req).Get(ctx, &batchID)
	c.joiningBatch = false
	if err != nil {
		return c.recoveryFailed(ctx, refusalMessage(err))
	}
	c.st.Recovery = &RecoveryState{Method: MethodBatch, DepositID: depositID, Batch: batchID}
	c.event(ctx, "batch.joined", map[string]string{"batch": batchID})
	if err := workflow.Await(ctx, func() bool { return c.batchResult != nil || c.st.Closed }); err != nil {
		return err
	}
	if c.batchResult == nil {
		return nil // withdrawn before the batch closed: it goes on without the case
	}
	res := *c.batchResult
	if res.Failure != "" {
		return c.recoveryFailed(ctx, res.Failure)
	}
	c.st.Recovery.Transactions = append(c.st.Recovery.Transactions, RecoveryTx{Step: stepBatch, Network: c.st.Network, Hash: res.TxHash,
		Confirmations: res.Confirmations, Required: res.Required, Confirmed: true, Fee: res.Share})
	paid := res.Share
	if paid == nil {
		paid = new(big.Int)
	}
	return c.credit(ctx, depositID, RecoveryPlan{Method: MethodBatch}, paid)
}

// batchResultChange marks the version in which a case hears its batch's
// result by an update (BatchResultUpdate), which the engine vouches for
// and the case validates, instead of a signal anyone who reaches Temporal
// could send.
const batchResultChange = "batch-result-update"

// listenForBatchResult starts, once, the listener of the batch's result,
// for a case started before batchResultChange.
func (c *appeal) listenForBatchResult(ctx workflow.Context) {
	if workflow.GetVersion(ctx, batchResultChange, workflow.DefaultVersion, 1) == 1 {
		return
	}
	ch := workflow.GetSignalChannel(ctx, BatchResultSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var r BatchResult
		ch.Receive(ctx, &r)
		c.batchResult = &r
	})
}

// validateBatchResult takes the result of the case's own batch, once; the
// same result again (a retried notice) is taken as a no-op.
func (c *appeal) validateBatchResult(_ workflow.Context, r BatchResult) error {
	switch {
	case c.st.Recovery == nil || c.st.Recovery.Batch != r.BatchID || r.BatchID == "":
		return refuse("the case is not in this batch", ErrConflict)
	case c.batchResult != nil && !sameBatchResult(*c.batchResult, r):
		return refuse("the case already has its batch's result", ErrConflict)
	case c.batchResult == nil && c.st.Closed:
		return refuse("the case is closed", ErrClosed)
	}
	return nil
}

func sameBatchResult(a, b BatchResult) bool {
	share := func(x *big.Int) string {
		if x == nil {
			return ""
		}
		return x.String()
	}
	sa, sb := share(a.Share), share(b.Share)
	a.Share, b.Share = nil, nil
	return a == b && sa == sb
}

// takeBatchResult hands the batch's result to the case's wait.
func (c *appeal) takeBatchResult(_ workflow.Context, r BatchResult) error {
	if c.batchResult == nil {
		c.batchResult = &r
	}
	return nil
}

func (c *appeal) validateLockInBatch(_ workflow.Context, r BatchLockRequest) error {
	switch {
	case c.joiningBatch && c.st.Recovery == nil && !c.st.Closed:
		return nil // the batch filled with this case before it heard so: lockInBatch waits for the join
	case c.st.Recovery == nil || c.st.Recovery.Batch != r.BatchID:
		return refuse("the case is not in this batch", ErrConflict)
	case c.st.Status == recovery.StatusRecovering:
		return nil // locked already: a retried lock
	case c.st.Closed:
		return refuse("the case is closed", ErrClosed)
	case c.st.Status != recovery.StatusAwaitingBatch:
		return refuse("the case is not waiting in this batch", ErrConflict)
	}
	return nil
}

// lockInBatch holds the case in its closing batch: from now on its
// deposit is on its way, and it can no longer be withdrawn. A lock that
// arrives while the case still waits to hear which batch it joined waits
// for that, then is checked as any other.
func (c *appeal) lockInBatch(ctx workflow.Context, r BatchLockRequest) (*AppealState, error) {
	if err := workflow.Await(ctx, func() bool { return !c.joiningBatch }); err != nil {
		return nil, err
	}
	switch {
	case c.st.Recovery == nil || c.st.Recovery.Batch != r.BatchID:
		return nil, refuse("the case is not in this batch", ErrConflict)
	case c.st.Closed:
		return nil, refuse("the case is closed", ErrClosed)
	case c.st.Status == recovery.StatusRecovering:
		return c.st, nil
	}
	c.event(ctx, "batch.closed", map[string]string{"batch": r.BatchID})
	c.setStatus(ctx, recovery.StatusRecovering)
	return c.st, nil
}
