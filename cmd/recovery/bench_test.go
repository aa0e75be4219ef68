package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recovery bench runs a small backlog of every kind end to end: every
// appeal reaches the decision its kind calls for, and none is left out of
// the count.
func TestBenchReportsABacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole engine with real local chains")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out, errOut syncBuffer
	err := run(ctx, []string{"bench", "--n", "8", "--clients", "3", "--mix", "wrong_network=2,unlisted_token=2,not_found=2,pending=2",
		"--patience", "90s", "-o", "json", "--in-process", "--data-dir", t.TempDir()}, func(string) string { return "" }, &out, &errOut)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	var r struct {
		N         int            `json:"n"`
		Decided   int            `json:"decided"`
		Undecided int            `json:"undecided"`
		PerSecond float64        `json:"decided_per_second"`
		Ended     map[string]int `json:"ended"`
		Kinds     []struct {
			Kind       string         `json:"kind"`
			Deposits   int            `json:"deposits"`
			Decided    int            `json:"decided"`
			Ended      map[string]int `json:"ended"`
			ToDecision struct {
				Max float64 `json:"max_s"`
			} `json:"submission_to_decision"`
		} `json:"kinds"`
		NodeCalls float64 `json:"node_calls_per_appeal"`
		PeakRSS   int64   `json:"peak_rss_bytes"`
		Store     int64   `json:"store_bytes"`
		Baseline  float64 `json:"baseline_per_second"`
	}
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, out.String())
	}
	ended := 0
	for _, n := range r.Ended {
		ended += n
	}
	if r.N != 8 || r.Decided != 8 || r.Undecided != 0 || ended != 8 {
		t.Errorf("n %d, decided %d, undecided %d, ended %v: want all 8 decided and counted\n%s", r.N, r.Decided, r.Undecided, r.Ended, errOut.String())
	}
	// What each kind's case ends its run with on the dev stack: the quote,
	// the policy's parking of an unpriced token, the first re-check of an
	// unknown hash, the wait for confirmations.
	want := map[string]map[string]int{
		"wrong_network":  {"quoted": 2},
		"unlisted_token": {"parked": 2},
		"not_found":      {"not found": 2},
		"pending":        {"confirming": 2},
	}
	if len(r.Kinds) != len(want) {
		t.Errorf("the report has %d kinds, want %d", len(r.Kinds), len(want))
	}
	for _, k := range r.Kinds {
		if k.Deposits != 2 || k.Decided != 2 || !maps.Equal(k.Ended, want[k.Kind]) {
			t.Errorf("%s: %d deposits, %d decided, ended %v; want 2, 2, %v", k.Kind, k.Deposits, k.Decided, k.Ended, want[k.Kind])
		}
		if k.ToDecision.Max <= 0 && k.Kind != "pending" {
			t.Errorf("%s: no time from submission to decision", k.Kind)
		}
	}
	if r.PerSecond <= 0 || r.NodeCalls <= 0 || r.PeakRSS <= 0 || r.Store <= 0 || r.Baseline <= 0 {
		t.Errorf("a figure is missing: %s", out.String())
	}
}

func TestBenchMix(t *testing.T) {
	for _, tc := range []struct {
		mix  string
		n    int
		want map[benchKind]int
	}{
		{defaultBenchMix, 20_000, map[benchKind]int{benchWrongNetwork: 14_000, benchUnlistedToken: 4_000, benchNotFound: 1_000, benchPending: 1_000}},
		{defaultBenchMix, 7, map[benchKind]int{benchWrongNetwork: 5, benchUnlistedToken: 2, benchNotFound: 0, benchPending: 0}},
		{"wrong_network=1,pending=1", 3, map[benchKind]int{benchWrongNetwork: 2, benchUnlistedToken: 0, benchNotFound: 0, benchPending: 1}},
		{"not_found=3", 4, map[benchKind]int{benchWrongNetwork: 0, benchUnlistedToken: 0, benchNotFound: 4, benchPending: 0}},
	} {
		m, err := parseBenchMix(tc.mix)
		if err != nil {
			t.Fatalf("%s: %v", tc.mix, err)
		}
		got := m.counts(tc.n)
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s of %d: %v, want %v", tc.mix, tc.n, got, tc.want)
		}
		order := interleave(got, tc.n)
		seen := map[benchKind]int{}
		for _, k := range order {
			seen[k]++
		}
		for k, n := range got {
			if seen[k] != n {
				t.Errorf("%s of %d: the filing order has %d %s, want %d", tc.mix, tc.n, seen[k], k, n)
			}
		}
	}
	for _, bad := range []string{"", "wrong_network=0", "btc=5", "pending=-1", "pending=x", "pending=1,pending=2", "pending"} {
		if _, err := parseBenchMix(bad); err == nil {
			t.Errorf("--mix %q was taken", bad)
		}
	}
}

// Each quarter of a backlog is timed from its first submission to its
// last decision; a quarter with nothing decided leaves the figure out.
func TestBenchQuarterRates(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var cases []benchCase
	for i := range 8 {
		// Each quarter of two cases takes one second more than the last.
		q := i / 2
		start := t0.Add(time.Duration(10*q) * time.Second)
		cases = append(cases, benchCase{Submitted: start, At: start.Add(time.Duration(q+1) * time.Second), Outcome: endQuoted})
	}
	if got := quarterRates(cases); !slices.Equal(got, []float64{2, 1, 2.0 / 3, 0.5}) {
		t.Errorf("quarter rates %v, want 2, 1, 2/3, 1/2", got)
	}
	cases[0].Outcome, cases[1].Outcome = endUndecided, endUndecided
	if got := quarterRates(cases); got != nil {
		t.Errorf("a quarter with nothing decided: %v, want none", got)
	}
}

// The pace is taken over the decisions in the order they were made,
// however long each appeal waited: a quarter of two decisions one second
// apart is one a second.
func TestBenchPaceByQuarterOfTheDecisions(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var done []time.Time
	// Decisions come at 4, 2, 1 and then 1/2 a second, listed out of order.
	gaps := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}
	at := t0
	for q := range 4 {
		for range 3 {
			done = append([]time.Time{at}, done...)
			at = at.Add(gaps[q])
		}
	}
	got := paceByQuarter(done)
	if len(got) != 4 || got[0] != 4 || got[1] != 2 || got[2] != 1 || got[3] != 0.5 {
		t.Errorf("pace %v, want 4, 2, 1, 0.5", got)
	}
	if got := paceByQuarter(done[:7]); got != nil {
		t.Errorf("seven decisions: %v, want none", got)
	}
}

// The report names every figure, one line per kind, and counts every
// appeal by how it ended, undecided ones included.
func TestBenchReportPrintsEveryFigure(t *testing.T) {
	ms := time.Millisecond
	r := benchReport{
		N: 10, Clients: 2, Decided: 9, Undecided: 1, Elapsed: 3 * time.Second, PerSecond: 3, Quarters: []float64{3.5, 3, 2.75, 2}, Pace: []float64{5, 4, 4, 3},
		Post: benchPercentiles{P50: 20 * ms, P95: 40 * ms, P99: 50 * ms, Max: 60 * ms},
		Kinds: []benchKindReport{
			{Kind: "wrong_network", Deposits: 7, Decided: 6, Ended: map[string]int{endQuoted: 6, endUndecided: 1}, ToDecision: benchPercentiles{P50: 900 * ms, Max: 2 * time.Second}},
			{Kind: "not_found", Deposits: 3, Decided: 3, Ended: map[string]int{endNotFound: 2, "status parked": 1}},
		},
		Ended:  map[string]int{endQuoted: 6, endNotFound: 2, "status parked": 1, endUndecided: 1},
		Joined: 2, NodeCalls: 3.5, PeakRSS: 300 << 20, Store: 12 << 20, Baseline: 30, BaselinePace: []float64{31, 30, 29.5, 29},
	}
	var out strings.Builder
	r.print(&out)
	for _, want := range []string{
		"Backlog of 10 appeals (wrong_network 7, not_found 3), 2 concurrent clients",
		"appeals decided per second, end to end  3.0 (9 in 3s",
		"the same, by quarter of the backlog      3.5 / 3.0 / 2.8 / 2.0",
		"POST /v1/appeals latency p50/p95/p99     20ms / 40ms / 50ms",
		"wrong_network  6 of 7 decided  900ms / 0s / 0s / 2s  (quoted 6, undecided 1)",
		"not_found      3 of 3 decided  0s / 0s / 0s / 0s     (not found 2, status parked 1)",
		"how the appeals ended                    quoted 6, not found 2, status parked 1, undecided 1",
		"filed under a provisional id, followed   2",
		"node calls per appeal                    3.5",
		"peak RSS of recovery dev (with its chains) 300 MiB",
		"Temporal store (SQLite)                  12 MiB",
		"pace by quarter of the decisions         5.0 / 4.0 / 4.0 / 3.0",
		"bare workflow, 3 no-op activities        30.0/s; this engine 0.10 of it",
		"bare workflows' pace by quarter          31.0 / 30.0 / 29.5 / 29.0",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report has no %q:\n%s", want, out.String())
		}
	}
}

func TestProgressLine(t *testing.T) {
	got := progressLine("filing", 50, 200, 10*time.Second)
	want := "bench: filing   [=======>                      ] 50/200  25% 5.0/s 10s"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := progressLine("deciding", 300, 200, time.Second); !strings.Contains(got, "200/200 100%") {
		t.Errorf("a count past the total is shown as the total: %q", got)
	}
}

// An appeal filed under a provisional id is followed to the case it
// joined: its decision is that case's, timed from the appeal's own
// submission; a joined case the user may not read is counted as such.
func TestBenchFollowsJoinedCases(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	views := map[string]string{
		"eth.aa.to-1": `{"status":"joined","closed":true,"joined_case":"bsc.aa.v","timeline":[{"at":"2026-01-02T03:04:05Z","code":"received"},{"at":"2026-01-02T03:04:06Z","code":"joined"}]}`,
		"bsc.aa.v":    `{"status":"awaiting_acceptance","timeline":[{"at":"2026-01-02T03:04:06Z","code":"received"},{"at":"2026-01-02T03:04:07Z","code":"decision.direct"},{"at":"2026-01-02T03:04:08Z","code":"quote.offered"}]}`,
		"eth.bb.to-2": `{"status":"joined","closed":true,"joined_case":"bsc.bb.v","timeline":[{"at":"2026-01-02T03:04:05Z","code":"received"},{"at":"2026-01-02T03:04:06Z","code":"joined"}]}`,
		"eth.cc.v":    `{"status":"looking_up","timeline":[{"at":"2026-01-02T03:04:05Z","code":"received"}]}`,
		"eth.dd.v":    `{"status":"under_review","closed":true,"timeline":[{"at":"2026-01-02T03:04:05Z","code":"received"},{"at":"2026-01-02T03:04:09Z","code":"closed"}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := views[strings.TrimPrefix(r.URL.Path, "/v1/appeals/")]
		if !ok {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		io.WriteString(w, v)
	}))
	defer srv.Close()
	b := &bench{o: benchOptions{Clients: 2}, api: srv.URL}
	b.cases = []benchCase{{ID: "eth.aa.to-1"}, {ID: "eth.bb.to-2"}, {ID: "eth.cc.v"}, {ID: "eth.dd.v"}}
	var decided atomic.Int64
	left, err := b.sweep(context.Background(), []int{0, 1, 2, 3}, &decided)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []int{2}) || decided.Load() != 3 {
		t.Errorf("left %v, decided %d; want only the case still looking up left", left, decided.Load())
	}
	want := []benchCase{
		{ID: "eth.aa.to-1", Follow: "bsc.aa.v", Outcome: endQuoted, At: t0.Add(3 * time.Second), Status: "awaiting_acceptance"},
		{ID: "eth.bb.to-2", Follow: "bsc.bb.v", Outcome: endUnreadable},
		{ID: "eth.cc.v", Status: "looking_up"},
		{ID: "eth.dd.v", Outcome: "closed as under_review", At: t0.Add(4 * time.Second), Status: "under_review", Closed: true},
	}
	for i, c := range b.cases {
		if c != want[i] {
			t.Errorf("case %d:\n got %+v\nwant %+v", i, c, want[i])
		}
	}
}

// recovery dev, run as its own process the way a user runs it, keeps no
// more cases in memory than workflow_cache says, although the Temporal
// server it embeds starts workers of its own before the engine's: the
// SDK sizes one cache for every worker of a process when the first one
// starts. Each open case kept costs tens of KiB, so an unbounded cache
// grows the engine with every case it has ever handled.
func TestDevKeepsAtMostItsCacheOfCasesInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds recovery and runs recovery dev with real local chains")
	}
	bin := buildRecovery(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const cache = 3
	cmd := exec.CommandContext(ctx, bin, "bench", "--n", "10", "--clients", "3", "--mix", "wrong_network=3,unlisted_token=2",
		"--baseline=false", "--patience", "90s", "-o", "json", "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "RECOVERY_WORKFLOW_CACHE="+strconv.Itoa(cache))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	var r struct {
		Decided     int   `json:"decided"`
		CachedCases int   `json:"cached_cases"`
		PeakRSS     int64 `json:"peak_rss_bytes"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, out)
	}
	if r.Decided != 10 {
		t.Fatalf("%d of 10 appeals decided\n%s", r.Decided, stderr.String())
	}
	if r.CachedCases < 1 || r.CachedCases > cache {
		t.Errorf("the worker keeps %d cases in memory after 10, want 1 to %d (workflow_cache)", r.CachedCases, cache)
	}
	if r.PeakRSS <= 0 {
		t.Errorf("no peak memory for the child recovery dev")
	}
}
