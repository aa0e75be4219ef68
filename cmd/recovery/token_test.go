package main

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// An ERC-20 token the exchange lists on no network, sent to a user's
// deposit address, priced: after the quote and the sign-offs, the hot
// wallet tops the deposit address up with gas, the tokens are swept to the
// hot wallet, and the net goes back to the address that sent them. Every
// token is accounted for on chain, and the ledger holds one credit.
func TestUnlistedTokenRecoveredAndReturned(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a dev chain")
	}
	sender, senderAddr := nodetest.Key(t)
	ether := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	node, eth := nodetest.EVM(t, evmnode.Config{ChainID: 1337, BlockPeriod: time.Second,
		Alloc: nodetest.Alloc(new(big.Int).Mul(big.NewInt(1000), ether), senderAddr)})
	ctx := nodetest.Context(t)
	token, err := evmnode.DeployToken(ctx, eth, sender)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prices := filepath.Join(dir, "prices.yaml")
	priceFile := fmt.Sprintf("source: test prices\nat: 2026-11-23T00:00:00Z\nassets: {ETH: \"3000\"}\nnetworks:\n  eth: {%q: \"2\"}\n", strings.ToLower(token.Hex()))
	if err := os.WriteFile(prices, []byte(priceFile), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _ := startOnNode(t, node.URL(), "price_file: "+prices+"\n")
	defer e.stop(t)
	api := e.api
	var issued struct{ Token, Address string }
	if code := call(t, "POST", api+"/v1/dev/user-token", "", map[string]any{"user_id": "zoe"}, &issued); code != 200 {
		t.Fatalf("user token: %d", code)
	}
	zoe := issued.Token
	if code := call(t, "GET", api+"/v1/deposit-address?user_id=zoe&network=eth", "", nil, &issued); code != 200 {
		t.Fatalf("deposit address: %d", code)
	}
	deposit := common.HexToAddress(issued.Address)
	amount := new(big.Int).Mul(big.NewInt(1000), ether) // 1000 tokens of 18 decimals
	hash, err := evmnode.TransferToken(ctx, eth, sender, token, deposit, amount)
	if err != nil {
		t.Fatal(err)
	}
	// The operator funds the hot wallet, which pays the gas of the top-up
	// and of the return.
	var ws struct {
		Wallets []struct{ Network, Address, Balance string }
	}
	if code := call(t, "GET", api+"/v1/wallets", "wallet-token-0123456789", nil, &ws); code != 200 || len(ws.Wallets) != 1 {
		t.Fatalf("hot wallets: %d %+v", code, ws)
	}
	hot := common.HexToAddress(ws.Wallets[0].Address)
	if _, err := evmnode.SendValue(ctx, eth, sender, hot, ether); err != nil {
		t.Fatal(err)
	}

	var created struct {
		AppealID string `json:"appeal_id"`
	}
	if code := call(t, "POST", api+"/v1/appeals", zoe, map[string]any{"network": "eth", "tx_hash": hash.Hex(), "to_address": deposit.Hex(), "user_id": "zoe"}, &created); code != 202 {
		t.Fatalf("appeal: %d", code)
	}
	id := created.AppealID
	st := waitStatus(t, api, zoe, id, recovery.StatusAwaitingAcceptance)
	if st.Category != recovery.CategoryUnlistedToken || st.Quote == nil {
		t.Fatalf("token case: %+v", st)
	}
	if code := call(t, "POST", api+"/v1/appeals/"+id+"/quote", zoe, map[string]any{"quote_id": st.Quote.ID, "accept": true}, nil); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	signed := time.Now()
	for _, s := range []struct{ token, team string }{{"wallet-token-0123456789", "wallet"}, {"settle-token-0123456789", "settlement"}} {
		if code := call(t, "POST", api+"/v1/cases/"+id+"/signoff", s.token, map[string]any{"team": s.team, "approve": true}, nil); code != 200 {
			t.Fatalf("%s sign-off: %d", s.team, code)
		}
	}
	st = waitStatus(t, api, zoe, id, recovery.StatusCredited)
	t.Logf("unlisted token: from the last sign-off to the return in %s", time.Since(signed).Round(time.Second))
	r, c := st.Recovery, st.Credit
	if r == nil || r.Method != "evm_token_sweep" || len(r.Transactions) != 3 || c == nil || !strings.EqualFold(c.ReturnedTo, senderAddr.Hex()) {
		t.Fatalf("recovery %+v, credit %+v", r, c)
	}

	// On chain: the deposit address holds no token, the hot wallet the fee,
	// the sender the rest back.
	net := mustDecimal(t, c.Net).Shift(18).BigInt()
	fee := new(big.Int).Sub(amount, net)
	for _, b := range []struct {
		who  string
		addr common.Address
		want *big.Int
	}{
		{"deposit address", deposit, new(big.Int)},
		{"hot wallet", hot, fee},
		{"sender", senderAddr, new(big.Int).Sub(evmnode.TokenSupply, fee)},
	} {
		if got, err := evmnode.TokenBalance(ctx, eth, token, b.addr); err != nil || got.Cmp(b.want) != 0 {
			t.Errorf("%s holds %s tokens (%v), want %s", b.who, got, err, b.want)
		}
	}
	var report struct {
		Total struct {
			Cases int `json:"cases"`
		} `json:"total"`
	}
	if code := call(t, "GET", api+"/v1/reports/fees?format=json", "finance-token-012345678", nil, &report); code != 200 || report.Total.Cases != 1 {
		t.Fatalf("credits in the ledger: %d %+v; want 1", code, report)
	}
}
