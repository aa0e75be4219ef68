package workflows

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/internal/obs"
)

// Names of the recovery's activities.
const (
	PlanRecoveryActivityName  = "PlanRecovery"
	SendRecoveryActivityName  = "SendRecovery"
	CheckRecoveryActivityName = "CheckRecovery"
	CreditActivityName        = "CreditRecovery"
	ReturnActivityName        = "PostReturn"
)

// How a deposit is recovered.
const (
	// MethodInternalCredit: the coins already sit on the exchange's hot
	// address (a missing or wrong memo): nothing to send, a credit only.
	MethodInternalCredit = "internal_credit"
	// MethodEVMSweep: the deposit address sends the deposit, less the gas
	// it pays, to the network's hot wallet.
	MethodEVMSweep = "evm_sweep"
	// MethodUTXOSpend: the output is spent with the key behind it to the
	// chain's hot wallet, less the network fee.
	MethodUTXOSpend = "utxo_spend"
	// MethodTokenSweep: the hot wallet tops the deposit address up with
	// the gas of a token transfer, and the deposit address sends the
	// tokens to the hot wallet.
	MethodTokenSweep = "evm_token_sweep"
)

// What becomes of a recovered deposit.
const (
	// OutcomeCredit: the user's account is credited.
	OutcomeCredit = "credit"
	// OutcomeReturn: a token the exchange lists on no network is sent
	// back, net of the fee, to the address the claimant sent it from.
	OutcomeReturn = "return"
)

// Refusals of the recovery's activities: the recovery cannot be carried
// out, and trying again would not change that.
const (
	// ErrRecoveryRefused: the recovery cannot be built or the network
	// refused its transaction for what it is.
	ErrRecoveryRefused = "RecoveryRefused"
	// ErrAlreadyCredited: the ledger holds a credit of the deposit under
	// another case.
	ErrAlreadyCredited = "AlreadyCredited"
	// ErrDepositCredited: the exchange's deposit records show the deposit
	// credited (imported while the case was under way); nothing was sent.
	ErrDepositCredited = "DepositCredited"
)

// PlanRequest asks how a deposit is recovered.
type PlanRequest struct {
	CaseID    string            `json:"case_id"`
	DepositID string            `json:"deposit_id"`
	Network   string            `json:"network"`
	Category  string            `json:"category"`
	TxHash    string            `json:"tx_hash"`
	Deposit   recovery.Transfer `json:"deposit"`
	// Owner is the user whose deposit key received the deposit (the
	// address book entry the diagnosis matched).
	Owner string `json:"owner"`
	// Net is what the accepted quote leaves the user, in base units of
	// the deposit's asset: what a return sends back.
	Net *big.Int `json:"net,omitempty"`
	// ReturnTo is where a deposit that cannot be credited goes back: the
	// address the claimant proved they sent from, else the chain's sender.
	ReturnTo string `json:"return_to,omitempty"`
}

// RecoveryPlan is how a deposit is recovered: its method, the hot wallet
// the coins go to and the transactions that move them, in order. It is
// made once and recorded, so that every retry sends the same transactions.
type RecoveryPlan struct {
	Method    string      `json:"method"`
	HotWallet string      `json:"hot_wallet,omitempty"`
	Txs       []PlannedTx `json:"txs,omitempty"`
	// Family is the chain family of the network the transactions go to,
	// whose task queue sends and follows them (see FamilyTaskQueue).
	Family recovery.Family `json:"family,omitempty"`
	// Outcome is credit or return; "" means credit. A return sends Return
	// after the credit, to ReturnTo.
	Outcome  string     `json:"outcome,omitempty"`
	ReturnTo string     `json:"return_to,omitempty"`
	Return   *PlannedTx `json:"return,omitempty"`
}

// PlannedTx is one recovery transaction, everything but the nonce, which
// is reserved when it is sent.
type PlannedTx struct {
	// Step names the transaction within the recovery ("sweep"); with the
	// deposit id it is the key the transaction is recorded under.
	Step    string `json:"step"`
	Network string `json:"network"`
	// Signer is whose key signs: "deposit" (the owner's deposit key) or
	// "hot" (the network's hot wallet).
	Signer string `json:"signer"`
	From   string `json:"from"`
	To     string `json:"to"`
	// Value is what the recipient receives: base units of the native
	// asset (an EVM transfer's value, a UTXO spend's one output), or of
	// Token.
	Value *big.Int `json:"value"`
	// Token is the ERC-20 contract of a token transfer: the transaction
	// calls transfer(To, Value) on it.
	Token string `json:"token,omitempty"`
	// EVM: gas limit and price.
	Gas      uint64   `json:"gas,omitempty"`
	GasPrice *big.Int `json:"gas_price,omitempty"`
	// UTXO: the output spent.
	Prev       string `json:"prev,omitempty"`
	PrevIndex  uint32 `json:"prev_index,omitempty"`
	PrevScript []byte `json:"prev_script,omitempty"`
	PrevAmount int64  `json:"prev_amount,omitempty"`
	// Fee is the most the transaction pays its network, in base units of
	// the native asset (exact for UTXO and for a plain EVM transfer).
	Fee *big.Int `json:"fee"`
}

// SendRequest sends one planned transaction of a case.
type SendRequest struct {
	CaseID    string    `json:"case_id"`
	DepositID string    `json:"deposit_id"`
	Owner     string    `json:"owner"`
	Tx        PlannedTx `json:"tx"`
}

// SentTx is a recovery transaction as sent: recorded, then broadcast.
type SentTx struct {
	Hash  string  `json:"hash"`
	Nonce *uint64 `json:"nonce,omitempty"`
}

// CheckRequest asks where a sent recovery transaction stands.
type CheckRequest struct {
	DepositID string `json:"deposit_id"`
	Step      string `json:"step"`
	Network   string `json:"network"`
	Hash      string `json:"hash"`
}

// Where a recovery transaction stands.
const (
	TxStatePending   = "pending"   // in the pool, or mined with too few confirmations
	TxStateConfirmed = "confirmed" // mined with the network's confirmations
	TxStateFailed    = "failed"    // mined and reverted
)

// TxCheck is the answer of CheckRecovery.
type TxCheck struct {
	State         string `json:"state"`
	Confirmations uint64 `json:"confirmations"`
	Required      uint64 `json:"required"`
	// Fee is what the mined transaction paid its network, when the node
	// says.
	Fee *big.Int `json:"fee,omitempty"`
	// Resent is true when the node no longer knew the transaction (dropped,
	// or reorged out and lost) and the recorded one was sent again.
	Resent bool `json:"resent,omitempty"`
}

// CreditRequest posts the credit of a recovered deposit to the ledger.
type CreditRequest struct {
	CaseID             string          `json:"case_id"`
	DepositID          string          `json:"deposit_id"`
	At                 time.Time       `json:"at"`
	FiledAt            time.Time       `json:"filed_at"`
	Network            string          `json:"network"`
	Category           string          `json:"category"`
	UserID             string          `json:"user_id"`
	Asset              string          `json:"asset"`
	Decimals           int32           `json:"decimals"`
	Deposit            *big.Int        `json:"deposit"`
	ServiceFee         *big.Int        `json:"service_fee"`
	NetworkCostCharged *big.Int        `json:"network_cost_charged"`
	PriceUSD           decimal.Decimal `json:"price_usd"`
	CostPaid
}

// CostPaid is the network cost the exchange paid, in the network's native
// asset, at the quote's price of it; zero when nothing was paid.
type CostPaid struct {
	CostAsset    string          `json:"cost_asset,omitempty"`
	CostDecimals int32           `json:"cost_decimals,omitempty"`
	CostAmount   *big.Int        `json:"cost_amount,omitempty"`
	CostPriceUSD decimal.Decimal `json:"cost_price_usd"`
}

// costPaid is the cost the recovery's transactions paid, priced as the
// quote priced the network cost.
func costPaid(q *fees.Quote, paid *big.Int) CostPaid {
	if paid == nil || paid.Sign() <= 0 || q.NetworkCost == nil {
		return CostPaid{}
	}
	c := CostPaid{CostAsset: q.NetworkCost.Asset, CostDecimals: q.NetworkCost.Decimals, CostAmount: paid, CostPriceUSD: q.Price.Value}
	if q.NativePrice != nil {
		c.CostPriceUSD = q.NativePrice.Value
	}
	return c
}

// RecoveryState is the recovery of a case as users and staff see it.
type RecoveryState struct {
	Method       string       `json:"method"`
	DepositID    string       `json:"deposit_id"`
	HotWallet    string       `json:"hot_wallet,omitempty"`
	Transactions []RecoveryTx `json:"transactions,omitempty"`
	Credit       *Credit      `json:"credit,omitempty"`
	// Batch is the batch the case was recovered in.
	Batch string `json:"batch,omitempty"`
	// Outcome is credit or return; ReturnTo is where a return goes.
	Outcome  string `json:"outcome,omitempty"`
	ReturnTo string `json:"return_to,omitempty"`
	// Failure says why a recovery failed for good.
	Failure string `json:"failure,omitempty"`
}

// RecoveryTx is one recovery transaction on chain.
type RecoveryTx struct {
	Step          string   `json:"step"`
	Network       string   `json:"network"`
	Hash          string   `json:"hash"`
	Confirmations uint64   `json:"confirmations"`
	Required      uint64   `json:"required"`
	Confirmed     bool     `json:"confirmed"`
	Fee           *big.Int `json:"fee,omitempty"`
	// Resent counts the times the transaction was sent again after the
	// network lost it.
	Resent int `json:"resent,omitempty"`
}

// Credit is what the user was credited.
type Credit struct {
	Asset    string          `json:"asset"`
	Decimals int32           `json:"decimals"`
	Net      decimal.Decimal `json:"net"`
	NetBase  *big.Int        `json:"net_base"`
	Fee      decimal.Decimal `json:"fee"`
	// TxHash is the recovery transaction that brought the coins in; ""
	// for an internal credit.
	TxHash string    `json:"tx_hash,omitempty"`
	At     time.Time `json:"at"`
	// ReturnedTo and ReturnTxHash: the net went back on chain to the
	// user's own address, by that transaction.
	ReturnedTo   string `json:"returned_to,omitempty"`
	ReturnTxHash string `json:"return_tx_hash,omitempty"`
}

// ReturnRequest posts a return to the ledger.
type ReturnRequest struct {
	CaseID string    `json:"case_id"`
	At     time.Time `json:"at"`
	CostPaid
}

// recoverChange marks the version in which an approved case is recovered:
// cases approved before it wait for a specialist as they did.
const recoverChange = "recover"

// recover carries out an approved recovery (DESIGN §5): the plan, each
// transaction sent and confirmed, then the ledger credit net of the fee,
// and the case ends credited. A recovery that cannot be carried out ends
// the case as recovery_failed, saying why; no fee is kept, as none was
// taken. Nothing here is undone by a withdrawal: once the recovery starts
// the user can no longer withdraw.
func (c *appeal) recover(ctx workflow.Context) error {
	if c.st.Status != recovery.StatusApproved || c.st.Closed || c.reclass != nil ||
		workflow.GetVersion(ctx, recoverChange, workflow.DefaultVersion, 1) != 1 {
		return nil
	}
	if c.batched {
		return c.recoverInBatch(ctx)
	}
	d := c.st.Diagnosis
	if c.st.Deposit == nil || d == nil || c.st.Quote == nil {
		return c.recoveryFailed(ctx, "the case does not name the deposit or an accepted quote")
	}
	owner := ""
	if d.Owner != nil {
		owner = d.Owner.Entry.UserID
	}
	c.setStatus(ctx, recovery.StatusRecovering)
	depositID := recovery.DepositID(c.st.Network, c.in.TxHash, *c.st.Deposit)
	c.st.Recovery = &RecoveryState{DepositID: depositID}
	req := PlanRequest{CaseID: c.in.AppealID, DepositID: depositID, Network: c.st.Network, Category: c.st.Category,
		TxHash: c.in.TxHash, Deposit: *c.st.Deposit, Owner: owner, Net: c.st.Quote.NetBase}
	switch {
	case c.st.Proof != nil && c.st.Proof.Given:
		req.ReturnTo = c.st.Proof.Address
	case c.st.Tx != nil:
		req.ReturnTo = c.st.Tx.From
	}
	var plan RecoveryPlan
	if err := workflow.ExecuteActivity(sendOptions(ctx), PlanRecoveryActivityName, req).Get(ctx, &plan); err != nil {
		return c.recoveryStopped(ctx, err)
	}
	rs := c.st.Recovery
	rs.Method, rs.HotWallet, rs.Outcome, rs.ReturnTo = plan.Method, plan.HotWallet, plan.Outcome, plan.ReturnTo
	c.event(ctx, "recovery.started", map[string]string{"method": plan.Method})
	paid := new(big.Int)
	for _, ptx := range plan.Txs {
		fee, err := c.sendAndConfirm(ctx, req, ptx, plan.Family)
		if err != nil {
			return c.recoveryStopped(ctx, err)
		}
		paid.Add(paid, fee)
	}
	return c.credit(ctx, depositID, plan, paid)
}

// sendAndConfirm sends one planned transaction and waits until it has the
// network's confirmations, sending the recorded transaction again when
// the network loses it. It returns what the transaction paid its network.
func (c *appeal) sendAndConfirm(ctx workflow.Context, req PlanRequest, ptx PlannedTx, family recovery.Family) (*big.Int, error) {
	var sent SentTx
	send := SendRequest{CaseID: req.CaseID, DepositID: req.DepositID, Owner: req.Owner, Tx: ptx}
	sctx := onFamilyQueue(sendOptions(ctx), family)
	if err := workflow.ExecuteActivity(sctx, SendRecoveryActivityName, send).Get(ctx, &sent); err != nil {
		return nil, err
	}
	rs := c.st.Recovery
	rs.Transactions = append(rs.Transactions, RecoveryTx{Step: ptx.Step, Network: ptx.Network, Hash: sent.Hash})
	i := len(rs.Transactions) - 1
	c.event(ctx, "recovery.sent", map[string]string{"network": ptx.Network, "tx_hash": sent.Hash})
	check := CheckRequest{DepositID: req.DepositID, Step: ptx.Step, Network: ptx.Network, Hash: sent.Hash}
	for {
		var res TxCheck
		if err := workflow.ExecuteActivity(sctx, CheckRecoveryActivityName, check).Get(ctx, &res); err != nil {
			return nil, err
		}
		t := &rs.Transactions[i]
		t.Confirmations, t.Required, t.Fee = res.Confirmations, res.Required, res.Fee
		if res.Resent {
			t.Resent++
			c.event(ctx, "recovery.resent", map[string]string{"tx_hash": sent.Hash})
		}
		switch res.State {
		case TxStateFailed:
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the recovery transaction %s failed on %s", sent.Hash, ptx.Network), ErrRecoveryRefused, nil)
		case TxStateConfirmed:
			t.Confirmed = true
			c.event(ctx, "recovery.confirmed", map[string]string{"tx_hash": sent.Hash, "confirmations": fmt.Sprint(res.Confirmations)})
			if res.Fee != nil {
				return res.Fee, nil
			}
			return ptx.Fee, nil
		}
		// Not final yet: look again after the confirmation poll. Closing
		// the case cannot stop a transaction already sent.
		if err := workflow.Sleep(ctx, max(c.in.Timing.ConfirmationPoll, time.Second)); err != nil {
			return nil, err
		}
	}
}

// credit posts the credit of the recovered deposit, net of the accepted
// quote's fee, and closes the case as credited.
func (c *appeal) credit(ctx workflow.Context, depositID string, plan RecoveryPlan, paid *big.Int) error {
	q := c.st.Quote
	serviceFee, costCharged := chargedLines(q)
	now := workflow.Now(ctx).UTC()
	req := CreditRequest{
		CaseID: c.in.AppealID, DepositID: depositID, At: now, FiledAt: c.in.FiledAt, Network: c.st.Network,
		// The claimant is credited: the diagnosis matched them to the
		// deposit address, or they proved they sent the deposit.
		Category: c.st.Category, UserID: c.in.UserID, Asset: q.Asset, Decimals: q.Decimals,
		Deposit: c.st.Deposit.Amount, ServiceFee: serviceFee, NetworkCostCharged: costCharged, PriceUSD: q.Price.Value,
	}
	req.CostPaid = costPaid(q, paid)
	if c.batched && q.NetworkCost != nil && q.NetworkCost.Asset == q.Asset && costCharged.Cmp(paid) > 0 {
		// The quote charged the cost of a recovery alone, an upper bound:
		// the user pays their share of the batch's.
		req.NetworkCostCharged = new(big.Int).Set(paid)
	}
	if err := workflow.ExecuteActivity(ledgerOptions(ctx), CreditActivityName, req).Get(ctx, nil); err != nil {
		return c.recoveryFailed(ctx, refusalMessage(err))
	}
	netBase := new(big.Int).Sub(req.Deposit, req.ServiceFee)
	netBase.Sub(netBase, req.NetworkCostCharged)
	taken := new(big.Int).Add(req.ServiceFee, req.NetworkCostCharged)
	cr := &Credit{Asset: q.Asset, Decimals: q.Decimals, NetBase: netBase, Net: decimal.NewFromBigInt(netBase, -q.Decimals),
		Fee: decimal.NewFromBigInt(taken, -q.Decimals), At: now}
	if txs := c.st.Recovery.Transactions; len(txs) > 0 {
		cr.TxHash = txs[len(txs)-1].Hash
	}
	if plan.Return != nil {
		if !c.returnNet(ctx, depositID, plan, q) {
			return nil
		}
		txs := c.st.Recovery.Transactions
		cr.ReturnedTo, cr.ReturnTxHash = plan.ReturnTo, txs[len(txs)-1].Hash
	}
	c.st.Recovery.Credit = cr
	c.event(ctx, "recovery.credited", map[string]string{"net": cr.Net.String(), "asset": q.Asset, "tx_hash": cr.TxHash})
	c.setStatus(ctx, recovery.StatusCredited)
	c.st.Closed = true
	m := c.metrics(ctx)
	m.WithTags(map[string]string{"outcome": "credited"}).Counter(obs.Recoveries).Inc(1)
	if !c.in.FiledAt.IsZero() {
		m.Timer(obs.TimeToRecovery).Record(workflow.Now(ctx).Sub(c.in.FiledAt))
	}
	return nil
}

// returnNet sends the net of a credited deposit back to the user's own
// address, and books it. Once it is credited, the deposit is the user's:
// a return that fails for good leaves the credit in place, and the case
// says so (returned false).
func (c *appeal) returnNet(ctx workflow.Context, depositID string, plan RecoveryPlan, q *fees.Quote) bool {
	req := PlanRequest{CaseID: c.in.AppealID, DepositID: depositID, Network: c.st.Network}
	if d := c.st.Diagnosis; d != nil && d.Owner != nil {
		req.Owner = d.Owner.Entry.UserID
	}
	fee, err := c.sendAndConfirm(ctx, req, *plan.Return, plan.Family)
	if err != nil {
		c.recoveryFailed(ctx, "credited to the account, but not sent back: "+refusalMessage(err))
		return false
	}
	ret := ReturnRequest{CaseID: c.in.AppealID, At: workflow.Now(ctx).UTC(), CostPaid: costPaid(q, fee)}
	if err := workflow.ExecuteActivity(ledgerOptions(ctx), ReturnActivityName, ret).Get(ctx, nil); err != nil {
		c.recoveryFailed(ctx, "sent back, but not booked: "+refusalMessage(err))
		return false
	}
	txs := c.st.Recovery.Transactions
	c.event(ctx, "recovery.returned", map[string]string{"net": q.Net.String(), "asset": q.Asset, "to": plan.ReturnTo, "tx_hash": txs[len(txs)-1].Hash})
	return true
}

// chargedLines splits the quote's charged lines into the service fee and
// the network cost passed on, in base units of the deposit's asset.
func chargedLines(q *fees.Quote) (serviceFee, networkCost *big.Int) {
	serviceFee, networkCost = new(big.Int), new(big.Int)
	for _, l := range q.Lines {
		if !l.Charged || l.Base == nil {
			continue
		}
		switch l.Kind {
		case fees.LineServiceFee:
			serviceFee.Add(serviceFee, l.Base)
		case fees.LineNetworkCost:
			networkCost.Add(networkCost, l.Base)
		}
	}
	return serviceFee, networkCost
}

// recoveryStopped ends a recovery an activity refused: a deposit the
// exchange's records show credited meanwhile closes as already credited,
// anything else as a failed recovery.
func (c *appeal) recoveryStopped(ctx workflow.Context, err error) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrDepositCredited {
		return c.recoveryFailed(ctx, refusalMessage(err))
	}
	if c.st.Recovery == nil {
		c.st.Recovery = &RecoveryState{}
	}
	c.st.Recovery.Failure = app.Message()
	c.setCategory(ctx, recovery.CategoryAlreadyCredited)
	c.event(ctx, "recovery.already_credited", map[string]string{"reason": app.Message()})
	c.setStatus(ctx, recovery.StatusNotRecoverable)
	c.st.Closed = true
	c.metrics(ctx).WithTags(map[string]string{"outcome": "already_credited"}).Counter(obs.Recoveries).Inc(1)
	return nil
}

// recoveryFailed ends a recovery that cannot be carried out, saying why.
// No fee was taken, so none is kept.
func (c *appeal) recoveryFailed(ctx workflow.Context, why string) error {
	if c.st.Recovery == nil {
		c.st.Recovery = &RecoveryState{}
	}
	c.st.Recovery.Failure = why
	c.event(ctx, "recovery.failed", map[string]string{"reason": why})
	c.setStatus(ctx, recovery.StatusRecoveryFailed)
	c.st.Closed = true
	c.metrics(ctx).WithTags(map[string]string{"outcome": "failed"}).Counter(obs.Recoveries).Inc(1)
	return nil
}

// refusalMessage is the message of an activity's refusal, for the case:
// an application error's own message, without the SDK's wrapping.
func refusalMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return "the recovery could not be completed in time: " + err.Error()
}

// familyQueueChange marks the version in which the transactions of a
// recovery or a batch are sent and followed on their family's task queue;
// before it, on TaskQueue with every other step.
const familyQueueChange = "family-queues"

// FamilyQueues are the chain families whose recoveries send transactions,
// each on a task queue of its own.
var FamilyQueues = []recovery.Family{recovery.FamilyEVM, recovery.FamilyUTXO}

// FamilyTaskQueue is the task queue a family's recovery transactions are
// sent and followed on ("recovery.evm"): a worker serves the families its
// configuration names (worker_families), so that the workers that hold a
// family's nodes and keys send its transactions, and a family whose nodes
// are slow takes no other family's workers.
func FamilyTaskQueue(f recovery.Family) string { return TaskQueue + "." + string(f) }

// onFamilyQueue sends the activities of ctx to the family's task queue
// (a plan without a family stays on TaskQueue).
func onFamilyQueue(ctx workflow.Context, f recovery.Family) workflow.Context {
	if f == "" || workflow.GetVersion(ctx, familyQueueChange, workflow.DefaultVersion, 1) != 1 {
		return ctx
	}
	return workflow.WithTaskQueue(ctx, FamilyTaskQueue(f))
}

// sendOptions are the options of sending a recovery transaction and
// following it: once money may be on its way the engine never gives up on
// it, so a node or signer outage is retried with backoff for as long as it
// lasts (the case shows recovering meanwhile); only a refusal is final.
func sendOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Each attempt is short (a few node calls and a signature); a
		// worker that died in one is noticed after this long.
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: []string{recovery.InvalidInput, ErrRecoveryRefused},
		},
	})
}

// ledgerOptions are the options of the ledger credit: retried with backoff
// until the ledger answers, for as long as it takes; a refusal of the
// credit is final.
func ledgerOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: []string{recovery.InvalidInput, ErrAlreadyCredited},
		},
	})
}
