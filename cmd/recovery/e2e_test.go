package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/internal/payloadcodec"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
)

// syncBuffer collects what the engine prints while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

type engine struct {
	// args start the engine again on the same data (restart).
	args   []string
	api    string
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
}

var apiLine = regexp.MustCompile(`(?m)^\s+API and appeal form\s+(http://\S+)/`)

// startEngine runs `recovery dev` in-process, exactly as a user starts it,
// and returns once the API is up.
func startEngine(t *testing.T, args []string) *engine {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	e := &engine{cancel: cancel, done: make(chan error, 1), stderr: errOut, args: args}
	noEnv := func(string) string { return "" }
	go func() { e.done <- run(ctx, args, noEnv, out, errOut) }()
	deadline := time.After(4 * time.Minute)
	for e.api == "" {
		select {
		case err := <-e.done:
			t.Fatalf("engine stopped during start: %v\n%s", err, errOut)
		case <-deadline:
			cancel()
			t.Fatalf("engine did not start in time\nstdout:\n%s\nstderr:\n%s", out, errOut)
		case <-time.After(200 * time.Millisecond):
			if m := apiLine.FindStringSubmatch(out.String()); m != nil {
				e.api = m[1]
			}
		}
	}
	return e
}

func (e *engine) stop(t *testing.T) {
	t.Helper()
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			t.Fatalf("engine stopped with an error: %v\n%s", err, e.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatal("engine did not stop within a minute of Ctrl-C")
	}
}

func call(t *testing.T, method, url, token string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

type demoDeposit struct {
	Name, Category, Network, TxHash, ToAddress, UserID, Amount string
}

func (d *demoDeposit) UnmarshalJSON(b []byte) error {
	var v struct {
		Name      string `json:"name"`
		Category  string `json:"category"`
		Network   string `json:"network"`
		TxHash    string `json:"tx_hash"`
		ToAddress string `json:"to_address"`
		UserID    string `json:"user_id"`
		Amount    string `json:"amount"`
	}
	err := json.Unmarshal(b, &v)
	*d = demoDeposit{v.Name, v.Category, v.Network, v.TxHash, v.ToAddress, v.UserID, v.Amount}
	return err
}

type appealStatus struct {
	AppealID string `json:"appeal_id"`
	Status   string `json:"status"`
	Category string `json:"category"`
	Network  string `json:"network"`
	Closed   bool   `json:"closed"`
	// Lang is the language the appeal is shown in.
	Lang string `json:"lang"`
	// JoinedCase is the case a provisional appeal went on in.
	JoinedCase string `json:"joined_case"`
	// Explanation is the diagnosis in the user's words.
	Explanation string `json:"explanation"`
	Decision    *struct {
		Action        string `json:"action"`
		PolicyVersion string `json:"policy_version"`
		Outcome       string `json:"outcome"`
	} `json:"decision"`
	Deposit *struct {
		Amount string `json:"amount"`
		To     string `json:"to"`
		Kind   string `json:"kind"`
	} `json:"deposit"`
	Quote *struct {
		ID       string `json:"id"`
		Asset    string `json:"asset"`
		Deposit  string `json:"deposit"`
		Fee      string `json:"fee"`
		Net      string `json:"net"`
		Expired  bool   `json:"expired"`
		Accepted bool   `json:"accepted"`
		Price    struct {
			Source string `json:"source"`
		} `json:"price"`
		Lines []struct {
			Kind    string `json:"kind"`
			Amount  string `json:"amount"`
			Charged bool   `json:"charged"`
			Detail  string `json:"detail"`
		} `json:"lines"`
	} `json:"quote"`
	Recovery *struct {
		Method       string `json:"method"`
		Outcome      string `json:"outcome"`
		Transactions []struct {
			Network       string `json:"network"`
			TxHash        string `json:"tx_hash"`
			Confirmations uint64 `json:"confirmations"`
			Confirmed     bool   `json:"confirmed"`
			Fee           string `json:"fee"`
		} `json:"transactions"`
		Failure string `json:"failure"`
	} `json:"recovery"`
	Credit *struct {
		Asset      string `json:"asset"`
		Net        string `json:"net"`
		Fee        string `json:"fee"`
		TxHash     string `json:"tx_hash"`
		ReturnedTo string `json:"returned_to"`
	} `json:"credit"`
	Timeline []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"timeline"`
}

func mustDecimal(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("not a decimal: %q", s)
	}
	return d
}

func (a appealStatus) codes() []string {
	var out []string
	for _, e := range a.Timeline {
		out = append(out, e.Code)
	}
	return out
}

// waitStatus polls an appeal as its user (token) sees it.
func waitStatus(t *testing.T, api, token, id, status string) appealStatus {
	t.Helper()
	return waitFor(t, api, token, id, "reached status "+status, func(st appealStatus) bool { return st.Status == status })
}

func waitCategory(t *testing.T, api, token, id, category string) appealStatus {
	t.Helper()
	return waitFor(t, api, token, id, "diagnosed "+category, func(st appealStatus) bool { return st.Category == category })
}

// waitFor polls an appeal until done says so, for at most 90 s.
func waitFor(t *testing.T, api, token, id, what string, done func(appealStatus) bool) appealStatus {
	t.Helper()
	var st appealStatus
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if code := call(t, "GET", api+"/v1/appeals/"+id, token, nil, &st); code == 200 && done(st) {
			return st
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("appeal %s never %s; last seen %+v", id, what, st)
	return st
}

// TestDevEndToEnd starts the engine as `recovery dev` does (embedded
// Temporal, Web UI, worker, API, real local chains with demo deposits),
// files appeals for demo deposits, follows them to the chain look-up,
// works them with casectl, restarts the engine and finds every case again.
func TestDevEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole engine with real local chains")
	}
	dir := t.TempDir()
	uiPort := freePort(t)
	// Two team members besides the dev admin, to sign recoveries off.
	cfgPath := filepath.Join(dir, "staff.yaml")
	staffCfg := "staff_tokens:\n  - {token: wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg, person: wanda, roles: [wallet]}\n  - {token: seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy, person: seth, roles: [settlement]}\n  - {token: sam-p3VnX8qLw6TzK2rJc9BmH5dYs4Fg, person: sam, roles: [specialist]}\n"
	if err := os.WriteFile(cfgPath, []byte(staffCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	temporalAddr := "127.0.0.1:" + freePort(t)
	args := []string{"dev", "--config", cfgPath, "--data-dir", dir, "--api-addr", "127.0.0.1:0",
		"--temporal-address", temporalAddr, "--ui-port", uiPort, "--log-level", "warn"}
	e := startEngine(t, args)
	api := e.api
	var apiErr struct {
		Error struct{ Code, Message, Field string }
	}

	var health map[string]string
	if code := call(t, "GET", api+"/healthz", "", nil, &health); code != 200 || health["temporal"] != "ok" {
		t.Fatalf("healthz %d %v", code, health)
	}
	resp, err := http.Get("http://127.0.0.1:" + uiPort + "/")
	if err != nil {
		t.Fatalf("Temporal Web UI: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("Temporal Web UI answered %d", resp.StatusCode)
	}

	token := staffToken(t, dir)
	// as is the user token of a user, as the exchange's sign-in (here the
	// dev endpoint) hands it out.
	tokens := map[string]string{}
	as := func(user string) string {
		if tokens[user] == "" {
			var issued struct{ Token string }
			if code := call(t, "POST", api+"/v1/dev/user-token", "", map[string]any{"user_id": user}, &issued); code != 200 || issued.Token == "" {
				t.Fatalf("dev user token for %s: %d", user, code)
			}
			tokens[user] = issued.Token
		}
		return tokens[user]
	}
	var demo struct{ Deposits []demoDeposit }
	if code := call(t, "GET", api+"/v1/demo", token, nil, &demo); code != 200 || len(demo.Deposits) < 5 {
		t.Fatalf("demo deposits: %d %+v", code, demo)
	}
	byName := map[string]demoDeposit{}
	for _, d := range demo.Deposits {
		byName[d.Name] = d
	}

	// A bitcoin deposit filed without naming the network: the engine finds
	// it on btc by itself and names the case after the exact output.
	btc := byName["btc-deposit"]
	var created struct {
		AppealID string `json:"appeal_id"`
		Status   string `json:"status"`
		Existing bool   `json:"existing"`
	}
	appeal := map[string]any{"tx_hash": btc.TxHash, "to_address": btc.ToAddress, "user_id": btc.UserID, "lang": "fr"}
	if code := call(t, "POST", api+"/v1/appeals", as(btc.UserID), appeal, &created); code != 202 || created.Existing {
		t.Fatalf("first appeal: %d %+v", code, created)
	}
	btcID := created.AppealID
	if !strings.HasPrefix(btcID, "btc."+btc.TxHash+".o") {
		t.Fatalf("case id %q does not name the btc output", btcID)
	}
	if code := call(t, "POST", api+"/v1/appeals", as(btc.UserID), appeal, &created); code != 200 || !created.Existing || created.AppealID != btcID {
		t.Fatalf("the same deposit again did not join the case: %d %+v", code, created)
	}
	st := waitStatus(t, api, as(btc.UserID), btcID, recovery.StatusAwaitingAcceptance)
	if st.Network != "btc" || st.Deposit == nil || st.Deposit.Amount != btc.Amount || st.Deposit.To != btc.ToAddress {
		t.Fatalf("looked-up deposit is wrong: %+v (demo %+v)", st, btc)
	}
	// The deposit may still be gathering its confirmations when filed. It
	// paid an address the exchange retired: recoverable directly.
	want := []string{"received", "found", "confirmed", "diagnosis.retired_address", "decision.direct", "quote.offered"}
	if got := slices.DeleteFunc(st.codes(), func(c string) bool { return c == "confirming" || c == "quote.advise_wait" }); !slices.Equal(got, want) {
		t.Fatalf("timeline %v", st.codes())
	}
	// The quote: the retired address is swept for the network cost only,
	// estimated from the btc node (btcd has no fee estimate: the floor).
	q := st.Quote
	if q == nil || q.ID != btcID+".q1" || q.Asset != "BTC" || q.Price.Source == "" || q.Expired || q.Accepted || len(q.Lines) != 2 {
		t.Fatalf("btc quote: %+v", q)
	}
	if cost := q.Lines[1]; cost.Kind != "network_cost" || !cost.Charged || !strings.Contains(cost.Detail, "utxo_feerate") || cost.Amount == "0" {
		t.Fatalf("btc network cost line: %+v", cost)
	}
	if fee, net := mustDecimal(t, q.Fee), mustDecimal(t, q.Net); !fee.Add(net).Equal(mustDecimal(t, q.Deposit)) || !fee.IsPositive() {
		t.Fatalf("fee %s + net %s is not the deposit %s", q.Fee, q.Net, q.Deposit)
	}
	if st.Category != "retired_address" || st.Explanation == "" || st.Decision == nil || st.Decision.Action != "direct" {
		t.Fatalf("btc deposit diagnosed %s (%q), decision %+v", st.Category, st.Explanation, st.Decision)
	}
	// Filed in French, it is read in French without asking again.
	if st.Lang != "fr" {
		t.Fatalf("an appeal filed with lang fr is shown in %q", st.Lang)
	}

	// Only its user sees an appeal; another user is told it does not exist,
	// and cannot claim the same deposit.
	if code := call(t, "GET", api+"/v1/appeals/"+btcID, as("mallory"), nil, &apiErr); code != 404 {
		t.Fatalf("another user's appeal: %d %+v", code, apiErr)
	}
	appeal["user_id"] = "mallory"
	if code := call(t, "POST", api+"/v1/appeals", as("mallory"), appeal, &apiErr); code != 409 {
		t.Fatalf("a second claimant: %d %+v", code, apiErr)
	}
	if code := call(t, "GET", api+"/v1/appeals/"+btcID, "", nil, &apiErr); code != 401 {
		t.Fatalf("no token: %d %+v", code, apiErr)
	}

	// An ERC-20 deposit of an unlisted token: the case names the log.
	tok := byName["unlisted-token"]
	if code := call(t, "POST", api+"/v1/appeals", as(tok.UserID), map[string]any{"network": "eth", "tx_hash": tok.TxHash, "to_address": tok.ToAddress, "user_id": tok.UserID}, &created); code != 202 {
		t.Fatalf("token appeal: %d", code)
	}
	tokID := created.AppealID
	// Nobody prices a token nobody lists: the default policy parks it.
	st = waitStatus(t, api, as(tok.UserID), tokID, recovery.StatusParked)
	if st.Deposit == nil || st.Deposit.Kind != "token" || st.Deposit.Amount != tok.Amount {
		t.Fatalf("token deposit: %+v", st.Deposit)
	}
	if st.Category != "unlisted_token" || st.Decision == nil || st.Decision.Action != "park" || st.Decision.PolicyVersion == "" {
		t.Fatalf("token deposit diagnosed %s, decision %+v", st.Category, st.Decision)
	}

	// Sent on bsc to an address issued for eth, filed as eth: the engine
	// finds it on bsc and tells the user so.
	wrong := byName["wrong-network"]
	call(t, "POST", api+"/v1/appeals", as(wrong.UserID), map[string]any{"network": "eth", "tx_hash": wrong.TxHash, "to_address": wrong.ToAddress, "user_id": wrong.UserID}, &created)
	if !strings.HasPrefix(created.AppealID, "bsc.") {
		t.Fatalf("wrong-network case id %q is not on bsc", created.AppealID)
	}
	wrongID := created.AppealID
	st = waitStatus(t, api, as(wrong.UserID), wrongID, recovery.StatusAwaitingAcceptance)
	if got := st.codes(); len(got) < 2 || got[1] != "found_elsewhere" || !strings.Contains(st.Timeline[1].Message, "bsc") {
		t.Fatalf("wrong-network timeline: %+v", st.Timeline)
	}
	if st.Category != "wrong_network_evm" || st.Decision == nil || st.Decision.Action != "direct" || !strings.Contains(st.Explanation, "bsc") {
		t.Fatalf("wrong-network deposit diagnosed %s (%q), decision %+v", st.Category, st.Explanation, st.Decision)
	}

	// The user's answers to a quote are checked; declining closes the case.
	if code := call(t, "POST", api+"/v1/appeals/"+wrongID+"/quote", as(wrong.UserID), map[string]any{"quote_id": st.Quote.ID}, &apiErr); code != 400 || apiErr.Error.Field != "accept" {
		t.Fatalf("answer without accept: %d %+v", code, apiErr)
	}
	if code := call(t, "POST", api+"/v1/appeals/"+wrongID+"/quote", as(wrong.UserID), map[string]any{"quote_id": btcID + ".q1", "accept": true}, &apiErr); code != 409 || apiErr.Error.Field != "quote_id" {
		t.Fatalf("answer to another case's quote: %d %+v", code, apiErr)
	}
	if code := call(t, "POST", api+"/v1/appeals/"+wrongID+"/quote", as(wrong.UserID), map[string]any{"quote_id": st.Quote.ID, "accept": false}, &st); code != 200 || st.Status != recovery.StatusDeclined || !st.Closed {
		t.Fatalf("decline: %d %+v", code, st)
	}

	// Every other demo deposit is diagnosed as the category it was made
	// to show.
	ids := map[string]string{}
	for _, name := range []string{"small-deposit", "contract-deposit"} {
		d := byName[name]
		call(t, "POST", api+"/v1/appeals", as(d.UserID), map[string]any{"network": d.Network, "tx_hash": d.TxHash, "to_address": d.ToAddress, "user_id": d.UserID}, &created)
		st = waitCategory(t, api, as(d.UserID), created.AppealID, d.Category)
		if st.Decision == nil || st.Explanation == "" {
			t.Fatalf("%s: no decision or explanation: %+v", name, st)
		}
		ids[name] = created.AppealID
	}

	// Value that reached carol by a contract's internal call is swept
	// like a plain deposit once accepted and signed; the policy takes no
	// fee for it and absorbs the gas.
	contract := byName["contract-deposit"]
	contractID := ids["contract-deposit"]
	st = waitStatus(t, api, as(contract.UserID), contractID, recovery.StatusAwaitingAcceptance)
	if code := call(t, "POST", api+"/v1/appeals/"+contractID+"/quote", as(contract.UserID), map[string]any{"quote_id": st.Quote.ID, "accept": true}, nil); code != 200 {
		t.Fatalf("contract deposit: accept %d", code)
	}
	for _, s := range []struct{ token, team string }{{"wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", "wallet"}, {"seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "settlement"}} {
		if code := call(t, "POST", api+"/v1/cases/"+contractID+"/signoff", s.token, map[string]any{"team": s.team, "approve": true}, nil); code != 200 {
			t.Fatalf("contract deposit: %s sign-off %d", s.team, code)
		}
	}
	contractSigned := time.Now()
	st = waitStatus(t, api, as(contract.UserID), contractID, recovery.StatusCredited)
	t.Logf("contract deposit (eth): from the last sign-off to the credit in %s", time.Since(contractSigned).Round(100*time.Millisecond))
	if c := st.Credit; c == nil || c.Asset != "ETH" || mustDecimal(t, c.Net).Shift(18).String() != contract.Amount || !mustDecimal(t, c.Fee).IsZero() ||
		st.Recovery.Method != "evm_sweep" || len(st.Recovery.Transactions) != 1 || c.TxHash != st.Recovery.Transactions[0].TxHash {
		t.Fatalf("contract deposit credit %+v, recovery %+v; want all %s wei, no fee", st.Credit, st.Recovery, contract.Amount)
	}

	// A reverted transaction is not recoverable and the case closes.
	failed := byName["failed-tx"]
	call(t, "POST", api+"/v1/appeals", as(failed.UserID), map[string]any{"tx_hash": failed.TxHash, "to_address": failed.ToAddress, "user_id": failed.UserID}, &created)
	failedID := created.AppealID
	st = waitStatus(t, api, as(failed.UserID), failedID, recovery.StatusNotRecoverable)
	if st.Category != recovery.CategoryFailedTx || !st.Closed {
		t.Fatalf("failed tx: %+v", st)
	}

	// Bad input is refused with the field named.
	if code := call(t, "POST", api+"/v1/appeals", as("dave"), map[string]any{"tx_hash": "0x12", "to_address": btc.ToAddress, "user_id": "dave"}, &apiErr); code != 400 || apiErr.Error.Field != "tx_hash" {
		t.Fatalf("bad hash: %d %+v", code, apiErr)
	}

	// casectl, the specialists' CLI, sees the cases through the staff API.
	casectl := filepath.Join(t.TempDir(), "casectl")
	if out, err := exec.Command("go", "build", "-o", casectl, "../casectl").CombinedOutput(); err != nil {
		t.Fatalf("build casectl: %v\n%s", err, out)
	}
	out, err := exec.Command(casectl, "--api", api, "--token", token, "cases", "list").CombinedOutput()
	if err != nil || !strings.Contains(string(out), btcID) || !strings.Contains(string(out), "awaiting_acceptance") {
		t.Fatalf("casectl cases list: %v\n%s", err, out)
	}
	out, err = exec.Command(casectl, "--api", api, "--token", token, "cases", "list", "--category", "failed_tx", "-o", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("casectl cases list --category: %v\n%s", err, out)
	}
	var listed struct {
		Cases []struct{ ID, Category string }
	}
	if err := json.Unmarshal(out, &listed); err != nil || len(listed.Cases) != 1 || listed.Cases[0].Category != "failed_tx" {
		t.Fatalf("failed_tx queue: %v %s", err, out)
	}

	// Queues by amount band: 0.1 BTC at the dev price of 90,000 USD.
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "cases", "list", "--amount-band", "1k_10k").CombinedOutput(); err != nil || !strings.Contains(string(out), btcID) {
		t.Fatalf("casectl cases list --amount-band: %v\n%s", err, out)
	}
	// A specialist's view: evidence and decision; --watch ends when the
	// case is closed.
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "cases", "show", btcID).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "Evidence") || !strings.Contains(string(out), "Decision  direct") || !strings.Contains(string(out), "Quote     "+btcID+".q1") {
		t.Fatalf("casectl cases show: %v\n%s", err, out)
	}
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "cases", "show", "--watch", "1s", failedID).CombinedOutput(); err != nil || !strings.Contains(string(out), "not_recoverable") {
		t.Fatalf("casectl cases show --watch on a closed case: %v\n%s", err, out)
	}

	// The dev address book knows the demo users; an import adds to it.
	out, err = exec.Command(casectl, "--api", api, "--token", token, "addressbook", "show", btc.ToAddress).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "dave") || !strings.Contains(string(out), "retired") {
		t.Fatalf("casectl addressbook show: %v\n%s", err, out)
	}
	csvPath := filepath.Join(t.TempDir(), "book.csv")
	csvText := "network,address,memo,user_id\nxrp,rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh,1001,ivan\n"
	if err := os.WriteFile(csvPath, []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "addressbook", "import", csvPath).CombinedOutput(); err != nil || !strings.Contains(string(out), "imported 1") {
		t.Fatalf("casectl addressbook import: %v\n%s", err, out)
	}
	if out, _ = exec.Command(casectl, "--api", api, "--token", token, "addressbook", "show", "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh").CombinedOutput(); !strings.Contains(string(out), "ivan") ||
		!regexp.MustCompile(`(?m)^\S+\s+dev-admin\s+xrp\s+1001\s+-\s+ivan \(active\)\s*$`).MatchString(string(out)) {
		t.Fatalf("imported address, or who imported it, not shown:\n%s", out)
	}
	if err := os.WriteFile(csvPath, []byte("network,address,user_id\nnowhere,rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh,ivan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "addressbook", "import", csvPath).CombinedOutput(); err == nil || !strings.Contains(string(out), "nowhere") {
		t.Fatalf("a bad import was not refused with a reason: %v\n%s", err, out)
	}

	// The health view: every dev chain's node answers, probed at start.
	out, err = exec.Command(casectl, "--api", api, "--token", token, "networks").CombinedOutput()
	if err != nil {
		t.Fatalf("casectl networks: %v\n%s", err, out)
	}
	for _, want := range []string{"eth#1 up", "bsc#1 up", "btc#1 up"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("casectl networks does not show %q:\n%s", want, out)
		}
	}

	// A specialist closes the small deposit's case with a reason the user
	// reads; a recheck of a case that was found is refused.
	small := byName["small-deposit"]
	specialist := func(args ...string) (string, error) {
		out, err := exec.Command(casectl, append([]string{"--api", api, "--token", "sam-p3VnX8qLw6TzK2rJc9BmH5dYs4Fg"}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := specialist("cases", "recheck", ids["small-deposit"]); err == nil || !strings.Contains(out, "not waiting for a new look-up") {
		t.Fatalf("casectl cases recheck of a found deposit: %v\n%s", err, out)
	}
	if out, err := specialist("cases", "close", ids["small-deposit"], "--note", "below the minimum; the user was told to send more"); err != nil || !strings.Contains(out, "Status    closed") {
		t.Fatalf("casectl cases close: %v\n%s", err, out)
	}
	st = waitStatus(t, api, as(small.UserID), ids["small-deposit"], recovery.StatusClosed)
	if last := st.Timeline[len(st.Timeline)-1]; last.Code != "closed" || !strings.Contains(last.Message, "the user was told to send more") {
		t.Fatalf("closed case timeline: %+v", last)
	}
	if path := os.Getenv("RECOVERY_RECORD_CLOSED"); path != "" {
		recordHistory(t, temporalAddr, ids["small-deposit"], path)
	}

	// The wallet team sees the hot wallets the recoveries go to: eth's
	// holds the 0.3 ETH of the contract deposit less the sweep's gas.
	wallets := exec.Command(casectl, "--api", api, "--as", "wallet", "wallets")
	wallets.Env = append(os.Environ(), "RECOVERY_DATA_DIR="+dir)
	if out, err := wallets.CombinedOutput(); err != nil || !regexp.MustCompile(`(?m)^eth\s+0x[0-9a-fA-F]{40}\s+0\.2999\d+ ETH$`).Match(out) ||
		!regexp.MustCompile(`(?m)^bsc\s+0x[0-9a-fA-F]{40}\s+0 BNB$`).Match(out) ||
		!regexp.MustCompile(`(?m)^btc\s+bcrt1q\S+\s+0 BTC$`).Match(out) {
		t.Fatalf("casectl wallets: %v\n%s", err, out)
	}

	// The user withdraws the token appeal; a second withdrawal conflicts.
	if code := call(t, "POST", api+"/v1/appeals/"+tokID+"/withdraw", as(tok.UserID), map[string]any{"reason": "sent by mistake"}, &st); code != 200 || st.Status != recovery.StatusWithdrawn {
		t.Fatalf("withdraw: %d %+v", code, st)
	}
	if code := call(t, "POST", api+"/v1/appeals/"+tokID+"/withdraw", as(tok.UserID), nil, &apiErr); code != 409 {
		t.Fatalf("second withdraw: %d %+v", code, apiErr)
	}

	// Finance reads the fee report from the ledger (empty: no recovery
	// has been credited yet).
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "reports", "fees", "--group-by", "month").CombinedOutput(); err != nil || !strings.Contains(string(out), "Total") {
		t.Fatalf("casectl reports fees: %v\n%s", err, out)
	}
	// The same report as the engine renders it in JSON, as the API's
	// format=json gives it.
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "reports", "fees", "--format", "json").Output(); err != nil || !json.Valid(out) || !strings.Contains(string(out), `"group_by"`) {
		t.Fatalf("casectl reports fees --format json: %v\n%s", err, out)
	}

	// A policy is applied with casectl; an invalid one never is.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: \"e2e.bad\"\ndefaults: {}\nnetworks: {nowhere: {recoverable: direct}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "policy", "apply", bad).CombinedOutput(); err == nil || !strings.Contains(string(out), "networks.nowhere") {
		t.Fatalf("an invalid policy was not refused with its problems: %v\n%s", err, out)
	}
	good := filepath.Join(t.TempDir(), "good.yaml")
	if err := os.WriteFile(good, withVersion(t, policy.DefaultDocument(), "e2e.2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "policy", "apply", good).CombinedOutput(); err != nil || !strings.Contains(string(out), "applied policy e2e.2 (#1)") {
		t.Fatalf("casectl policy apply: %v\n%s", err, out)
	}
	if out, err = exec.Command(casectl, "--api", api, "--token", token, "policy", "show").CombinedOutput(); err != nil || !strings.Contains(string(out), "in force: e2e.2 (#1, dev-admin)") {
		t.Fatalf("casectl policy show: %v\n%s", err, out)
	}

	// The user accepts the btc quote: the teams sign off next.
	if code := call(t, "POST", api+"/v1/appeals/"+btcID+"/quote", as(btc.UserID), map[string]any{"quote_id": q.ID, "accept": true}, &st); code != 200 || st.Status != recovery.StatusAwaitingSignoffs || !st.Quote.Accepted {
		t.Fatalf("accept: %d %+v", code, st)
	}
	if code := call(t, "POST", api+"/v1/appeals/"+btcID+"/quote", as(btc.UserID), map[string]any{"quote_id": q.ID, "accept": true}, &apiErr); code != 409 {
		t.Fatalf("a second answer: %d %+v", code, apiErr)
	}

	// Specialists and teams work the case with casectl; the admin cannot
	// sign for a team, and each action is in the case's audit trail.
	staff := func(tok string, args ...string) (string, error) {
		out, err := exec.Command(casectl, append([]string{"--api", api, "--token", tok}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := staff("sam-p3VnX8qLw6TzK2rJc9BmH5dYs4Fg", "cases", "assign", btcID, "sam", "--note", "mine"); err != nil || !strings.Contains(out, "Assignee  sam") {
		t.Fatalf("casectl cases assign: %v\n%s", err, out)
	}
	if out, err := staff("sam-p3VnX8qLw6TzK2rJc9BmH5dYs4Fg", "cases", "note", btcID, "user confirmed by phone"); err != nil {
		t.Fatalf("casectl cases note: %v\n%s", err, out)
	}
	if out, err := staff(token, "cases", "signoff", btcID, "--team", "wallet", "--approve"); err == nil || !strings.Contains(out, "forbidden") {
		t.Fatalf("the admin signed for the wallet team: %v\n%s", err, out)
	}
	// A retired address needs the wallet and settlement teams (default
	// policy): two people agree to every recovery.
	out, err = exec.Command(casectl, "--api", api, "--token", "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", "cases", "signoff", btcID, "--team", "wallet", "--approve", "-o", "json").CombinedOutput()
	var signed struct {
		Status string
		Audit  []struct{ Person, Action string }
	}
	if err != nil || json.Unmarshal(out, &signed) != nil || signed.Status != recovery.StatusAwaitingSignoffs ||
		len(signed.Audit) != 3 || signed.Audit[2].Person != "wanda" {
		t.Fatalf("wallet sign-off: %v\n%s", err, out)
	}
	if out, err := staff("wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", "cases", "signoff", btcID, "--team", "wallet", "--approve"); err == nil || !strings.Contains(out, "conflict") {
		t.Fatalf("a team signed twice: %v\n%s", err, out)
	}
	// The last sign-off starts the recovery at once.
	out, err = exec.Command(casectl, "--api", api, "--token", "seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "cases", "signoff", btcID, "--team", "settlement", "--approve", "-o", "json").CombinedOutput()
	if err != nil || json.Unmarshal(out, &signed) != nil || (signed.Status != recovery.StatusApproved && signed.Status != recovery.StatusRecovering) ||
		len(signed.Audit) != 4 || signed.Audit[3].Person != "seth" {
		t.Fatalf("settlement sign-off: %v\n%s", err, out)
	}
	signedAt := time.Now()
	// recovery dev has one person per team besides its admin; casectl --as
	// acts as them. The security person is known and holds the team's role:
	// the case is refused only for being signed already.
	asTeam := exec.Command(casectl, "--api", api, "--as", "security", "cases", "signoff", btcID, "--team", "security", "--approve")
	asTeam.Env = append(os.Environ(), "RECOVERY_DATA_DIR="+dir)
	if out, err := asTeam.CombinedOutput(); err == nil || !strings.Contains(string(out), "not waiting for sign-offs") {
		t.Fatalf("casectl --as security: %v\n%s", err, out)
	}

	// The retired address's output is spent to the btc hot wallet. The
	// engine stops once the transaction is sent, before the credit, and
	// starts again: the same transaction is followed to its confirmations
	// and the user credited once.
	st = waitFor(t, api, as(btc.UserID), btcID, "sent its recovery transaction", func(st appealStatus) bool {
		return st.Recovery != nil && len(st.Recovery.Transactions) == 1
	})
	sentHash := st.Recovery.Transactions[0].TxHash
	if st.Recovery.Method != "utxo_spend" || len(sentHash) != 64 {
		t.Fatalf("btc recovery: %+v", st.Recovery)
	}
	e.stop(t)
	e = startEngine(t, args)
	api = e.api
	st = waitStatus(t, api, as(btc.UserID), btcID, recovery.StatusCredited)
	t.Logf("btc: from the last sign-off to the credit (with a restart) in %s", time.Since(signedAt).Round(time.Second))
	if r := st.Recovery; len(r.Transactions) != 1 || r.Transactions[0].TxHash != sentHash || !r.Transactions[0].Confirmed || r.Transactions[0].Confirmations < 2 {
		t.Fatalf("btc recovery after a restart: %+v", st.Recovery)
	}
	if c := st.Credit; c == nil || c.TxHash != sentHash || c.Asset != "BTC" || c.Net != q.Net || c.Fee != q.Fee || !st.Closed {
		t.Fatalf("btc credit %+v, want net %s fee %s by %s", st.Credit, q.Net, q.Fee, sentHash)
	}
	if !slices.Contains(st.codes(), "recovery.credited") {
		t.Fatalf("btc timeline: %v", st.codes())
	}
	// A credited case takes no more answers, sign-offs or withdrawals.
	if code := call(t, "POST", api+"/v1/appeals/"+btcID+"/withdraw", as(btc.UserID), nil, &apiErr); code != 409 {
		t.Fatalf("withdraw a credited case: %d %+v", code, apiErr)
	}
	if code := call(t, "POST", api+"/v1/appeals/"+btcID+"/quote", as(btc.UserID), map[string]any{"quote_id": q.ID, "accept": true}, &apiErr); code != 409 {
		t.Fatalf("accept on a credited case: %d %+v", code, apiErr)
	}
	if out, err := staff("seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "cases", "signoff", btcID, "--team", "settlement", "--approve"); err == nil || !strings.Contains(out, "closed") {
		t.Fatalf("a sign-off on a credited case: %v\n%s", err, out)
	}
	if out, err := staff(token, "cases", "show", btcID); err != nil || !strings.Contains(out, "Credited  "+q.Net+" BTC") || !strings.Contains(out, sentHash) {
		t.Fatalf("casectl cases show of a credited case: %v\n%s", err, out)
	}
	// The btc hot wallet holds the spent output less its fee, read from
	// the node's address index.
	wallets = exec.Command(casectl, "--api", api, "--as", "wallet", "wallets", "-o", "json")
	wallets.Env = append(os.Environ(), "RECOVERY_DATA_DIR="+dir)
	var hot struct {
		Wallets []struct{ Network, Balance string }
	}
	if out, err := wallets.CombinedOutput(); err != nil || json.Unmarshal(out, &hot) != nil {
		t.Fatalf("casectl wallets -o json: %v\n%s", err, out)
	}
	for _, w := range hot.Wallets {
		if w.Network == "btc" {
			if bal, ok := new(big.Int).SetString(w.Balance, 10); !ok || bal.Sign() <= 0 || bal.Cmp(mustDecimal(t, btc.Amount).BigInt()) >= 0 {
				t.Fatalf("btc hot wallet holds %q after the recovery of %s sat", w.Balance, btc.Amount)
			}
		}
	}
	// Finance sees each recovery once in the fee report: the contract
	// deposit and the btc one.
	var report struct {
		Total struct {
			Cases int `json:"cases"`
		} `json:"total"`
	}
	if code := call(t, "GET", api+"/v1/reports/fees?format=json", token, nil, &report); code != 200 || report.Total.Cases != 2 {
		t.Fatalf("fee report after the credit: %d %+v", code, report)
	}

	if path := os.Getenv("RECOVERY_RECORD_HISTORY"); path != "" {
		recordHistory(t, temporalAddr, btcID, path)
	}

	// Metrics: open cases from visibility, the case metrics the workflows
	// recorded, the chain nodes' calls.
	resp, err = http.Get(api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The case metrics live as long as the process (other tests in this
	// binary add to them): each must be there, counted at least once.
	for _, want := range []string{`recovery_recoveries_total{category="retired_address",network="btc",outcome="credited"} 1`, `recovery_time_to_recovery_seconds_count{category="retired_address",network="btc"} 1`, `recovery_time_to_quote_seconds_count{category="retired_address",network="btc"} [1-9]`,
		`recovery_signoff_wait_seconds_count{team="wallet"} [1-9]`, `recovery_cases_decided_total{action="direct",category="retired_address",network="btc"} [1-9]`,
		`recovery_node_calls_total{network="btc",outcome="ok"} [1-9]`} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want[:strings.LastIndex(want, " ")]) + ` ` + want[strings.LastIndex(want, " ")+1:]).Match(metricsText) {
			t.Errorf("/metrics has no %s", want)
		}
	}

	// Ctrl-C, start again on the same data directory: every case is there.
	e.stop(t)
	e = startEngine(t, args)
	defer e.stop(t)
	st = waitStatus(t, e.api, as(btc.UserID), btcID, recovery.StatusCredited)
	if st.Deposit == nil || st.Deposit.Amount != btc.Amount || st.Credit == nil {
		t.Fatalf("after restart: %+v", st)
	}
	waitStatus(t, e.api, as(tok.UserID), tokID, recovery.StatusWithdrawn)
	var again struct{ Deposits []demoDeposit }
	call(t, "GET", e.api+"/v1/demo", token, nil, &again)
	if !slices.Equal(again.Deposits, demo.Deposits) {
		t.Fatalf("demo deposits changed across a restart")
	}
}

// recordHistory saves a case's event history for the replay test in
// workflows/ (RECOVERY_RECORD_HISTORY=path go test -run TestDevEndToEnd),
// its payloads decrypted as the engine reads them, since the replayer has
// no payload key, and checks that the file replays.
func recordHistory(t *testing.T, temporalAddr, id, path string) {
	t.Helper()
	decode, err := converter.NewPayloadCodecGRPCClientInterceptor(converter.PayloadCodecGRPCClientInterceptorOptions{
		Codecs: []converter.PayloadCodec{testEngineKeys(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: quietLogger{},
		ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(decode)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	iter := c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	var h historypb.History
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// As workflows.TestReplayRecordedHistories replays it.
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.AppealWorkflow, workflow.RegisterOptions{Name: workflows.AppealWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.PolicyWorkflow, workflow.RegisterOptions{Name: workflows.PolicyWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.BatchWorkflow, workflow.RegisterOptions{Name: workflows.BatchWorkflowName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, path); err != nil {
		t.Fatalf("the history recorded in %s does not replay: %v", path, err)
	}
}

// testEngineKeys are the payload keys of the engines t started: recovery
// dev on one of t's temporary directories (TestDevEndToEnd, startWith),
// which keeps its key there. Each is tried on a sealed payload until one
// opens it; a payload no key opens fails the recording, and a plain one
// (from workers dialled without a codec) passes as it is.
func testEngineKeys(t *testing.T) engineKeys {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "payload-key"))
	if err != nil {
		t.Fatal(err)
	}
	var keys engineKeys
	for _, f := range found {
		cfg := config.Default()
		if err := devPayloadKey(&cfg, filepath.Dir(f)); err != nil {
			t.Fatal(err)
		}
		codec, err := payloadCodec(cfg)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, codec)
	}
	return keys
}

// engineKeys decodes what the engines of a test sealed, each under a key
// of its own (all named "dev").
type engineKeys []*payloadcodec.Codec

// Encode leaves payloads as they are: recordHistory sends none.
func (k engineKeys) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return payloads, nil
}

func (k engineKeys) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := slices.Clone(payloads)
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != payloadcodec.Encoding {
			continue
		}
		opened := false
		for _, c := range k {
			if d, err := c.Decode([]*commonpb.Payload{p}); err == nil {
				out[i], opened = d[0], true
				break
			}
		}
		if !opened {
			return nil, fmt.Errorf("a payload sealed under key %q, which no engine of this test kept in its data directory", p.GetMetadata()[payloadcodec.MetadataKeyID])
		}
	}
	return out, nil
}
