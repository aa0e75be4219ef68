package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/time/rate"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/devchain"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/keystore"
)

// benchOptions are the knobs of `recovery bench`.
type benchOptions struct {
	N       int
	Clients int
	Rate    float64 // appeals offered per second; 0: as fast as the clients go
	Mix     benchMix
	// Patience is how long the bench waits with no case newly decided
	// before it reports the rest as undecided.
	Patience time.Duration
	DataDir  string
	Baseline bool
	Output   string // table or json
	// EngineLog names the file the engine's own log goes to; "" makes a
	// temporary one, kept only when the engine logged anything.
	EngineLog string
	// CPUProfile and HeapProfile name files for pprof profiles of the
	// filing and deciding phase (the engine runs in this process).
	CPUProfile, HeapProfile string
	// InProcess runs the engine in the bench's own process (always so
	// with a profile).
	InProcess bool
}

// benchKind is a kind of mis-deposit the bench makes.
type benchKind string

const (
	// benchWrongNetwork: BNB on the local bsc to the user's eth address;
	// the case ends its run at its fee quote.
	benchWrongNetwork benchKind = "wrong_network"
	// benchUnlistedToken: tokens of a contract the exchange does not list,
	// on the local eth; the policy parks an unpriced token (or quotes it).
	benchUnlistedToken benchKind = "unlisted_token"
	// benchNotFound: a hash no chain knows; the decision is the first
	// "not found, will look again".
	benchNotFound benchKind = "not_found"
	// benchPending: a transaction the eth node holds and never mines; the
	// decision is "confirming".
	benchPending benchKind = "pending"
)

// benchKinds in the order of the report.
var benchKinds = []benchKind{benchWrongNetwork, benchUnlistedToken, benchNotFound, benchPending}

const defaultBenchMix = "wrong_network=70,unlisted_token=20,not_found=5,pending=5"

// benchMix is each kind's share of the deposits, in parts.
type benchMix map[benchKind]int

// parseBenchMix reads "kind=parts,…"; a kind not named gets no deposits.
func parseBenchMix(s string) (benchMix, error) {
	m := benchMix{}
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, parts, ok := strings.Cut(part, "=")
		k := benchKind(strings.TrimSpace(name))
		if !ok || !slices.Contains(benchKinds, k) {
			return nil, fmt.Errorf("bench: --mix: %q is not kind=parts with a kind among %s", part, kindList())
		}
		n, err := strconv.Atoi(strings.TrimSpace(parts))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bench: --mix: %q: parts must be a whole number, 0 or more", part)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("bench: --mix: %s is named twice", k)
		}
		m[k] = n
		total += n
	}
	if total == 0 {
		return nil, errors.New("bench: --mix gives no kind any parts")
	}
	return m, nil
}

func kindList() string {
	var s []string
	for _, k := range benchKinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// counts splits n deposits by the mix: each kind its whole share, and
// what rounding leaves to the largest remainders.
func (m benchMix) counts(n int) map[benchKind]int {
	total := 0
	for _, k := range benchKinds {
		total += m[k]
	}
	out := map[benchKind]int{}
	rem := map[benchKind]int{}
	left := n
	for _, k := range benchKinds {
		out[k] = n * m[k] / total
		rem[k] = n * m[k] % total
		left -= out[k]
	}
	order := slices.Clone(benchKinds)
	sort.SliceStable(order, func(i, j int) bool { return rem[order[i]] > rem[order[j]] })
	for i := 0; left > 0; i++ {
		out[order[i%len(order)]]++
		left--
	}
	return out
}

// interleave orders n deposits of the given counts so that every kind is
// spread evenly over the filing (smooth weighted round robin).
func interleave(counts map[benchKind]int, n int) []benchKind {
	out := make([]benchKind, 0, n)
	current := map[benchKind]int{}
	for range n {
		var best benchKind
		for _, k := range benchKinds {
			current[k] += counts[k]
			if best == "" || current[k] > current[best] {
				best = k
			}
		}
		current[best] -= n
		out = append(out, best)
	}
	return out
}

func benchCmd(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	var o benchOptions
	var mix string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the engine on a backlog: N real mis-deposits on the local chains, appealed through the API",
		Long: `Measure the engine on a backlog of appeals, end to end, on this machine.

It starts the engine as recovery dev does (embedded Temporal on SQLite, the
worker, the API, local chains) in a fresh data directory and makes N real
mis-deposits of a mix of kinds (--mix, parts per kind; default
` + defaultBenchMix + `):

  wrong_network   0.1 BNB on the local bsc to a user's eth deposit address;
                  decided when the case offers its fee quote
  unlisted_token  1000 tokens of an ERC-20 deployed for the run, on the
                  local eth, to a user's eth deposit address; decided at the
                  policy's decision (an unpriced token is parked) or quote
  not_found       a random hash that was never broadcast; decided when the
                  case first says it will look again
  pending         ETH sent on the local eth with a nonce gap, so that the
                  node holds it and never mines it; decided when the case
                  says it is confirming (the node's pool keeps 1,000 such
                  transactions at most)

Each deposit is appealed through the API by a user of its own, with C
concurrent clients (at an offered rate if one is given); the bench waits
until every case has its quote or decision, showing progress on stderr. It
prints the throughput (appeals decided per second, from the first submission
to the last decision; per quarter of the backlog in filing order; and the
pace per quarter of the decisions, which shows whether the engine slows as
its store fills), the time from submission (the user's POST) to the
decision in the case's own timeline per kind (p50, p95, p99, max), how
every appeal ended (appeals filed under a provisional id are followed to the
case they joined), the latency of POST /v1/appeals, the node calls per
appeal, the peak memory of recovery dev (run as a child process, with its
chains) and the Temporal store's size; then, on the same server, the
throughput of a bare workflow with as many no-op activities (and its pace
per quarter), and ours as a ratio of it. Cases that keep polling (pending,
not found) are withdrawn before the baseline runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Mix, err = parseBenchMix(mix); err != nil {
				return err
			}
			return runBench(cmd.Context(), o, getenv, stdout, stderr)
		},
	}
	cmd.Flags().IntVar(&o.N, "n", 20_000, "appeals (and deposits) to make")
	cmd.Flags().IntVar(&o.Clients, "clients", 32, "concurrent API clients")
	cmd.Flags().Float64Var(&o.Rate, "rate", 0, "appeals offered per second (0: as fast as the clients go)")
	cmd.Flags().StringVar(&mix, "mix", defaultBenchMix, "parts of each kind of deposit: "+kindList())
	cmd.Flags().DurationVar(&o.Patience, "patience", 5*time.Minute, "how long to wait with no case newly decided before reporting the rest as undecided")
	cmd.Flags().StringVar(&o.DataDir, "data-dir", "", "where the engine keeps its data (default: a new temporary directory, removed afterwards)")
	cmd.Flags().BoolVar(&o.Baseline, "baseline", true, "also measure a bare workflow with no-op activities on the same server")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: table or json")
	cmd.Flags().StringVar(&o.EngineLog, "engine-log", "", "file for the engine's own log, kept off the progress line (default: a temporary file, named at the end when the engine logged anything)")
	cmd.Flags().StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the filing and deciding phase to this file (read it with go tool pprof)")
	cmd.Flags().StringVar(&o.HeapProfile, "memprofile", "", "write a heap profile taken when the last decision is in to this file")
	cmd.Flags().BoolVar(&o.InProcess, "in-process", false, "run the engine in this process rather than as a child recovery dev (its peak memory then includes the clients)")
	return cmd
}

var (
	benchAPILine   = regexp.MustCompile(`^\s+API and appeal form\s+(http://\S+)/`)
	benchChainLine = regexp.MustCompile(`^\s+Local chain (eth|bsc)\s+(\S+)`)
)

// benchMaxPending is the most pending deposits one run makes: the eth
// node's pool keeps 1,024 transactions waiting behind a nonce gap, one of
// them the demo's.
const benchMaxPending = 1000

// benchConfig is the engine's configuration in a bench: dev's, with the
// waits between look-ups of production (workflows.DefaultTiming).
const benchConfig = `dev:
  confirmation_poll: 1m
  recheck: [1m, 5m, 30m, 2h, 12h]
`

func runBench(ctx context.Context, o benchOptions, getenv func(string) string, stdout, stderr io.Writer) error {
	if o.N < 1 || o.Clients < 1 {
		return errors.New("bench: --n and --clients must be at least 1")
	}
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("bench: --output is table or json, not %q", o.Output)
	}
	if o.Mix == nil {
		o.Mix, _ = parseBenchMix(defaultBenchMix)
	}
	counts := o.Mix.counts(o.N)
	if counts[benchPending] > benchMaxPending {
		return fmt.Errorf("bench: %d pending deposits asked for; the local eth node's pool keeps at most %d transactions that never mine (lower --n or the pending parts of --mix)",
			counts[benchPending], benchMaxPending)
	}
	dir := o.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "recovery-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	port, err := freeLocalPort()
	if err != nil {
		return err
	}
	engineLog, err := openEngineLog(o.EngineLog)
	if err != nil {
		return err
	}
	defer engineLog.close(stderr)
	temporalAddr := "127.0.0.1:" + port
	// The engine polls a pending deposit and re-checks an unknown hash on
	// the production schedule, not dev's seconds: a thousand pending cases
	// polled every 2 s would be a load no exchange sees.
	cfgPath := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(cfgPath, []byte(benchConfig), 0o600); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "bench: starting the engine and its local chains…")
	eng, err := startBenchEngine(ctx, o.InProcess || o.CPUProfile != "" || o.HeapProfile != "",
		[]string{"dev", "--config", cfgPath, "--data-dir", dir, "--api-addr", "127.0.0.1:0", "--temporal-address", temporalAddr, "--ui-port", "-1", "--log-level", "error"},
		getenv, engineLog)
	if err != nil {
		return err
	}
	defer eng.stop()
	api, chainURLs, err := readBanner(eng.banner)
	if err != nil {
		return err
	}
	go io.Copy(io.Discard, eng.banner)

	b := &bench{o: o, api: api, out: stderr}
	calls0, err := b.nodeCalls(ctx)
	if err != nil {
		return err
	}
	if err := b.makeDeposits(ctx, dir, chainURLs["eth"], chainURLs["bsc"], counts); err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return err
	}
	if err := b.file(ctx); err != nil {
		stopProfile()
		return err
	}
	err = b.awaitDecisions(ctx)
	stopProfile()
	if err != nil {
		return err
	}
	if err := writeHeapProfile(o.HeapProfile); err != nil {
		return err
	}
	calls1, err := b.nodeCalls(ctx)
	if err != nil {
		return err
	}
	r := b.report(counts)
	r.NodeCalls = float64(calls1-calls0) / float64(o.N)
	r.PeakRSS, r.Store = peakRSS(eng.pid), storeSize(dir)
	cached, err := b.series(ctx, "recovery_worker_cached_cases")
	if err != nil {
		return err
	}
	r.CachedCases = int(cached[""])
	if o.Baseline {
		b.withdrawPolling(ctx)
		fmt.Fprintln(stderr, "bench: the baseline, a bare workflow with three no-op activities…")
		if r.Baseline, r.BaselinePace, err = baseline(ctx, temporalAddr, o.N, o.Clients); err != nil {
			return err
		}
	}
	if r.Undecided > 0 {
		fmt.Fprintf(stderr, "bench: %d appeals had no decision after waiting %s with none newly decided\n", r.Undecided, o.Patience)
		if err, _ := b.readErr.Load().(error); err != nil {
			fmt.Fprintf(stderr, "bench: the last error reading a case: %v\n", err)
		}
	}
	if o.Output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	r.print(stdout)
	return nil
}

// engineLog takes the engine's own log (the embedded Temporal server logs
// its errors with stack traces), so that stderr keeps one progress line.
type engineLog struct {
	f    *os.File
	temp bool
	mu   sync.Mutex
	n    int // lines written
}

func openEngineLog(path string) (*engineLog, error) {
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("bench: engine log: %w", err)
		}
		return &engineLog{f: f}, nil
	}
	f, err := os.CreateTemp("", "recovery-bench-engine-*.log")
	if err != nil {
		return nil, fmt.Errorf("bench: engine log: %w", err)
	}
	return &engineLog{f: f, temp: true}, nil
}

func (l *engineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n += bytes.Count(p, []byte{'\n'})
	return l.f.Write(p)
}

// close closes the log and says where it is when the engine wrote to it;
// an empty temporary log is removed.
func (l *engineLog) close(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.f.Close()
	switch {
	case l.n > 0:
		fmt.Fprintf(w, "bench: the engine logged %d lines (errors), in %s\n", l.n, l.f.Name())
	case l.temp:
		os.Remove(l.f.Name())
	}
}

// startCPUProfile starts a CPU profile into path (none when path is
// empty) and returns what stops it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: heap profile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("bench: heap profile: %w", err)
	}
	return nil
}

func freeLocalPort() (string, error) {
	l, err := listen("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, _ := strings.Cut(l.Addr().String(), ":")
	return port, nil
}

// readBanner reads the engine's banner for the API's address and the
// local eth and bsc chains'.
func readBanner(r io.Reader) (api string, chainURLs map[string]string, err error) {
	chainURLs = map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := benchAPILine.FindStringSubmatch(line); m != nil {
			api = m[1]
		}
		if m := benchChainLine.FindStringSubmatch(line); m != nil {
			chainURLs[m[1]] = m[2]
		}
		if strings.HasPrefix(line, "Press Ctrl-C") {
			break
		}
	}
	if api == "" || chainURLs["eth"] == "" || chainURLs["bsc"] == "" {
		return "", nil, fmt.Errorf("bench: the engine did not start: %v", sc.Err())
	}
	return api, chainURLs, nil
}

type bench struct {
	o        benchOptions
	api      string
	out      io.Writer
	deposits []benchDeposit
	// cases[i] is the appeal of deposits[i]; each is written by one
	// goroutine at a time.
	cases []benchCase
	filed atomic.Int64
	// filedAt is when the last appeal was filed.
	filedAt time.Time
	mu      sync.Mutex
	posts   []time.Duration
	// readErr is the last error reading a case, if any.
	readErr atomic.Value
	// retried counts the POSTs the engine answered 503 or 429 and the
	// bench sent again.
	retried atomic.Int64
	// resent counts the deposits sent again after a local chain lost
	// them from its pool.
	resent atomic.Int64
}

type benchDeposit struct {
	Kind           benchKind
	User, Hash, To string
}

// benchCase is one appeal as the bench follows it.
type benchCase struct {
	ID, Token string
	// Submitted is when its user sent POST /v1/appeals: the decision is
	// timed from there, so that a case whose first step waited behind
	// others counts that wait.
	Submitted time.Time
	// Follow is the case the appeal joined, when it was filed under a
	// provisional id: its decision is that case's.
	Follow string
	// Status is the status of the case when last read.
	Status string
	// Outcome says how the appeal ended ("" until decided); At is when
	// the engine recorded the decision (zero when it cannot be read).
	Outcome string
	At      time.Time
	// Closed: the deciding case had closed when read.
	Closed bool
}

// caseID is the case that decides the appeal.
func (c *benchCase) caseID() string {
	if c.Follow != "" {
		return c.Follow
	}
	return c.ID
}

// How an appeal ended, in the report's order.
const (
	endQuoted     = "quoted"
	endParked     = "parked"
	endRejected   = "rejected"
	endNotFound   = "not found"
	endConfirming = "confirming"
	endFailed     = "failed"
	endWithdrawn  = "withdrawn"
	endElsewhere  = "claimed by another user"
	endUnreadable = "joined a case not readable"
	endUndecided  = "undecided"
)

var endOrder = []string{endQuoted, endParked, endRejected, endNotFound, endConfirming, endFailed, endWithdrawn, endElsewhere, endUnreadable}

// benchDecisions are the timeline events that decide an appeal for the
// bench, with how it ended. The first one in a timeline counts.
var benchDecisions = map[string]string{
	"quote.offered":     endQuoted,
	"decision.park":     endParked,
	"decision.reject":   endRejected,
	"not_found_retry":   endNotFound,
	"not_found_final":   endNotFound,
	"confirming":        endConfirming,
	"failed_tx":         endFailed,
	"withdrawn":         endWithdrawn,
	"claimed_elsewhere": endElsewhere,
}

// benchUnderWay are the statuses of a case still on its way to a
// decision.
var benchUnderWay = []string{recovery.StatusReceived, recovery.StatusLookingUp, recovery.StatusUnavailable,
	recovery.StatusUnderReview, recovery.StatusAwaitingQuote}

// benchWave is how many transactions of one sender go to a node's pool
// at a time: the dev chain's pool holds about a hundred of one account,
// so each wave is mined before the next.
const benchWave = 50

// benchStall is how long a local chain may mine none of a sender's
// transactions before the bench sends them again.
const benchStall = 15 * time.Second

// benchSenderBase is the first keystore index of the outside senders of
// the pending deposits (index 0 sends the demo's).
const benchSenderBase = 1000

// benchPendingPerSender stays under the 64 transactions the pool keeps
// waiting behind a nonce gap for one account.
const benchPendingPerSender = 60

// pendingNonceGap is how far past a sender's next nonce a pending deposit
// is signed: it would become executable only after that many more
// transactions from the same key.
const pendingNonceGap = 1 << 20

// makeDeposits makes the deposits: wrong-network ones on bsc from the dev
// faucet, unlisted-token ones on eth from the faucet (which deploys the
// token first), pending ones on eth from outside senders the faucet funds,
// and random hashes for not found. The chains are driven side by side;
// it returns when every mined deposit has its confirmations.
func (b *bench) makeDeposits(ctx context.Context, dir, ethURL, bscURL string, counts map[benchKind]int) error {
	ks, err := keystore.Open(filepath.Join(dir, "keystore"))
	if err != nil {
		return err
	}
	kinds := interleave(counts, b.o.N)
	b.deposits = make([]benchDeposit, b.o.N)
	// Each chain's goroutine below writes the hashes of its own deposits
	// only, found by these lists.
	of := map[benchKind][]int{}
	for i, k := range kinds {
		of[k] = append(of[k], i)
		user := fmt.Sprintf("bench%06d", i)
		to, err := ks.EVMAddress(keystore.PurposeUser, keystore.UserIndex(user))
		if err != nil {
			return err
		}
		b.deposits[i] = benchDeposit{Kind: k, User: user, To: to.Hex()}
		if k == benchNotFound {
			var h common.Hash
			_, _ = rand.Read(h[:]) // crypto/rand.Read never fails (Go 1.24+)
			b.deposits[i].Hash = h.Hex()
		}
	}
	faucet, err := ks.EVMKey(keystore.PurposeFaucet, 0)
	if err != nil {
		return err
	}
	var sent atomic.Int64
	onChain := b.o.N - counts[benchNotFound]
	bar := newProgressBar(b.out, "deposits", onChain, func() int { return int(sent.Load()) })
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = b.bscDeposits(ctx, bscURL, faucet, of[benchWrongNetwork], &sent) })
	wg.Go(func() {
		errs[1] = b.ethDeposits(ctx, ks, ethURL, faucet, of[benchUnlistedToken], of[benchPending], &sent)
	})
	wg.Wait()
	bar.Stop()
	return errors.Join(errs...)
}

// bscDeposits sends the wrong-network deposits numbered in idx and waits
// for their confirmations.
func (b *bench) bscDeposits(ctx context.Context, url string, faucet *ecdsa.PrivateKey, idx []int, sent *atomic.Int64) error {
	if len(idx) == 0 {
		return nil
	}
	ch, err := dialBenchChain(ctx, url, devchain.BscChainID, faucet, &b.resent)
	if err != nil {
		return err
	}
	defer ch.c.Close()
	value := new(big.Int).Exp(big.NewInt(10), big.NewInt(17), nil) // 0.1 BNB
	for _, i := range idx {
		d := &b.deposits[i]
		h, err := ch.send(ctx, common.HexToAddress(d.To), value, 21_000, nil)
		if err != nil {
			return fmt.Errorf("bench: wrong-network deposit %d: %w", i, err)
		}
		d.Hash = h.Hex()
		sent.Add(1)
	}
	return ch.awaitConfirmed(ctx)
}

// ethDeposits deploys the token, sends the token deposits and waits for
// their confirmations, then funds the pending deposits' senders and sends
// the pending deposits (numbered in tokens and pending).
func (b *bench) ethDeposits(ctx context.Context, ks *keystore.Keystore, url string, faucet *ecdsa.PrivateKey, tokens, pending []int, sent *atomic.Int64) error {
	if len(tokens) == 0 && len(pending) == 0 {
		return nil
	}
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close()
	var token common.Address
	if len(tokens) > 0 {
		// Deployed first, by the fixture itself: it picks the faucet's
		// nonce, which the waves below count on from there.
		if token, err = evmnode.DeployToken(ctx, c, faucet); err != nil {
			return fmt.Errorf("bench: deploy the token: %w", err)
		}
	}
	ch, err := dialBenchChain(ctx, url, devchain.EthChainID, faucet, &b.resent)
	if err != nil {
		return err
	}
	defer ch.c.Close()
	if len(tokens) > 0 {
		if err := b.tokenDeposits(ctx, ch, token, tokens, sent); err != nil {
			return err
		}
	}
	// The pending deposits last: the transactions the pool holds for
	// ever take room the token waves would need.
	return b.pendingDeposits(ctx, ks, ch, pending, sent)
}

// tokenDeposits sends the token deposits numbered in tokens from ch's key
// and waits for their confirmations.
func (b *bench) tokenDeposits(ctx context.Context, ch *benchChain, token common.Address, tokens []int, sent *atomic.Int64) error {
	amount := new(big.Int).Mul(big.NewInt(1000), new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)) // 1000 tokens
	sel := crypto.Keccak256([]byte("transfer(address,uint256)"))[:4]
	transfer := func(to common.Address) []byte {
		return append(append(append([]byte{}, sel...), common.LeftPadBytes(to.Bytes(), 32)...), common.LeftPadBytes(amount.Bytes(), 32)...)
	}
	// Every deposit credits a new holder, so one estimate fits them all;
	// half again on top, as the fixtures give a contract call, for a
	// storage cost that moves between the estimate and the block. Only
	// the gas used is paid.
	gas, err := ch.c.EstimateGas(ctx, ethereum.CallMsg{From: ch.from, To: &token, Data: transfer(common.HexToAddress(b.deposits[tokens[0]].To))})
	if err != nil {
		return fmt.Errorf("bench: estimate a token transfer: %w", err)
	}
	gas += gas / 2
	for _, i := range tokens {
		d := &b.deposits[i]
		h, err := ch.send(ctx, token, nil, gas, transfer(common.HexToAddress(d.To)))
		if err != nil {
			return fmt.Errorf("bench: token deposit %d: %w", i, err)
		}
		d.Hash = h.Hex()
		sent.Add(1)
	}
	return ch.awaitConfirmed(ctx)
}

// pendingDeposits funds outside senders from the faucet and has each sign
// up to benchPendingPerSender of the deposits numbered in idx past a nonce
// gap: the node keeps them and never mines them.
func (b *bench) pendingDeposits(ctx context.Context, ks *keystore.Keystore, ch *benchChain, idx []int, sent *atomic.Int64) error {
	n := len(idx)
	if n == 0 {
		return nil
	}
	var senders []*ecdsa.PrivateKey
	ether := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	for s := range (n + benchPendingPerSender - 1) / benchPendingPerSender {
		key, err := ks.EVMKey(keystore.PurposeSender, uint32(benchSenderBase+s))
		if err != nil {
			return err
		}
		if _, err := ch.send(ctx, crypto.PubkeyToAddress(key.PublicKey), ether, 21_000, nil); err != nil {
			return fmt.Errorf("bench: fund pending sender %d: %w", s, err)
		}
		senders = append(senders, key)
	}
	if err := ch.waitMined(ctx); err != nil {
		return err
	}
	nonces := make([]uint64, len(senders))
	for s, key := range senders {
		next, err := ch.c.NonceAt(ctx, crypto.PubkeyToAddress(key.PublicKey), nil)
		if err != nil {
			return err
		}
		nonces[s] = next + pendingNonceGap
	}
	value := new(big.Int).Exp(big.NewInt(10), big.NewInt(16), nil) // 0.01 ETH
	for k, i := range idx {
		d := &b.deposits[i]
		s := k / benchPendingPerSender
		to := common.HexToAddress(d.To)
		tx, err := types.SignTx(types.NewTx(&types.LegacyTx{Nonce: nonces[s], GasPrice: ch.price, Gas: 21_000, To: &to, Value: value}), ch.signer, senders[s])
		if err != nil {
			return err
		}
		if err := ch.c.SendTransaction(ctx, tx); err != nil {
			return fmt.Errorf("bench: pending deposit %d: %w", i, err)
		}
		d.Hash = tx.Hash().Hex()
		nonces[s]++
		sent.Add(1)
	}
	return nil
}

// benchChain sends one key's transactions on one local chain with nonces
// it counts itself, in waves the node's pool takes.
type benchChain struct {
	c      *ethclient.Client
	key    *ecdsa.PrivateKey
	from   common.Address
	signer types.Signer
	price  *big.Int
	// first is the first nonce this bench used, next the next to use;
	// last is the hash of the last transaction sent.
	first, next uint64
	last        common.Hash
	// unmined are the transactions sent since the last wave was mined;
	// resent counts those sent again (see waitMined).
	unmined []*types.Transaction
	resent  *atomic.Int64
}

func dialBenchChain(ctx context.Context, url string, chainID int64, key *ecdsa.PrivateKey, resent *atomic.Int64) (*benchChain, error) {
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, err
	}
	ch := &benchChain{c: c, key: key, from: crypto.PubkeyToAddress(key.PublicKey), signer: types.LatestSignerForChainID(big.NewInt(chainID)), resent: resent}
	if ch.first, err = c.PendingNonceAt(ctx, ch.from); err != nil {
		c.Close()
		return nil, err
	}
	ch.next = ch.first
	if ch.price, err = c.SuggestGasPrice(ctx); err != nil {
		c.Close()
		return nil, err
	}
	ch.price.Mul(ch.price, big.NewInt(2))
	return ch, nil
}

// send signs and sends a transaction with the next nonce; at the end of a
// wave it waits until the pool has drained.
func (ch *benchChain) send(ctx context.Context, to common.Address, value *big.Int, gas uint64, data []byte) (common.Hash, error) {
	tx, err := types.SignTx(types.NewTx(&types.LegacyTx{Nonce: ch.next, GasPrice: ch.price, Gas: gas, To: &to, Value: value, Data: data}), ch.signer, ch.key)
	if err != nil {
		return common.Hash{}, err
	}
	if err := ch.c.SendTransaction(ctx, tx); err != nil {
		return common.Hash{}, err
	}
	ch.next++
	ch.last = tx.Hash()
	ch.unmined = append(ch.unmined, tx)
	if (ch.next-ch.first)%benchWave == 0 {
		if err := ch.waitMined(ctx); err != nil {
			return common.Hash{}, err
		}
	}
	return tx.Hash(), nil
}

// awaitConfirmed waits until the last transaction sent has three
// confirmations, as the local chains require.
func (ch *benchChain) awaitConfirmed(ctx context.Context) error {
	if ch.next == ch.first {
		return nil
	}
	if err := ch.waitMined(ctx); err != nil {
		return err
	}
	for {
		r, err := ch.c.TransactionReceipt(ctx, ch.last)
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				return fmt.Errorf("bench: deposit %s reverted", ch.last)
			}
			head, herr := ch.c.BlockNumber(ctx)
			if herr == nil && head >= r.BlockNumber.Uint64()+3 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// waitMined waits until every transaction sent so far is mined. A local
// chain under a burst of transactions now and then loses one from its pool
// (the next ones then wait for ever behind the gap): when nothing is mined
// for benchStall, the transactions not mined yet are sent again, as a
// wallet rebroadcasts, and counted in resent.
func (ch *benchChain) waitMined(ctx context.Context) error {
	seen, since, tries := uint64(0), time.Now(), 0
	for {
		n, err := ch.c.NonceAt(ctx, ch.from, nil)
		if err == nil && n >= ch.next {
			ch.unmined = ch.unmined[:0]
			return nil
		}
		if err == nil && n > seen {
			seen, since = n, time.Now()
		}
		if time.Since(since) > benchStall {
			if tries++; tries > 3 {
				return fmt.Errorf("bench: the local chain mined no transaction of %s at nonce %d of %d, though they were sent %d times", ch.from, seen, ch.next, tries)
			}
			for _, tx := range ch.unmined {
				if tx.Nonce() < seen {
					continue
				}
				if err := ch.c.SendTransaction(ctx, tx); err != nil && !strings.Contains(err.Error(), "already known") {
					return fmt.Errorf("bench: send transaction %d of %s again: %w", tx.Nonce(), ch.from, err)
				}
				ch.resent.Add(1)
			}
			since = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// file appeals every deposit with the configured clients, each appeal by
// its own user, as the exchange's users would.
func (b *bench) file(ctx context.Context) error {
	var lim *rate.Limiter
	if b.o.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(b.o.Rate), 1)
	}
	b.cases = make([]benchCase, len(b.deposits))
	bar := newProgressBar(b.out, "filing", len(b.deposits), func() int { return int(b.filed.Load()) })
	defer bar.Stop()
	work := make(chan int)
	var failed atomic.Value
	var wg sync.WaitGroup
	for range b.o.Clients {
		wg.Go(func() {
			for i := range work {
				if err := b.appeal(ctx, i); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	for i := range b.deposits {
		if lim != nil {
			if err := lim.Wait(ctx); err != nil {
				break
			}
		}
		work <- i
	}
	close(work)
	wg.Wait()
	b.filedAt = time.Now()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	return nil
}

func (b *bench) appeal(ctx context.Context, i int) error {
	d := b.deposits[i]
	var issued struct{ Token string }
	if err := b.call(ctx, "POST", "/v1/dev/user-token", "", map[string]any{"user_id": d.User}, &issued, 200); err != nil {
		return err
	}
	if err := b.call(ctx, "GET", "/v1/deposit-address?user_id="+d.User+"&network=eth", "", nil, nil, 200); err != nil {
		return err
	}
	var created struct {
		AppealID string `json:"appeal_id"`
	}
	t0 := time.Now()
	// An engine that is over its capacity answers 503 (or the user's 429):
	// try again later, as a user's client would, and count it.
	for wait := time.Second; ; wait = min(2*wait, 15*time.Second) {
		err := b.call(ctx, "POST", "/v1/appeals", issued.Token, map[string]any{"network": "eth", "tx_hash": d.Hash, "to_address": d.To, "user_id": d.User}, &created, 202, 200)
		var he *benchHTTPError
		if !errors.As(err, &he) || (he.Status != http.StatusServiceUnavailable && he.Status != http.StatusTooManyRequests) || time.Since(t0) > 5*time.Minute {
			if err != nil {
				return err
			}
			break
		}
		b.retried.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	took := time.Since(t0)
	b.cases[i] = benchCase{ID: created.AppealID, Token: issued.Token, Submitted: t0}
	b.mu.Lock()
	b.posts = append(b.posts, took)
	b.mu.Unlock()
	b.filed.Add(1)
	return nil
}

// benchHTTPError is an answer of the API the bench did not expect.
type benchHTTPError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *benchHTTPError) Error() string {
	return fmt.Sprintf("bench: %s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

func (b *bench) call(ctx context.Context, method, path, token string, body, out any, ok ...int) error {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.api+path, r)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if !slices.Contains(ok, resp.StatusCode) {
		return &benchHTTPError{Method: method, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// series reads the series of a Prometheus metric, keyed by their labels
// as written ({status="parked"}).
func (b *bench) series(ctx context.Context, name string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", b.api+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			if v, err := strconv.ParseFloat(rest[i+1:], 64); err == nil {
				out[strings.TrimSpace(rest[:i])] += v
			}
		}
	}
	return out, sc.Err()
}

func (b *bench) nodeCalls(ctx context.Context) (int64, error) {
	s, err := b.series(ctx, "recovery_node_calls_total")
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return int64(sum), err
}

// underWay counts the open cases still on their way to a decision, from
// the open-cases gauge (counted at most every 15 s by the API).
func (b *bench) underWay(ctx context.Context) (int, error) {
	s, err := b.series(ctx, "recovery_cases_open")
	n := 0.0
	for _, st := range benchUnderWay {
		n += s[`{status="`+st+`"}`]
	}
	return int(n), err
}

// benchFewLeft is how many undecided cases are read every two seconds
// whatever the gauge says.
const benchFewLeft = 500

// awaitDecisions waits until every appeal is decided, reading the cases
// not decided yet in rounds. Reading a case queries its workflow, which
// competes with the cases' own work on a busy worker, so between rounds
// the open-cases gauge tells cheaply whether one is worth it. The gauge is
// counted at most every 15 s, so it is believed only from 20 s after the
// filing ended (15 s of cache, 5 s of counting). A round runs whenever the
// gauge shows no case under way, or the same count for 45 s (cases
// resting in an under-way status), and every two seconds while few cases
// are left (a small backlog from the start). It gives up on the rest after
// Patience with none newly decided.
func (b *bench) awaitDecisions(ctx context.Context) error {
	n := len(b.cases)
	var decided, estimate atomic.Int64
	bar := newProgressBar(b.out, "deciding", n, func() int { return int(max(decided.Load(), estimate.Load())) })
	defer bar.Stop()
	left := make([]int, n)
	for i := range left {
		left[i] = i
	}
	believed := b.filedAt.Add(20 * time.Second)
	lastNews := time.Now()
	lastUnder, underSince := -1, time.Now()
	var lastRound time.Time
	for {
		now := time.Now()
		due := len(left) <= benchFewLeft && now.Sub(lastRound) >= 2*time.Second
		if !due && now.After(believed) {
			under, err := b.underWay(ctx)
			if err != nil {
				return err
			}
			if under != lastUnder {
				lastUnder, underSince, lastNews = under, now, now
			}
			estimate.Store(int64(min(n, max(0, n-under))))
			due = (under == 0 || now.Sub(underSince) > 45*time.Second) && now.Sub(lastRound) >= 2*time.Second
		}
		if due {
			before := len(left)
			var err error
			if left, err = b.sweep(ctx, left, &decided); err != nil {
				return err
			}
			lastRound = time.Now()
			if len(left) < before {
				lastNews = lastRound
			}
			if len(left) == 0 {
				return nil
			}
			if lastRound.Sub(underSince) > 45*time.Second {
				underSince = lastRound
			}
		}
		if time.Since(lastNews) > b.o.Patience {
			for _, i := range left {
				b.cases[i].Outcome = endUndecided
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// sweep reads the appeals numbered in idx with the configured clients and
// returns those not decided yet. A case that cannot be read now is read
// again next round; the last such error is kept for the report.
func (b *bench) sweep(ctx context.Context, idx []int, decided *atomic.Int64) ([]int, error) {
	work := make(chan int)
	var mu sync.Mutex
	var left []int
	var wg sync.WaitGroup
	for range b.o.Clients {
		wg.Go(func() {
			for i := range work {
				ok, err := b.examine(ctx, &b.cases[i])
				if err != nil {
					b.readErr.Store(err)
				}
				if ok {
					decided.Add(1)
				} else {
					mu.Lock()
					left = append(left, i)
					mu.Unlock()
				}
			}
		})
	}
	for _, i := range idx {
		work <- i
	}
	close(work)
	wg.Wait()
	slices.Sort(left)
	return left, ctx.Err()
}

// benchView is what the bench reads of GET /v1/appeals/{id}.
type benchView struct {
	Status     string `json:"status"`
	Closed     bool   `json:"closed"`
	JoinedCase string `json:"joined_case"`
	Timeline   []struct {
		At   time.Time `json:"at"`
		Code string    `json:"code"`
	} `json:"timeline"`
}

// examine reads an appeal's case, following it to the case it joined, and
// records its decision when it has one.
func (b *bench) examine(ctx context.Context, c *benchCase) (decided bool, err error) {
	var v benchView
	err = b.call(ctx, "GET", "/v1/appeals/"+c.caseID(), c.Token, nil, &v, 200)
	var he *benchHTTPError
	switch {
	case errors.As(err, &he) && he.Status == http.StatusNotFound && c.Follow != "":
		// The case it joined is not the user's: it cannot be read.
		c.Outcome = endUnreadable
		return true, nil
	case err != nil:
		// A limited user, a query that timed out on a loaded server:
		// read again next round.
		return false, err
	}
	if c.Follow == "" {
		for _, e := range v.Timeline {
			switch e.Code {
			case "joined":
				// Filed under a provisional id, it handed over to the
				// case named after its deposit: that one decides.
				if v.JoinedCase != "" {
					c.Follow = v.JoinedCase
					return b.examine(ctx, c)
				}
			}
		}
	}
	c.Status, c.Closed = v.Status, v.Closed
	for _, e := range v.Timeline {
		if end, ok := benchDecisions[e.Code]; ok {
			c.Outcome, c.At = end, e.At
			return true, nil
		}
	}
	if !v.Closed && slices.Contains(benchUnderWay, v.Status) {
		return false, nil
	}
	// A case resting in a status the bench has no event for: its status
	// says how it ended, as of its last event.
	c.Outcome = "status " + v.Status
	if v.Closed {
		c.Outcome = "closed as " + v.Status
	}
	if len(v.Timeline) > 0 {
		c.At = v.Timeline[len(v.Timeline)-1].At
	}
	return true, nil
}

// withdrawPolling withdraws the appeals whose cases keep asking the nodes
// (pending, not found), so that they do not load the baseline.
func (b *bench) withdrawPolling(ctx context.Context) {
	work := make(chan *benchCase)
	var failures atomic.Int64
	var wg sync.WaitGroup
	for range b.o.Clients {
		wg.Go(func() {
			for c := range work {
				if err := b.call(ctx, "POST", "/v1/appeals/"+c.caseID()+"/withdraw", c.Token, nil, nil, 200); err != nil {
					failures.Add(1)
				}
			}
		})
	}
	for i := range b.cases {
		c := &b.cases[i]
		if !c.Closed && (c.Outcome == endConfirming || c.Outcome == endNotFound) {
			work <- c
		}
	}
	close(work)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		fmt.Fprintf(b.out, "bench: %d polling cases could not be withdrawn before the baseline\n", n)
	}
}

// report gathers the figures of the run from the cases' timelines.
func (b *bench) report(counts map[benchKind]int) benchReport {
	r := benchReport{N: b.o.N, Clients: b.o.Clients, Rate: b.o.Rate, Ended: map[string]int{}, Post: percentiles(b.posts)}
	var first, last time.Time
	timed := 0
	for _, k := range benchKinds {
		if counts[k] == 0 {
			continue
		}
		kr := benchKindReport{Kind: string(k), Deposits: counts[k], Ended: map[string]int{}}
		var took []time.Duration
		for i, c := range b.cases {
			if b.deposits[i].Kind != k {
				continue
			}
			kr.Ended[c.Outcome]++
			r.Ended[c.Outcome]++
			if c.Outcome != endUndecided {
				kr.Decided++
			}
			if c.Follow != "" {
				r.Joined++
			}
			if c.Outcome == endUndecided || c.At.IsZero() || c.Submitted.IsZero() {
				continue
			}
			took = append(took, c.At.Sub(c.Submitted))
			timed++
			if first.IsZero() || c.Submitted.Before(first) {
				first = c.Submitted
			}
			if c.At.After(last) {
				last = c.At
			}
		}
		kr.ToDecision = percentiles(took)
		r.Kinds = append(r.Kinds, kr)
		r.Decided += kr.Decided
	}
	r.Undecided = r.Ended[endUndecided]
	if timed > 0 {
		r.Elapsed = last.Sub(first)
		r.PerSecond = float64(timed) / r.Elapsed.Seconds()
	}
	r.Quarters = quarterRates(b.cases)
	var decisions []time.Time
	for _, c := range b.cases {
		if c.Outcome != endUndecided && !c.At.IsZero() {
			decisions = append(decisions, c.At)
		}
	}
	r.Pace = paceByQuarter(decisions)
	r.Retried = b.retried.Load()
	r.Resent = b.resent.Load()
	return r
}

// quarterRates is the throughput of each quarter of the backlog in filing
// order, from its first submission to its last decision: whether the
// engine slows down as cases pile up in its store.
func quarterRates(cases []benchCase) []float64 {
	var out []float64
	for q := range 4 {
		var first, last time.Time
		n := 0
		for _, c := range cases[q*len(cases)/4 : (q+1)*len(cases)/4] {
			if c.Outcome == endUndecided || c.At.IsZero() || c.Submitted.IsZero() {
				continue
			}
			n++
			if first.IsZero() || c.Submitted.Before(first) {
				first = c.Submitted
			}
			if c.At.After(last) {
				last = c.At
			}
		}
		if n == 0 || !last.After(first) {
			return nil
		}
		out = append(out, float64(n)/last.Sub(first).Seconds())
	}
	return out
}

// paceByQuarter is how fast the engine decided each quarter of the
// decisions, in the order they were made: while a backlog waits, the pace
// the engine keeps as its store fills. Unlike quarterRates it does not
// count the time a quarter's appeals waited behind the earlier ones.
func paceByQuarter(done []time.Time) []float64 {
	if len(done) < 8 {
		return nil
	}
	done = slices.Clone(done)
	slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
	var out []float64
	for q := range 4 {
		from, to := q*len(done)/4, (q+1)*len(done)/4-1
		span := done[to].Sub(done[from])
		if span <= 0 {
			return nil
		}
		out = append(out, float64(to-from)/span.Seconds())
	}
	return out
}

type benchPercentiles struct {
	P50, P95, P99, Max time.Duration
}

// MarshalJSON writes the percentiles in seconds.
func (p benchPercentiles) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{"p50_s": p.P50.Seconds(), "p95_s": p.P95.Seconds(), "p99_s": p.P99.Seconds(), "max_s": p.Max.Seconds()})
}

func (p benchPercentiles) String() string {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("%s / %s / %s / %s", ms(p.P50), ms(p.P95), ms(p.P99), ms(p.Max))
}

func percentiles(ds []time.Duration) benchPercentiles {
	if len(ds) == 0 {
		return benchPercentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return benchPercentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: s[len(s)-1]}
}

// peakRSS is this process's peak resident memory (Linux), 0 elsewhere.
func peakRSS(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchEngine is the engine under measure: `recovery dev` as a child
// process, so that its peak memory is its own, or in this process (the
// profiles need it there; its memory then includes the bench's clients).
type benchEngine struct {
	banner io.Reader // the engine's standard output
	pid    int
	stop   func()
}

func startBenchEngine(ctx context.Context, inProcess bool, args []string, getenv func(string) string, log io.Writer) (*benchEngine, error) {
	pr, pw := io.Pipe()
	if inProcess {
		engineCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			pw.CloseWithError(run(engineCtx, args, getenv, pw, log))
		}()
		return &benchEngine{banner: pr, pid: os.Getpid(), stop: func() { cancel(); <-done }}, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: the engine's binary: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = pw, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start the engine: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(cmd.Wait())
	}()
	return &benchEngine{banner: pr, pid: cmd.Process.Pid, stop: func() {
		// Ctrl-C, as a user stops recovery dev; a kill if it hangs.
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}}, nil
}

// storeSize is the size of the embedded Temporal's SQLite files: its
// store and its visibility, each with its write-ahead log.
func storeSize(dir string) int64 {
	var n int64
	for _, db := range []string{"temporal.db", "temporal-visibility.db"} {
		for _, f := range []string{db, db + "-wal", db + "-shm"} {
			if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// benchBaselineQueue is the task queue of the baseline's bare workflow.
const benchBaselineQueue = "bench-baseline"

// benchNoop is the baseline's activity: nothing.
func benchNoop(context.Context) error { return nil }

// benchWorkflow is the baseline: a workflow that runs three no-op
// activities, as a case runs its look-up, diagnosis and quote.
func benchWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range 3 {
		if err := workflow.ExecuteActivity(ctx, "BenchNoop").Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// baseline runs n bare workflows on the engine's own Temporal server with
// a worker of its own, clients at a time, and returns how many finished a
// second, overall and by quarter (paceByQuarter).
func baseline(ctx context.Context, temporalAddr string, n, clients int) (float64, []float64, error) {
	c, err := client.DialContext(ctx, client.Options{HostPort: temporalAddr, Logger: quietSDKLogger{}})
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	w := worker.New(c, benchBaselineQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(benchWorkflow, workflow.RegisterOptions{Name: "BenchWorkflow"})
	w.RegisterActivityWithOptions(benchNoop, activity.RegisterOptions{Name: "BenchNoop"})
	if err := w.Start(); err != nil {
		return 0, nil, err
	}
	defer w.Stop()
	start := time.Now()
	done := make([]time.Time, n)
	work := make(chan int)
	var failed atomic.Value
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range work {
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-%d-%d", start.UnixNano(), i), TaskQueue: benchBaselineQueue}, "BenchWorkflow")
				if err == nil {
					err = run.Get(ctx, nil)
				}
				if err != nil {
					failed.Store(err)
				}
				done[i] = time.Now()
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return 0, nil, err
	}
	return float64(n) / time.Since(start).Seconds(), paceByQuarter(done), nil
}

// quietSDKLogger drops the SDK's own log lines.
type quietSDKLogger struct{}

func (quietSDKLogger) Debug(string, ...any) {}
func (quietSDKLogger) Info(string, ...any)  {}
func (quietSDKLogger) Warn(string, ...any)  {}
func (quietSDKLogger) Error(string, ...any) {}

// progressBar keeps one line of stderr up to date (carriage returns, no
// new lines) with a bar, the count done of the total and the rate since
// it started; Stop draws it a last time and ends the line.
type progressBar struct {
	w     io.Writer
	label string
	total int
	count func() int
	start time.Time
	stop  chan struct{}
	done  chan struct{}
	width int // of the last line drawn, to blank what a shorter one leaves
}

func newProgressBar(w io.Writer, label string, total int, count func() int) *progressBar {
	p := &progressBar{w: w, label: label, total: total, count: count, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				p.draw()
				fmt.Fprintln(p.w)
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progressBar) Stop() {
	close(p.stop)
	<-p.done
}

func (p *progressBar) draw() {
	line := progressLine(p.label, p.count(), p.total, time.Since(p.start))
	pad := max(0, p.width-len(line))
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
}

// progressLine is one state of a progress bar.
func progressLine(label string, n, total int, elapsed time.Duration) string {
	const width = 30
	n = min(max(n, 0), total)
	filled := 0
	if total > 0 {
		filled = width * n / total
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	pct := 100
	if total > 0 {
		pct = 100 * n / total
	}
	perSecond := 0.0
	if s := elapsed.Seconds(); s > 0 {
		perSecond = float64(n) / s
	}
	return fmt.Sprintf("bench: %-8s [%s] %d/%d %3d%% %.1f/s %s", label, bar, n, total, pct, perSecond, elapsed.Round(time.Second))
}

type benchReport struct {
	N       int     `json:"n"`
	Clients int     `json:"clients"`
	Rate    float64 `json:"offered_rate,omitempty"`
	// Decided counts the appeals that reached their decision; Undecided
	// those the bench stopped waiting for.
	Decided   int `json:"decided"`
	Undecided int `json:"undecided"`
	// Elapsed runs from the first submission to the last decision, as the
	// cases' timelines have them.
	Elapsed   time.Duration `json:"-"`
	PerSecond float64       `json:"decided_per_second"`
	// Quarters is the throughput of each quarter of the backlog, in
	// filing order.
	Quarters []float64 `json:"decided_per_second_by_quarter,omitempty"`
	// Pace is the engine's pace in each quarter of its decisions (see
	// paceByQuarter).
	Pace  []float64         `json:"pace_by_quarter_of_decisions,omitempty"`
	Post  benchPercentiles  `json:"post_latency"`
	Kinds []benchKindReport `json:"kinds"`
	// Ended counts the appeals by how they ended, over every kind.
	Ended map[string]int `json:"ended"`
	// Joined counts the appeals filed under a provisional id and followed
	// to the case that goes on.
	Joined int `json:"joined"`
	// Retried counts the POSTs answered 503 or 429 and sent again.
	Retried int64 `json:"post_retried"`
	// Resent counts deposits a local chain lost and the bench sent again.
	Resent    int64   `json:"deposits_resent"`
	NodeCalls float64 `json:"node_calls_per_appeal"`
	PeakRSS   int64   `json:"peak_rss_bytes"`
	// CachedCases is how many cases the engine's worker keeps in memory
	// at the end (config workflow_cache bounds it).
	CachedCases int     `json:"cached_cases"`
	Store       int64   `json:"store_bytes"`
	Baseline    float64 `json:"baseline_per_second,omitempty"`
	// BaselinePace is the bare workflows' pace by quarter, as Pace.
	BaselinePace []float64 `json:"baseline_pace_by_quarter,omitempty"`
}

// benchKindReport is one kind's share of the report.
type benchKindReport struct {
	Kind       string           `json:"kind"`
	Deposits   int              `json:"deposits"`
	Decided    int              `json:"decided"`
	Ended      map[string]int   `json:"ended"`
	ToDecision benchPercentiles `json:"submission_to_decision"`
}

// MarshalJSON adds the elapsed time in seconds.
func (r benchReport) MarshalJSON() ([]byte, error) {
	type plain benchReport
	return json.Marshal(struct {
		plain
		ElapsedS float64 `json:"elapsed_s"`
	}{plain(r), r.Elapsed.Seconds()})
}

// endings lists counts by how the appeals ended, in the report's order.
func endings(m map[string]int) string {
	var parts []string
	for _, e := range endOrder {
		if m[e] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", e, m[e]))
		}
	}
	var others []string
	for e := range m {
		if !slices.Contains(endOrder, e) && e != endUndecided {
			others = append(others, e)
		}
	}
	slices.Sort(others)
	for _, e := range others {
		parts = append(parts, fmt.Sprintf("%s %d", e, m[e]))
	}
	if m[endUndecided] > 0 {
		parts = append(parts, fmt.Sprintf("%s %d", endUndecided, m[endUndecided]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (r benchReport) print(w io.Writer) {
	var mix []string
	for _, k := range r.Kinds {
		mix = append(mix, fmt.Sprintf("%s %d", k.Kind, k.Deposits))
	}
	fmt.Fprintf(w, "Backlog of %d appeals (%s), %d concurrent clients", r.N, strings.Join(mix, ", "), r.Clients)
	if r.Rate > 0 {
		fmt.Fprintf(w, ", offered at %.1f/s", r.Rate)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  appeals decided per second, end to end  %.1f (%d in %s, first submission to last decision)\n", r.PerSecond, r.Decided, r.Elapsed.Round(time.Second))
	if len(r.Quarters) == 4 {
		fmt.Fprintf(w, "  the same, by quarter of the backlog      %s\n", quarters(r.Quarters))
	}
	if len(r.Pace) == 4 {
		fmt.Fprintf(w, "  pace by quarter of the decisions         %s\n", quarters(r.Pace))
	}
	fmt.Fprintf(w, "  POST /v1/appeals latency p50/p95/p99     %s / %s / %s\n", r.Post.P50.Round(time.Millisecond), r.Post.P95.Round(time.Millisecond), r.Post.P99.Round(time.Millisecond))
	if r.Resent > 0 {
		fmt.Fprintf(w, "  deposits a local chain lost, sent again  %d\n", r.Resent)
	}
	if r.Retried > 0 {
		fmt.Fprintf(w, "  POSTs answered 503 or 429, sent again    %d\n", r.Retried)
	}
	fmt.Fprintf(w, "  POST sent to decision in the case's timeline, p50/p95/p99/max:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "    %s\t%d of %d decided\t%s\t(%s)\n", k.Kind, k.Decided, k.Deposits, k.ToDecision, endings(k.Ended))
	}
	tw.Flush()
	fmt.Fprintf(w, "  how the appeals ended                    %s\n", endings(r.Ended))
	fmt.Fprintf(w, "  filed under a provisional id, followed   %d\n", r.Joined)
	fmt.Fprintf(w, "  node calls per appeal                    %.1f\n", r.NodeCalls)
	fmt.Fprintf(w, "  peak RSS of recovery dev (with its chains) %d MiB\n", r.PeakRSS>>20)
	fmt.Fprintf(w, "  cases kept in the worker's memory at the end %d (workflow_cache)\n", r.CachedCases)
	fmt.Fprintf(w, "  Temporal store (SQLite)                  %d MiB\n", r.Store>>20)
	if r.Baseline > 0 {
		fmt.Fprintf(w, "  bare workflow, 3 no-op activities        %.1f/s; this engine %.2f of it\n", r.Baseline, r.PerSecond/r.Baseline)
	}
	if len(r.BaselinePace) == 4 {
		fmt.Fprintf(w, "  bare workflows' pace by quarter          %s\n", quarters(r.BaselinePace))
	}
}

// quarters writes four rates per second.
func quarters(q []float64) string {
	return fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", q[0], q[1], q[2], q[3])
}
