package fees

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/devchain/evmnode"
)

var (
	ethNet = chains.Network{ID: "eth", Name: "Ethereum (dev)", Family: recovery.FamilyEVM, ChainID: 1337, Confirmations: 1, NativeAsset: "ETH", Decimals: 18, Tier: chains.Direct}
	btcNet = chains.Network{ID: "btc", Name: "Bitcoin (regtest)", Family: recovery.FamilyUTXO, Params: "btc-regtest", Confirmations: 2, NativeAsset: "BTC", Decimals: 8, Tier: chains.Direct}
)

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestEVMCostOnARealNode(t *testing.T) {
	n, err := evmnode.Start(evmnode.Config{ChainID: 1337})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	c, err := ethclient.Dial(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx := testCtx(t, 30*time.Second)

	// What the node says, read independently. No transaction is sent, so
	// no block is sealed and the numbers stay put.
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := c.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.BaseFee == nil || head.BaseFee.Sign() <= 0 {
		t.Fatalf("dev chain has no base fee: %v", head.BaseFee)
	}
	perGas := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)

	for _, tc := range []struct {
		name    string
		gas     uint64
		wantGas uint64
	}{
		{"native send", 0, NativeSendGas},
		{"token transfer", 65000, 65000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cost, err := NewEVMCost(c, ethNet, tc.gas).EstimateCost(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := new(big.Int).Mul(new(big.Int).SetUint64(tc.wantGas), perGas)
			if cost.Amount.Cmp(want) != 0 || cost.GasLimit != tc.wantGas || cost.Method != recovery.MethodEIP1559 {
				t.Errorf("cost %s wei, gas %d, method %s; want %s wei = %d × (2 × %s + %s)", cost.Amount, cost.GasLimit, cost.Method, want, tc.wantGas, head.BaseFee, tip)
			}
			if cost.BaseFee.Cmp(head.BaseFee) != 0 || cost.TipCap.Cmp(tip) != 0 || cost.MaxFeePerGas.Cmp(perGas) != 0 {
				t.Errorf("inputs %+v", cost)
			}
			if cost.Asset != "ETH" || cost.Decimals != 18 || cost.Network != "eth" {
				t.Errorf("asset %s/%d network %s", cost.Asset, cost.Decimals, cost.Network)
			}
		})
	}

	// The estimate feeds a quote for a native deposit, exactly.
	cost, err := NewEVMCost(c, ethNet, 0).EstimateCost(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q, err := NewQuote(QuoteInput{ID: "q", Network: "eth", Asset: "ETH", Decimals: 18, Amount: big.NewInt(1e18), Price: ethUSD,
		Schedule: Schedule{Percent: d("1"), NetworkCost: ChargeNetworkCost}, NetworkCost: &cost, Now: t0, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if q.Lines[1].Base.Cmp(cost.Amount) != 0 || q.NetworkCost.MaxFeePerGas.Cmp(perGas) != 0 {
		t.Errorf("quote network line %+v", q.Lines[1])
	}
}

type fakeEVM struct {
	head *types.Header
	tip  *big.Int
	gas  *big.Int
	err  error
}

func (f fakeEVM) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	return f.head, f.err
}
func (f fakeEVM) SuggestGasTipCap(context.Context) (*big.Int, error) { return f.tip, f.err }
func (f fakeEVM) SuggestGasPrice(context.Context) (*big.Int, error)  { return f.gas, f.err }

func TestEVMCostLegacyChainAndFailures(t *testing.T) {
	ctx := context.Background()
	cost, err := NewEVMCost(fakeEVM{head: &types.Header{}, gas: big.NewInt(5_000_000_000)}, ethNet, 0).EstimateCost(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cost.Method != recovery.MethodLegacy || cost.Amount.Cmp(big.NewInt(21000*5_000_000_000)) != 0 || cost.BaseFee != nil {
		t.Errorf("legacy cost %+v", cost)
	}
	_, err = NewEVMCost(fakeEVM{err: errors.New("connection refused")}, ethNet, 0).EstimateCost(ctx)
	if recovery.ErrorCode(err) != recovery.EUnavailable || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("node down: %v", err)
	}
}

type fakeFee struct {
	res *btcjson.EstimateSmartFeeResult
	err error
}

func (f fakeFee) EstimateSmartFee(context.Context, int64) (*btcjson.EstimateSmartFeeResult, error) {
	return f.res, f.err
}

// feeRate is the answer a node writes, decoded as rpcclient decodes it.
func feeRate(btcPerKvB string) *btcjson.EstimateSmartFeeResult {
	var res btcjson.EstimateSmartFeeResult
	if err := json.Unmarshal([]byte(`{"feerate":`+btcPerKvB+`,"blocks":6}`), &res); err != nil {
		panic(err)
	}
	return &res
}

func TestUTXOCostConversionAndFallback(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		rpc      fakeFee
		floor    string
		vbytes   int64
		sats     int64
		rate     string
		fallback bool
	}{
		// 0.00001234 BTC/kvB = 1.234 sat/vB × 141 vB = 173.994 → 174 sat.
		{"estimate", fakeFee{res: feeRate("0.00001234")}, "1", 0, 174, "1.234", false},
		{"whole feerate", fakeFee{res: feeRate("0.0002")}, "1", 0, 2820, "20", false},
		{"given size", fakeFee{res: feeRate("0.0001")}, "1", 250, 2500, "10", false},
		{"raised to the floor", fakeFee{res: feeRate("0.000005")}, "1", 0, 141, "1", false},
		{"node has no data", fakeFee{res: &btcjson.EstimateSmartFeeResult{Errors: []string{"Insufficient data or no feerate found"}}}, "2.5", 0, 353, "2.5", true},
		{"node lacks the call", fakeFee{err: &btcjson.RPCError{Code: btcjson.ErrRPCMethodNotFound.Code, Message: "Method not found"}}, "3", 0, 423, "3", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &UTXOCost{RPC: tc.rpc, Network: btcNet, VBytes: tc.vbytes, FloorFeeRate: d(tc.floor)}
			cost, err := u.EstimateCost(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cost.Amount.Int64() != tc.sats || !cost.FeeRate.Equal(d(tc.rate)) || cost.Fallback != tc.fallback || cost.Method != recovery.MethodFeeRate {
				t.Errorf("cost %s sat at %s sat/vB fallback=%v (%s); want %d at %s fallback=%v", cost.Amount, cost.FeeRate, cost.Fallback, cost.Note, tc.sats, tc.rate, tc.fallback)
			}
			if tc.fallback && !strings.Contains(cost.Note, "floor") {
				t.Errorf("fallback not explained: %q", cost.Note)
			}
		})
	}

	// No floor: a node without an estimate is an error, not a free ride.
	_, err := (&UTXOCost{RPC: fakeFee{res: &btcjson.EstimateSmartFeeResult{}}, Network: btcNet}).EstimateCost(ctx)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("no floor: %v", err)
	}
	// A node that cannot be reached is retried, never a fallback.
	_, err = (&UTXOCost{RPC: fakeFee{err: errors.New("dial tcp: connection refused")}, Network: btcNet, FloorFeeRate: d("1")}).EstimateCost(ctx)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("node down: %v", err)
	}
}

func TestUTXOCostOnRegtestFallsBack(t *testing.T) {
	ctx := testCtx(t, 5*time.Minute) // the first `go tool` build of btcd takes a while
	n, err := btcdnode.Start(ctx, btcdnode.Config{DataDir: t.TempDir()})
	if errors.Is(err, btcdnode.ErrNoBinary) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })

	rpc := NewFeeRPC(rpcclient.ConnConfig{Host: n.Host(), User: n.User(), Pass: n.Pass(), DisableTLS: true, Params: chaincfg.RegressionNetParams.Name})
	u := &UTXOCost{RPC: rpc, Network: btcNet, FloorFeeRate: d("2.5")}
	cost, err := u.EstimateCost(testCtx(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("regtest: %s", cost.Note)
	// btcd answers estimatesmartfee with "method not found"; a fresh
	// regtest chain has no fee data either way.
	if !cost.Fallback || !cost.FeeRate.Equal(d("2.5")) || cost.Amount.Int64() != 353 || cost.VBytes != P2WPKHSendVBytes {
		t.Errorf("cost %+v", cost)
	}
	if cost.Asset != "BTC" || cost.Decimals != 8 || !strings.Contains(cost.Note, "estimatesmartfee") {
		t.Errorf("cost %+v", cost)
	}

	// Wrong credentials are not "no estimate": the node never answered the
	// question.
	bad := NewFeeRPC(rpcclient.ConnConfig{Host: n.Host(), User: "nobody", Pass: "wrong", DisableTLS: true})
	_, err = (&UTXOCost{RPC: bad, Network: btcNet, FloorFeeRate: d("1")}).EstimateCost(testCtx(t, 30*time.Second))
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("bad credentials: %v", err)
	}
}

func TestFeeRPCGivesUpWithTheContext(t *testing.T) {
	// Nothing listens on port 1; rpcclient would retry for ~20 s.
	rpc := NewFeeRPC(rpcclient.ConnConfig{Host: "127.0.0.1:1", User: "u", Pass: "p", DisableTLS: true})
	start := time.Now()
	_, err := (&UTXOCost{RPC: rpc, Network: btcNet, FloorFeeRate: d("1")}).EstimateCost(testCtx(t, 500*time.Millisecond))
	if recovery.ErrorCode(err) != recovery.EUnavailable || time.Since(start) > 5*time.Second {
		t.Errorf("after %s: %v", time.Since(start), err)
	}
}
