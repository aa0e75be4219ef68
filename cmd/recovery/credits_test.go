package main

import (
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// The exchange's deposit records, imported while a case is under way,
// stop its recovery before anything is sent; a deposit already in them
// when it is appealed closes as already credited, showing the credit.
func TestImportedCreditsStopRecoveries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a dev chain")
	}
	sender, senderAddr := nodetest.Key(t)
	node, eth := nodetest.EVM(t, evmnode.Config{ChainID: 1337, BlockPeriod: time.Second,
		Alloc: nodetest.Alloc(new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil), senderAddr)})
	e, _, _ := startOnNode(t, node.URL(), "", "")
	defer e.stop(t)
	api := e.api
	ctx := nodetest.Context(t)

	// deposit sends 0.5 ETH on eth to user's address issued for bsc: a
	// wrong-network deposit; it returns the user's token, the address and
	// the case id.
	deposit := func(user string) (string, common.Address, string) {
		var issued struct{ Token, Address string }
		if code := call(t, "POST", api+"/v1/dev/user-token", "", map[string]any{"user_id": user}, &issued); code != 200 {
			t.Fatalf("user token: %d", code)
		}
		token := issued.Token
		if code := call(t, "GET", api+"/v1/deposit-address?user_id="+user+"&network=bsc", "", nil, &issued); code != 200 {
			t.Fatalf("deposit address: %d", code)
		}
		to := common.HexToAddress(issued.Address)
		hash, err := evmnode.SendValue(ctx, eth, sender, to, big.NewInt(500_000_000_000_000_000))
		if err != nil {
			t.Fatal(err)
		}
		return token, to, "eth." + strings.TrimPrefix(hash.Hex(), "0x") + ".v"
	}
	credit := func(id, user string) {
		t.Helper()
		parts := strings.Split(id, ".")
		csv := "network,tx_hash,index,user_id,amount,credited_at\n" + strings.Join([]string{parts[0], parts[1], parts[2], user, "500000000000000000", "2026-11-30"}, ",") + "\n"
		if code := callRaw(t, "PUT", api+"/v1/credits", "seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "text/csv", csv); code != 200 {
			t.Fatalf("credits import: %d", code)
		}
	}
	appeal := func(token, user string, to common.Address, id string) {
		t.Helper()
		hash := "0x" + strings.Split(id, ".")[1]
		var created struct {
			AppealID string `json:"appeal_id"`
		}
		if code := call(t, "POST", api+"/v1/appeals", token, map[string]any{"network": "eth", "tx_hash": hash, "to_address": to.Hex(), "user_id": user}, &created); code != 202 || created.AppealID != id {
			t.Fatalf("appeal: %d %s, want %s", code, created.AppealID, id)
		}
	}

	// Credited while the teams sign: nothing leaves the deposit address.
	zoe, zoeAddr, zoeID := deposit("zoe")
	appeal(zoe, "zoe", zoeAddr, zoeID)
	st := waitStatus(t, api, zoe, zoeID, recovery.StatusAwaitingAcceptance)
	if code := call(t, "POST", api+"/v1/appeals/"+zoeID+"/quote", zoe, map[string]any{"quote_id": st.Quote.ID, "accept": true}, nil); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	credit(zoeID, "zoe")
	for _, s := range []struct{ token, team string }{{"wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", "wallet"}, {"seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "settlement"}} {
		if code := call(t, "POST", api+"/v1/cases/"+zoeID+"/signoff", s.token, map[string]any{"team": s.team, "approve": true}, nil); code != 200 {
			t.Fatalf("%s sign-off: %d", s.team, code)
		}
	}
	st = waitStatus(t, api, zoe, zoeID, recovery.StatusNotRecoverable)
	if st.Category != recovery.CategoryAlreadyCredited || !st.Closed || !strings.Contains(st.Timeline[len(st.Timeline)-1].Message, "credited to zoe") {
		t.Fatalf("case credited meanwhile: %+v", st)
	}
	if n, err := eth.NonceAt(ctx, zoeAddr, nil); err != nil || n != 0 {
		t.Fatalf("transactions sent from the deposit address: %d, %v; want none", n, err)
	}

	// Credited before the appeal: closed at once, the credit shown.
	yan, yanAddr, yanID := deposit("yan")
	credit(yanID, "yan")
	appeal(yan, "yan", yanAddr, yanID)
	st = waitCategory(t, api, yan, yanID, recovery.CategoryAlreadyCredited)
	// The date reads as the reader writes dates (English here).
	if !strings.Contains(st.Explanation, "11/30/2026") {
		t.Fatalf("already credited: the explanation %q does not show the credit", st.Explanation)
	}
}

// callRaw sends body as it is, of the given content type, and returns the
// status.
func callRaw(t *testing.T, method, url, token, contentType, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		raw, _ := io.ReadAll(resp.Body)
		t.Logf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode
}
