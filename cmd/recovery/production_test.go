package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	apipkg "github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
	"github.com/misdeposit/recovery/internal/temporaldev"
	"github.com/misdeposit/recovery/workflows"
)

// TestWorkerAndAPIAgainstExternalTemporal runs `recovery worker` and
// `recovery api` as production does: separate commands against a Temporal
// they do not start, with networks pointed at nodes by a config file.
func TestWorkerAndAPIAgainstExternalTemporal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal and a chain")
	}
	port, _ := strconv.Atoi(freePort(t))
	srv, err := temporaldev.Start(temporaldev.Options{FrontendPort: port, SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	key, from := nodetest.Key(t)
	node, ec := nodetest.EVM(t, evmnode.Config{ChainID: 1337, Alloc: nodetest.Alloc(big.NewInt(1e18), from)})
	_, to := nodetest.Key(t)
	hash, err := evmnode.SendValue(context.Background(), ec, key, to, big.NewInt(123_456_789))
	if err != nil {
		t.Fatal(err)
	}
	// Two more blocks so the deposit has the confirmations eth asks here.
	for range 2 {
		if _, err := evmnode.SendValue(context.Background(), ec, key, from, big.NewInt(1)); err != nil {
			t.Fatal(err)
		}
	}

	token := "prod-t6WnQ9xLz4RkV8mBc3JpH7dFs2Gy"
	cfgPath := filepath.Join(t.TempDir(), "recovery.yaml")
	secret := "prod-test-user-token-secret-0123456789"
	// The data directory (address book, ledger) is the test's own, never
	// the source tree.
	cfgText := fmt.Sprintf("data_dir: %q\nnetworks:\n  - {id: eth, rpc: [%q], chain_id: 1337, confirmations: 3}\nstaff_tokens:\n  - {token: %q, person: ann, roles: [specialist]}\nuser_token_secret: %q\naction_key: prod-test-action-key-0123456789abcdef\npayload_keys: [{id: \"1\", key: %q}]\npayload_key_id: \"1\"\nlog_level: warn\n", t.TempDir(), node.URL(), token, secret, prodPayloadKey(t))
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	apiAddr := "127.0.0.1:" + freePort(t)
	common := []string{"--config", cfgPath, "--temporal-address", srv.FrontendAddress()}
	ctx, cancel := context.WithCancel(context.Background())
	noEnv := func(string) string { return "" }
	done := make(chan error, 2)
	metricsAddr := "127.0.0.1:" + freePort(t)
	go func() {
		done <- run(ctx, append([]string{"worker", "--metrics-addr", metricsAddr}, common...), noEnv, io.Discard, io.Discard)
	}()
	go func() {
		done <- run(ctx, append([]string{"api", "--api-addr", apiAddr}, common...), noEnv, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("command stopped with %v", err)
			}
		}
	}()

	api := "http://" + apiAddr
	deadline := time.Now().Add(30 * time.Second)
	for !healthy(api) {
		if time.Now().After(deadline) {
			t.Fatal("API did not become healthy")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var created struct {
		AppealID string `json:"appeal_id"`
	}
	// The exchange signs its user's token with the shared secret.
	users, err := apipkg.NewUserTokens([]byte(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	user := users.Issue("u-42", time.Hour)
	if code := call(t, "POST", api+"/v1/appeals", user, map[string]any{"network": "eth", "tx_hash": hash.Hex(), "to_address": strings.ToLower(to.Hex()), "user_id": "u-42"}, &created); code != 202 {
		t.Fatalf("appeal: %d", code)
	}
	// The worker's address book is empty: the deposit pays no address of
	// the exchange, and the case closes with the policy's refusal.
	st := waitStatus(t, api, user, created.AppealID, recovery.StatusNotRecoverable)
	if st.Deposit == nil || st.Deposit.Amount != "123456789" {
		t.Fatalf("deposit %+v", st.Deposit)
	}
	if st.Category != "not_our_address" || !st.Closed {
		t.Fatalf("diagnosed %s, closed %v; want not_our_address, closed", st.Category, st.Closed)
	}
	// The API and the worker read each other's payloads (the case ran),
	// and Temporal holds them only encrypted: read without the key, as
	// its Web UI or a database dump shows it, the history has no user id
	// and no address in it.
	personal := []string{"u-42", to.Hex(), strings.ToLower(to.Hex()), strings.TrimPrefix(strings.ToLower(to.Hex()), "0x")}
	historyWithoutKey(t, srv.FrontendAddress(), created.AppealID, personal)
	// The worker's metrics: the node answered its look-ups.
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `recovery_node_calls_total{network="eth",outcome="ok"}`) {
		t.Errorf("worker metrics without the node calls:\n%.2000s", body)
	}
	var cases struct{ Cases []struct{ ID string } }
	if code := call(t, "GET", api+"/v1/cases?network=eth", token, nil, &cases); code != 200 || len(cases.Cases) != 1 || cases.Cases[0].ID != created.AppealID {
		t.Fatalf("staff queue: %d %+v", code, cases)
	}
}

func healthy(api string) bool {
	resp, err := http.Get(api + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
