package utxo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/rpcclient"
	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/internal/nodetest"
)

var _ chains.CostEstimator = (*utxo.Client)(nil)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestEstimateCostOnRegtestFallsBack(t *testing.T) {
	regtest.Need(t)
	c := dial(t, btcNet, btcNode, utxo.WithFloorFeeRate(d("2.5")))
	cost, err := c.EstimateCost(nodetest.Context(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("regtest: %s", cost.Note)
	// btcd answers estimatesmartfee with "method not found"; a regtest
	// chain has no fee data either way.
	if !cost.Fallback || !cost.FeeRate.Equal(d("2.5")) || cost.Amount.Int64() != 353 || cost.VBytes != utxo.P2WPKHSendVBytes {
		t.Errorf("cost %+v", cost)
	}
	if cost.Asset != "BTC" || cost.Decimals != 8 || !strings.Contains(cost.Note, "estimatesmartfee") {
		t.Errorf("cost %+v", cost)
	}

	// Without a floor of its own, the client falls back to the chain's.
	cost, err = dial(t, btcNet, btcNode).EstimateCost(nodetest.Context(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !cost.Fallback || !cost.FeeRate.Equal(d("1")) || cost.Amount.Int64() != utxo.P2WPKHSendVBytes {
		t.Errorf("cost at btc's floor %+v", cost)
	}

	// Wrong credentials are not "no estimate": the node never answered the
	// question.
	bad := utxo.New(utxo.NewRPC(rpcclient.ConnConfig{Host: btcNode.Host(), User: "nobody", Pass: "wrong", DisableTLS: true}), btcNet, utxo.WithFloorFeeRate(d("1")))
	_, err = bad.EstimateCost(nodetest.Context(t), 0)
	if recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("bad credentials: %v", err)
	}
}

func TestEstimateCostGivesUpWithTheContext(t *testing.T) {
	// Nothing listens on port 1; rpcclient would retry for ~20 s.
	rpc := utxo.NewRPC(rpcclient.ConnConfig{Host: "127.0.0.1:1", User: "u", Pass: "p", DisableTLS: true})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := utxo.New(rpc, btcNet, utxo.WithFloorFeeRate(d("1"))).EstimateCost(ctx, 0)
	if recovery.ErrorCode(err) != recovery.EUnavailable || time.Since(start) > 5*time.Second {
		t.Errorf("after %s: %v", time.Since(start), err)
	}
}
