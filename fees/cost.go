package fees

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

// CostEstimator estimates what the recovery transaction will cost on one
// network. Node failures give an error with code recovery.EUnavailable, so
// the activity calling it retries.
type CostEstimator interface {
	EstimateCost(ctx context.Context) (recovery.NetworkCost, error)
}

// NativeSendGas is the gas of a plain native-asset transfer.
const NativeSendGas = 21000

// EVMFeeReader is the part of ethclient.Client EVMCost reads.
type EVMFeeReader interface {
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	SuggestGasPrice(ctx context.Context) (*big.Int, error)
}

var _ EVMFeeReader = (*ethclient.Client)(nil)

// EVMCost estimates an EVM recovery transaction at its EIP-1559 maximum:
// gas limit × (latest base fee × 2 + suggested tip). Doubling the base fee
// keeps the transaction includable through six full blocks of base-fee
// rises, as wallets do; what is actually paid is at most this, so a quote
// charging it never leaves the exchange short. A chain without a base fee
// (pre-London) is priced at gas limit × eth_gasPrice.
type EVMCost struct {
	Client   EVMFeeReader
	Network  chains.Network
	GasLimit uint64 // 0: NativeSendGas; a token transfer passes its own (e.g. from eth_estimateGas)
}

var _ CostEstimator = (*EVMCost)(nil)

// NewEVMCost returns an estimator for network read through c.
func NewEVMCost(c EVMFeeReader, network chains.Network, gasLimit uint64) *EVMCost {
	return &EVMCost{Client: c, Network: network, GasLimit: gasLimit}
}

// EstimateCost implements CostEstimator.
func (e *EVMCost) EstimateCost(ctx context.Context) (recovery.NetworkCost, error) {
	gas := e.GasLimit
	if gas == 0 {
		gas = NativeSendGas
	}
	cost := recovery.NetworkCost{Network: e.Network.ID, Asset: e.Network.NativeAsset, Decimals: e.Network.Decimals, GasLimit: gas}
	head, err := e.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return recovery.NetworkCost{}, unavailable(e.Network.ID, "latest block header", err)
	}
	if head == nil {
		return recovery.NetworkCost{}, unavailable(e.Network.ID, "latest block header", errors.New("no header"))
	}
	var perGas *big.Int
	if head.BaseFee == nil {
		price, err := e.Client.SuggestGasPrice(ctx)
		if err != nil {
			return recovery.NetworkCost{}, unavailable(e.Network.ID, "eth_gasPrice", err)
		}
		cost.Method = recovery.MethodLegacy
		perGas = price
	} else {
		tip, err := e.Client.SuggestGasTipCap(ctx)
		if err != nil {
			return recovery.NetworkCost{}, unavailable(e.Network.ID, "eth_maxPriorityFeePerGas", err)
		}
		cost.Method = recovery.MethodEIP1559
		cost.BaseFee = new(big.Int).Set(head.BaseFee)
		cost.TipCap = new(big.Int).Set(tip)
		perGas = new(big.Int).Add(new(big.Int).Lsh(head.BaseFee, 1), tip)
	}
	if perGas.Sign() < 0 {
		return recovery.NetworkCost{}, unavailable(e.Network.ID, "fee", fmt.Errorf("negative fee per gas %s", perGas))
	}
	cost.MaxFeePerGas = perGas
	cost.Amount = new(big.Int).Mul(new(big.Int).SetUint64(gas), perGas)
	return cost, nil
}

// P2WPKHSendVBytes is the virtual size of a one-input, two-output P2WPKH
// transaction (recovery output plus change): 10.5 vB of overhead, 68 vB for
// the input with its witness, 31 vB per output, rounded up.
const P2WPKHSendVBytes = 141

// DefaultConfTarget is the confirmation target asked of estimatesmartfee.
const DefaultConfTarget = 6

// SmartFeeEstimator is estimatesmartfee with a context; NewFeeRPC adapts a
// node's RPC to it.
type SmartFeeEstimator interface {
	EstimateSmartFee(ctx context.Context, confTarget int64) (*btcjson.EstimateSmartFeeResult, error)
}

// UTXOCost estimates a UTXO recovery transaction as feerate × virtual size.
//
// The feerate comes from estimatesmartfee. When the node cannot estimate
// (regtest and young chains lack the data; btcd does not implement the
// call), the estimate falls back to FloorFeeRate and says so (Fallback).
// A node that cannot be reached is an error, never a silent fallback. An
// estimate below the floor is raised to it.
type UTXOCost struct {
	RPC        SmartFeeEstimator
	Network    chains.Network
	ConfTarget int64 // 0: DefaultConfTarget
	VBytes     int64 // 0: P2WPKHSendVBytes
	// FloorFeeRate is in satoshi per virtual byte (e.g. "1" for bitcoin's
	// minimum relay fee). Zero: no fallback; a node without an estimate is
	// an error.
	FloorFeeRate decimal.Decimal
}

var _ CostEstimator = (*UTXOCost)(nil)

// satPerVBytePerBTCPerKvB converts BTC per 1000 vB to satoshi per vB:
// 10^8 satoshi / 10^3 vB.
const satPerVBytePerBTCPerKvB = 5

// EstimateCost implements CostEstimator.
func (u *UTXOCost) EstimateCost(ctx context.Context) (recovery.NetworkCost, error) {
	target := u.ConfTarget
	if target == 0 {
		target = DefaultConfTarget
	}
	vbytes := u.VBytes
	if vbytes == 0 {
		vbytes = P2WPKHSendVBytes
	}
	if vbytes < 0 || u.FloorFeeRate.IsNegative() {
		return recovery.NetworkCost{}, recovery.Errorf(recovery.EInvalid, "%s cost estimator: vbytes and floor feerate must not be negative", u.Network.ID)
	}
	cost := recovery.NetworkCost{Network: u.Network.ID, Asset: u.Network.NativeAsset, Decimals: u.Network.Decimals, Method: recovery.MethodFeeRate, VBytes: vbytes}

	res, err := u.RPC.EstimateSmartFee(ctx, target)
	var reason string
	var rpcErr *btcjson.RPCError
	switch {
	case errors.As(err, &rpcErr):
		// The node answered, but has no estimate to give.
		reason = fmt.Sprintf("estimatesmartfee failed: %s", rpcErr.Message)
	case err != nil:
		return recovery.NetworkCost{}, unavailable(u.Network.ID, "estimatesmartfee", err)
	case res == nil || res.FeeRate == nil || len(res.Errors) > 0:
		reason = "estimatesmartfee has no estimate"
		if res != nil && len(res.Errors) > 0 {
			reason += ": " + res.Errors[0]
		}
	case *res.FeeRate <= 0:
		reason = "estimatesmartfee gave a feerate that is not positive"
	default:
		// The RPC answers BTC per kvB as a JSON number, which btcjson
		// decodes to a binary floating-point value. It is turned into a
		// decimal here, once: NewFromFloat takes the shortest decimal
		// that reads back as the same value, i.e. the digits the node
		// wrote (0.00001234 stays 0.00001234).
		cost.FeeRate = decimal.NewFromFloat(*res.FeeRate).Shift(satPerVBytePerBTCPerKvB)
	}
	if reason != "" {
		if !u.FloorFeeRate.IsPositive() {
			return recovery.NetworkCost{}, recovery.Errorf(recovery.EUnavailable, "the %s node gave no fee estimate and no floor feerate is configured (%s)", u.Network.ID, reason)
		}
		cost.FeeRate = u.FloorFeeRate
		cost.Fallback = true
		cost.Note = reason + "; using the configured floor feerate of " + u.FloorFeeRate.String() + " sat/vB"
	} else if cost.FeeRate.LessThan(u.FloorFeeRate) {
		cost.Note = "estimate " + cost.FeeRate.String() + " sat/vB raised to the configured floor"
		cost.FeeRate = u.FloorFeeRate
	}
	// Whole satoshis, rounded up: a transaction paying a fraction of a
	// satoshi less than feerate × size could fall under the feerate.
	cost.Amount = cost.FeeRate.Mul(decimal.NewFromInt(vbytes)).Ceil().BigInt()
	return cost, nil
}

// NewFeeRPC returns a SmartFeeEstimator talking to the node cfg describes.
// Each call runs on its own short-lived rpcclient (HTTP POST mode), so that
// ctx can abandon it: rpcclient itself takes no context.
func NewFeeRPC(cfg rpcclient.ConnConfig) SmartFeeEstimator {
	cfg.HTTPPostMode = true
	return &feeRPC{cfg: cfg}
}

type feeRPC struct{ cfg rpcclient.ConnConfig }

func (r *feeRPC) EstimateSmartFee(ctx context.Context, confTarget int64) (*btcjson.EstimateSmartFeeResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg := r.cfg
	c, err := rpcclient.New(&cfg, nil)
	if err != nil {
		return nil, err
	}
	// Shutdown aborts the request in flight when ctx ends first.
	defer c.Shutdown()
	type result struct {
		v   *btcjson.EstimateSmartFeeResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		mode := btcjson.EstimateModeConservative
		v, err := c.EstimateSmartFee(confTarget, &mode)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// unavailable is the EUnavailable error of a failed node call: a message
// fit for a user, and the cause (without the endpoint URL, which often
// holds a provider's API key) for the logs.
func unavailable(network, call string, cause error) error {
	var ue *url.Error
	if errors.As(cause, &ue) {
		cause = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return fmt.Errorf("%w: %s: %w",
		recovery.Errorf(recovery.EUnavailable, "the %s node did not give a fee estimate; try again later", network),
		call, cause)
}
