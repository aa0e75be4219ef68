package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
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

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	apipkg "github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/devchain"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
	"github.com/misdeposit/recovery/internal/temporaldev"
	"github.com/misdeposit/recovery/workflows"
)

// TestWorkersShareTheLoadAcrossProcesses runs the engine as a deployment
// across machines would: one Temporal, one `recovery api` and two
// `recovery worker` processes, started from the built binary, sharing
// nothing but Temporal and the exchange's address book and ledger. A wave
// of appeals (real wrong-network deposits on a local chain) is quoted by
// one worker; a second worker joins and both take a real share of the
// next wave; then the second is killed (SIGKILL) a third of the way into
// a third wave, and the first quotes every case of it. Each wave logs its
// throughput and the CPU time of every process.
//
// RECOVERY_SCALEOUT_APPEALS sets the appeals per wave (default 30) and
// RECOVERY_SCALEOUT_CLIENTS the concurrent API clients filing them
// (default 4), for throughput figures on a larger backlog.
func TestWorkersShareTheLoadAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the recovery binary and runs Temporal, two local chains and three recovery processes")
	}
	perWave, clients := envCount(t, "RECOVERY_SCALEOUT_APPEALS", 30, 6), envCount(t, "RECOVERY_SCALEOUT_CLIENTS", 4, 1)
	const waves, warmUp = 3, 10
	bin := buildRecovery(t)

	srv := standaloneTemporal(t)

	// Wrong-network deposits: BNB sent on bsc to users' eth deposit
	// addresses, which the exchange controls on bsc too.
	faucet, faucetAddr := nodetest.Key(t)
	ether := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	ethNode, _ := nodetest.EVM(t, evmnode.Config{ChainID: devchain.EthChainID})
	bscNode, bsc := nodetest.EVM(t, evmnode.Config{ChainID: devchain.BscChainID, Alloc: nodetest.Alloc(new(big.Int).Mul(big.NewInt(1000), ether), faucetAddr)})
	dir := t.TempDir()
	users := make([]scaleUser, warmUp+waves*perWave)
	entries := make([]addressbook.Entry, len(users))
	for i := range users {
		_, addr := nodetest.Key(t)
		users[i] = scaleUser{ID: fmt.Sprintf("scale%04d", i), Address: strings.ToLower(addr.Hex())}
		entries[i] = addressbook.Entry{Network: "eth", Address: users[i].Address, UserID: users[i].ID}
	}
	ctx := nodetest.Context(t)
	// The exchange's records, written before the engine starts, as its
	// own systems would.
	bookPath := filepath.Join(dir, "addressbook.db")
	book, err := addressbook.Open(ctx, bookPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := book.Upsert(ctx, entries, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	if err := book.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := sendScaleDeposits(ctx, bsc, faucet, users); err != nil {
		t.Fatal(err)
	}
	if err := bscNode.Mine(ctx, 2); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d deposits on bsc in %s", len(users), time.Since(start).Round(100*time.Millisecond))

	prices := filepath.Join(dir, "prices.yaml")
	if err := os.WriteFile(prices, []byte("source: test prices\nat: 2026-11-23T00:00:00Z\nassets: {ETH: \"3000\", BNB: \"600\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "scale-out-test-user-token-secret-0123"
	cfgPath := filepath.Join(dir, "recovery.yaml")
	cfgText := fmt.Sprintf(`data_dir: %q
address_book: %q
ledger: %q
price_file: %q
networks:
  - {id: eth, rpc: [%q], chain_id: %d, confirmations: 2, min_deposit: "0.001", rate_limit: 0}
  - {id: bsc, rpc: [%q], chain_id: %d, confirmations: 2, min_deposit: "0.001", rate_limit: 0}
staff_tokens:
  - {token: scale-k5RtW8nQz3XvL7mBc2JpH9dFs6Gy, person: ann, roles: [specialist]}
user_token_secret: %q
action_key: scale-out-test-action-key-0123456789
payload_keys: [{id: "1", key: %q}]
payload_key_id: "1"
log_level: warn
`, dir, bookPath, filepath.Join(dir, "ledger.db"), prices, ethNode.URL(), devchain.EthChainID, bscNode.URL(), devchain.BscChainID, secret, prodPayloadKey(t))
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	shared := []string{"--config", cfgPath, "--temporal-address", srv.FrontendAddress()}
	apiAddr := "127.0.0.1:" + freePort(t)
	base := "http://" + apiAddr
	api := startChild(t, "api", bin, append([]string{"api", "--api-addr", apiAddr}, shared...)...)
	metrics := make([]string, 2)
	startWorker := func(i int) *child {
		addr := "127.0.0.1:" + freePort(t)
		metrics[i] = "http://" + addr + "/metrics"
		w := startChild(t, fmt.Sprintf("worker%d", i+1), bin, append([]string{"worker", "--metrics-addr", addr}, shared...)...)
		w.waitHealthy(t, "http://"+addr+"/healthz")
		return w
	}
	worker1 := startWorker(0)
	api.waitHealthy(t, base+"/healthz")

	tokens, err := apipkg.NewUserTokens([]byte(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range users {
		users[i].Token = tokens.Issue(users[i].ID, time.Hour)
	}
	s := &scaleOut{t: t, api: base, clients: clients, procs: []*child{api, worker1}}
	wave := func(i int) []scaleUser { return users[warmUp+i*perWave : warmUp+(i+1)*perWave] }

	// A few appeals first, so that no wave pays for the processes' first
	// steps (connections, caches, the policy in force).
	s.wave("warm-up", users[:warmUp], metrics[:1], nil, 90*time.Second)
	// Wave 1: one worker.
	one := s.wave("one worker", wave(0), metrics[:1], nil, 90*time.Second)

	// Wave 2: a second worker joins; the cases go to both. Each counts the
	// quotes it made (a quote is recorded by the worker that ran the
	// step, never on replay).
	worker2 := startWorker(1)
	s.procs = append(s.procs, worker2)
	before := s.counts(metrics)
	two := s.wave("two workers", wave(1), metrics, nil, 90*time.Second)
	after := s.counts(metrics)
	quoted := 0.0
	for i := range after {
		quoted += after[i].quotes - before[i].quotes
	}
	if int(quoted) != perWave {
		t.Errorf("the workers report %.0f quotes for the wave's %d cases", quoted, perWave)
	}
	for i := range after {
		q, calls := after[i].quotes-before[i].quotes, after[i].nodeCalls-before[i].nodeCalls
		t.Logf("worker%d quoted %.0f of the wave's %d cases (%.0f%%) and made %.0f node calls", i+1, q, perWave, 100*q/float64(perWave), calls)
		// Whichever worker polls first takes a case: an even split is
		// 50 %, a worker left out would be near 0.
		if q < float64(perWave)/5 {
			t.Errorf("worker%d quoted %.0f of %d cases; both workers should share the load", i+1, q, perWave)
		}
	}

	// Wave 3: the second worker dies a third of the way into the filing.
	// A case takes its filing's look-up and is diagnosed and quoted in one
	// workflow task (local activities); a task the killed worker had
	// started goes to the other after the workflow task timeout, 10 s
	// (Temporal's default: the API sets none). A case whose filing did not
	// find its deposit would run the look-up activity, and one started on
	// the killed worker waits out its 2-minute start-to-close timeout
	// (workflows/lookup.go): the wave allows for that.
	killAfter := perWave / 3
	killed := s.wave("worker2 killed during it", wave(2), nil, func(filed int) {
		if filed == killAfter {
			worker2.kill()
			t.Logf("worker2 killed (SIGKILL) after %d of %d appeals were filed", filed, perWave)
		}
	}, 2*time.Minute+45*time.Second)
	for _, p := range []*child{api, worker1} {
		if err := p.running(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("appeals quoted per second: one worker %.1f, two workers %.1f (%.2f times); with worker2 killed %.1f (cases over 9 s: %d, the slowest %s)",
		one.perSecond, two.perSecond, two.perSecond/one.perSecond, killed.perSecond, killed.late, killed.slowest.Round(100*time.Millisecond))
}

// envCount is the number in the environment variable name, def when it
// is unset.
func envCount(t *testing.T, name string, def, least int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		t.Fatalf("%s=%q: want a number of at least %d", name, v, least)
	}
	return n
}

type scaleUser struct {
	ID, Address, Token string
	Deposit            string // the hash of the user's deposit on bsc
}

// sendScaleDeposits sends 0.1 BNB from key to every user's address on
// bsc, in waves the node's pool takes, and waits until all are mined.
func sendScaleDeposits(ctx context.Context, bsc *ethclient.Client, key *ecdsa.PrivateKey, users []scaleUser) error {
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := bsc.PendingNonceAt(ctx, from)
	if err != nil {
		return err
	}
	price, err := bsc.SuggestGasPrice(ctx)
	if err != nil {
		return err
	}
	price.Mul(price, big.NewInt(2))
	signer := types.LatestSignerForChainID(big.NewInt(devchain.BscChainID))
	value := new(big.Int).Exp(big.NewInt(10), big.NewInt(17), nil)
	// The dev chain's pool holds about a hundred transactions of one
	// account at a time.
	const batch = 50
	for i := range users {
		to := common.HexToAddress(users[i].Address)
		tx, err := types.SignTx(types.NewTx(&types.LegacyTx{Nonce: nonce + uint64(i), GasPrice: price, Gas: 21000, To: &to, Value: value}), signer, key)
		if err != nil {
			return err
		}
		if err := bsc.SendTransaction(ctx, tx); err != nil {
			return fmt.Errorf("deposit %d: %w", i, err)
		}
		users[i].Deposit = tx.Hash().Hex()
		if (i+1)%batch == 0 || i == len(users)-1 {
			if err := waitNonceMined(ctx, bsc, from, nonce+uint64(i+1)); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitNonceMined waits until the account's transactions below nonce are mined.
func waitNonceMined(ctx context.Context, c *ethclient.Client, from common.Address, nonce uint64) error {
	for {
		n, err := c.NonceAt(ctx, from, nil)
		if err == nil && n >= nonce {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type scaleOut struct {
	t       *testing.T
	api     string
	clients int
	// procs are the recovery processes whose CPU time each wave reports.
	procs []*child
}

// scaleWave is what a wave of appeals measured.
type scaleWave struct {
	perSecond float64
	slowest   time.Duration // from submission to quote, the wave's slowest case
	// late counts the cases that took over 9 s from submission to quote:
	// a backlog of hundreds is quoted within a few seconds, a case whose
	// workflow task was lost with a worker in 10 s or more.
	late int
}

// workerCounts is what one worker's metrics count so far.
type workerCounts struct {
	quotes, nodeCalls float64
}

// counts reads the counts of the workers whose metrics are at urls.
func (s *scaleOut) counts(urls []string) []workerCounts {
	out := make([]workerCounts, len(urls))
	for i, m := range urls {
		q, err := promSum(m, "recovery_time_to_quote_seconds_count")
		if err != nil {
			s.t.Fatalf("worker%d metrics: %v", i+1, err)
		}
		calls, err := promSum(m, "recovery_node_calls_total")
		if err != nil {
			s.t.Fatalf("worker%d metrics: %v", i+1, err)
		}
		out[i] = workerCounts{quotes: q, nodeCalls: calls}
	}
	return out
}

// wave files an appeal for each user's deposit through the API, a few
// clients at a time, calling filed (when not nil) with the count after
// each filing, and waits up to limit for every case's quote. Its
// throughput is the wave's appeals over the time from its first
// submission to its last quote, as the cases' timelines have them.
//
// Reading a case is a query its worker answers: hundreds of cases read
// twice a second would cost the engine more than quoting them. When the
// metrics of every worker at work are given (quotes), the wave waits
// until they count the wave's quotes, and reads each case once; else it
// reads every case until it is quoted.
func (s *scaleOut) wave(name string, users []scaleUser, quotes []string, filed func(int), limit time.Duration) scaleWave {
	t := s.t
	t.Helper()
	start := time.Now()
	deadline := start.Add(limit)
	cpu0 := s.cpu()
	quotes0 := s.quotes(quotes)
	ids := make([]string, len(users))
	submitted := make([]time.Time, len(users))
	var mu sync.Mutex
	count := 0
	work := make(chan int)
	var failed []error
	var wg sync.WaitGroup
	for range s.clients {
		wg.Go(func() {
			for i := range work {
				u := users[i]
				var created struct {
					AppealID string `json:"appeal_id"`
				}
				submitted[i] = time.Now()
				code, err := s.call("POST", "/v1/appeals", u.Token, map[string]any{"network": "eth", "tx_hash": u.Deposit, "to_address": u.Address, "user_id": u.ID}, &created)
				mu.Lock()
				if err == nil && code != 202 {
					err = fmt.Errorf("status %d", code)
				}
				if err != nil {
					failed = append(failed, fmt.Errorf("appeal of %s: %w", u.ID, err))
				} else {
					ids[i] = created.AppealID
					count++
					if filed != nil {
						filed(count)
					}
				}
				mu.Unlock()
			}
		})
	}
	for i := range users {
		work <- i
	}
	close(work)
	wg.Wait()
	filing := time.Since(start)
	if len(failed) > 0 {
		t.Fatalf("wave %q: %d appeals refused, the first: %v", name, len(failed), failed[0])
	}

	for quotes != nil && s.quotes(quotes)-quotes0 < float64(len(ids)) {
		if time.Now().After(deadline) {
			t.Fatalf("wave %q: the workers count %.0f quotes of %d %s after the first filing", name, s.quotes(quotes)-quotes0, len(ids), limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// What the wave cost, before the cases are read.
	cpu := ""
	if quotes != nil {
		cpu = s.cpuSince(cpu0)
	}
	// Every case, as its user sees it, until each has its quote.
	pending := make(map[int]bool, len(ids))
	for i := range ids {
		pending[i] = true
	}
	var last time.Time
	var slowest time.Duration
	late := 0
	for round := 0; len(pending) > 0; round++ {
		if time.Now().After(deadline) {
			var left []string
			for i := range pending {
				left = append(left, ids[i])
			}
			t.Fatalf("wave %q: %d of %d cases not quoted %s after the first filing: %s", name, len(left), len(ids), limit, strings.Join(left, ", "))
		}
		if round > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		for i := range pending {
			var st struct {
				Status   string `json:"status"`
				Category string `json:"category"`
				Closed   bool   `json:"closed"`
				Timeline []struct {
					At   time.Time `json:"at"`
					Code string    `json:"code"`
				} `json:"timeline"`
			}
			code, err := s.call("GET", "/v1/appeals/"+ids[i], users[i].Token, nil, &st)
			if code == http.StatusTooManyRequests {
				continue // a user may read 2 times a second; asked again next round
			}
			if err != nil || code != 200 {
				t.Fatalf("wave %q: case %s: %d %v", name, ids[i], code, err)
			}
			if st.Closed || (st.Category != recovery.CategoryUnclassified && st.Category != recovery.CategoryWrongNetworkEVM) {
				t.Fatalf("wave %q: case %s is %s, %s, closed %v; want a wrong-network case quoted", name, ids[i], st.Status, st.Category, st.Closed)
			}
			if st.Status != recovery.StatusAwaitingAcceptance {
				continue
			}
			var quoted time.Time
			for _, e := range st.Timeline {
				if e.Code == "quote.offered" {
					quoted = e.At
				}
			}
			if quoted.IsZero() {
				t.Fatalf("wave %q: case %s is quoted with a timeline of %+v", name, ids[i], st.Timeline)
			}
			// From the client's submission: a case's timeline starts
			// again when its first workflow task is lost with a worker.
			took := quoted.Sub(submitted[i])
			last = maxTime(last, quoted)
			slowest = max(slowest, took)
			if took > 9*time.Second {
				late++
			}
			delete(pending, i)
		}
	}
	if cpu == "" {
		cpu = s.cpuSince(cpu0)
	}
	elapsed := last.Sub(start)
	w := scaleWave{perSecond: float64(len(ids)) / elapsed.Seconds(), slowest: slowest, late: late}
	t.Logf("wave %q: %d appeals filed in %s, all quoted %s after the first filing: %.1f appeals quoted per second; slowest case %s from submission to quote; over 9 s: %d",
		name, len(ids), filing.Round(10*time.Millisecond), elapsed.Round(10*time.Millisecond), w.perSecond, slowest.Round(10*time.Millisecond), late)
	t.Logf("wave %q: CPU time %s", name, cpu)
	return w
}

// quotes is the sum of the quotes the workers whose metrics are at urls
// have made.
func (s *scaleOut) quotes(urls []string) float64 {
	sum := 0.0
	for _, c := range s.counts(urls) {
		sum += c.quotes
	}
	return sum
}

// cpu is the CPU time used so far by this process (Temporal, the chains,
// the clients) and then by each of s.procs.
func (s *scaleOut) cpu() []time.Duration {
	out := []time.Duration{cpuTime(os.Getpid())}
	for _, p := range s.procs {
		out = append(out, p.cpu())
	}
	return out
}

// cpuSince says how much CPU time each process used since cpu0, and in
// all.
func (s *scaleOut) cpuSince(cpu0 []time.Duration) string {
	cpu1 := s.cpu()
	names := []string{"test process (Temporal, chains, clients)"}
	for _, p := range s.procs {
		names = append(names, p.name)
	}
	var parts []string
	var total time.Duration
	for i, name := range names {
		d := cpu1[i] - cpu0[i]
		total += d
		parts = append(parts, fmt.Sprintf("%s %.1fs", name, d.Seconds()))
	}
	return fmt.Sprintf("%.1fs in all: %s", total.Seconds(), strings.Join(parts, ", "))
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// call is a request to the API that, unlike the tests' call, is safe
// from any goroutine.
func (s *scaleOut) call(method, path, token string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.api+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

// standaloneTemporal starts a Temporal server standing alone, as the
// processes of a deployment reach it. It is stopped after the processes,
// which the cleanups registered after it kill first.
func standaloneTemporal(t *testing.T) *temporaldev.Server {
	t.Helper()
	port, _ := strconv.Atoi(freePort(t))
	// The server logs each call a killed worker left unfinished as an
	// error with its stack; the test judges by the cases instead.
	srv, err := temporaldev.Start(temporaldev.Options{FrontendPort: port, SearchAttributes: workflows.SearchAttributes(), LogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv
}
