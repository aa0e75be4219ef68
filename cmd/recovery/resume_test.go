package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/harness"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/internal/temporaldev"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
	"github.com/misdeposit/recovery/workflows/policyclient"
)

// parkedCases is how many cases TestParkedCasesResume parks; set
// RECOVERY_PARKED_CASES to try more.
func parkedCases() int {
	if n, err := strconv.Atoi(os.Getenv("RECOVERY_PARKED_CASES")); err == nil && n > 0 {
		return n
	}
	return 300
}

// withoutNetwork is the default policy document without one network, under
// a version of its own.
func withoutNetwork(t *testing.T, network, version string) []byte {
	t.Helper()
	var out []string
	for _, line := range strings.Split(string(policy.DefaultDocument()), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), network+":") {
			continue
		}
		out = append(out, line)
	}
	return withVersion(t, []byte(strings.Join(out, "\n")), version)
}

func withVersion(t *testing.T, doc []byte, version string) []byte {
	t.Helper()
	out := []byte(strings.Replace(string(doc), `version: "`+policy.Default().Version+`"`, `version: "`+version+`"`, 1))
	p, err := policy.Parse(out, policy.FormatYAML)
	if err != nil || p.Version != version {
		t.Fatalf("policy %s: %v", version, err)
	}
	return out
}

// Hundreds of cases parked because their network is not in the policy
// resume by themselves, with no one acting on them, once a policy that
// supports the network is applied; each timeline says so, and each case
// goes on to its fee quote. Everything is real: Temporal on SQLite, the
// worker, the activities, go-ethereum dev chains.
func TestParkedCasesResumeWhenAPolicySupportsTheirNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal and the dev chains")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	n := parkedCases()
	h := harness.Start(t)
	reg := h.Registry()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := t.TempDir()

	port, _ := strconv.Atoi(freePort(t))
	srv, err := temporaldev.Start(temporaldev.Options{
		DatabaseFile: filepath.Join(dir, "temporal.db"), FrontendPort: port, Namespace: "default",
		SearchAttributes: workflows.SearchAttributes(), LogLevel: "error", Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default", Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	book, err := addressbook.Open(ctx, filepath.Join(dir, "addressbook.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	alice, err := h.DepositAddress("alice", "eth")
	if err != nil {
		t.Fatal(err)
	}
	if err := book.Upsert(ctx, []addressbook.Entry{{Network: "eth", Address: alice.Address, UserID: "alice"}}, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	lookups, quoting, err := buildLookups(ctx, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(c, newActivities(c, config.Config{Namespace: "default"}, reg, chains.NewScanner(reg, lookups), quoting, book, fees.DevPrices(), nil, nil), workflows.FamilyQueues)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	// bsc is not in the policy in force.
	if _, err := policyclient.Apply(ctx, c, withoutNetwork(t, "bsc", "no-bsc.1"), "test", reg.Networks()); err != nil {
		t.Fatal(err)
	}

	// n deposits of alice's on bsc, to the address she was given for eth.
	start := time.Now()
	bsc, err := ethclient.DialContext(ctx, h.EVM("bsc").URL())
	if err != nil {
		t.Fatal(err)
	}
	defer bsc.Close()
	hashes := make([]string, n)
	for i := range hashes {
		hash, err := evmnode.SendValue(ctx, bsc, h.EVMSender(), common.HexToAddress(alice.Address), big.NewInt(1e15+int64(i)))
		if err != nil {
			t.Fatal(err)
		}
		hashes[i] = hash.Hex()
	}
	if err := h.EVM("bsc").Mine(ctx, int(h.Network("bsc").Confirmations)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d deposits on bsc in %s", n, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	for _, hash := range hashes {
		in := workflows.AppealInput{
			AppealID: "bsc." + strings.TrimPrefix(hash, "0x") + ".v", Network: "bsc", TxHash: hash,
			ToAddress: alice.Address, UserID: "alice", FiledAt: time.Now().UTC(), Timing: workflows.DefaultTiming(),
		}
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: in.AppealID, TaskQueue: workflows.TaskQueue, TypedSearchAttributes: workflows.InitialSearchAttributes("bsc"),
		}, workflows.AppealWorkflowName, in)
		if err != nil {
			t.Fatal(err)
		}
	}
	parked := `RecoveryStatus = 'parked' AND RecoveryCategory = 'unsupported_network' AND RecoveryNetwork = 'bsc'`
	waitCount(ctx, t, c, parked, n)
	t.Logf("%d cases filed and parked in %s", n, time.Since(start).Round(time.Millisecond))

	// A policy with bsc again: nobody touches the cases.
	start = time.Now()
	res, err := policyclient.Apply(ctx, c, withVersion(t, policy.DefaultDocument(), "with-bsc.2"), "test", reg.Networks())
	if err != nil {
		t.Fatal(err)
	}
	if !containsPair(res.Applied.Resumes, "bsc", recovery.CategoryUnsupportedNetwork) {
		t.Fatalf("the policy with bsc resumes %v", res.Applied.Resumes)
	}
	// Applying it again changes nothing; the same version with another
	// content is refused, since decisions name the version they used.
	again, err := policyclient.Apply(ctx, c, withVersion(t, policy.DefaultDocument(), "with-bsc.2"), "test", reg.Networks())
	if err != nil || !again.Unchanged || again.Applied.Seq != res.Applied.Seq {
		t.Fatalf("re-applying: %+v %v", again, err)
	}
	if _, err := policyclient.Apply(ctx, c, withoutNetwork(t, "eth", "with-bsc.2"), "test", reg.Networks()); recovery.ErrorCode(err) != recovery.EConflict {
		t.Fatalf("the same version with another content: %v", err)
	}
	waitCount(ctx, t, c, `RecoveryStatus = 'awaiting_acceptance' AND RecoveryNetwork = 'bsc'`, n)
	elapsed := time.Since(start)
	t.Logf("%d parked cases resumed and quoted in %s (%.1f cases/s)", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	waitCount(ctx, t, c, parked, 0)

	for _, i := range []int{0, n / 2, n - 1} {
		id := "bsc." + strings.TrimPrefix(hashes[i], "0x") + ".v"
		v, err := c.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
		if err != nil {
			t.Fatal(err)
		}
		var st workflows.AppealState
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
		var resumed *workflows.Event
		for _, e := range st.Timeline {
			if e.Code == "policy.resumed" {
				resumed = &e
			}
		}
		switch {
		case resumed == nil || resumed.Params["policy_version"] != "with-bsc.2":
			t.Errorf("%s: the timeline does not say the case resumed under with-bsc.2: %+v", id, st.Timeline)
		case st.Category != recovery.CategoryWrongNetworkEVM || st.Decision == nil || st.Decision.PolicyVersion != "with-bsc.2":
			t.Errorf("%s: after resuming: category %s, decision %+v", id, st.Category, st.Decision)
		case st.Quote == nil || st.Quote.Asset != "BNB" || st.Quote.NetworkCost == nil || st.Quote.NetworkCost.Method != recovery.MethodEIP1559:
			t.Errorf("%s: quote %+v", id, st.Quote)
		}
	}
	// RECOVERY_RECORD_RESUMED=path saves a resumed case's history for the
	// replay test in workflows/.
	if path := os.Getenv("RECOVERY_RECORD_RESUMED"); path != "" {
		recordHistory(t, srv.FrontendAddress(), "bsc."+strings.TrimPrefix(hashes[0], "0x")+".v", path)
	}
	// RECOVERY_RECORD_POLICY=path saves the policy workflow's history, once
	// its resume has finished.
	if path := os.Getenv("RECOVERY_RECORD_POLICY"); path != "" {
		for {
			st, err := policyclient.Query(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if st.Current.Resumed != nil {
				break
			}
			time.Sleep(time.Second)
		}
		recordHistory(t, srv.FrontendAddress(), workflows.PolicyWorkflowID, path)
	}
}

func containsPair(pairs []policy.NetworkCategory, network, category string) bool {
	for _, p := range pairs {
		if p.Network == network && p.Category == category {
			return true
		}
	}
	return false
}

// waitCount waits until visibility counts want cases for query.
func waitCount(ctx context.Context, t *testing.T, c client.Client, query string, want int) {
	t.Helper()
	var got int64
	for {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default", Query: query})
		if err == nil {
			if got = resp.GetCount(); got == int64(want) {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %d cases, want %d (last error %v)", query, got, want, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// quietLogger keeps the Temporal client's routine logs out of the test
// output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(msg string, kv ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"temporal client:", msg}, kv...)...)
}
