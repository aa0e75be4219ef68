package main

import (
	"context"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/activities"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/harness"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/workflows"
)

// quoteWorld is the quote activity over the harness chains' real nodes.
func quoteWorld(t *testing.T, h *harness.Harness, reg *chains.Registry, px fees.Prices) *activities.Activities {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	lookups, quoting, err := buildLookups(ctx, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	return &activities.Activities{Registry: reg, Scanner: chains.NewScanner(reg, lookups), Nodes: quoting, Prices: px}
}

func schedule(mode fees.NetworkCostMode) fees.Schedule {
	return fees.Schedule{Flat: decimal.NewFromInt(10), Percent: decimal.NewFromInt(1), NetworkCost: mode, MaxShare: decimal.RequireFromString("0.5")}
}

func quoteReq(network, category string, d recovery.Transfer, mode fees.NetworkCostMode) workflows.QuoteRequest {
	return workflows.QuoteRequest{
		ID: "case.q1", Network: network, Category: category, Deposit: &d, Schedule: schedule(mode),
		Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), TTL: time.Hour,
	}
}

func errorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func TestQuoteFromTheNodes(t *testing.T) {
	h := harness.Start(t)
	f := h.Fixtures()
	token := f.UnlistedToken
	px := fees.StaticPrices(map[string]fees.Price{
		"ETH": {Value: decimal.NewFromInt(3000), Source: "test"}, "BTC": {Value: decimal.NewFromInt(90000), Source: "test"},
		"eth/" + token.Token: {Value: decimal.RequireFromString("0.02"), Source: "test"},
	})
	a := quoteWorld(t, h, h.Registry(), px)
	ctx := context.Background()
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

	t.Run("native deposit on an EVM chain: EIP-1559 cost from the node", func(t *testing.T) {
		q, err := a.QuoteFee(ctx, quoteReq("eth", recovery.CategoryRetiredAddress, recovery.Transfer{Kind: recovery.KindNative, To: f.Native.To, Amount: eth}, fees.ChargeNetworkCost))
		if err != nil {
			t.Fatal(err)
		}
		c := q.NetworkCost
		if q.Asset != "ETH" || c == nil || c.Method != recovery.MethodEIP1559 || c.GasLimit != evm.NativeSendGas || c.Amount.Sign() <= 0 || c.BaseFee == nil {
			t.Fatalf("quote %+v, cost %+v", q, c)
		}
		if q.Lines[1].Base.Cmp(c.Amount) != 0 || !q.Lines[1].Charged {
			t.Errorf("network cost line %+v, want the node's estimate %s charged", q.Lines[1], c.Amount)
		}
		if !q.ExpiresAt.Equal(q.CreatedAt.Add(time.Hour)) || q.ID != "case.q1" {
			t.Errorf("id %s, expiry %s", q.ID, q.ExpiresAt)
		}
	})
	t.Run("unlisted token: the contract's decimals, the cost in ETH", func(t *testing.T) {
		q, err := a.QuoteFee(ctx, quoteReq("eth", recovery.CategoryUnlistedToken, recovery.Transfer{Kind: recovery.KindToken, Token: token.Token, To: token.To, Amount: token.Amount}, fees.ChargeNetworkCost))
		if err != nil {
			t.Fatal(err)
		}
		// 1,000 tokens of 18 decimals at 0.02 USD.
		if q.Decimals != 18 || !q.DepositUSD.Equal(decimal.NewFromInt(20)) || q.NativePrice == nil || q.NetworkCost.GasLimit != 65000 {
			t.Fatalf("token quote: decimals %d, value %s, native price %v, gas %d", q.Decimals, q.DepositUSD, q.NativePrice, q.NetworkCost.GasLimit)
		}
	})
	t.Run("UTXO deposit: the feerate floor when the node has no estimate", func(t *testing.T) {
		q, err := a.QuoteFee(ctx, quoteReq("btc", recovery.CategoryRetiredAddress, recovery.Transfer{Kind: recovery.KindOutput, To: "x", Amount: big.NewInt(50_000_000)}, fees.ChargeNetworkCost))
		if err != nil {
			t.Fatal(err)
		}
		if c := q.NetworkCost; c.Method != recovery.MethodFeeRate || !c.Fallback || c.Amount.Cmp(big.NewInt(utxo.P2WPKHSendVBytes)) != 0 {
			t.Fatalf("btc cost %+v", c)
		}
	})
	t.Run("missing memo: credited internally, no transaction to pay for", func(t *testing.T) {
		q, err := a.QuoteFee(ctx, quoteReq("eth", recovery.CategoryMissingOrWrongMemo, recovery.Transfer{Kind: recovery.KindNative, To: f.Native.To, Amount: eth}, fees.AbsorbNetworkCost))
		if err != nil {
			t.Fatal(err)
		}
		if q.NetworkCost != nil || len(q.Lines) != 1 {
			t.Fatalf("memo quote has a network cost: %+v", q.Lines)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		native := recovery.Transfer{Kind: recovery.KindNative, To: f.Native.To, Amount: eth}
		if _, err := a.QuoteFee(ctx, quoteReq("bsc", recovery.CategoryRetiredAddress, native, fees.ChargeNetworkCost)); errorType(err) != workflows.ErrUnpriced {
			t.Errorf("BNB has no price here: %v", err)
		}
		if _, err := a.QuoteFee(ctx, quoteReq("nowhere", recovery.CategoryRetiredAddress, native, fees.ChargeNetworkCost)); errorType(err) != recovery.InvalidInput {
			t.Errorf("unknown network: %v", err)
		}
		if _, err := a.QuoteFee(ctx, quoteReq("eth", recovery.CategoryRetiredAddress, recovery.Transfer{Kind: recovery.KindNative}, fees.ChargeNetworkCost)); errorType(err) != recovery.InvalidInput {
			t.Errorf("no amount: %v", err)
		}
	})
	t.Run("the first node is down: the next one answers", func(t *testing.T) {
		var nets []chains.Network
		for _, n := range h.Registry().Networks() {
			if n.ID == "eth" {
				n.RPC = append([]string{"http://127.0.0.1:" + freePort(t)}, n.RPC...)
			}
			nets = append(nets, n)
		}
		reg, err := chains.NewRegistry(nets)
		if err != nil {
			t.Fatal(err)
		}
		b := quoteWorld(t, h, reg, px)
		if _, err := b.QuoteFee(ctx, quoteReq("eth", recovery.CategoryRetiredAddress, recovery.Transfer{Kind: recovery.KindNative, To: f.Native.To, Amount: eth}, fees.ChargeNetworkCost)); err != nil {
			t.Fatalf("failover: %v", err)
		}
	})
}
