package main

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// outage is a TCP proxy in front of a node that can play the node being
// down: while down it drops every connection, open ones included.
type outage struct {
	l      net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

func newOutage(t *testing.T, target string) *outage {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &outage{l: l, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { l.Close(); o.setDown(true) })
	go o.serve()
	return o
}

func (o *outage) url() string { return "http://" + o.l.Addr().String() }

func (o *outage) serve() {
	for {
		c, err := o.l.Accept()
		if err != nil {
			return
		}
		if o.down.Load() {
			c.Close()
			continue
		}
		go o.pipe(c)
	}
}

func (o *outage) pipe(c net.Conn) {
	n, err := net.Dial("tcp", o.target)
	if err != nil {
		c.Close()
		return
	}
	o.mu.Lock()
	o.conns[c], o.conns[n] = true, true
	o.mu.Unlock()
	go func() { io.Copy(n, c); n.Close() }()
	io.Copy(c, n)
	c.Close()
}

func (o *outage) setDown(down bool) {
	o.down.Store(down)
	if !down {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for c := range o.conns {
		c.Close()
	}
	clear(o.conns)
}

// One deposit, one case, one recovery transaction, one credit (DESIGN §5),
// whatever the route of its appeals: filed (a) before its transaction is
// broadcast, (b) while its node is down, (c) with its network named, (d)
// without a network, and (e) 50 times at once. The appeals filed before
// the deposit could be resolved find it later and close in favour of the
// case named after it.
func TestOneCasePerDeposit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a dev chain")
	}
	sender, senderAddr := nodetest.Key(t)
	node, eth := nodetest.EVM(t, evmnode.Config{ChainID: 1337, BlockPeriod: time.Second,
		Alloc: nodetest.Alloc(new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil), senderAddr)})
	proxy := newOutage(t, strings.TrimPrefix(node.URL(), "http://"))
	e, _, _ := startOnNode(t, proxy.url(), "", "")
	defer e.stop(t)
	api := e.api
	var issued struct{ Token, Address string }
	if code := call(t, "POST", api+"/v1/dev/user-token", "", map[string]any{"user_id": "zoe"}, &issued); code != 200 {
		t.Fatalf("user token: %d", code)
	}
	zoe := issued.Token
	// zoe's deposit address was issued for bsc; the deposit is sent on eth:
	// a wrong-network deposit, recovered on eth.
	if code := call(t, "GET", api+"/v1/deposit-address?user_id=zoe&network=bsc", "", nil, &issued); code != 200 {
		t.Fatalf("deposit address: %d", code)
	}
	to := common.HexToAddress(issued.Address)

	ctx := nodetest.Context(t)
	head, err := eth.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	deposit := big.NewInt(500_000_000_000_000_000) // 0.5 ETH
	tx, err := types.SignNewTx(sender, types.LatestSignerForChainID(big.NewInt(1337)), &types.DynamicFeeTx{
		ChainID: big.NewInt(1337), Nonce: 0, GasTipCap: big.NewInt(1_000_000_000),
		GasFeeCap: new(big.Int).Add(big.NewInt(1_000_000_000), new(big.Int).Mul(head.BaseFee, big.NewInt(2))),
		Gas:       21000, To: &to, Value: deposit,
	})
	if err != nil {
		t.Fatal(err)
	}
	hash := tx.Hash().Hex()
	owner := "eth." + strings.TrimPrefix(hash, "0x") + ".v"
	appeal := func(network string) map[string]any {
		a := map[string]any{"tx_hash": hash, "to_address": to.Hex(), "user_id": "zoe"}
		if network != "" {
			a["network"] = network
		}
		return a
	}
	var created struct {
		AppealID string `json:"appeal_id"`
	}

	// (a) Filed before the transaction is broadcast: no node knows it yet.
	if code := call(t, "POST", api+"/v1/appeals", zoe, appeal("eth"), &created); code != 202 || created.AppealID == owner {
		t.Fatalf("(a) before broadcast: %d %s", code, created.AppealID)
	}
	early := created.AppealID
	if err := eth.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	waitMined(ctx, t, eth, tx.Hash())

	// (b) Filed while the node is down.
	proxy.setDown(true)
	if code := call(t, "POST", api+"/v1/appeals", zoe, appeal(""), &created); code != 202 || created.AppealID == owner || created.AppealID == early {
		t.Fatalf("(b) during an outage: %d %s", code, created.AppealID)
	}
	during := created.AppealID
	time.Sleep(2 * time.Second)
	proxy.setDown(false)

	// (c) With its network named, and (d) without: the deposit's own case.
	code := call(t, "POST", api+"/v1/appeals", zoe, appeal("eth"), &created)
	if (code != 202 && code != 200) || created.AppealID != owner {
		t.Fatalf("(c) network named: %d %s, want %s", code, created.AppealID, owner)
	}
	if code := call(t, "POST", api+"/v1/appeals", zoe, appeal(""), &created); code != 200 || created.AppealID != owner {
		t.Fatalf("(d) no network: %d %s, want the case %s joined", code, created.AppealID, owner)
	}
	// (e) 50 at once: each filing the user's limits let through joins the
	// one case; the rest are told to slow down, and start nothing.
	var wg sync.WaitGroup
	answers := make(chan string, 50)
	for range 50 {
		wg.Go(func() {
			var c struct {
				AppealID string `json:"appeal_id"`
			}
			switch code := call(t, "POST", api+"/v1/appeals", zoe, appeal("eth"), &c); code {
			case 200:
				answers <- c.AppealID
			case 429:
			default:
				answers <- fmt.Sprintf("status %d", code)
			}
		})
	}
	wg.Wait()
	close(answers)
	joined := 0
	for id := range answers {
		if id != owner {
			t.Fatalf("(e) one of 50 appeals at once answered %s, want the case %s", id, owner)
		}
		joined++
	}
	if joined == 0 {
		t.Fatal("(e) none of 50 appeals at once was let through")
	}

	// The provisional cases hand over to the deposit's case.
	for _, id := range []string{early, during} {
		st := waitFor(t, api, zoe, id, "joined the deposit's case", func(st appealStatus) bool { return st.Status == recovery.StatusJoined })
		if !st.Closed || st.JoinedCase != owner {
			t.Fatalf("provisional case %s: %+v", id, st)
		}
	}

	// The one case is recovered once and credited once.
	st := waitStatus(t, api, zoe, owner, recovery.StatusAwaitingAcceptance)
	if st.Category != recovery.CategoryWrongNetworkEVM {
		t.Fatalf("category %s", st.Category)
	}
	// The 50 filings spent zoe's request budget: as a client would, she
	// comes back after Retry-After.
	accept := map[string]any{"quote_id": st.Quote.ID, "accept": true}
	for code := call(t, "POST", api+"/v1/appeals/"+owner+"/quote", zoe, accept, nil); code != 200; code = call(t, "POST", api+"/v1/appeals/"+owner+"/quote", zoe, accept, nil) {
		if code != 429 {
			t.Fatalf("accept: %d", code)
		}
		time.Sleep(time.Second)
	}
	for _, s := range []struct{ token, team string }{{"wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", "wallet"}, {"seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy", "settlement"}} {
		if code := call(t, "POST", api+"/v1/cases/"+owner+"/signoff", s.token, map[string]any{"team": s.team, "approve": true}, nil); code != 200 {
			t.Fatalf("%s sign-off: %d", s.team, code)
		}
	}
	st = waitStatus(t, api, zoe, owner, recovery.StatusCredited)
	if st.Recovery == nil || len(st.Recovery.Transactions) != 1 || st.Credit == nil || st.Credit.TxHash != st.Recovery.Transactions[0].TxHash {
		t.Fatalf("recovery %+v credit %+v", st.Recovery, st.Credit)
	}
	// One transaction left the deposit address, carrying the deposit less
	// the gas it paid.
	if n, err := eth.NonceAt(ctx, to, nil); err != nil || n != 1 {
		t.Fatalf("transactions sent from the deposit address: %d, %v; want 1", n, err)
	}
	if bal, err := eth.BalanceAt(ctx, to, nil); err != nil || bal.Sign() != 0 {
		t.Fatalf("left on the deposit address: %s, %v; want nothing", bal, err)
	}
	// The hot wallet received the deposit less exactly the gas the recovery
	// transaction paid.
	rtx, _, err := eth.TransactionByHash(ctx, common.HexToHash(st.Credit.TxHash))
	if err != nil {
		t.Fatal(err)
	}
	gas := new(big.Int).Mul(rtx.GasPrice(), big.NewInt(21000))
	var ws struct {
		Wallets []struct{ Network, Address, Balance string }
	}
	if code := call(t, "GET", api+"/v1/wallets", "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &ws); code != 200 || len(ws.Wallets) != 1 ||
		ws.Wallets[0].Balance != new(big.Int).Sub(deposit, gas).String() || *rtx.To() != common.HexToAddress(ws.Wallets[0].Address) {
		t.Fatalf("hot wallet %+v after a recovery paying %s of gas", ws, gas)
	}
	var report struct {
		Total struct {
			Cases int `json:"cases"`
		} `json:"total"`
	}
	if code := call(t, "GET", api+"/v1/reports/fees?format=json", "fay-f7QmZ3tLx9WkR2vNc6BpJ8hDs4Gy", nil, &report); code != 200 || report.Total.Cases != 1 {
		t.Fatalf("credits in the ledger: %d %+v; want 1", code, report)
	}
}

// waitMined waits until the node has mined hash.
func waitMined(ctx context.Context, t *testing.T, eth *ethclient.Client, hash common.Hash) {
	t.Helper()
	for {
		if _, err := eth.TransactionReceipt(ctx, hash); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not mined: %v", hash, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
