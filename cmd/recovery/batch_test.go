package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
	"github.com/misdeposit/recovery/policy"
)

// Small deposits on a UTXO chain are recovered in one batch: each case is
// quoted, accepted and signed off, and joins the open batch; a case
// withdrawn while the batch is open leaves it; when the batch is full one
// transaction spends every remaining deposit to the hot wallet, and each
// case is credited once with its share of that transaction's fee.
func TestSmallDepositsRecoveredInOneBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a regtest node")
	}
	const deposits, sats = 21, 10_000 // 0.0001 BTC each, 9 USD at the dev price: below the 50 USD minimum
	n, w, _ := nodetest.FundedBTCD(t)
	ctx := nodetest.Context(t)
	// The chain gathers confirmations as a live one would.
	mining, stop := context.WithCancel(ctx)
	var miner sync.WaitGroup
	miner.Go(func() {
		for mining.Err() == nil {
			_ = n.Generate(mining, 1)
			select {
			case <-mining.Done():
			case <-time.After(time.Second):
			}
		}
	})
	defer func() { stop(); miner.Wait() }()

	doc := withVersion(t, policy.DefaultDocument(), "batch.test")
	doc = []byte(strings.Replace(string(doc), "batch_max_cases: 200", fmt.Sprintf("batch_max_cases: %d", deposits), 1))
	dir := t.TempDir()
	polPath := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(polPath, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	rpc := fmt.Sprintf("http://%s:%s@%s", n.User(), n.Pass(), n.Host())
	e, _, temporalAddr := startWith(t, "  - {id: btc, rpc: ["+rpc+"], params: btc-regtest, confirmations: 1, min_deposit: \"0.001\"}\n", "policy_file: "+polPath+"\n")
	defer func() { e.stop(t) }()
	api := e.api

	// One payment to 21 users' btc deposit addresses: 21 small deposits.
	params, _ := utxo.ParamsFor("btc-regtest")
	tokens, addrs := make([]string, deposits), make([]string, deposits)
	var outs []*wire.TxOut
	for i := range deposits {
		user := fmt.Sprintf("small%02d", i)
		var issued struct{ Token, Address string }
		if code := call(t, "POST", api+"/v1/dev/user-token", "", map[string]any{"user_id": user}, &issued); code != 200 {
			t.Fatalf("user token: %d", code)
		}
		tokens[i] = issued.Token
		if code := call(t, "GET", api+"/v1/deposit-address?user_id="+user+"&network=btc", "", nil, &issued); code != 200 {
			t.Fatalf("deposit address: %d", code)
		}
		addrs[i] = issued.Address
		info, err := utxo.DecodeAddress(params, issued.Address)
		if err != nil {
			t.Fatal(err)
		}
		script, err := info.Script()
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, wire.NewTxOut(sats, script))
	}
	txid, err := w.SendOutputs(ctx, n, outs)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, deposits)
	for i := range deposits {
		var created struct {
			AppealID string `json:"appeal_id"`
		}
		if code := call(t, "POST", api+"/v1/appeals", tokens[i], map[string]any{"network": "btc", "tx_hash": txid, "to_address": addrs[i], "user_id": fmt.Sprintf("small%02d", i)}, &created); code != 202 && code != 200 {
			t.Fatalf("appeal %d: %d", i, code)
		}
		ids[i] = created.AppealID
	}
	for i, id := range ids {
		st := waitStatus(t, api, tokens[i], id, recovery.StatusAwaitingAcceptance)
		if st.Category != recovery.CategoryBelowMinimum || st.Decision == nil || !slices.Contains(st.codes(), "decision.batch") {
			t.Fatalf("small deposit %d: %+v", i, st)
		}
		if code := call(t, "POST", api+"/v1/appeals/"+id+"/quote", tokens[i], map[string]any{"quote_id": st.Quote.ID, "accept": true}, nil); code != 200 {
			t.Fatalf("accept %d: %d", i, code)
		}
		// Two people agree to every recovery, a small one too.
		for _, s := range []struct{ token, team string }{{"wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", "wallet"}, {"seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "settlement"}} {
			if code := call(t, "POST", api+"/v1/cases/"+id+"/signoff", s.token, map[string]any{"team": s.team, "approve": true}, nil); code != 200 {
				t.Fatalf("%s sign-off %d: %d", s.team, i, code)
			}
		}
		if i == 0 {
			// The first case leaves the batch while it is open.
			waitStatus(t, api, tokens[0], id, recovery.StatusAwaitingBatch)
			if code := call(t, "POST", api+"/v1/appeals/"+id+"/withdraw", tokens[0], map[string]any{"reason": "changed my mind"}, nil); code != 200 {
				t.Fatalf("withdraw from an open batch: %d", code)
			}
		}
	}
	signed := time.Now()
	// The engine stops as soon as the batch has sent its transaction, and
	// starts again: the same transaction is followed, each case credited
	// once.
	var inFlight struct {
		Batches []struct {
			ID string `json:"id"`
		} `json:"batches"`
	}
	deadline := time.Now().Add(time.Minute)
	for sent := false; !sent; {
		if time.Now().After(deadline) {
			t.Fatal("the batch sent no transaction")
		}
		time.Sleep(200 * time.Millisecond)
		if call(t, "GET", api+"/v1/batches", "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &inFlight); len(inFlight.Batches) == 1 {
			var b struct {
				Status       string                  `json:"status"`
				Transactions []struct{ Hash string } `json:"transactions"`
			}
			sent = call(t, "GET", api+"/v1/batches/"+inFlight.Batches[0].ID, "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &b) == 200 && len(b.Transactions) == 1
			if sent {
				t.Logf("engine stopped with the batch %s", b.Status)
			}
		}
	}
	e.stop(t)
	e = startEngine(t, e.args)
	api = e.api
	var sweep string
	var shares int64
	for i, id := range ids[1:] {
		st := waitStatus(t, api, tokens[i+1], id, recovery.StatusCredited)
		c, r := st.Credit, st.Recovery
		if c == nil || r == nil || len(r.Transactions) != 1 || c.TxHash != r.Transactions[0].TxHash {
			t.Fatalf("case %s: credit %+v, recovery %+v", id, c, r)
		}
		if sweep == "" {
			sweep = c.TxHash
		}
		if c.TxHash != sweep {
			t.Fatalf("case %s was recovered by %s, another case by %s: not one transaction", id, c.TxHash, sweep)
		}
		share, ok := new(big.Int).SetString(r.Transactions[0].Fee, 10)
		if !ok || share.Sign() <= 0 {
			t.Fatalf("case %s: share of the fee %q", id, r.Transactions[0].Fee)
		}
		shares += share.Int64()
	}
	t.Logf("%d small deposits: from the last sign-off to the last credit in %s", deposits-1, time.Since(signed).Round(100*time.Millisecond))
	if st := waitStatus(t, api, tokens[0], ids[0], recovery.StatusWithdrawn); st.Credit != nil {
		t.Fatalf("the withdrawn case was credited: %+v", st.Credit)
	}

	// On chain: the withdrawn case's output is untouched; the others were
	// spent by the one sweep, whose one output is theirs less its fee,
	// shared among them to the satoshi.
	c, err := utxo.Dial(chains.Network{ID: "btc", Family: recovery.FamilyUTXO, Params: "btc-regtest", Confirmations: 1}, n.Host(), n.User(), n.Pass())
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Output(ctx, sweep, 0)
	if err != nil {
		t.Fatal(err)
	}
	swept := int64((deposits - 1) * sats)
	if fee := swept - out.Amount; fee <= 0 || fee != shares {
		t.Fatalf("the sweep paid %d sat of fee; the cases' shares add up to %d", fee, shares)
	}
	tx, err := c.LookupTx(ctx, sweep)
	if err != nil || len(tx.Transfers) != 1 {
		t.Fatalf("the sweep %s: %+v %v", sweep, tx, err)
	}
	first, err := c.Output(ctx, txid, 0)
	if err != nil || !first.Unspent {
		t.Fatalf("the withdrawn case's deposit: %+v %v; want it unspent", first, err)
	}
	// Staff see the batch: 21 members, 20 locked in, one transaction.
	var batches struct {
		Batches []struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Members int    `json:"members"`
		} `json:"batches"`
	}
	if code := call(t, "GET", api+"/v1/batches", "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &batches); code != 200 || len(batches.Batches) != 1 ||
		batches.Batches[0].Status != "done" || batches.Batches[0].Members != deposits {
		t.Fatalf("batches: %d %+v", code, batches)
	}
	var b struct {
		Locked       []string `json:"locked"`
		Transactions []struct {
			Hash string `json:"hash"`
		} `json:"transactions"`
	}
	if code := call(t, "GET", api+"/v1/batches/"+batches.Batches[0].ID, "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &b); code != 200 ||
		len(b.Locked) != deposits-1 || len(b.Transactions) != 1 || b.Transactions[0].Hash != sweep || slices.Contains(b.Locked, ids[0]) {
		t.Fatalf("batch %s: %d %+v", batches.Batches[0].ID, code, b)
	}
	if dir := os.Getenv("RECOVERY_RECORD_BATCH"); dir != "" {
		recordHistory(t, temporalAddr, ids[1], filepath.Join(dir, "appeal_batched_btc.json"))
		recordHistory(t, temporalAddr, batches.Batches[0].ID, filepath.Join(dir, "batch_small_btc.json"))
	}
	var report struct {
		Total struct {
			Cases int `json:"cases"`
		} `json:"total"`
	}
	if code := call(t, "GET", api+"/v1/reports/fees?format=json", "fay-f7QmZ3tLx9WkR2vNc6BpJ8hDs4Gy", nil, &report); code != 200 || report.Total.Cases != deposits-1 {
		t.Fatalf("credits in the ledger: %d %+v; want %d", code, report, deposits-1)
	}
}

// Small deposits on an EVM network are batched too: once the batch is
// full each deposit address is swept to the hot wallet, each paying its
// own gas as its share, and each case is credited once.
func TestSmallEVMDepositsRecoveredInABatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a dev chain")
	}
	const deposits = 10
	sender, senderAddr := nodetest.Key(t)
	node, eth := nodetest.EVM(t, evmnode.Config{ChainID: 1337, BlockPeriod: time.Second,
		Alloc: nodetest.Alloc(new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil), senderAddr)})
	doc := withVersion(t, policy.DefaultDocument(), "batch.evm.test")
	doc = []byte(strings.Replace(string(doc), "batch_max_cases: 200", fmt.Sprintf("batch_max_cases: %d", deposits), 1))
	polPath := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(polPath, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	e, dataDir, _ := startWith(t, "  - {id: eth, rpc: ["+node.URL()+"], chain_id: 1337, confirmations: 2, min_deposit: \"0.01\"}\n", "policy_file: "+polPath+"\n")
	defer e.stop(t)
	api := e.api
	defer func() {
		if t.Failed() {
			var batches any
			code := call(t, "GET", api+"/v1/batches", "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &batches)
			t.Logf("batches (%d): %+v", code, batches)
		}
	}()
	ctx := nodetest.Context(t)
	small := big.NewInt(1_000_000_000_000_000) // 0.001 ETH, 3 USD at the dev price
	tokens, ids := make([]string, deposits), make([]string, deposits)
	for i := range deposits {
		user := fmt.Sprintf("tiny%02d", i)
		var issued struct{ Token, Address string }
		if code := call(t, "POST", api+"/v1/dev/user-token", "", map[string]any{"user_id": user}, &issued); code != 200 {
			t.Fatalf("user token: %d", code)
		}
		tokens[i] = issued.Token
		if code := call(t, "GET", api+"/v1/deposit-address?user_id="+user+"&network=eth", "", nil, &issued); code != 200 {
			t.Fatalf("deposit address: %d", code)
		}
		hash, err := evmnode.SendValue(ctx, eth, sender, common.HexToAddress(issued.Address), small)
		if err != nil {
			t.Fatal(err)
		}
		var created struct {
			AppealID string `json:"appeal_id"`
		}
		// The first user leaves a contact: recovery dev's outbox tells what
		// the exchange's notification service would be asked to send.
		appeal := map[string]any{"network": "eth", "tx_hash": hash.Hex(), "to_address": issued.Address, "user_id": user}
		if i == 0 {
			appeal["contact"] = "tiny00@example.org"
		}
		if code := call(t, "POST", api+"/v1/appeals", tokens[i], appeal, &created); code != 202 {
			t.Fatalf("appeal %d: %d", i, code)
		}
		ids[i] = created.AppealID
	}
	for i, id := range ids {
		st := waitStatus(t, api, tokens[i], id, recovery.StatusAwaitingAcceptance)
		if st.Category != recovery.CategoryBelowMinimum || !slices.Contains(st.codes(), "decision.batch") {
			t.Fatalf("small deposit %d: %+v", i, st)
		}
		if code := call(t, "POST", api+"/v1/appeals/"+id+"/quote", tokens[i], map[string]any{"quote_id": st.Quote.ID, "accept": true}, nil); code != 200 {
			t.Fatalf("accept %d: %d", i, code)
		}
		// Two people agree to every recovery, a small one too.
		for _, s := range []struct{ token, team string }{{"wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", "wallet"}, {"seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "settlement"}} {
			if code := call(t, "POST", api+"/v1/cases/"+id+"/signoff", s.token, map[string]any{"team": s.team, "approve": true}, nil); code != 200 {
				t.Fatalf("%s sign-off %d: %d", s.team, i, code)
			}
		}
	}
	hashes := map[string]bool{}
	for i, id := range ids {
		st := waitStatus(t, api, tokens[i], id, recovery.StatusCredited)
		r := st.Recovery
		if r == nil || len(r.Transactions) != 1 || st.Credit == nil {
			t.Fatalf("case %s: %+v", id, st)
		}
		tx, _, err := eth.TransactionByHash(ctx, common.HexToHash(r.Transactions[0].TxHash))
		if err != nil {
			t.Fatal(err)
		}
		if gas := new(big.Int).Mul(tx.GasPrice(), big.NewInt(21000)); r.Transactions[0].Fee != gas.String() {
			t.Fatalf("case %s: its share %s, its sweep's gas %s", id, r.Transactions[0].Fee, gas)
		}
		hashes[r.Transactions[0].TxHash] = true
	}
	if len(hashes) != deposits {
		t.Fatalf("%d sweeps for %d deposit addresses", len(hashes), deposits)
	}
	// The user with a contact heard of the quote and of the credit, once
	// each; no one else is notified.
	outbox, err := os.ReadFile(filepath.Join(dataDir, "notifications.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var heard []string
	for _, line := range strings.Split(strings.TrimSpace(string(outbox)), "\n") {
		var n struct {
			AppealID string `json:"appeal_id"`
			Contact  string `json:"contact"`
			Event    string `json:"event"`
			Message  string `json:"message"`
			Status   string `json:"status"`
		}
		if err := json.Unmarshal([]byte(line), &n); err != nil {
			t.Fatalf("outbox line %q: %v", line, err)
		}
		if n.AppealID != ids[0] || n.Contact != "tiny00@example.org" || n.Message == "" {
			t.Fatalf("notification %+v; want only %s's, at its contact, with a text", n, ids[0])
		}
		heard = append(heard, n.Event+" "+n.Status)
	}
	if !slices.Equal(heard, []string{"quote.offered awaiting_acceptance", "recovery.credited credited"}) {
		t.Fatalf("the user heard %q", heard)
	}
	var report struct {
		Total struct {
			Cases int `json:"cases"`
		} `json:"total"`
	}
	if code := call(t, "GET", api+"/v1/reports/fees?format=json", "fay-f7QmZ3tLx9WkR2vNc6BpJ8hDs4Gy", nil, &report); code != 200 || report.Total.Cases != deposits {
		t.Fatalf("credits in the ledger: %d %+v; want %d", code, report, deposits)
	}
}
