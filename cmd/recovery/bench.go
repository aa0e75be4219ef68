package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/time/rate"

	"github.com/misdeposit/recovery/devchain"
	"github.com/misdeposit/recovery/devchain/keystore"
)

// benchOptions are the knobs of `recovery bench`.
type benchOptions struct {
	N        int
	Clients  int
	Rate     float64 // appeals offered per second; 0: as fast as the clients go
	DataDir  string
	Baseline bool
	// CPUProfile and HeapProfile name files for pprof profiles of the
	// filing and quoting phase (the engine runs in this process).
	CPUProfile, HeapProfile string
}

func benchCmd(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the engine on a backlog: N real wrong-network deposits on the local chains, appealed through the API",
		Long: `Measure the engine on a backlog of appeals, end to end, on this machine.

It starts the engine as recovery dev does (embedded Temporal on SQLite, the
worker, the API, local chains) in a fresh data directory, makes N real
wrong-network deposits on the local bsc chain (0.1 BNB each to users' eth
deposit addresses), files an appeal for each through the API with C
concurrent clients (at an offered rate if one is given), and waits until
every case has its fee quote. It prints the throughput, the time from
submission to quote (p50, p95, p99, from each case's own timeline), the
latency of POST /v1/appeals, the node calls per appeal, the process's peak
memory and the Temporal store's size; then, on the same server, the
throughput of a bare workflow with as many no-op activities, and ours as a
ratio of it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), o, getenv, stdout, stderr)
		},
	}
	cmd.Flags().IntVar(&o.N, "n", 20_000, "appeals (and deposits) to make")
	cmd.Flags().IntVar(&o.Clients, "clients", 32, "concurrent API clients")
	cmd.Flags().Float64Var(&o.Rate, "rate", 0, "appeals offered per second (0: as fast as the clients go)")
	cmd.Flags().StringVar(&o.DataDir, "data-dir", "", "where the engine keeps its data (default: a new temporary directory, removed afterwards)")
	cmd.Flags().BoolVar(&o.Baseline, "baseline", true, "also measure a bare workflow with no-op activities on the same server")
	cmd.Flags().StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the filing and quoting phase to this file (read it with go tool pprof)")
	cmd.Flags().StringVar(&o.HeapProfile, "memprofile", "", "write a heap profile taken when the last quote is in to this file")
	return cmd
}

var (
	benchAPILine = regexp.MustCompile(`^\s+API and appeal form\s+(http://\S+)/`)
	benchBSCLine = regexp.MustCompile(`^\s+Local chain bsc\s+(\S+)`)
)

func runBench(ctx context.Context, o benchOptions, getenv func(string) string, stdout, stderr io.Writer) error {
	if o.N < 1 || o.Clients < 1 {
		return errors.New("bench: --n and --clients must be at least 1")
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
	temporalAddr := "127.0.0.1:" + port
	engineCtx, stop := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(engineCtx, []string{"dev", "--data-dir", dir, "--api-addr", "127.0.0.1:0", "--temporal-address", temporalAddr,
			"--ui-port", "-1", "--log-level", "error"}, getenv, pw, stderr)
		pw.CloseWithError(err)
		done <- err
	}()
	defer func() {
		stop()
		<-done
	}()
	fmt.Fprintln(stderr, "bench: starting the engine and its local chains…")
	api, bscURL, err := readBanner(pr)
	if err != nil {
		return err
	}
	go io.Copy(io.Discard, pr)

	b := &bench{o: o, api: api, out: stderr}
	calls0, err := b.nodeCalls()
	if err != nil {
		return err
	}
	deposits, err := b.makeDeposits(ctx, dir, bscURL)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(o.CPUProfile)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := b.file(ctx, deposits); err != nil {
		stopProfile()
		return err
	}
	err = b.awaitQuotes(ctx, start)
	stopProfile()
	if err != nil {
		return err
	}
	if err := writeHeapProfile(o.HeapProfile); err != nil {
		return err
	}
	calls1, err := b.nodeCalls()
	if err != nil {
		return err
	}
	toQuote, lastQuote, err := b.timelines(ctx)
	if err != nil {
		return err
	}
	// From the first submission to the last quote, as the cases' own
	// timelines have it (the progress count lags by up to 15 s).
	elapsed := lastQuote.Sub(start)
	r := benchReport{
		N: o.N, Clients: o.Clients, Elapsed: elapsed, PerSecond: float64(o.N) / elapsed.Seconds(),
		Post: percentiles(b.posts), ToQuote: percentiles(toQuote),
		NodeCalls: float64(calls1-calls0) / float64(o.N), PeakRSS: peakRSS(), Store: storeSize(dir),
	}
	if o.Baseline {
		fmt.Fprintln(stderr, "bench: the baseline, a bare workflow with three no-op activities…")
		if r.Baseline, err = baseline(ctx, temporalAddr, o.N, o.Clients); err != nil {
			return err
		}
	}
	r.print(stdout)
	return nil
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
// local bsc chain's.
func readBanner(r io.Reader) (api, bsc string, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m := benchAPILine.FindStringSubmatch(line); m != nil {
			api = m[1]
		}
		if m := benchBSCLine.FindStringSubmatch(line); m != nil {
			bsc = m[1]
		}
		if strings.HasPrefix(line, "Press Ctrl-C") {
			break
		}
	}
	if api == "" || bsc == "" {
		return "", "", fmt.Errorf("bench: the engine did not start: %v", sc.Err())
	}
	return api, bsc, nil
}

type bench struct {
	o     benchOptions
	api   string
	out   io.Writer
	mu    sync.Mutex
	posts []time.Duration
	cases []benchCase
}

type benchCase struct {
	ID, Token string
}

type benchDeposit struct {
	User, Hash, To string
}

// makeDeposits sends N wrong-network deposits on bsc from the dev faucet
// to users' eth deposit addresses, in waves the node's pool takes, and
// waits until the last has its confirmations.
func (b *bench) makeDeposits(ctx context.Context, dir, bscURL string) ([]benchDeposit, error) {
	ks, err := keystore.Open(filepath.Join(dir, "keystore"))
	if err != nil {
		return nil, err
	}
	key, err := ks.EVMKey(keystore.PurposeFaucet, 0)
	if err != nil {
		return nil, err
	}
	from, err := ks.EVMAddress(keystore.PurposeFaucet, 0)
	if err != nil {
		return nil, err
	}
	bsc, err := ethclient.DialContext(ctx, bscURL)
	if err != nil {
		return nil, err
	}
	defer bsc.Close()
	nonce, err := bsc.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, err
	}
	price, err := bsc.SuggestGasPrice(ctx)
	if err != nil {
		return nil, err
	}
	price.Mul(price, big.NewInt(2))
	signer := types.LatestSignerForChainID(big.NewInt(devchain.BscChainID))
	value := new(big.Int).Exp(big.NewInt(10), big.NewInt(17), nil) // 0.1 BNB
	out := make([]benchDeposit, b.o.N)
	// The dev chain's pool holds about a hundred transactions of one
	// account at a time: the deposits go in waves, each mined before the
	// next.
	const wave = 50
	var last common.Hash
	for i := range b.o.N {
		user := fmt.Sprintf("bench%06d", i)
		to, err := ks.EVMAddress(keystore.PurposeUser, keystore.UserIndex(user))
		if err != nil {
			return nil, err
		}
		tx, err := types.SignTx(types.NewTx(&types.LegacyTx{Nonce: nonce + uint64(i), GasPrice: price, Gas: 21000, To: &to, Value: value}), signer, key)
		if err != nil {
			return nil, err
		}
		if err := bsc.SendTransaction(ctx, tx); err != nil {
			return nil, fmt.Errorf("bench: deposit %d: %w", i, err)
		}
		out[i] = benchDeposit{User: user, Hash: tx.Hash().Hex(), To: to.Hex()}
		last = tx.Hash()
		if (i+1)%wave == 0 {
			// Let the pool drain before the next wave.
			if err := waitNonce(ctx, bsc, from, nonce+uint64(i+1)); err != nil {
				return nil, err
			}
			fmt.Fprintf(b.out, "\rbench: %d of %d deposits sent", i+1, b.o.N)
		}
	}
	fmt.Fprintf(b.out, "\rbench: %d deposits sent, waiting for their confirmations\n", b.o.N)
	for {
		r, err := bsc.TransactionReceipt(ctx, last)
		if err == nil {
			head, herr := bsc.BlockNumber(ctx)
			if herr == nil && head >= r.BlockNumber.Uint64()+3 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return out, nil
}

func waitNonce(ctx context.Context, c *ethclient.Client, addr common.Address, want uint64) error {
	for {
		n, err := c.NonceAt(ctx, addr, nil)
		if err == nil && n >= want {
			return nil
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
func (b *bench) file(ctx context.Context, deposits []benchDeposit) error {
	var lim *rate.Limiter
	if b.o.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(b.o.Rate), 1)
	}
	work := make(chan benchDeposit)
	var failed atomic.Value
	var wg sync.WaitGroup
	for range b.o.Clients {
		wg.Go(func() {
			for d := range work {
				if err := b.appeal(ctx, d); err != nil {
					failed.Store(err)
				}
			}
		})
	}
	for i, d := range deposits {
		if lim != nil {
			if err := lim.Wait(ctx); err != nil {
				break
			}
		}
		work <- d
		if (i+1)%500 == 0 {
			fmt.Fprintf(b.out, "\rbench: %d of %d appeals filed", i+1, len(deposits))
		}
	}
	close(work)
	wg.Wait()
	fmt.Fprintln(b.out)
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	return nil
}

func (b *bench) appeal(ctx context.Context, d benchDeposit) error {
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
	if err := b.call(ctx, "POST", "/v1/appeals", issued.Token, map[string]any{"network": "eth", "tx_hash": d.Hash, "to_address": d.To, "user_id": d.User}, &created, 202, 200); err != nil {
		return err
	}
	took := time.Since(t0)
	b.mu.Lock()
	b.posts = append(b.posts, took)
	b.cases = append(b.cases, benchCase{ID: created.AppealID, Token: issued.Token})
	b.mu.Unlock()
	return nil
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
		return fmt.Errorf("bench: %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// metric reads the sum of a Prometheus metric's series whose labels
// contain match.
func (b *bench) metric(ctx context.Context, name, match string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", b.api+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || !strings.Contains(line, match) {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum, sc.Err()
}

func (b *bench) nodeCalls() (int64, error) {
	v, err := b.metric(context.Background(), "recovery_node_calls_total{", "")
	return int64(v), err
}

// awaitQuotes waits until every case has its quote, showing progress.
func (b *bench) awaitQuotes(ctx context.Context, start time.Time) error {
	for {
		quoted, err := b.metric(ctx, "recovery_cases_open{", `status="awaiting_acceptance"`)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.out, "\rbench: %d of %d quoted, %.1f/s", int(quoted), b.o.N, quoted/time.Since(start).Seconds())
		if int(quoted) >= b.o.N {
			fmt.Fprintln(b.out)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// timelines reads each case's timeline for the time from its submission
// to its quote, as the engine recorded them.
func (b *bench) timelines(ctx context.Context) ([]time.Duration, time.Time, error) {
	work := make(chan benchCase)
	var mu sync.Mutex
	var out []time.Duration
	var last time.Time
	var failed atomic.Value
	var wg sync.WaitGroup
	for range b.o.Clients {
		wg.Go(func() {
			for c := range work {
				var st struct {
					Timeline []struct {
						At   time.Time `json:"at"`
						Code string    `json:"code"`
					} `json:"timeline"`
				}
				if err := b.call(ctx, "GET", "/v1/appeals/"+c.ID, c.Token, nil, &st, 200); err != nil {
					failed.Store(err)
					continue
				}
				var received, quoted time.Time
				for _, e := range st.Timeline {
					switch e.Code {
					case "received":
						received = e.At
					case "quote.offered":
						quoted = e.At
					}
				}
				if !received.IsZero() && !quoted.IsZero() {
					mu.Lock()
					out = append(out, quoted.Sub(received))
					if quoted.After(last) {
						last = quoted
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, c := range b.cases {
		work <- c
	}
	close(work)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return nil, time.Time{}, err
	}
	return out, last, nil
}

type benchPercentiles struct {
	P50, P95, P99, Max time.Duration
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
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
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

// storeSize is the size of the embedded Temporal's SQLite files.
func storeSize(dir string) int64 {
	var n int64
	for _, f := range []string{"temporal.db", "temporal.db-wal", "temporal.db-shm"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			n += fi.Size()
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
// second.
func baseline(ctx context.Context, temporalAddr string, n, clients int) (float64, error) {
	c, err := client.DialContext(ctx, client.Options{HostPort: temporalAddr, Logger: quietSDKLogger{}})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	w := worker.New(c, benchBaselineQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(benchWorkflow, workflow.RegisterOptions{Name: "BenchWorkflow"})
	w.RegisterActivityWithOptions(benchNoop, activity.RegisterOptions{Name: "BenchNoop"})
	if err := w.Start(); err != nil {
		return 0, err
	}
	defer w.Stop()
	start := time.Now()
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
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// quietSDKLogger drops the SDK's own log lines.
type quietSDKLogger struct{}

func (quietSDKLogger) Debug(string, ...any) {}
func (quietSDKLogger) Info(string, ...any)  {}
func (quietSDKLogger) Warn(string, ...any)  {}
func (quietSDKLogger) Error(string, ...any) {}

type benchReport struct {
	N, Clients int
	Elapsed    time.Duration
	PerSecond  float64
	Post       benchPercentiles
	ToQuote    benchPercentiles
	NodeCalls  float64
	PeakRSS    int64
	Store      int64
	Baseline   float64
}

func (r benchReport) print(w io.Writer) {
	fmt.Fprintf(w, "Backlog of %d wrong-network appeals, %d concurrent clients\n", r.N, r.Clients)
	fmt.Fprintf(w, "  appeals quoted per second, end to end   %.1f (%s in all)\n", r.PerSecond, r.Elapsed.Round(time.Second))
	fmt.Fprintf(w, "  POST /v1/appeals latency p50/p95/p99    %s / %s / %s\n", r.Post.P50.Round(time.Millisecond), r.Post.P95.Round(time.Millisecond), r.Post.P99.Round(time.Millisecond))
	fmt.Fprintf(w, "  submission to quote p50/p95/p99/max     %s / %s / %s / %s\n", r.ToQuote.P50.Round(time.Millisecond), r.ToQuote.P95.Round(time.Millisecond), r.ToQuote.P99.Round(time.Millisecond), r.ToQuote.Max.Round(time.Millisecond))
	fmt.Fprintf(w, "  node calls per appeal                   %.1f\n", r.NodeCalls)
	fmt.Fprintf(w, "  peak RSS (engine and bench clients)     %d MiB\n", r.PeakRSS>>20)
	fmt.Fprintf(w, "  Temporal store (SQLite)                 %d MiB\n", r.Store>>20)
	if r.Baseline > 0 {
		fmt.Fprintf(w, "  bare workflow, 3 no-op activities       %.1f/s; this engine %.2f of it\n", r.Baseline, r.PerSecond/r.Baseline)
	}
}
