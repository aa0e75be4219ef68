package utxo

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

// These tests check the maths of a cost estimate against scripted node
// answers; cost_test.go asks a real node.

var btcNet = chains.Network{ID: "btc", Name: "Bitcoin (regtest)", Family: recovery.FamilyUTXO, Params: "btc-regtest", Confirmations: 2, NativeAsset: "BTC", Decimals: 8, Tier: chains.Direct}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// fakeFee answers estimatesmartfee; the adapter's other calls are not made.
type fakeFee struct {
	RPC
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

func TestEstimateCostConversionAndFallback(t *testing.T) {
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
			vbytes := tc.vbytes
			if vbytes == 0 {
				vbytes = P2WPKHSendVBytes
			}
			cost, err := New(tc.rpc, btcNet, WithFloorFeeRate(d(tc.floor))).estimateCost(ctx, vbytes)
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
	_, err := New(fakeFee{res: &btcjson.EstimateSmartFeeResult{}}, btcNet, WithFloorFeeRate(decimal.Zero)).EstimateCost(ctx, 0)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("no floor: %v", err)
	}
	// A node that cannot be reached is retried, never a fallback.
	_, err = New(fakeFee{err: errors.New("dial tcp: connection refused")}, btcNet, WithFloorFeeRate(d("1"))).EstimateCost(ctx, 0)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("node down: %v", err)
	}
}

func TestFloorFeeRateByChain(t *testing.T) {
	for params, want := range map[string]string{
		"btc": "1", "btc-regtest": "1", "ltc-testnet": "1", "bch": "1", "dash-regtest": "1",
		"doge": "1000", "doge-regtest": "1000", "zec": "50", "zec-testnet": "50",
		"unknown": "1",
	} {
		if got := floorFeeRate(params); !got.Equal(d(want)) {
			t.Errorf("floor of %s: %s sat/vB, want %s", params, got, want)
		}
	}
	// The chain's floor is what a client falls back to unless told otherwise.
	doge := btcNet
	doge.Params = "doge-regtest"
	cost, err := New(fakeFee{res: &btcjson.EstimateSmartFeeResult{}}, doge).EstimateCost(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !cost.Fallback || !cost.FeeRate.Equal(d("1000")) || cost.Amount.Int64() != 1000*P2WPKHSendVBytes {
		t.Errorf("doge cost %+v", cost)
	}
}
