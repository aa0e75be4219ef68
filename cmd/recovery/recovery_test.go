package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/harness"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/internal/temporaldev"
	"github.com/misdeposit/recovery/ledger"
	"github.com/misdeposit/recovery/signer"
	"github.com/misdeposit/recovery/workflows"
)

// nodeOutage is how long TestRecoveryWaitsOutANodeOutage keeps the bsc
// node down while the recovery transaction gathers its confirmations.
const nodeOutage = 60 * time.Second

// recoveryEngine is the engine as `recovery worker` runs it, in-process:
// an embedded Temporal, a worker with the dev keystore signer and a ledger
// file, over the real nodes of a harness. The test drives the cases as the
// API would, with its own Temporal client.
type recoveryEngine struct {
	h          *harness.Harness
	reg        *chains.Registry
	dir        string
	c          client.Client
	temporal   string // the frontend's address
	book       *addressbook.Store
	ledgerPath string
	log        *slog.Logger
	w          *recoveryWorker
}

// recoveryWorker is one worker process: its own Temporal client, node
// pools, signer and ledger handle.
type recoveryWorker struct {
	c      client.Client
	w      *engineWorker
	ledger *ledger.Store
	cancel context.CancelFunc
}

// startRecoveryEngine starts Temporal and a worker over reg (the harness's
// registry, or one with a network pointed elsewhere) with the address book
// entries given.
func startRecoveryEngine(t *testing.T, h *harness.Harness, reg *chains.Registry, entries []addressbook.Entry) *recoveryEngine {
	t.Helper()
	ctx := context.Background()
	e := &recoveryEngine{h: h, reg: reg, dir: t.TempDir(),
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	e.ledgerPath = filepath.Join(e.dir, "ledger.db")
	port, _ := strconv.Atoi(freePort(t))
	srv, err := temporaldev.Start(temporaldev.Options{
		DatabaseFile: filepath.Join(e.dir, "temporal.db"), FrontendPort: port, Namespace: "default",
		SearchAttributes: workflows.SearchAttributes(), LogLevel: "error", Logger: e.log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	e.temporal = srv.FrontendAddress()
	if e.c, err = client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default", Logger: quietLogger{}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.c.Close)
	if e.book, err = addressbook.Open(ctx, filepath.Join(e.dir, "addressbook.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.book.Close() })
	if err := e.book.Upsert(ctx, entries, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	e.startWorker(t)
	t.Cleanup(func() {
		if e.w != nil {
			e.stopWorker()
		}
	})
	return e
}

// startWorker starts a worker as a new process would: a new client, new
// node pools, the signer on the same keystore, the ledger file opened
// again.
func (e *recoveryEngine) startWorker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &recoveryWorker{cancel: cancel}
	var err error
	if w.c, err = client.Dial(client.Options{HostPort: e.temporal, Namespace: "default", Logger: quietLogger{}}); err != nil {
		t.Fatal(err)
	}
	if w.ledger, err = ledger.Open(ctx, e.ledgerPath); err != nil {
		t.Fatal(err)
	}
	lookups, quoting, err := buildLookups(ctx, e.reg, e.log)
	if err != nil {
		t.Fatal(err)
	}
	acts := newActivities(w.c, config.Config{Namespace: "default"}, e.reg, chains.NewScanner(e.reg, lookups), quoting,
		e.book, fees.DevPrices(), signer.NewKeystore(e.h.Keystore()), w.ledger)
	w.w = newWorker(w.c, acts, workflows.FamilyQueues)
	if err := w.w.Start(); err != nil {
		t.Fatal(err)
	}
	e.w = w
}

// stopWorker stops the worker and closes everything it opened.
func (e *recoveryEngine) stopWorker() {
	e.w.w.Stop()
	e.w.c.Close()
	e.w.cancel()
	e.w.ledger.Close()
	e.w = nil
}

// fastTiming is the public networks' timing with the waits of a test.
func fastTiming() workflows.Timing {
	tm := workflows.DefaultTiming()
	tm.NotFoundRechecks = []time.Duration{time.Second, 2 * time.Second}
	tm.ConfirmationPoll = time.Second
	return tm
}

// file starts the case of a deposit as the API does, under the deposit's
// id, and returns that id.
func (e *recoveryEngine) file(ctx context.Context, t *testing.T, network, txHash, to, user string, index string) string {
	t.Helper()
	hash, err := chains.ParseTxHash(txHash)
	if err != nil {
		t.Fatal(err)
	}
	in := workflows.AppealInput{
		AppealID: network + "." + hash + "." + index, Network: network, TxHash: hash, ToAddress: to, UserID: user,
		FiledAt: time.Now().UTC(), Timing: fastTiming(),
	}
	_, err = e.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: in.AppealID, TaskQueue: workflows.TaskQueue, TypedSearchAttributes: workflows.InitialSearchAttributes(network),
	}, workflows.AppealWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	return in.AppealID
}

func (e *recoveryEngine) state(ctx context.Context, t *testing.T, id string) workflows.AppealState {
	t.Helper()
	v, err := e.c.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
	if err != nil {
		t.Fatalf("%s: status: %v", id, err)
	}
	var st workflows.AppealState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitState polls a case until done says so. A case that ends otherwise
// (a failed recovery, a refusal) fails the test at once, saying why.
func (e *recoveryEngine) waitState(ctx context.Context, t *testing.T, id, what string, done func(workflows.AppealState) bool) workflows.AppealState {
	t.Helper()
	var st workflows.AppealState
	for {
		v, err := e.c.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
		if err == nil && v.Get(&st) == nil {
			if done(st) {
				return st
			}
			if st.Closed {
				t.Fatalf("%s closed as %s (%s) before it %s; recovery %+v; timeline %+v", id, st.Status, st.Category, what, st.Recovery, st.Timeline)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never %s; last seen status %s, recovery %+v (last error %v)", id, what, st.Status, st.Recovery, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (e *recoveryEngine) update(ctx context.Context, t *testing.T, id, name string, arg any) workflows.AppealState {
	t.Helper()
	h, err := e.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		t.Fatalf("%s: %s: %v", id, name, err)
	}
	var st workflows.AppealState
	if err := h.Get(ctx, &st); err != nil {
		t.Fatalf("%s: %s: %v", id, name, err)
	}
	return st
}

// approve takes a case from its quote to its last sign-off: the user
// accepts the quote, then one person of each team the decision names
// signs. It returns the case as quoted and when the last sign-off was
// answered.
func (e *recoveryEngine) approve(ctx context.Context, t *testing.T, id, category string) (workflows.AppealState, time.Time) {
	t.Helper()
	st := e.waitState(ctx, t, id, "was quoted", func(st workflows.AppealState) bool { return st.Status == recovery.StatusAwaitingAcceptance })
	if st.Category != category || st.Quote == nil || st.Decision == nil {
		t.Fatalf("%s: diagnosed %s, quote %+v, decision %+v; want %s", id, st.Category, st.Quote, st.Decision, category)
	}
	quoted := st
	st = e.update(ctx, t, id, workflows.QuoteUpdate, workflows.QuoteAnswer{QuoteID: st.Quote.ID, Accept: true})
	if st.Status != recovery.StatusAwaitingSignoffs || len(st.Decision.Signoffs) == 0 {
		t.Fatalf("%s: after accepting the quote: status %s, sign-offs %v", id, st.Status, st.Decision.Signoffs)
	}
	for _, team := range st.Decision.Signoffs {
		by := workflows.Actor{Person: "signer-of-" + string(team), Roles: []string{string(team)}}
		st = e.update(ctx, t, id, workflows.SignoffUpdate, workflows.SignoffRequest{By: by, Team: team, Approve: true})
	}
	return quoted, time.Now()
}

// waitSent waits until the case has sent its recovery transaction and
// returns its hash.
func (e *recoveryEngine) waitSent(ctx context.Context, t *testing.T, id string) string {
	t.Helper()
	st := e.waitState(ctx, t, id, "sent its recovery transaction", func(st workflows.AppealState) bool {
		return st.Recovery != nil && len(st.Recovery.Transactions) > 0 && st.Recovery.Transactions[0].Hash != ""
	})
	return st.Recovery.Transactions[0].Hash
}

func (e *recoveryEngine) waitCredited(ctx context.Context, t *testing.T, id string) workflows.AppealState {
	t.Helper()
	return e.waitState(ctx, t, id, "was credited", func(st workflows.AppealState) bool { return st.Status == recovery.StatusCredited })
}

// hotWallet is the address of a network's hot wallet, from the signer.
func (e *recoveryEngine) hotWallet(ctx context.Context, t *testing.T, network string) string {
	t.Helper()
	n, _ := e.reg.Get(network)
	a, err := signer.Address(ctx, signer.NewKeystore(e.h.Keystore()), signer.Key{Use: signer.UseHot, Family: n.Family, Owner: network}, n)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// confirm waits until a node has the transaction, then mines the blocks
// it still lacks of its network's confirmations: the harness chains make
// blocks only when asked.
func confirm(ctx context.Context, t *testing.T, l chains.Lookup, mine func(context.Context, int) error, hash string) {
	t.Helper()
	for {
		tx, err := l.LookupTx(ctx, hash)
		if err == nil {
			if missing := int(tx.Required) - int(tx.Confirmations); missing > 0 {
				if err := mine(ctx, missing); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the node never had %s: %v", hash, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e *recoveryEngine) mine(network string) func(context.Context, int) error {
	n, _ := e.reg.Get(network)
	if n.Family == recovery.FamilyEVM {
		return e.h.EVM(network).Mine
	}
	return func(ctx context.Context, blocks int) error { return e.h.UTXO(network).Generate(ctx, uint32(blocks)) }
}

// checkCreditedOnce checks a credited case against the ledger: one
// recovery transaction, the one recorded before it was sent, one credit
// entry for the deposit, the user credited the quote's net and the hot
// wallet debited the whole deposit. resent is how many times the network
// lost the transaction and it was sent again. It returns the network cost
// the ledger says the exchange paid.
func (e *recoveryEngine) checkCreditedOnce(ctx context.Context, t *testing.T, st workflows.AppealState, sentHash string, resent int) *big.Int {
	t.Helper()
	r := st.Recovery
	if st.Status != recovery.StatusCredited || !st.Closed || r == nil || len(r.Transactions) != 1 {
		t.Fatalf("%s: status %s, recovery %+v: want credited with one transaction", st.AppealID, st.Status, r)
	}
	tx := r.Transactions[0]
	if tx.Hash != sentHash || !tx.Confirmed || tx.Confirmations < tx.Required || tx.Required == 0 {
		t.Fatalf("%s: recovery transaction %+v, want %s confirmed", st.AppealID, tx, sentHash)
	}
	if tx.Resent != resent {
		t.Fatalf("%s: the recovery transaction was sent again %d times, want %d", st.AppealID, tx.Resent, resent)
	}
	if r.Credit == nil || r.Credit.TxHash != sentHash || r.Credit.NetBase.Cmp(st.Quote.NetBase) != 0 {
		t.Fatalf("%s: credit %+v, want the quote's net %s by %s", st.AppealID, r.Credit, st.Quote.NetBase, sentHash)
	}
	journal := e.w.ledger
	holder, ok, err := journal.CreditOf(ctx, r.DepositID)
	if err != nil || !ok || holder != st.AppealID {
		t.Fatalf("%s: the ledger credits deposit %s to %q (%v, %v)", st.AppealID, r.DepositID, holder, ok, err)
	}
	sd, ok, err := journal.Sent(ctx, r.DepositID, tx.Step)
	if err != nil || !ok || sd.Hash != sentHash {
		t.Fatalf("%s: the ledger recorded %+v (%v, %v), want %s", st.AppealID, sd.Hash, ok, err, sentHash)
	}
	lines, err := journal.CaseLines(ctx, st.AppealID)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[int64]bool{}
	paid := new(big.Int)
	var user, hotIn *big.Int
	for _, l := range lines {
		entries[l.EntryID] = true
		if l.Step != ledger.StepCredit {
			t.Errorf("%s: ledger line of step %s", st.AppealID, l.Step)
		}
		switch {
		case l.Account == ledger.UserAccount(st.UserID):
			user = l.Credit
		case l.Account == ledger.AccountHotWallet && l.Debit.Sign() > 0:
			hotIn = l.Debit
		case l.Account == ledger.AccountNetworkCost:
			paid.Add(paid, l.Debit)
		}
	}
	if len(entries) != 1 || user == nil || user.Cmp(st.Quote.NetBase) != 0 || hotIn == nil || hotIn.Cmp(st.Deposit.Amount) != 0 {
		t.Fatalf("%s: %d ledger entries, user credited %v (quote net %s), hot wallet debited %v (deposit %s)",
			st.AppealID, len(entries), user, st.Quote.NetBase, hotIn, st.Deposit.Amount)
	}
	if paid.Sign() <= 0 {
		t.Fatalf("%s: the ledger shows no network cost paid", st.AppealID)
	}
	return paid
}

// evmSweep is what an EVM deposit address and its network's hot wallet
// hold before a sweep.
type evmSweep struct {
	c        *ethclient.Client
	from, to common.Address
	hotStart *big.Int
}

func startEVMSweep(ctx context.Context, t *testing.T, url, from, hot string) *evmSweep {
	t.Helper()
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	s := &evmSweep{c: c, from: common.HexToAddress(from), to: common.HexToAddress(hot)}
	if s.hotStart, err = c.BalanceAt(ctx, s.to, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// check checks on the node that the deposit left its address in one plain
// transfer, signed with the deposit key (nonce 0, the address's only
// transaction), and that the hot wallet received exactly the deposit less
// that transfer's gas; the ledger's network cost is that gas.
func (s *evmSweep) check(ctx context.Context, t *testing.T, hash string, deposit, paid *big.Int) {
	t.Helper()
	h := common.HexToHash(hash)
	tx, pending, err := s.c.TransactionByHash(ctx, h)
	if err != nil || pending {
		t.Fatalf("recovery transaction %s: pending %v, %v", hash, pending, err)
	}
	receipt, err := s.c.TransactionReceipt(ctx, h)
	if err != nil || receipt.Status != 1 || receipt.GasUsed != evm.TransferGas {
		t.Fatalf("recovery transaction %s: receipt %+v, %v", hash, receipt, err)
	}
	gas := new(big.Int).Mul(tx.GasPrice(), big.NewInt(int64(evm.TransferGas)))
	want := new(big.Int).Sub(deposit, gas)
	if tx.To() == nil || *tx.To() != s.to || tx.Value().Cmp(want) != 0 || tx.Nonce() != 0 {
		t.Fatalf("recovery transaction %s: to %v value %s nonce %d; want %s value %s nonce 0", hash, tx.To(), tx.Value(), tx.Nonce(), s.to, want)
	}
	hot, err := s.c.BalanceAt(ctx, s.to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := new(big.Int).Sub(hot, s.hotStart); got.Cmp(want) != 0 {
		t.Fatalf("the hot wallet grew by %s wei, want the deposit %s less 21000 × %s wei = %s", got, deposit, tx.GasPrice(), want)
	}
	left, err := s.c.BalanceAt(ctx, s.from, nil)
	if err != nil || left.Sign() != 0 {
		t.Fatalf("the deposit address still holds %v wei (%v)", left, err)
	}
	if nonce, err := s.c.NonceAt(ctx, s.from, nil); err != nil || nonce != 1 {
		t.Fatalf("the deposit address sent %d transactions (%v), want 1", nonce, err)
	}
	if paid.Cmp(gas) != 0 {
		t.Fatalf("the ledger says the exchange paid %s wei, the transaction paid %s", paid, gas)
	}
}

// checkUTXOSpend checks on the node that the deposit's output was spent by
// the recovery transaction, whose one output pays the hot wallet the
// deposit less the network cost the ledger shows.
func checkUTXOSpend(ctx context.Context, t *testing.T, reg *chains.Registry, l chains.Lookup, network, hot, depositTx string, index uint32, hash string, deposit, paid *big.Int) {
	t.Helper()
	reader, ok := l.(chains.OutputReader)
	if !ok {
		t.Fatalf("the %s adapter reads no outputs", network)
	}
	spent, err := reader.Output(ctx, depositTx, index)
	if err != nil || spent.Unspent {
		t.Fatalf("deposit output %s:%d: unspent %v, %v", depositTx, index, spent.Unspent, err)
	}
	out, err := reader.Output(ctx, hash, 0)
	if err != nil {
		t.Fatalf("recovery output %s:0: %v", hash, err)
	}
	n, _ := reg.Get(network)
	params, err := utxo.ParamsFor(n.Params)
	if err != nil {
		t.Fatal(err)
	}
	to, err := utxo.DecodeAddress(params, hot)
	if err != nil {
		t.Fatal(err)
	}
	script, err := to.Script()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Script, script) || !out.Unspent {
		t.Fatalf("recovery output %s:0 pays %x (unspent %v), not the hot wallet %s", hash, out.Script, out.Unspent, hot)
	}
	if got := new(big.Int).Add(big.NewInt(out.Amount), paid); got.Cmp(deposit) != 0 {
		t.Fatalf("recovery output %d sat + network cost %s sat = %s, want the deposit %s", out.Amount, paid, got, deposit)
	}
	if _, err := reader.Output(ctx, hash, 1); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("the recovery transaction has a second output (%v): it should pay the hot wallet only", err)
	}
}

func entry(t *testing.T, h *harness.Harness, user, network, status string) addressbook.Entry {
	t.Helper()
	d, err := h.DepositAddress(user, network)
	if err != nil {
		t.Fatal(err)
	}
	return addressbook.Entry{Network: network, Address: d.Address, UserID: user, Status: status, PubKeyHash: d.PubKeyHash}
}

// Each recoverable category on real local chains, from the appeal to the
// credit: the user accepts the quote, the teams sign off, the engine sweeps
// or spends the deposit to the network's hot wallet with the deposit key,
// follows the transaction to its confirmations and credits the user once;
// the fee report counts each recovery once.
func TestRecoveryOfEachCategoryIsCreditedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal and the harness chains")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := harness.Start(t)
	f := h.Fixtures()
	e := startRecoveryEngine(t, h, h.Registry(), []addressbook.Entry{
		entry(t, h, "carol", "eth", addressbook.Active),
		entry(t, h, "dave", "btc", addressbook.Active),
		// alice's eth address was retired after she was paid to it.
		entry(t, h, "alice", "eth", addressbook.Retired),
	})
	start := time.Now()

	t.Run("cases", func(t *testing.T) {
		evmCase := func(name string, fx harness.Fixture, category string) {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				id := e.file(ctx, t, fx.Network, fx.TxHash, fx.To, fx.UserID, "v")
				hot := e.hotWallet(ctx, t, fx.Network)
				sweep := startEVMSweep(ctx, t, h.EVM(fx.Network).URL(), fx.To, hot)
				_, signed := e.approve(ctx, t, id, category)
				hash := e.waitSent(ctx, t, id)
				confirm(ctx, t, h.Lookups()[fx.Network], e.mine(fx.Network), hash)
				st := e.waitCredited(ctx, t, id)
				t.Logf("%s on %s: from the last sign-off to the credit in %s", category, fx.Network, time.Since(signed).Round(time.Millisecond))
				if st.Recovery.Method != workflows.MethodEVMSweep || st.Recovery.HotWallet != hot {
					t.Fatalf("recovery %+v, want an EVM sweep to %s", st.Recovery, hot)
				}
				paid := e.checkCreditedOnce(ctx, t, st, hash, 0)
				sweep.check(ctx, t, hash, fx.Amount, paid)
			})
		}
		evmCase("wrong_network_evm", f.WrongNetwork, recovery.CategoryWrongNetworkEVM)
		evmCase("retired_address", f.Native, recovery.CategoryRetiredAddress)

		t.Run("cross_chain_utxo", func(t *testing.T) {
			t.Parallel()
			fx := f.CrossChain
			id := e.file(ctx, t, fx.Network, fx.TxHash, fx.To, fx.UserID, "o"+strconv.Itoa(int(fx.Index)))
			hot := e.hotWallet(ctx, t, fx.Network)
			_, signed := e.approve(ctx, t, id, recovery.CategoryCrossChainUTXO)
			hash := e.waitSent(ctx, t, id)
			confirm(ctx, t, h.Lookups()[fx.Network], e.mine(fx.Network), hash)
			st := e.waitCredited(ctx, t, id)
			t.Logf("cross_chain_utxo on ltc: from the last sign-off to the credit in %s", time.Since(signed).Round(time.Millisecond))
			if st.Recovery.Method != workflows.MethodUTXOSpend || st.Recovery.HotWallet != hot {
				t.Fatalf("recovery %+v, want a UTXO spend to %s", st.Recovery, hot)
			}
			paid := e.checkCreditedOnce(ctx, t, st, hash, 0)
			checkUTXOSpend(ctx, t, e.reg, h.Lookups()[fx.Network], fx.Network, hot, fx.TxHash, fx.Index, hash, fx.Amount, paid)
		})
	})
	if t.Failed() {
		return
	}

	// Finance sees each recovery once, under its network.
	report, err := e.w.ledger.FeeReport(ctx, start.Add(-time.Hour), time.Now().Add(time.Hour), ledger.GroupByNetwork)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]int{}
	for _, row := range report.Rows {
		cases[row.Group] = row.Cases
	}
	if report.Total.Cases != 3 || cases["bsc"] != 1 || cases["eth"] != 1 || cases["ltc"] != 1 {
		t.Fatalf("fee report counts %d recoveries, by network %v; want one each on bsc, eth and ltc", report.Total.Cases, cases)
	}
	if !report.Total.FeesChargedUSD.IsPositive() || !report.Total.NetworkCostUSD.IsPositive() || !report.Total.RecoveredUSD.IsPositive() {
		t.Fatalf("fee report total %+v", report.Total)
	}
}

// A reorg takes the block of the recovery transaction away and the node
// forgets the transaction: the engine sends the same signed transaction
// again (same hash, same nonce), never a second one, and credits once.
func TestRecoveryResendsTheSameTransactionWhenAReorgDropsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal and the harness chains")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := harness.Start(t)
	fx := h.Fixtures().WrongNetwork
	e := startRecoveryEngine(t, h, h.Registry(), []addressbook.Entry{entry(t, h, "carol", "eth", addressbook.Active)})
	bsc := h.EVM("bsc")

	id := e.file(ctx, t, fx.Network, fx.TxHash, fx.To, fx.UserID, "v")
	hot := e.hotWallet(ctx, t, "bsc")
	sweep := startEVMSweep(ctx, t, bsc.URL(), fx.To, hot)
	_, signed := e.approve(ctx, t, id, recovery.CategoryWrongNetworkEVM)
	hash := e.waitSent(ctx, t, id)
	// Mined in a block of its own at once; that block is replaced by a
	// heavier branch that does not have it.
	if _, err := sweep.c.TransactionReceipt(ctx, common.HexToHash(hash)); err != nil {
		t.Fatalf("the recovery transaction was not mined: %v", err)
	}
	res, err := bsc.Reorg(ctx, evmnode.ReorgOptions{Depth: 1, DropTxs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Txs) != 1 || res.Txs[0] != common.HexToHash(hash) {
		t.Fatalf("the reorg dropped %v, not the recovery transaction %s", res.Txs, hash)
	}
	st := e.waitState(ctx, t, id, "sent its transaction again", func(st workflows.AppealState) bool {
		return st.Recovery.Transactions[0].Resent >= 1
	})
	if len(st.Recovery.Transactions) != 1 || st.Recovery.Transactions[0].Hash != hash {
		t.Fatalf("after the reorg: %+v, want %s sent again", st.Recovery.Transactions, hash)
	}
	confirm(ctx, t, h.Lookups()["bsc"], bsc.Mine, hash)
	st = e.waitCredited(ctx, t, id)
	t.Logf("wrong_network_evm on bsc with a reorg: from the last sign-off to the credit in %s", time.Since(signed).Round(time.Millisecond))
	// Sent again once: the node had it from then on.
	paid := e.checkCreditedOnce(ctx, t, st, hash, 1)
	sweep.check(ctx, t, hash, fx.Amount, paid)
}

// The worker stops after the recovery transaction is sent and before the
// credit, and the transaction confirms while no worker runs. A new worker
// (new pools, the same keystore and ledger file) follows the same
// transaction and credits once.
func TestRecoveryFinishesOnANewWorkerAfterAStopBetweenBroadcastAndCredit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal and the harness chains")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := harness.Start(t)
	fx := h.Fixtures().CrossChain
	e := startRecoveryEngine(t, h, h.Registry(), []addressbook.Entry{entry(t, h, "dave", "btc", addressbook.Active)})

	id := e.file(ctx, t, fx.Network, fx.TxHash, fx.To, fx.UserID, "o"+strconv.Itoa(int(fx.Index)))
	hot := e.hotWallet(ctx, t, fx.Network)
	_, signed := e.approve(ctx, t, id, recovery.CategoryCrossChainUTXO)
	hash := e.waitSent(ctx, t, id)
	sent := e.state(ctx, t, id)
	e.stopWorker()
	if sent.Status != recovery.StatusRecovering || sent.Recovery.Credit != nil {
		t.Fatalf("when the worker stopped: status %s, recovery %+v", sent.Status, sent.Recovery)
	}
	confirm(ctx, t, h.Lookups()[fx.Network], e.mine(fx.Network), hash)
	// Long enough for the confirmation poll to come due with no worker
	// (no worker answers queries either: the ledger says where it stands).
	time.Sleep(2 * time.Second)
	journal, err := ledger.Open(ctx, e.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	_, credited, err := journal.CreditOf(ctx, sent.Recovery.DepositID)
	journal.Close()
	if err != nil || credited {
		t.Fatalf("with no worker running the deposit is credited: %v %v", credited, err)
	}
	e.startWorker(t)
	st := e.waitCredited(ctx, t, id)
	t.Logf("cross_chain_utxo on ltc with a worker restart: from the last sign-off to the credit in %s", time.Since(signed).Round(time.Millisecond))
	paid := e.checkCreditedOnce(ctx, t, st, hash, 0)
	checkUTXOSpend(ctx, t, e.reg, h.Lookups()[fx.Network], fx.Network, hot, fx.TxHash, fx.Index, hash, fx.Amount, paid)
}

// The bsc node goes down while the recovery transaction gathers its
// confirmations and comes back on the same data directory a minute later:
// the case waits, recovering, and is credited once, by the same
// transaction.
func TestRecoveryWaitsOutANodeOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal and the harness chains")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h := harness.Start(t)
	// The harness's chains live in memory; bsc here is a node of the
	// test's own, on a data directory it can be restarted on, at a fixed
	// address the engine knows it by.
	sender := h.EVMSender()
	ether := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	cfg := evmnode.Config{
		DataDir: t.TempDir(), ChainID: harness.BscChainID, HTTPAddr: "127.0.0.1:" + freePort(t),
		Alloc: map[common.Address]*big.Int{crypto.PubkeyToAddress(sender.PublicKey): new(big.Int).Mul(big.NewInt(1000), ether)},
	}
	node, err := evmnode.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	nets := h.Registry().Networks()
	for i := range nets {
		if nets[i].ID == "bsc" {
			nets[i].RPC = []string{node.URL()}
		}
	}
	reg, err := chains.NewRegistry(nets)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := reg.Get("bsc")
	lookup, err := evm.Dial(ctx, n, node.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer lookup.Close()

	// 0.5 BNB to carol's eth deposit address, final on bsc.
	carol := entry(t, h, "carol", "eth", addressbook.Active)
	c, err := ethclient.DialContext(ctx, node.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deposit := new(big.Int).Div(ether, big.NewInt(2))
	depositHash, err := evmnode.SendValue(ctx, c, sender, common.HexToAddress(carol.Address), deposit)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Mine(ctx, harness.BscConfirmations-1); err != nil {
		t.Fatal(err)
	}

	e := startRecoveryEngine(t, h, reg, []addressbook.Entry{carol})
	id := e.file(ctx, t, "bsc", depositHash.Hex(), carol.Address, "carol", "v")
	hot := e.hotWallet(ctx, t, "bsc")
	sweep := startEVMSweep(ctx, t, node.URL(), carol.Address, hot)
	_, signed := e.approve(ctx, t, id, recovery.CategoryWrongNetworkEVM)
	hash := e.waitSent(ctx, t, id)
	tx, err := lookup.LookupTx(ctx, hash)
	if err != nil || tx.Confirmations != 1 {
		t.Fatalf("the recovery transaction was not mined: %+v, %v", tx, err)
	}

	// Down with one confirmation of three.
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	for time.Since(down) < nodeOutage {
		time.Sleep(5 * time.Second)
		if st := e.state(ctx, t, id); st.Status != recovery.StatusRecovering {
			t.Fatalf("%s into the outage: status %s, recovery %+v", time.Since(down).Round(time.Second), st.Status, st.Recovery)
		}
	}
	if node, err = evmnode.Start(cfg); err != nil {
		t.Fatal(err)
	}
	t.Logf("bsc node down for %s", time.Since(down).Round(time.Millisecond))
	confirm(ctx, t, lookup, node.Mine, hash)
	st := e.waitCredited(ctx, t, id)
	t.Logf("wrong_network_evm on bsc with the node down for %s: from the last sign-off to the credit in %s (%s after the node came back)",
		nodeOutage, time.Since(signed).Round(time.Millisecond), time.Since(down.Add(nodeOutage)).Round(time.Millisecond))
	paid := e.checkCreditedOnce(ctx, t, st, hash, 0)
	sweep.check(ctx, t, hash, deposit, paid)
}

func TestTemporalOnThisMachineIsNotCompressed(t *testing.T) {
	for addr, want := range map[string]client.GrpcCompression{
		"127.0.0.1:7233":           &client.GrpcCompressionNone{},
		"localhost:7233":           &client.GrpcCompressionNone{},
		"[::1]:7233":               &client.GrpcCompressionNone{},
		"temporal:7233":            &client.GrpcCompressionGzip{},
		"10.0.0.5:7233":            &client.GrpcCompressionGzip{},
		"temporal.example.com:443": &client.GrpcCompressionGzip{},
	} {
		if got := compressionFor(addr); fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
			t.Errorf("compressionFor(%q) = %T, want %T", addr, got, want)
		}
	}
}
