package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

var _ chains.CostEstimator = (*Client)(nil)

// NativeSendGas is the gas of a plain native-asset transfer, to an account
// without code.
const NativeSendGas = 21_000

// feeReader is the part of ethclient.Client a cost estimate reads.
type feeReader interface {
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	SuggestGasPrice(ctx context.Context) (*big.Int, error)
}

var _ feeReader = (*ethclient.Client)(nil)

// EstimateCost implements chains.CostEstimator: a recovery transaction of
// gasLimit gas (0: NativeSendGas; a token transfer passes its own) at its
// EIP-1559 maximum, gas limit × (latest base fee × 2 + suggested tip).
// Doubling the base fee keeps the transaction includable through six full
// blocks of base-fee rises, as wallets do; what is actually paid is at most
// this, so a quote charging it never leaves the exchange short. A chain
// without a base fee (pre-London) is priced at gas limit × eth_gasPrice.
func (c *Client) EstimateCost(ctx context.Context, gasLimit uint64) (recovery.NetworkCost, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	return estimateCost(ctx, ethclient.NewClient(c.rc), c.network, gasLimit)
}

func estimateCost(ctx context.Context, r feeReader, network chains.Network, gasLimit uint64) (recovery.NetworkCost, error) {
	gas := gasLimit
	if gas == 0 {
		gas = NativeSendGas
	}
	cost := recovery.NetworkCost{Network: network.ID, Asset: network.NativeAsset, Decimals: network.Decimals, GasLimit: gas}
	head, err := r.HeaderByNumber(ctx, nil)
	if err != nil {
		return recovery.NetworkCost{}, noEstimate(network, "latest block header", err)
	}
	if head == nil {
		return recovery.NetworkCost{}, noEstimate(network, "latest block header", errors.New("no header"))
	}
	var perGas *big.Int
	if head.BaseFee == nil {
		price, err := r.SuggestGasPrice(ctx)
		if err != nil {
			return recovery.NetworkCost{}, noEstimate(network, "eth_gasPrice", err)
		}
		cost.Method = recovery.MethodLegacy
		perGas = price
	} else {
		tip, err := r.SuggestGasTipCap(ctx)
		if err != nil {
			return recovery.NetworkCost{}, noEstimate(network, "eth_maxPriorityFeePerGas", err)
		}
		cost.Method = recovery.MethodEIP1559
		cost.BaseFee = new(big.Int).Set(head.BaseFee)
		cost.TipCap = new(big.Int).Set(tip)
		perGas = new(big.Int).Add(new(big.Int).Lsh(head.BaseFee, 1), tip)
	}
	if perGas.Sign() < 0 {
		return recovery.NetworkCost{}, noEstimate(network, "fee", fmt.Errorf("negative fee per gas %s", perGas))
	}
	cost.MaxFeePerGas = perGas
	cost.Amount = new(big.Int).Mul(new(big.Int).SetUint64(gas), perGas)
	return cost, nil
}

// noEstimate is the EUnavailable error of a failed fee read, with a cause
// stripped as unavailable strips it.
func noEstimate(network chains.Network, call string, cause error) error {
	return fmt.Errorf("%w: %s: %w",
		recovery.Errorf(recovery.EUnavailable, "the %s node did not give a fee estimate; try again later", network.ID),
		call, safeCause(cause))
}
