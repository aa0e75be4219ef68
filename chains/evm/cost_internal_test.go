package evm

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

var ethNet = chains.Network{ID: "eth", Name: "Ethereum (dev)", Family: recovery.FamilyEVM, ChainID: 1337, Confirmations: 1, NativeAsset: "ETH", Decimals: 18, Tier: chains.Direct}

type fakeFees struct {
	head *types.Header
	tip  *big.Int
	gas  *big.Int
	err  error
}

func (f fakeFees) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	return f.head, f.err
}
func (f fakeFees) SuggestGasTipCap(context.Context) (*big.Int, error) { return f.tip, f.err }
func (f fakeFees) SuggestGasPrice(context.Context) (*big.Int, error)  { return f.gas, f.err }

func TestEstimateCostLegacyChainAndFailures(t *testing.T) {
	ctx := context.Background()
	cost, err := estimateCost(ctx, fakeFees{head: &types.Header{}, gas: big.NewInt(5_000_000_000)}, ethNet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cost.Method != recovery.MethodLegacy || cost.Amount.Cmp(big.NewInt(21000*5_000_000_000)) != 0 || cost.BaseFee != nil {
		t.Errorf("legacy cost %+v", cost)
	}
	_, err = estimateCost(ctx, fakeFees{err: errors.New("connection refused")}, ethNet, 0)
	if recovery.ErrorCode(err) != recovery.EUnavailable || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("node down: %v", err)
	}
}
