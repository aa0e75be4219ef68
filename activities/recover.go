package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/ledger"
	"github.com/misdeposit/recovery/signer"
	"github.com/misdeposit/recovery/workflows"
)

// SendNode is what the recovery asks of one network's nodes (a pool of
// them): the transaction, the state to build from, and the broadcast.
type SendNode interface {
	chains.Lookup
	chains.Broadcaster
	chains.AccountReader
	chains.OutputReader
}

// SendNodes gives the nodes of a network.
type SendNodes interface {
	Node(network string) (SendNode, error)
}

// Journal is the part of the ledger the recovery writes: the signed
// transactions, recorded before they are sent, the nonces they use, and
// the credit.
type Journal interface {
	Sent(ctx context.Context, depositID, step string) (ledger.Send, bool, error)
	ReserveNonce(ctx context.Context, network, address, depositID, step string, next uint64) (uint64, error)
	RecordSend(ctx context.Context, sd ledger.Send) (ledger.Send, error)
	PostRecovery(ctx context.Context, r ledger.Recovery) error
	PostReturn(ctx context.Context, caseID string, at time.Time, cost ledger.NetworkCost) error
}

// The step of a deposit's sweep, the one transaction of a native or UTXO
// recovery.
const stepSweep = "sweep"

// refused is a refusal of the recovery: final, with a reason for the case.
func refused(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), workflows.ErrRecoveryRefused, nil)
}

// PlanRecovery decides how a deposit is recovered and plans its
// transactions from what the nodes say now: the coins of a memo deposit are
// already on the hot address; an EVM deposit is swept from its address, less
// the gas it pays; a UTXO output is spent with the key behind it. It only
// reads: the plan is recorded by the workflow, and sending it is keyed.
func (a *Activities) PlanRecovery(ctx context.Context, req workflows.PlanRequest) (*workflows.RecoveryPlan, error) {
	n, err := a.Registry.Lookup(req.Network)
	if err != nil {
		return nil, refused("%s", recovery.ErrorMessage(err))
	}
	if err := a.notCreditedYet(ctx, req.DepositID); err != nil {
		return nil, err
	}
	if n.Family == recovery.FamilyMemo || req.Category == recovery.CategoryMissingOrWrongMemo {
		return &workflows.RecoveryPlan{Method: workflows.MethodInternalCredit}, nil
	}
	if a.Signer == nil {
		// Retried: the case waits until a worker with a signer takes it.
		return nil, errors.New("this worker has no signer configured")
	}
	if req.Owner == "" {
		return nil, refused("the deposit address belongs to no user in the address book: no key to recover it with")
	}
	node, err := a.Send.Node(n.ID)
	if err != nil {
		return nil, err
	}
	hot, err := signer.Address(ctx, a.Signer, hotKey(n), n)
	if err != nil {
		return nil, keyError(err)
	}
	key := signer.Key{Use: signer.UseDeposit, Family: n.Family, Owner: req.Owner}
	if req.Deposit.Kind == recovery.KindToken {
		if n.Family != recovery.FamilyEVM {
			return nil, refused("token deposits are recovered on EVM networks only")
		}
		return a.planTokenSweep(ctx, node, n, key, hot, req)
	}
	var tx workflows.PlannedTx
	switch n.Family {
	case recovery.FamilyEVM:
		tx, err = a.planSweep(ctx, node, n, key, req)
	case recovery.FamilyUTXO:
		tx, err = a.planSpend(ctx, node, n, key, req)
	default:
		return nil, refused("%s networks have no recovery on chain", n.Family)
	}
	if err != nil {
		return nil, err
	}
	tx.To = hot
	method := workflows.MethodEVMSweep
	if n.Family == recovery.FamilyUTXO {
		method = workflows.MethodUTXOSpend
	}
	return &workflows.RecoveryPlan{Method: method, HotWallet: hot, Txs: []workflows.PlannedTx{tx}, Family: n.Family}, nil
}

func hotKey(n chains.Network) signer.Key {
	return signer.Key{Use: signer.UseHot, Family: n.Family, Owner: n.ID}
}

// keyError turns a signer's refusal into the recovery's; an outage stays
// retryable.
func keyError(err error) error {
	switch recovery.ErrorCode(err) {
	case recovery.EInvalid, recovery.ENotFound:
		return refused("%s", recovery.ErrorMessage(err))
	}
	return err
}

// nodeError turns a node's refusal into the recovery's; an outage stays
// retryable.
func nodeError(err error) error {
	if recovery.ErrorCode(err) == recovery.EInvalid {
		return refused("%s", recovery.ErrorMessage(err))
	}
	return err
}

// notCreditedYet refuses the recovery of a deposit the exchange's deposit
// records show credited (imported while the case was under way).
func (a *Activities) notCreditedYet(ctx context.Context, depositID string) error {
	if a.AddressBook == nil {
		return nil
	}
	parts := strings.Split(depositID, ".")
	if len(parts) != 3 {
		return refused("%q is not a deposit id", depositID)
	}
	c, err := a.AddressBook.Credited(ctx, parts[0], parts[1], parts[2])
	if err != nil || c == nil {
		return err
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the exchange's records show this deposit credited to %s on %s", c.UserID, c.CreditedAt.UTC().Format(time.RFC3339)),
		workflows.ErrDepositCredited, nil)
}

// planSweep plans the sweep of a native EVM deposit: the whole deposit
// leaves its address, the gas out of it, so that the address keeps what
// else it holds. A plain transfer uses exactly evm.TransferGas, so the gas
// paid is known before it is sent.
func (a *Activities) planSweep(ctx context.Context, node SendNode, n chains.Network, key signer.Key, req workflows.PlanRequest) (workflows.PlannedTx, error) {
	from, err := signer.Address(ctx, a.Signer, key, n)
	if err != nil {
		return workflows.PlannedTx{}, keyError(err)
	}
	if !strings.EqualFold(from, req.Deposit.To) {
		return workflows.PlannedTx{}, refused("the deposit key of %s is not the key of %s", req.Owner, req.Deposit.To)
	}
	price, err := node.GasPrice(ctx)
	if err != nil {
		return workflows.PlannedTx{}, nodeError(err)
	}
	fee := new(big.Int).Mul(price, big.NewInt(int64(evm.TransferGas)))
	if req.Deposit.Amount.Cmp(fee) <= 0 {
		return workflows.PlannedTx{}, refused("the deposit (%s wei) does not cover the gas of its recovery (%s wei)", req.Deposit.Amount, fee)
	}
	balance, err := node.Balance(ctx, from)
	if err != nil {
		return workflows.PlannedTx{}, nodeError(err)
	}
	if balance.Cmp(req.Deposit.Amount) < 0 {
		return workflows.PlannedTx{}, refused("%s holds %s wei, less than the deposit of %s wei: it was moved", from, balance, req.Deposit.Amount)
	}
	return workflows.PlannedTx{
		Step: stepSweep, Network: n.ID, Signer: string(signer.UseDeposit), From: from,
		Value: new(big.Int).Sub(req.Deposit.Amount, fee), Gas: evm.TransferGas, GasPrice: price, Fee: fee,
	}, nil
}

// planTokenSweep plans the recovery of an ERC-20 deposit: the hot wallet
// tops the deposit address up with the gas of a token transfer (as far as
// it lacks it), then the deposit address sends the tokens to the hot
// wallet. A token the exchange lists on any network (the same contract)
// is credited; one it lists nowhere is sent back, net of the fee, to the
// address the claimant sent it from, as the decision told the user.
func (a *Activities) planTokenSweep(ctx context.Context, node SendNode, n chains.Network, key signer.Key, hot string, req workflows.PlanRequest) (*workflows.RecoveryPlan, error) {
	from, err := signer.Address(ctx, a.Signer, key, n)
	if err != nil {
		return nil, keyError(err)
	}
	if !strings.EqualFold(from, req.Deposit.To) {
		return nil, refused("the deposit key of %s is not the key of %s", req.Owner, req.Deposit.To)
	}
	price, err := node.GasPrice(ctx)
	if err != nil {
		return nil, nodeError(err)
	}
	sweepGas := new(big.Int).Mul(price, big.NewInt(int64(evm.TokenTransferGas)))
	balance, err := node.Balance(ctx, from)
	if err != nil {
		return nil, nodeError(err)
	}
	plan := &workflows.RecoveryPlan{Method: workflows.MethodTokenSweep, HotWallet: hot, Outcome: workflows.OutcomeCredit, Family: n.Family}
	transferFee := new(big.Int).Mul(price, big.NewInt(int64(evm.TransferGas)))
	if lack := new(big.Int).Sub(sweepGas, balance); lack.Sign() > 0 {
		plan.Txs = append(plan.Txs, workflows.PlannedTx{
			Step: "topup", Network: n.ID, Signer: string(signer.UseHot), From: hot, To: from,
			Value: lack, Gas: evm.TransferGas, GasPrice: price, Fee: transferFee,
		})
	}
	plan.Txs = append(plan.Txs, workflows.PlannedTx{
		Step: stepSweep, Network: n.ID, Signer: string(signer.UseDeposit), From: from, To: hot, Token: req.Deposit.Token,
		Value: req.Deposit.Amount, Gas: evm.TokenTransferGas, GasPrice: price, Fee: sweepGas,
	})
	if a.Registry.ListsToken(req.Deposit.Token) {
		return plan, nil
	}
	if !common.IsHexAddress(req.ReturnTo) {
		return nil, refused("the token is listed on no network, and no address it came from is known to send it back to")
	}
	if req.Net == nil || req.Net.Sign() <= 0 {
		return nil, refused("the fee leaves nothing of the token to send back")
	}
	plan.Outcome, plan.ReturnTo = workflows.OutcomeReturn, common.HexToAddress(req.ReturnTo).Hex()
	plan.Return = &workflows.PlannedTx{
		Step: "return", Network: n.ID, Signer: string(signer.UseHot), From: hot, To: plan.ReturnTo, Token: req.Deposit.Token,
		Value: req.Net, Gas: evm.TokenTransferGas, GasPrice: price, Fee: sweepGas,
	}
	return plan, nil
}

// planSpend plans the spend of a UTXO deposit's output with the key behind
// it, at the network's feerate.
func (a *Activities) planSpend(ctx context.Context, node SendNode, n chains.Network, key signer.Key, req workflows.PlanRequest) (workflows.PlannedTx, error) {
	txid := req.TxHash
	out, err := node.Output(ctx, txid, req.Deposit.Index)
	if err != nil {
		return workflows.PlannedTx{}, nodeError(err)
	}
	if !out.Unspent {
		return workflows.PlannedTx{}, refused("output %d of %s is already spent", req.Deposit.Index, txid)
	}
	pub, err := a.Signer.PublicKey(ctx, key)
	if err != nil {
		return workflows.PlannedTx{}, keyError(err)
	}
	info := utxo.ParseScript(out.Script)
	if (info.Kind != utxo.P2PKH && info.Kind != utxo.P2WPKH) || !bytes.Equal(info.Hash, address.Hash160(pub)) {
		return workflows.PlannedTx{}, refused("output %d of %s pays a %s script that the deposit key of %s does not sign", req.Deposit.Index, txid, info.Kind, req.Owner)
	}
	vsize, err := utxo.SpendVSize(out.Script)
	if err != nil {
		return workflows.PlannedTx{}, nodeError(err)
	}
	cost, err := a.Nodes.NetworkCost(ctx, n.ID, 0)
	if err != nil {
		return workflows.PlannedTx{}, nodeError(err)
	}
	fee := cost.FeeRate.Mul(decimal.NewFromInt(vsize)).Ceil().BigInt()
	if fee.Sign() <= 0 || fee.Cmp(big.NewInt(out.Amount)) >= 0 {
		return workflows.PlannedTx{}, refused("the output (%d sat) does not cover the fee of its recovery (%s sat)", out.Amount, fee)
	}
	return workflows.PlannedTx{
		Step: stepSweep, Network: n.ID, Signer: string(signer.UseDeposit), From: req.Deposit.To,
		Value: new(big.Int).Sub(big.NewInt(out.Amount), fee), Prev: txid, PrevIndex: req.Deposit.Index,
		PrevScript: out.Script, PrevAmount: out.Amount, Fee: fee,
	}, nil
}

// SendRecovery sends one planned recovery transaction exactly once. The
// signed transaction is recorded, under the deposit and the step, before it
// is broadcast; a retry, a restart or a second worker finds the record and
// broadcasts the recorded transaction again, never one of its own. The
// nonce of an EVM transaction is reserved in the ledger first, so that two
// cases sending from one address never take the same one.
func (a *Activities) SendRecovery(ctx context.Context, req workflows.SendRequest) (*workflows.SentTx, error) {
	t := req.Tx
	if a.Ledger == nil {
		// Nothing is sent that is not recorded first; retried until a
		// worker with a ledger takes it.
		return nil, errors.New("this worker has no ledger configured")
	}
	node, err := a.Send.Node(t.Network)
	if err != nil {
		return nil, err
	}
	sd, ok, err := a.Ledger.Sent(ctx, req.DepositID, t.Step)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Nothing is sent for a deposit the exchange's records show
		// credited, even if the record came in after the plan.
		if err := a.notCreditedYet(ctx, req.DepositID); err != nil {
			return nil, err
		}
		if sd, err = a.sign(ctx, node, req); err != nil {
			return nil, err
		}
		if sd, err = a.Ledger.RecordSend(ctx, sd); err != nil {
			return nil, err
		}
	}
	if t.Signer == string(signer.UseHot) {
		if err := hotWalletFunded(ctx, node, t, sd); err != nil {
			return nil, err
		}
	}
	if err := broadcast(ctx, node, sd); err != nil {
		return nil, err
	}
	return &workflows.SentTx{Hash: sd.Hash, Nonce: sd.Nonce}, nil
}

// hotWalletFunded checks that the hot wallet can pay a transaction it
// sends (a gas top-up, a return) before it is broadcast. A wallet short of
// funds is for the operator to fund, not a reason to give the recovery
// up: the error is retried, and the case goes on once the wallet is
// funded.
func hotWalletFunded(ctx context.Context, node SendNode, t workflows.PlannedTx, sd ledger.Send) error {
	if _, err := node.LookupTx(ctx, sd.Hash); err == nil {
		return nil // sent already
	}
	need := new(big.Int).Mul(new(big.Int).SetUint64(t.Gas), t.GasPrice)
	if t.Token == "" {
		need.Add(need, t.Value)
	}
	balance, err := node.Balance(ctx, t.From)
	if err != nil {
		return err
	}
	if balance.Cmp(need) < 0 {
		return fmt.Errorf("the %s hot wallet %s holds %s wei, less than the %s wei the recovery's %s transaction needs: fund it (casectl wallets), and the recovery goes on",
			t.Network, t.From, balance, need, t.Step)
	}
	return nil
}

// sign builds and signs a planned transaction.
func (a *Activities) sign(ctx context.Context, node SendNode, req workflows.SendRequest) (ledger.Send, error) {
	t := req.Tx
	n, err := a.Registry.Lookup(t.Network)
	if err != nil {
		return ledger.Send{}, refused("%s", recovery.ErrorMessage(err))
	}
	if a.Signer == nil {
		return ledger.Send{}, errors.New("this worker has no signer configured")
	}
	key := signer.Key{Use: signer.Use(t.Signer), Family: n.Family, Owner: req.Owner}
	if key.Use == signer.UseHot {
		key = hotKey(n)
	}
	sd := ledger.Send{DepositID: req.DepositID, Step: t.Step, CaseID: req.CaseID, Network: n.ID, From: t.From}
	switch n.Family {
	case recovery.FamilyEVM:
		if !common.IsHexAddress(t.To) {
			return ledger.Send{}, refused("the recipient %q is not an EVM address", t.To)
		}
		to, value, data := common.HexToAddress(t.To), t.Value, []byte(nil)
		if t.Token != "" {
			if !common.IsHexAddress(t.Token) {
				return ledger.Send{}, refused("the token %q is not an EVM address", t.Token)
			}
			to, value, data = common.HexToAddress(t.Token), new(big.Int), evm.TokenTransferData(common.HexToAddress(t.To), t.Value)
		}
		next, err := node.PendingNonce(ctx, t.From)
		if err != nil {
			return ledger.Send{}, nodeError(err)
		}
		nonce, err := a.Ledger.ReserveNonce(ctx, n.ID, t.From, req.DepositID, t.Step, next)
		if err != nil {
			return ledger.Send{}, err
		}
		tx := evm.NewTransfer(n.ChainID, nonce, to, value, t.Gas, t.GasPrice, data)
		sig, err := a.Signer.Sign(ctx, key, evm.SigningHash(n.ChainID, tx))
		if err != nil {
			return ledger.Send{}, keyError(err)
		}
		signed, err := evm.WithSignature(n.ChainID, tx, sig)
		if err != nil {
			return ledger.Send{}, err
		}
		if sd.Raw, err = signed.MarshalBinary(); err != nil {
			return ledger.Send{}, err
		}
		sd.Hash, sd.Nonce = signed.Hash().Hex(), &nonce
	case recovery.FamilyUTXO:
		// A spend of one output is a sweep of one input.
		signed, err := a.signSweep(ctx, workflows.PlannedSweep{Network: n.ID, To: t.To, Fee: t.Fee, Inputs: []workflows.PlannedInput{
			{CaseID: req.CaseID, DepositID: req.DepositID, Owner: req.Owner, Address: t.From, TxID: t.Prev, Index: t.PrevIndex, Script: t.PrevScript, Amount: t.PrevAmount},
		}})
		if err != nil {
			return ledger.Send{}, err
		}
		sd.Raw, sd.Hash = signed.Raw, signed.Hash
	default:
		return ledger.Send{}, refused("%s networks have no recovery on chain", n.Family)
	}
	return sd, nil
}

// outputScript is the output script paying addr, an address of the UTXO
// network n (a hot wallet's).
func outputScript(n chains.Network, addr string) ([]byte, error) {
	params, err := utxo.ParamsFor(n.Params)
	if err != nil {
		return nil, refused("%v", err)
	}
	to, err := utxo.DecodeAddress(params, addr)
	if err != nil {
		return nil, refused("the hot wallet address %q: %s", addr, recovery.ErrorMessage(err))
	}
	script, err := to.Script()
	if err != nil {
		return nil, refused("the hot wallet address %q: %v", addr, err)
	}
	return script, nil
}

// broadcast sends a recorded transaction. A node's refusal of a
// transaction it already has mined is no refusal: it is asked for the hash
// first.
func broadcast(ctx context.Context, node SendNode, sd ledger.Send) error {
	_, err := node.Broadcast(ctx, sd.Raw)
	if recovery.ErrorCode(err) != recovery.EInvalid {
		return err
	}
	if _, lerr := node.LookupTx(ctx, sd.Hash); lerr == nil {
		return nil
	}
	return refused("the network refused the recovery transaction %s: %s", sd.Hash, recovery.ErrorMessage(err))
}

// CheckRecovery says where a sent recovery transaction stands. A
// transaction the network no longer knows (dropped from the pools, or
// reorged out and lost) is sent again as recorded, with the same nonce or
// inputs, so that it can never be replaced by a second one.
func (a *Activities) CheckRecovery(ctx context.Context, req workflows.CheckRequest) (*workflows.TxCheck, error) {
	if a.Ledger == nil {
		return nil, errors.New("this worker has no ledger configured")
	}
	node, err := a.Send.Node(req.Network)
	if err != nil {
		return nil, err
	}
	tx, err := node.LookupTx(ctx, req.Hash)
	if recovery.ErrorCode(err) == recovery.ENotFound {
		sd, ok, serr := a.Ledger.Sent(ctx, req.DepositID, req.Step)
		if serr != nil {
			return nil, serr
		}
		if !ok || sd.Hash != req.Hash {
			return nil, refused("no recorded transaction %s for %s %s", req.Hash, req.DepositID, req.Step)
		}
		if err := broadcast(ctx, node, sd); err != nil {
			return nil, err
		}
		return &workflows.TxCheck{State: workflows.TxStatePending, Resent: true}, nil
	}
	if err != nil {
		return nil, err
	}
	res := &workflows.TxCheck{State: workflows.TxStatePending, Confirmations: tx.Confirmations, Required: tx.Required, Fee: tx.Fee}
	switch {
	case tx.Status == recovery.TxFailed:
		res.State = workflows.TxStateFailed
	case tx.Final():
		res.State = workflows.TxStateConfirmed
	}
	return res, nil
}

// CreditRecovery posts the credit of a recovered deposit, net of the fee,
// to the ledger. It is keyed by the case and by the deposit: a retry finds
// the credit posted, and a second case of the same deposit is refused.
func (a *Activities) CreditRecovery(ctx context.Context, req workflows.CreditRequest) error {
	if a.Ledger == nil {
		return errors.New("this worker has no ledger configured")
	}
	r := ledger.Recovery{
		CaseID: req.CaseID, DepositID: req.DepositID, Step: ledger.StepCredit, At: req.At, FiledAt: req.FiledAt,
		Network: req.Network, Category: req.Category, Asset: req.Asset, Decimals: req.Decimals, Deposit: req.Deposit,
		ServiceFee: req.ServiceFee, NetworkCostCharged: req.NetworkCostCharged, UserID: req.UserID, PriceUSD: req.PriceUSD,
		NetworkCostPaid: ledger.NetworkCost{Asset: req.CostAsset, Decimals: req.CostDecimals, Amount: req.CostAmount, PriceUSD: req.CostPriceUSD},
	}
	err := a.Ledger.PostRecovery(ctx, r)
	switch recovery.ErrorCode(err) {
	case "":
		return nil
	case recovery.EConflict:
		return temporal.NewNonRetryableApplicationError(recovery.ErrorMessage(err), workflows.ErrAlreadyCredited, nil)
	case recovery.EInvalid:
		return temporal.NewNonRetryableApplicationError(recovery.ErrorMessage(err), recovery.InvalidInput, nil)
	}
	return err
}

// PostReturn books the net of a credit sent back on chain to the user's
// own address, once per case.
func (a *Activities) PostReturn(ctx context.Context, req workflows.ReturnRequest) error {
	if a.Ledger == nil {
		return errors.New("this worker has no ledger configured")
	}
	err := a.Ledger.PostReturn(ctx, req.CaseID, req.At, ledger.NetworkCost{Asset: req.CostAsset, Decimals: req.CostDecimals, Amount: req.CostAmount, PriceUSD: req.CostPriceUSD})
	if recovery.ErrorCode(err) == recovery.EInvalid || recovery.ErrorCode(err) == recovery.ENotFound {
		return temporal.NewNonRetryableApplicationError(recovery.ErrorMessage(err), recovery.InvalidInput, nil)
	}
	return err
}
