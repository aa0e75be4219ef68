package main

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// ERC-20 tokens the exchange does not list on eth, sent to users' eth
// deposit addresses, priced. After the quote and the sign-offs the hot
// wallet tops each deposit address up with gas and the tokens are swept to
// the hot wallet; then a token the exchange lists on another network (the
// same contract, on bsc) is credited, and one it lists nowhere goes back,
// net of the fee, to the address that sent it. Every token is accounted
// for on chain, and the ledger holds one credit per deposit.
func TestUnlistedTokensRecoveredCreditedOrReturned(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a dev chain")
	}
	sender, senderAddr := nodetest.Key(t)
	ether := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	node, eth := nodetest.EVM(t, evmnode.Config{ChainID: 1337, BlockPeriod: time.Second,
		Alloc: nodetest.Alloc(new(big.Int).Mul(big.NewInt(1000), ether), senderAddr)})
	ctx := nodetest.Context(t)
	nowhere, err := evmnode.DeployToken(ctx, eth, sender)
	if err != nil {
		t.Fatal(err)
	}
	onBSC, err := evmnode.DeployToken(ctx, eth, sender)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prices := filepath.Join(dir, "prices.yaml")
	priceFile := fmt.Sprintf("source: test prices\nat: 2026-11-23T00:00:00Z\nassets: {ETH: \"3000\"}\nnetworks:\n  eth: {%q: \"2\", %q: \"2\"}\n",
		strings.ToLower(nowhere.Hex()), strings.ToLower(onBSC.Hex()))
	if err := os.WriteFile(prices, []byte(priceFile), 0o600); err != nil {
		t.Fatal(err)
	}
	listing := fmt.Sprintf("  - {id: bsc, tokens: [{symbol: DEMO, contract: %q, decimals: 18}]}\n", onBSC.Hex())
	e, _, temporalAddr := startOnNode(t, node.URL(), "price_file: "+prices+"\n", listing)
	defer e.stop(t)
	api := e.api

	// The hot wallet pays the gas of the top-ups and of the return; the
	// operator has not funded it yet.
	var ws struct {
		Wallets []struct{ Network, Address, Balance string }
	}
	if code := call(t, "GET", api+"/v1/wallets", "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &ws); code != 200 || len(ws.Wallets) != 1 || ws.Wallets[0].Balance != "0" {
		t.Fatalf("hot wallets: %d %+v", code, ws)
	}
	hot := common.HexToAddress(ws.Wallets[0].Address)
	funded := false

	amount := new(big.Int).Mul(big.NewInt(1000), ether) // 1000 tokens of 18 decimals
	for _, tc := range []struct {
		user    string
		token   common.Address
		outcome string
		txs     int
	}{
		{"zoe", nowhere, "return", 3},
		{"yan", onBSC, "credit", 2},
	} {
		var issued struct{ Token, Address string }
		if code := call(t, "POST", api+"/v1/dev/user-token", "", map[string]any{"user_id": tc.user}, &issued); code != 200 {
			t.Fatalf("user token: %d", code)
		}
		user := issued.Token
		if code := call(t, "GET", api+"/v1/deposit-address?user_id="+tc.user+"&network=eth", "", nil, &issued); code != 200 {
			t.Fatalf("deposit address: %d", code)
		}
		deposit := common.HexToAddress(issued.Address)
		hash, err := evmnode.TransferToken(ctx, eth, sender, tc.token, deposit, amount)
		if err != nil {
			t.Fatal(err)
		}
		var created struct {
			AppealID string `json:"appeal_id"`
		}
		if code := call(t, "POST", api+"/v1/appeals", user, map[string]any{"network": "eth", "tx_hash": hash.Hex(), "to_address": deposit.Hex(), "user_id": tc.user}, &created); code != 202 {
			t.Fatalf("%s: appeal %d", tc.outcome, code)
		}
		id := created.AppealID
		st := waitStatus(t, api, user, id, recovery.StatusAwaitingAcceptance)
		if st.Category != recovery.CategoryUnlistedToken || st.Quote == nil {
			t.Fatalf("%s: token case %+v", tc.outcome, st)
		}
		// The user knows before accepting whether the token comes back.
		if returned := st.Decision.Outcome == "return"; returned != (tc.outcome == "return") || returned != slices.Contains(st.codes(), "decision.return") {
			t.Fatalf("%s: the decision says outcome %q, timeline %v", tc.outcome, st.Decision.Outcome, st.codes())
		}
		if code := call(t, "POST", api+"/v1/appeals/"+id+"/quote", user, map[string]any{"quote_id": st.Quote.ID, "accept": true}, nil); code != 200 {
			t.Fatalf("%s: accept %d", tc.outcome, code)
		}
		signed := time.Now()
		for _, s := range []struct{ token, team string }{{"wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", "wallet"}, {"seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "settlement"}} {
			if code := call(t, "POST", api+"/v1/cases/"+id+"/signoff", s.token, map[string]any{"team": s.team, "approve": true}, nil); code != 200 {
				t.Fatalf("%s: %s sign-off %d", tc.outcome, s.team, code)
			}
		}
		if !funded {
			// Nothing can be sent from an empty hot wallet: the case waits,
			// recovering, until the operator funds it.
			time.Sleep(3 * time.Second)
			if call(t, "GET", api+"/v1/appeals/"+id, user, nil, &st); st.Status != recovery.StatusRecovering || len(st.Recovery.Transactions) != 0 {
				t.Fatalf("%s: with an empty hot wallet the case is %s with %+v; want recovering, nothing sent", tc.outcome, st.Status, st.Recovery)
			}
			if _, err := evmnode.SendValue(ctx, eth, sender, hot, ether); err != nil {
				t.Fatal(err)
			}
			funded = true
		}
		st = waitStatus(t, api, user, id, recovery.StatusCredited)
		if path := os.Getenv("RECOVERY_RECORD_RETURNED"); path != "" && tc.outcome == "return" {
			recordHistory(t, temporalAddr, id, path)
		}
		t.Logf("unlisted token, %s: from the last sign-off to the end in %s", tc.outcome, time.Since(signed).Round(100*time.Millisecond))
		r, c := st.Recovery, st.Credit
		if r == nil || r.Method != "evm_token_sweep" || r.Outcome != tc.outcome || len(r.Transactions) != tc.txs || c == nil {
			t.Fatalf("%s: recovery %+v, credit %+v", tc.outcome, r, c)
		}
		// On chain: the deposit address holds no token; the hot wallet
		// keeps the fee of a return and the whole of a credit; the sender
		// gets the rest of a return back.
		net := mustDecimal(t, c.Net).Shift(18).BigInt()
		fee := new(big.Int).Sub(amount, net)
		hotWants, senderWants := amount, new(big.Int).Sub(evmnode.TokenSupply, amount)
		if tc.outcome == "return" {
			if !strings.EqualFold(c.ReturnedTo, senderAddr.Hex()) {
				t.Fatalf("returned to %s, want the sender %s", c.ReturnedTo, senderAddr.Hex())
			}
			hotWants, senderWants = fee, new(big.Int).Sub(evmnode.TokenSupply, fee)
		} else if c.ReturnedTo != "" {
			t.Fatalf("a token listed on bsc was sent back to %s", c.ReturnedTo)
		}
		for _, b := range []struct {
			who  string
			addr common.Address
			want *big.Int
		}{{"deposit address", deposit, new(big.Int)}, {"hot wallet", hot, hotWants}, {"sender", senderAddr, senderWants}} {
			if got, err := evmnode.TokenBalance(ctx, eth, tc.token, b.addr); err != nil || got.Cmp(b.want) != 0 {
				t.Errorf("%s: %s holds %s tokens (%v), want %s", tc.outcome, b.who, got, err, b.want)
			}
		}
	}
	var report struct {
		Total struct {
			Cases int `json:"cases"`
		} `json:"total"`
	}
	if code := call(t, "GET", api+"/v1/reports/fees?format=json", "fay-f7QmZ3tLx9WkR2vNc6BpJ8hDs4Gy", nil, &report); code != 200 || report.Total.Cases != 2 {
		t.Fatalf("credits in the ledger: %d %+v; want 2", code, report)
	}
}
