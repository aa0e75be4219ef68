package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	apipkg "github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/devchain"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/keystore"
	"github.com/misdeposit/recovery/internal/nodetest"
	"github.com/misdeposit/recovery/internal/payloadcodec"
	"github.com/misdeposit/recovery/internal/pgtest"
	"github.com/misdeposit/recovery/ledger"
	"github.com/misdeposit/recovery/workflows"
)

// TestMain stops the throw-away PostgreSQL cluster once the tests that
// asked for one have run.
func TestMain(m *testing.M) { pgtest.Main(m) }

// TestProductionStackSurvivesAWorkerKilledMidRecovery runs the stack
// docker-compose.yml describes as separate processes on one machine: a
// Temporal server standing alone, two `recovery worker` processes and one
// `recovery api`, from the built binary, sharing nothing but Temporal, one
// PostgreSQL database (the address book and the ledger, as compose's
// `recovery` database) and the keystore directory. Users' wrong-network
// deposits (BNB sent on bsc to their eth deposit addresses) are appealed
// through the API, quoted, accepted and signed off by two people of two
// teams; as soon as a worker holds a recovery (an activity of it running,
// or its transaction sent), that worker is killed with SIGKILL, and the
// other finishes every case. Nothing is lost and nothing done twice: every
// case ends credited, each deposit address sent exactly one transaction
// (the one the ledger recorded before it was broadcast), the hot wallet
// received exactly the deposits less the gas, and the ledger in PostgreSQL
// holds one credit per deposit. The cases run on production timing: a
// recovery transaction is looked at again a minute after it was sent.
func TestProductionStackSurvivesAWorkerKilledMidRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the recovery binary and runs Temporal, PostgreSQL, two local chains and three recovery processes")
	}
	const cases = 6
	began := time.Now()
	// Skips here, before anything is built, where PostgreSQL is not
	// installed (fails when CI is set).
	db := pgtest.Database(t)
	bin := buildRecovery(t)

	srv := standaloneTemporal(t)
	tc, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default", Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)

	faucet, faucetAddr := nodetest.Key(t)
	ether := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	ethNode, _ := nodetest.EVM(t, evmnode.Config{ChainID: devchain.EthChainID})
	// A block a second, so that the recovery transactions gather their
	// confirmations with nothing else sent.
	bscNode, bsc := nodetest.EVM(t, evmnode.Config{ChainID: devchain.BscChainID, BlockPeriod: time.Second,
		Alloc: nodetest.Alloc(new(big.Int).Mul(big.NewInt(1000), ether), faucetAddr)})

	// The keystore the workers sign with; the users' deposit addresses
	// are its keys, as the exchange's own wallet system would issue them.
	dir := t.TempDir()
	ksDir := filepath.Join(dir, "keystore")
	ks, err := keystore.Open(ksDir)
	if err != nil {
		t.Fatal(err)
	}
	users := make([]prodUser, cases)
	entries := make([]addressbook.Entry, cases)
	for i := range users {
		u := &users[i]
		u.ID = fmt.Sprintf("prod-user-%02d", i)
		a, err := ks.EVMAddress(keystore.PurposeUser, keystore.UserIndex(u.ID))
		if err != nil {
			t.Fatal(err)
		}
		u.Address = a
		// Amounts differ, so that a credit booked to the wrong case shows.
		u.Amount = new(big.Int).Add(new(big.Int).Div(ether, big.NewInt(2)), new(big.Int).Mul(big.NewInt(int64(i)), big.NewInt(1e16)))
		entries[i] = addressbook.Entry{Network: "eth", Address: strings.ToLower(a.Hex()), UserID: u.ID}
	}
	// Longer than nodetest.Context: the recoveries alone take one and a
	// half minutes on production timing.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	// The exchange's address book, written before the engine starts, as
	// its own systems would.
	book, err := addressbook.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := book.Upsert(ctx, entries, time.Now(), "exchange-sync"); err != nil {
		t.Fatal(err)
	}
	if err := book.Close(); err != nil {
		t.Fatal(err)
	}
	prodSendDeposits(ctx, t, bsc, faucet, users)

	prices := filepath.Join(dir, "prices.yaml")
	if err := os.WriteFile(prices, []byte("source: test prices\nat: 2026-11-23T00:00:00Z\nassets: {ETH: \"3000\", BNB: \"600\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret, actionKey, payloadKey := prodSecret(t), prodSecret(t), prodPayloadKey(t)
	staff := map[string]string{"specialist": prodSecret(t), "wallet": prodSecret(t), "settlement": prodSecret(t)}
	cfgPath := filepath.Join(dir, "recovery.yaml")
	cfgText := fmt.Sprintf(`address_book: %q
ledger: %q
keystore_dir: %q
price_file: %q
networks:
  - {id: eth, rpc: [%q], chain_id: %d, confirmations: 2, min_deposit: "0.001", rate_limit: 0}
  - {id: bsc, rpc: [%q], chain_id: %d, confirmations: 2, min_deposit: "0.001", rate_limit: 0}
staff_tokens:
  - {token: %q, person: sasha, roles: [specialist]}
  - {token: %q, person: wanda, roles: [wallet]}
  - {token: %q, person: sete, roles: [settlement]}
user_token_secret: %q
action_key: %q
payload_keys: [{id: "1", key: %q}]
payload_key_id: "1"
log_level: warn
`, db, db, ksDir, prices, ethNode.URL(), devchain.EthChainID, bscNode.URL(), devchain.BscChainID,
		staff["specialist"], staff["wallet"], staff["settlement"], secret, actionKey, payloadKey)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	// Each process has a data directory of its own, as on a machine of
	// its own: what they share is in the config.
	shared := []string{"--config", cfgPath, "--temporal-address", srv.FrontendAddress()}
	apiAddr := "127.0.0.1:" + freePort(t)
	base := "http://" + apiAddr
	api := startChild(t, "api", bin, append([]string{"api", "--api-addr", apiAddr, "--data-dir", t.TempDir()}, shared...)...)
	workers := make([]*child, 2)
	health := make([]string, 2)
	for i := range workers {
		addr := "127.0.0.1:" + freePort(t)
		health[i] = "http://" + addr + "/healthz"
		workers[i] = startChild(t, fmt.Sprintf("worker%d", i+1), bin,
			append([]string{"worker", "--metrics-addr", addr, "--data-dir", t.TempDir()}, shared...)...)
	}
	for i, w := range workers {
		w.waitHealthy(t, health[i])
	}
	api.waitHealthy(t, base+"/healthz")
	t.Logf("stack up %s after the start: Temporal, PostgreSQL, api (pid %d), worker1 (pid %d), worker2 (pid %d)",
		time.Since(began).Round(100*time.Millisecond), api.cmd.Process.Pid, workers[0].cmd.Process.Pid, workers[1].cmd.Process.Pid)

	tokens, err := apipkg.NewUserTokens([]byte(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &scaleOut{t: t, api: base}
	filed := time.Now()
	for i := range users {
		u := &users[i]
		u.Token = tokens.Issue(u.ID, time.Hour)
		var created struct {
			AppealID string `json:"appeal_id"`
		}
		code, err := s.call("POST", "/v1/appeals", u.Token, map[string]any{"network": "eth", "tx_hash": u.Deposit, "to_address": strings.ToLower(u.Address.Hex()), "user_id": u.ID}, &created)
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("appeal of %s: %d %v", u.ID, code, err)
		}
		u.Case = created.AppealID
	}
	for i, st := range prodWait(t, s, users, "was quoted", time.Minute, func(st appealStatus) bool { return st.Status == recovery.StatusAwaitingAcceptance }) {
		u := &users[i]
		if st.Category != recovery.CategoryWrongNetworkEVM || st.Network != "bsc" || st.Quote == nil || st.Deposit == nil || st.Deposit.Amount != u.Amount.String() {
			t.Fatalf("%s: diagnosed %s on %s, deposit %+v, quote %+v; want wrong_network_evm on bsc of %s", u.Case, st.Category, st.Network, st.Deposit, st.Quote, u.Amount)
		}
		u.QuoteID = st.Quote.ID
	}
	t.Logf("%d appeals filed and quoted in %s", cases, time.Since(filed).Round(100*time.Millisecond))

	// The users accept and the two teams sign, every case at once; the
	// watch kills the first worker found holding a recovery.
	watch := make(chan prodKill, 1)
	watchCtx, stopWatch := context.WithTimeout(ctx, 90*time.Second)
	defer stopWatch()
	go func() { watch <- prodWatch(watchCtx, tc, users, workers) }()
	signing := time.Now()
	var wg sync.WaitGroup
	signErrs := make([]error, cases)
	for i := range users {
		u := &users[i]
		wg.Go(func() {
			if err := prodApprove(s, u, staff); err != nil {
				signErrs[i] = err
			}
		})
	}
	kill := <-watch
	if kill.victim == nil {
		wg.Wait()
		t.Fatalf("no worker was seen holding a recovery within 90 s: %v", kill.err)
	}
	kill.victim.kill()
	killedAt := time.Now()
	var survivor *child
	for _, w := range workers {
		if w != kill.victim {
			survivor = w
		}
	}
	t.Logf("%s (pid %d) killed with SIGKILL %s, %s after the sign-offs began; %s (pid %d) is left", kill.victim.name, kill.victim.cmd.Process.Pid, kill.why,
		killedAt.Sub(signing).Round(time.Millisecond), survivor.name, survivor.cmd.Process.Pid)
	wg.Wait()
	for i, err := range signErrs {
		if err != nil {
			t.Fatalf("%s: %v", users[i].Case, err)
		}
	}

	// Every case is credited by the survivor, on production timing.
	for i, st := range prodWait(t, s, users, "was credited", 3*time.Minute, func(st appealStatus) bool { return st.Status == recovery.StatusCredited }) {
		u := &users[i]
		u.Final = st
		t.Logf("%s (%s): accepted and signed off in %s (requests sent again: %v), credited %s after its last sign-off",
			u.Case, u.ID, u.Signed.Sub(signing).Round(100*time.Millisecond), u.TurnedAway, u.Credited.Sub(u.Signed).Round(100*time.Millisecond))
	}
	for _, p := range []*child{api, survivor} {
		if err := p.running(); err != nil {
			t.Fatal(err)
		}
	}
	if err := kill.victim.running(); err == nil {
		t.Fatalf("%s still runs after SIGKILL", kill.victim.name)
	}

	// Nothing done twice, on chain.
	var wallets struct {
		Wallets []apipkg.Wallet `json:"wallets"`
	}
	if code, err := s.call("GET", "/v1/wallets", staff["wallet"], nil, &wallets); err != nil || code != http.StatusOK {
		t.Fatalf("hot wallets: %d %v", code, err)
	}
	var hot common.Address
	for _, w := range wallets.Wallets {
		if w.Network == "bsc" {
			hot = common.HexToAddress(w.Address)
		}
	}
	if hot == (common.Address{}) {
		t.Fatalf("no bsc hot wallet in %+v", wallets)
	}
	journal, err := ledger.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer journal.Close()
	lines, err := journal.Lines(ctx, time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	received := new(big.Int)
	for i := range users {
		u := &users[i]
		received.Add(received, prodCheckOnce(ctx, t, bsc, journal, lines, hot, u))
	}
	// The hot wallet holds exactly what the sweeps brought, and sent
	// nothing itself: no top-up, no second sweep.
	if bal, err := bsc.BalanceAt(ctx, hot, nil); err != nil || bal.Cmp(received) != 0 {
		t.Errorf("the bsc hot wallet holds %s (%v); the %d sweeps brought %s", bal, err, cases, received)
	}
	if n, err := bsc.NonceAt(ctx, hot, nil); err != nil || n != 0 {
		t.Errorf("the bsc hot wallet sent %d transactions (%v); want none", n, err)
	}
	// One entry per case in the whole ledger: no credit twice, none of
	// another case.
	entriesOf := map[string]map[int64]bool{}
	for _, l := range lines {
		if entriesOf[l.CaseID] == nil {
			entriesOf[l.CaseID] = map[int64]bool{}
		}
		entriesOf[l.CaseID][l.EntryID] = true
	}
	if len(entriesOf) != cases {
		t.Errorf("the ledger has entries of %d cases, want %d", len(entriesOf), cases)
	}
	for id, es := range entriesOf {
		if len(es) != 1 {
			t.Errorf("the ledger has %d entries of %s, want one credit", len(es), id)
		}
	}

	// The survivor did the killed worker's part: every credit, and the
	// rest of each recovery the killed worker had started.
	victimID, survivorID := prodIdentity(kill.victim), prodIdentity(survivor)
	tookOver := 0
	for i := range users {
		u := &users[i]
		runs, err := prodActivities(ctx, tc, u.Case)
		if err != nil {
			t.Fatal(err)
		}
		byVictim := false
		for _, r := range runs {
			if strings.HasPrefix(r.identity, victimID) {
				byVictim = true
			}
			if r.name == workflows.CreditActivityName && !strings.HasPrefix(r.identity, survivorID) {
				t.Errorf("%s was credited by %q, not by the surviving %s (%s)", u.Case, r.identity, survivor.name, survivorID)
			}
		}
		if byVictim || u.Case == kill.caseID {
			tookOver++
		}
		if u.Case == kill.caseID {
			for _, r := range runs {
				if r.name == kill.activity && r.completed {
					t.Logf("%s: %s, caught running on %s, completed on attempt %d by %s", u.Case, r.name, kill.victim.name, r.attempt, r.identity)
				}
			}
		}
	}
	if tookOver == 0 {
		t.Errorf("no case shows work of the killed %s: the kill did not land mid-recovery", kill.victim.name)
	}

	// No case lost: the staff queue lists every case, credited.
	var queue struct {
		Cases []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"cases"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, err := s.call("GET", "/v1/cases?network=bsc&status="+recovery.StatusCredited, staff["specialist"], nil, &queue)
		if err == nil && code == http.StatusOK && len(queue.Cases) == cases {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the staff queue lists %d credited bsc cases (%d %v), want %d: %+v", len(queue.Cases), code, err, cases, queue.Cases)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%d cases credited once each, %d of them begun by the killed %s; %s from the kill to the last credit; %s in all",
		cases, tookOver, kill.victim.name, prodLastCredit(users).Sub(killedAt).Round(100*time.Millisecond), time.Since(began).Round(100*time.Millisecond))
}

// prodUser is one user of the exchange with one wrong-network deposit,
// and the case of it as the test follows it.
type prodUser struct {
	ID, Token string
	Address   common.Address // the user's eth deposit address
	Amount    *big.Int       // the deposit, in wei, sent on bsc
	Deposit   string         // the hash of the deposit on bsc
	Case      string
	QuoteID   string
	// Signed is when the last sign-off was answered, Credited when the
	// test first saw the case credited.
	Signed, Credited time.Time
	// TurnedAway are the answers of approval requests sent again.
	TurnedAway []string
	Final      appealStatus
}

// prodSecret is a secret of 32 random bytes, hex: a token of the kind an
// operator would generate.
func prodSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// prodPayloadKey is a payload key as `openssl rand -base64 32` makes one.
func prodPayloadKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, payloadcodec.KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// prodSendDeposits sends each user's amount from key to the user's eth
// deposit address on bsc, and waits until the deposits have the two
// confirmations bsc asks for here.
func prodSendDeposits(ctx context.Context, t *testing.T, bsc *ethclient.Client, key *ecdsa.PrivateKey, users []prodUser) {
	t.Helper()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := bsc.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	price, err := bsc.SuggestGasPrice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	price.Mul(price, big.NewInt(2))
	signer := types.LatestSignerForChainID(big.NewInt(devchain.BscChainID))
	for i := range users {
		tx, err := types.SignTx(types.NewTx(&types.LegacyTx{Nonce: nonce + uint64(i), GasPrice: price, Gas: 21000, To: &users[i].Address, Value: users[i].Amount}), signer, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := bsc.SendTransaction(ctx, tx); err != nil {
			t.Fatalf("deposit of %s: %v", users[i].ID, err)
		}
		users[i].Deposit = tx.Hash().Hex()
	}
	var last uint64
	for i := range users {
		waitMined(ctx, t, bsc, common.HexToHash(users[i].Deposit))
		r, err := bsc.TransactionReceipt(ctx, common.HexToHash(users[i].Deposit))
		if err != nil || r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("deposit of %s: %+v %v", users[i].ID, r, err)
		}
		last = max(last, r.BlockNumber.Uint64())
	}
	for {
		head, err := bsc.BlockNumber(ctx)
		if err == nil && head >= last+1 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("bsc did not reach block %d: %v", last+1, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// prodWait reads the case of each user, as the user, until done says so
// of every one, and returns them in the order of users. A case that
// closes otherwise fails the test at once. A read that fails (a query
// while Temporal moves a case off a dead worker) is tried again next
// round; a user may read twice a second.
func prodWait(t *testing.T, s *scaleOut, users []prodUser, what string, limit time.Duration, done func(appealStatus) bool) []appealStatus {
	t.Helper()
	out := make([]appealStatus, len(users))
	pending := make(map[int]bool, len(users))
	for i := range users {
		pending[i] = true
	}
	deadline := time.Now().Add(limit)
	lastErr := make(map[int]string)
	for len(pending) > 0 {
		for i := range users {
			if !pending[i] {
				continue
			}
			u := &users[i]
			var st appealStatus
			code, err := s.call("GET", "/v1/appeals/"+u.Case, u.Token, nil, &st)
			if err != nil || code != http.StatusOK {
				lastErr[i] = fmt.Sprintf("%d %v", code, err)
				continue
			}
			out[i] = st
			if done(st) {
				delete(pending, i)
				if st.Status == recovery.StatusCredited {
					u.Credited = time.Now()
				}
				continue
			}
			if st.Closed {
				t.Fatalf("%s closed as %s (%s) before it %s: recovery %+v, timeline %v", u.Case, st.Status, st.Category, what, st.Recovery, st.codes())
			}
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			var left []string
			for i := range pending {
				left = append(left, fmt.Sprintf("%s (status %s, last error %s)", users[i].Case, out[i].Status, lastErr[i]))
			}
			t.Fatalf("%d of %d cases never %s within %s: %s", len(left), len(users), what, limit, strings.Join(left, "; "))
		}
		time.Sleep(600 * time.Millisecond)
	}
	return out
}

// prodApprove accepts the user's quote as the user, then the wallet and
// the settlement teams sign off, each person with their own token. A
// request the API turns away for now (rate limit, Temporal busy moving
// the case off a dead worker) is sent again.
func prodApprove(s *scaleOut, u *prodUser, staff map[string]string) error {
	steps := []struct {
		path, token string
		body        map[string]any
	}{
		{"/v1/appeals/" + u.Case + "/quote", u.Token, map[string]any{"quote_id": u.QuoteID, "accept": true}},
		{"/v1/cases/" + u.Case + "/signoff", staff["wallet"], map[string]any{"team": "wallet", "approve": true, "note": "funds traced"}},
		{"/v1/cases/" + u.Case + "/signoff", staff["settlement"], map[string]any{"team": "settlement", "approve": true, "note": "ledger checked"}},
	}
	for _, st := range steps {
		deadline := time.Now().Add(time.Minute)
		for {
			code, err := s.call("POST", st.path, st.token, st.body, nil)
			if err == nil && code == http.StatusOK {
				break
			}
			if (code != http.StatusTooManyRequests && code/100 != 5) || time.Now().After(deadline) {
				return fmt.Errorf("POST %s: %d %v", st.path, code, err)
			}
			u.TurnedAway = append(u.TurnedAway, fmt.Sprintf("%s %d", path.Base(st.path), code))
			time.Sleep(time.Second)
		}
	}
	u.Signed = time.Now()
	return nil
}

// prodKill is the worker the watch chose, and why.
type prodKill struct {
	victim *child
	why    string
	err    error
	// caseID and activity are the case and the activity the victim was
	// caught running, when it was.
	caseID, activity string
}

// prodIdentity is how Temporal names a worker process: the SDK's default
// identity starts with the process id.
func prodIdentity(p *child) string { return strconv.Itoa(p.cmd.Process.Pid) + "@" }

// prodRun is one activity of a case, by the worker that ran it.
type prodRun struct {
	name, identity string
	attempt        int32
	completed      bool
}

// prodActivities lists the activities a case's history records as
// started, with the identity of the worker that ran each.
func prodActivities(ctx context.Context, c client.Client, id string) ([]prodRun, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	scheduled := map[int64]string{}
	var runs []prodRun
	started := map[int64]int{} // started event id: index in runs
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			started[ev.GetEventId()] = len(runs)
			runs = append(runs, prodRun{name: scheduled[a.GetScheduledEventId()], identity: a.GetIdentity(), attempt: a.GetAttempt()})
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			if i, ok := started[a.GetStartedEventId()]; ok {
				runs[i].completed = true
			}
		}
	}
	return runs, nil
}

// prodWatch waits until a worker holds a recovery, and names it: one
// running a recovery activity of a case (planning, sending, checking,
// crediting) or, failing that, the one that sent a case's recovery
// transaction, whose case now waits for its confirmations.
func prodWatch(ctx context.Context, c client.Client, users []prodUser, workers []*child) prodKill {
	recoveryStep := map[string]bool{workflows.PlanRecoveryActivityName: true, workflows.SendRecoveryActivityName: true,
		workflows.CheckRecoveryActivityName: true, workflows.CreditActivityName: true}
	whose := func(identity string) *child {
		for _, w := range workers {
			if strings.HasPrefix(identity, prodIdentity(w)) {
				return w
			}
		}
		return nil
	}
	var lastErr error
	for round := 0; ; round++ {
		for i := range users {
			d, err := c.DescribeWorkflowExecution(ctx, users[i].Case, "")
			if err != nil {
				lastErr = err
				continue
			}
			for _, pa := range d.GetPendingActivities() {
				name := pa.GetActivityType().GetName()
				if w := whose(pa.GetLastWorkerIdentity()); w != nil && pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED && recoveryStep[name] {
					return prodKill{victim: w, why: fmt.Sprintf("while it ran %s (attempt %d) of %s", name, pa.GetAttempt(), users[i].Case),
						caseID: users[i].Case, activity: name}
				}
			}
		}
		// Histories cost the server more than descriptions: read them
		// every fourth round, a sent transaction waits a minute anyway.
		for i := range users {
			if round%4 != 3 {
				break
			}
			runs, err := prodActivities(ctx, c, users[i].Case)
			if err != nil {
				lastErr = err
				continue
			}
			for _, r := range runs {
				if w := whose(r.identity); w != nil && r.name == workflows.SendRecoveryActivityName && r.completed {
					return prodKill{victim: w, why: fmt.Sprintf("after it sent the recovery transaction of %s, before its confirmations and credit", users[i].Case),
						caseID: users[i].Case}
				}
			}
		}
		select {
		case <-ctx.Done():
			return prodKill{err: errors.Join(ctx.Err(), lastErr)}
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// prodCheckOnce checks one credited case against the chain and the
// ledger: one recovery transaction, from the deposit address (its only
// one) to the hot wallet, carrying the deposit less its gas; the same
// transaction recorded in the ledger under the deposit before it was
// sent; one credit of the deposit, to this case, of the net the user was
// shown, the hot wallet debited the whole deposit and the network cost
// the gas really paid. It returns what the hot wallet received.
func prodCheckOnce(ctx context.Context, t *testing.T, bsc *ethclient.Client, journal *ledger.Store, lines []ledger.Line, hot common.Address, u *prodUser) *big.Int {
	t.Helper()
	st := u.Final
	if st.Recovery == nil || len(st.Recovery.Transactions) != 1 || st.Credit == nil {
		t.Fatalf("%s: recovery %+v, credit %+v; want one recovery transaction and a credit", u.Case, st.Recovery, st.Credit)
	}
	rt := st.Recovery.Transactions[0]
	if !rt.Confirmed || rt.Network != "bsc" || st.Credit.TxHash != rt.TxHash {
		t.Fatalf("%s: recovery transaction %+v, credited by %s", u.Case, rt, st.Credit.TxHash)
	}
	h := common.HexToHash(rt.TxHash)
	tx, pending, err := bsc.TransactionByHash(ctx, h)
	if err != nil || pending {
		t.Fatalf("%s: recovery transaction %s: pending %v, %v", u.Case, rt.TxHash, pending, err)
	}
	receipt, err := bsc.TransactionReceipt(ctx, h)
	if err != nil || receipt.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("%s: receipt of %s: %+v %v", u.Case, rt.TxHash, receipt, err)
	}
	from, err := types.Sender(types.LatestSignerForChainID(big.NewInt(devchain.BscChainID)), tx)
	if err != nil {
		t.Fatal(err)
	}
	gas := new(big.Int).Mul(receipt.EffectiveGasPrice, new(big.Int).SetUint64(receipt.GasUsed))
	if from != u.Address || tx.To() == nil || *tx.To() != hot || tx.Nonce() != 0 || new(big.Int).Add(tx.Value(), gas).Cmp(u.Amount) != 0 {
		t.Errorf("%s: recovery transaction %s from %s nonce %d to %v of %s (gas %s); want the deposit address's first, to the hot wallet %s, of %s less the gas",
			u.Case, rt.TxHash, from.Hex(), tx.Nonce(), tx.To(), tx.Value(), gas, hot.Hex(), u.Amount)
	}
	// The deposit address sent one transaction, and nothing is left on it.
	if n, err := bsc.NonceAt(ctx, u.Address, nil); err != nil || n != 1 {
		t.Errorf("%s: the deposit address %s sent %d transactions (%v); want exactly one", u.Case, u.Address.Hex(), n, err)
	}
	if bal, err := bsc.BalanceAt(ctx, u.Address, nil); err != nil || bal.Sign() != 0 {
		t.Errorf("%s: %s (%v) left on the deposit address", u.Case, bal, err)
	}

	depositID := recovery.DepositID("bsc", u.Deposit, recovery.Transfer{Kind: recovery.KindNative})
	holder, ok, err := journal.CreditOf(ctx, depositID)
	if err != nil || !ok || holder != u.Case {
		t.Errorf("%s: the ledger credits deposit %s to %q (%v, %v)", u.Case, depositID, holder, ok, err)
	}
	sd, ok, err := journal.Sent(ctx, depositID, "sweep")
	if err != nil || !ok || !strings.EqualFold(strings.TrimPrefix(sd.Hash, "0x"), strings.TrimPrefix(rt.TxHash, "0x")) {
		t.Errorf("%s: the ledger recorded the sweep %q (%v, %v), the chain carries %s", u.Case, sd.Hash, ok, err, rt.TxHash)
	}
	net, err := decimal.NewFromString(st.Credit.Net)
	if err != nil {
		t.Fatalf("%s: credit net %q: %v", u.Case, st.Credit.Net, err)
	}
	var user, hotIn *big.Int
	paid := new(big.Int)
	for _, l := range lines {
		if l.CaseID != u.Case {
			continue
		}
		switch {
		case l.Step != ledger.StepCredit:
			t.Errorf("%s: ledger line of step %s", u.Case, l.Step)
		case l.Account == ledger.UserAccount(u.ID):
			user = l.Credit
		case l.Account == ledger.AccountHotWallet && l.Debit.Sign() > 0:
			hotIn = l.Debit
		case l.Account == ledger.AccountNetworkCost:
			paid.Add(paid, l.Debit)
		}
	}
	if user == nil || user.Cmp(net.Shift(18).BigInt()) != 0 || hotIn == nil || hotIn.Cmp(u.Amount) != 0 || paid.Cmp(gas) != 0 {
		t.Errorf("%s: the ledger credits %s %v (the user was shown %s BNB), debits the hot wallet %v (deposit %s), books a network cost of %s (gas paid %s)",
			u.Case, ledger.UserAccount(u.ID), user, st.Credit.Net, hotIn, u.Amount, paid, gas)
	}
	return tx.Value()
}

// prodLastCredit is when the last of the users' cases was seen credited.
func prodLastCredit(users []prodUser) time.Time {
	var last time.Time
	for _, u := range users {
		last = maxTime(last, u.Credited)
	}
	return last
}
