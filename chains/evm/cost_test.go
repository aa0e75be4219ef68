package evm_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/internal/nodetest"
)

var _ chains.CostEstimator = (*evm.Client)(nil)

func TestEstimateCostOnARealNode(t *testing.T) {
	// A chain of the test's own: no transaction is sent to it, so no block
	// is sealed and the numbers stay put.
	n, ec := nodetest.EVM(t, evmnode.Config{ChainID: devNetwork.ChainID})
	c := dial(t, n.URL())
	ctx := nodetest.Context(t)

	// What the node says, read independently.
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := ec.SuggestGasTipCap(ctx)
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
		{"native send", 0, evm.NativeSendGas},
		{"token transfer", 65000, 65000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cost, err := c.EstimateCost(ctx, tc.gas)
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
	cost, err := c.EstimateCost(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ethUSD := fees.Price{Value: decimal.NewFromInt(3000), Source: "test", At: t0}
	q, err := fees.NewQuote(fees.QuoteInput{ID: "q", Network: "eth", Asset: "ETH", Decimals: 18, Amount: big.NewInt(1e18), Price: ethUSD,
		Schedule: fees.Schedule{Percent: decimal.NewFromInt(1), NetworkCost: fees.ChargeNetworkCost}, NetworkCost: &cost, Now: t0, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if q.Lines[1].Base.Cmp(cost.Amount) != 0 || q.NetworkCost.MaxFeePerGas.Cmp(perGas) != 0 {
		t.Errorf("quote network line %+v", q.Lines[1])
	}
}

func TestEstimateCostNodeDown(t *testing.T) {
	n, _ := nodetest.EVM(t, evmnode.Config{ChainID: devNetwork.ChainID})
	c := dial(t, n.URL())
	n.Close()
	_, err := c.EstimateCost(nodetest.Context(t), 0)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("node down: %v", err)
	}
}
