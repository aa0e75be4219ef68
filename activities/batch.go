package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/internal/vouch"
	"github.com/misdeposit/recovery/ledger"
	"github.com/misdeposit/recovery/signer"
	"github.com/misdeposit/recovery/workflows"
)

// defaultBatchWindow gathers a batch whose rule sets no window.
const defaultBatchWindow = 24 * time.Hour

// maxBatchesPerSlot bounds how many full batches one window may open
// before a join gives up (and is retried).
const maxBatchesPerSlot = 100

// JoinBatch adds a signed-off case to the open batch of its network and
// asset, starting the batch when there is none. Batches are named after
// the window they gather in: batch.<network>.<asset>.<window>.<k>, the
// next k when one is full or closed. A retried join finds the case in the
// batch it joined.
func (a *Activities) JoinBatch(ctx context.Context, req workflows.JoinBatchRequest) (string, error) {
	if a.Temporal == nil {
		return "", errors.New("this worker cannot reach Temporal")
	}
	window := req.Window
	if window < time.Second {
		window = defaultBatchWindow
	}
	slot := time.Now().Unix() / int64(window/time.Second)
	asset := strings.ToLower(req.Asset)
	for k := range maxBatchesPerSlot {
		id := fmt.Sprintf("batch.%s.%s.%d.%d", req.Network, asset, slot, k)
		// The window left in this slot: a batch closes at its slot's end.
		left := time.Until(time.Unix((slot+1)*int64(window/time.Second), 0))
		in := workflows.BatchInput{ID: id, Network: req.Network, Asset: req.Asset, BatchLimits: req.BatchLimits}
		in.Window = max(left, time.Second)
		start := a.Temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: id, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			// A batch that ended is never started again: the next k is.
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		}, workflows.BatchWorkflowName, in)
		h, err := a.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.BatchJoinUpdate, Args: []any{req.Member},
				WaitForStage: client.WorkflowUpdateStageCompleted},
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		var app *temporal.ApplicationError
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case err == nil:
			return id, nil
		case errors.As(err, &app) && app.Type() == workflows.ErrInBatch:
			return id, nil
		case errors.As(err, &app) && app.Type() == workflows.ErrBatchClosed, errors.As(err, &started):
			continue
		case errors.As(err, &app) && app.NonRetryable():
			return "", temporal.NewNonRetryableApplicationError(app.Message(), workflows.ErrRecoveryRefused, nil)
		}
		return "", err
	}
	return "", fmt.Errorf("no open batch for %s %s in this window", req.Network, req.Asset)
}

// LockBatchMembers holds each member in the closing batch and returns the
// ones still in; a case that left (withdrawn) refuses and drops out.
func (a *Activities) LockBatchMembers(ctx context.Context, req workflows.LockBatchRequest) ([]string, error) {
	if a.Temporal == nil {
		return nil, errors.New("this worker cannot reach Temporal")
	}
	var locked []string
	for _, id := range req.CaseIDs {
		h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.BatchLockUpdate,
			Args: []any{workflows.BatchLockRequest{BatchID: req.BatchID}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		var app *temporal.ApplicationError
		var gone *serviceerror.NotFound
		switch {
		case err == nil:
			locked = append(locked, id)
		case errors.As(err, &app) && app.NonRetryable(), errors.As(err, &gone):
			// Left the batch, or closed.
		default:
			return nil, err
		}
	}
	return locked, nil
}

// PlanBatch plans a closed batch's recovery: on a UTXO chain one sweep of
// every member's output to the hot wallet, its fee shared in proportion to
// the size each input adds; on an EVM network each member's deposit swept
// as alone, paying its own gas. A member that cannot be recovered is
// named with the reason; the others go on.
func (a *Activities) PlanBatch(ctx context.Context, req workflows.PlanBatchRequest) (*workflows.BatchPlan, error) {
	n, err := a.Registry.Lookup(req.Network)
	if err != nil {
		return nil, refused("%s", recovery.ErrorMessage(err))
	}
	if a.Signer == nil {
		return nil, errors.New("this worker has no signer configured")
	}
	node, err := a.Send.Node(n.ID)
	if err != nil {
		return nil, err
	}
	hot, err := signer.Address(ctx, a.Signer, hotKey(n), n)
	if err != nil {
		return nil, keyError(err)
	}
	plan := &workflows.BatchPlan{HotWallet: hot, Failures: map[string]string{}, Family: n.Family}
	var sweep workflows.PlannedSweep
	var inCases []string
	var weights []int64
	for _, m := range req.Members {
		preq := workflows.PlanRequest{CaseID: m.CaseID, DepositID: m.DepositID, Network: n.ID, TxHash: m.TxHash, Deposit: m.Deposit, Owner: m.Owner}
		if err := a.notCreditedYet(ctx, m.DepositID); err != nil {
			plan.Failures[m.CaseID] = refusalText(err)
			continue
		}
		key := signer.Key{Use: signer.UseDeposit, Family: n.Family, Owner: m.Owner}
		switch n.Family {
		case recovery.FamilyEVM:
			plan.Method = workflows.MethodEVMSweep
			tx, err := a.planSweep(ctx, node, n, key, preq)
			if err != nil {
				if refusalText(err) == "" {
					return nil, err
				}
				plan.Failures[m.CaseID] = refusalText(err)
				continue
			}
			tx.To = hot
			plan.Txs = append(plan.Txs, workflows.BatchTx{Members: []string{m.CaseID}, Shares: []*big.Int{tx.Fee}, Tx: &tx})
		case recovery.FamilyUTXO:
			plan.Method = workflows.MethodUTXOSpend
			tx, err := a.planSpend(ctx, node, n, key, preq)
			if err != nil {
				if refusalText(err) == "" {
					return nil, err
				}
				plan.Failures[m.CaseID] = refusalText(err)
				continue
			}
			w, err := utxo.SpendVSize(tx.PrevScript)
			if err != nil {
				return nil, err
			}
			sweep.Inputs = append(sweep.Inputs, workflows.PlannedInput{CaseID: m.CaseID, DepositID: m.DepositID, Owner: m.Owner,
				Address: m.Deposit.To, TxID: tx.Prev, Index: tx.PrevIndex, Script: tx.PrevScript, Amount: tx.PrevAmount})
			inCases, weights = append(inCases, m.CaseID), append(weights, w)
		default:
			return nil, refused("%s networks are not recovered in batches", n.Family)
		}
	}
	if len(sweep.Inputs) == 0 {
		return plan, nil
	}
	scripts := make([][]byte, len(sweep.Inputs))
	var total int64
	for i, in := range sweep.Inputs {
		scripts[i], total = in.Script, total+in.Amount
	}
	vsize, err := utxo.SweepVSize(scripts)
	if err != nil {
		return nil, refused("%v", err)
	}
	cost, err := a.Nodes.NetworkCost(ctx, n.ID, 0)
	if err != nil {
		return nil, nodeError(err)
	}
	fee := cost.FeeRate.Mul(decimal.NewFromInt(vsize)).Ceil().BigInt()
	if fee.Sign() <= 0 || new(big.Int).Sub(big.NewInt(total), fee).Cmp(big.NewInt(utxo.DustLimit)) < 0 {
		for _, id := range inCases {
			plan.Failures[id] = fmt.Sprintf("the batch's outputs (%d sat) do not cover its fee (%s sat)", total, fee)
		}
		return plan, nil
	}
	sweep.Network, sweep.To, sweep.Fee = n.ID, hot, fee
	plan.Txs = append(plan.Txs, workflows.BatchTx{Members: inCases, Shares: shares(fee, weights), Sweep: &sweep})
	return plan, nil
}

// shares splits fee in proportion to weights, rounding down; what is left
// goes to the first share, so that they add up to fee.
func shares(fee *big.Int, weights []int64) []*big.Int {
	var sum int64
	for _, w := range weights {
		sum += w
	}
	out := make([]*big.Int, len(weights))
	left := new(big.Int).Set(fee)
	for i, w := range weights {
		out[i] = new(big.Int).Div(new(big.Int).Mul(fee, big.NewInt(w)), big.NewInt(sum))
		left.Sub(left, out[i])
	}
	out[0].Add(out[0], left)
	return out
}

// refusalText is the message of a recovery refusal, "" for any other
// error (an outage, retried).
func refusalText(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		return app.Message()
	}
	return ""
}

// SendBatch sends a UTXO batch's one sweep exactly once: signed input by
// input with each owner's deposit key, recorded under every member's
// deposit before it is broadcast; a retry broadcasts the recorded sweep.
func (a *Activities) SendBatch(ctx context.Context, req workflows.SendBatchRequest) (*workflows.SentTx, error) {
	if a.Ledger == nil {
		return nil, errors.New("this worker has no ledger configured")
	}
	s := req.Sweep
	if len(s.Inputs) == 0 {
		return nil, refused("the sweep spends nothing")
	}
	node, err := a.Send.Node(s.Network)
	if err != nil {
		return nil, err
	}
	var rec ledger.Send
	found := false
	for _, in := range s.Inputs {
		sd, ok, err := a.Ledger.Sent(ctx, in.DepositID, "batch")
		if err != nil {
			return nil, err
		}
		if ok {
			rec, found = sd, true
			break
		}
	}
	if !found {
		if rec, err = a.signSweep(ctx, s); err != nil {
			return nil, err
		}
	}
	for _, in := range s.Inputs {
		sd := rec
		sd.DepositID, sd.CaseID, sd.From = in.DepositID, in.CaseID, in.Address
		got, err := a.Ledger.RecordSend(ctx, sd)
		if err != nil {
			return nil, err
		}
		if got.Hash != rec.Hash {
			return nil, refused("deposit %s is in another batch transaction, %s", in.DepositID, got.Hash)
		}
	}
	if err := broadcast(ctx, node, rec); err != nil {
		return nil, err
	}
	return &workflows.SentTx{Hash: rec.Hash}, nil
}

// signSweep builds and signs a batch's sweep.
func (a *Activities) signSweep(ctx context.Context, s workflows.PlannedSweep) (ledger.Send, error) {
	if a.Signer == nil {
		return ledger.Send{}, errors.New("this worker has no signer configured")
	}
	n, err := a.Registry.Lookup(s.Network)
	if err != nil {
		return ledger.Send{}, refused("%s", recovery.ErrorMessage(err))
	}
	script, err := outputScript(n, s.To)
	if err != nil {
		return ledger.Send{}, err
	}
	sweep := utxo.Sweep{To: script, Fee: s.Fee.Int64()}
	for _, in := range s.Inputs {
		sweep.Inputs = append(sweep.Inputs, utxo.Input{TxID: in.TxID, Index: in.Index, PrevScript: in.Script, Amount: in.Amount})
	}
	msg, err := utxo.BuildSweep(sweep)
	if err != nil {
		return ledger.Send{}, nodeError(err)
	}
	for i, in := range s.Inputs {
		key := signer.Key{Use: signer.UseDeposit, Family: n.Family, Owner: in.Owner}
		digest, err := utxo.SweepSigHash(msg, sweep, i)
		if err != nil {
			return ledger.Send{}, nodeError(err)
		}
		sig, err := a.Signer.Sign(ctx, key, digest)
		if err != nil {
			return ledger.Send{}, keyError(err)
		}
		pub, err := a.Signer.PublicKey(ctx, key)
		if err != nil {
			return ledger.Send{}, keyError(err)
		}
		if err := utxo.AttachSweepSignature(msg, sweep, i, sig, pub); err != nil {
			return ledger.Send{}, nodeError(err)
		}
	}
	var buf bytes.Buffer
	if err := msg.Serialize(&buf); err != nil {
		return ledger.Send{}, err
	}
	return ledger.Send{DepositID: s.Inputs[0].DepositID, Step: "batch", CaseID: s.Inputs[0].CaseID, Network: n.ID,
		From: s.Inputs[0].Address, Hash: msg.TxHash().String(), Raw: buf.Bytes()}, nil
}

// NotifyBatch tells each member of a batch what became of it, by an
// update the engine vouches for. A case that no longer exists or left the
// batch (withdrawn) is skipped; telling one twice is harmless, as a case
// takes its result once.
func (a *Activities) NotifyBatch(ctx context.Context, req workflows.NotifyBatchRequest) error {
	if a.Temporal == nil {
		return errors.New("this worker cannot reach Temporal")
	}
	for _, id := range req.Order {
		h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.BatchResultUpdate,
			Args: []any{req.Results[id]}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		var app *temporal.ApplicationError
		var gone *serviceerror.NotFound
		switch {
		case err == nil, errors.As(err, &gone):
		case errors.As(err, &app) && app.NonRetryable() && app.Type() != vouch.ErrUnvouched:
			// Left the batch, or closed. (A refused stamp is retried: a
			// worker with another action key.)
		default:
			return err
		}
	}
	return nil
}
