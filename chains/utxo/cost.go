package utxo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

var _ chains.CostEstimator = (*Client)(nil)

// P2WPKHSendVBytes is the virtual size of a one-input, two-output P2WPKH
// transaction (recovery output plus change): 10.5 vB of overhead, 68 vB for
// the input with its witness, 31 vB per output, rounded up.
const P2WPKHSendVBytes = 141

// confTarget is the confirmation target asked of estimatesmartfee.
const confTarget = 6

// satPerVBytePerBTCPerKvB converts BTC per 1000 vB to satoshi per vB:
// 10^8 satoshi / 10^3 vB.
const satPerVBytePerBTCPerKvB = 5

// floorFeeRates are the feerates (sat/vB) a network cost falls back to when
// the node has no estimate (regtest, young chains, btcd), by the chain of
// the address parameters: each chain's minimum relay feerate, or its
// conventional fee for a one-input, two-output transaction (Dogecoin's
// 0.01 DOGE/kB; Zcash's ZIP-317 10,000 zatoshis over ~220 bytes).
var floorFeeRates = map[string]decimal.Decimal{
	"btc": decimal.NewFromInt(1), "bch": decimal.NewFromInt(1), "ltc": decimal.NewFromInt(1),
	"dash": decimal.NewFromInt(1), "doge": decimal.NewFromInt(1000), "zec": decimal.NewFromInt(50),
}

// floorFeeRate is the floor of the address parameters named params
// ("btc-regtest" is btc's), 1 sat/vB for a chain not in the table.
func floorFeeRate(params string) decimal.Decimal {
	chain, _, _ := strings.Cut(params, "-")
	if r, ok := floorFeeRates[chain]; ok {
		return r
	}
	return decimal.NewFromInt(1)
}

// WithFloorFeeRate sets the feerate, in satoshi per virtual byte, that
// EstimateCost falls back to when the node has no estimate, instead of the
// chain's own (its minimum relay feerate or conventional fee). Zero means no
// fallback: a node without an estimate is an error.
func WithFloorFeeRate(satPerVByte decimal.Decimal) Option {
	return func(c *Client) { c.floorFeeRate = satPerVByte }
}

// EstimateCost implements chains.CostEstimator: a recovery transaction of
// P2WPKHSendVBytes at the feerate estimatesmartfee gives; gasLimit is for
// EVM networks and ignored.
//
// When the node cannot estimate (regtest and young chains lack the data;
// btcd does not implement the call), the estimate falls back to the floor
// feerate and says so (Fallback, Note). A node that cannot be reached is an
// error, never a silent fallback. An estimate below the floor is raised to
// it.
func (c *Client) EstimateCost(ctx context.Context, _ uint64) (recovery.NetworkCost, error) {
	return c.estimateCost(ctx, P2WPKHSendVBytes)
}

// estimateCost prices a transaction of vbytes virtual bytes.
func (c *Client) estimateCost(ctx context.Context, vbytes int64) (recovery.NetworkCost, error) {
	floor := c.floorFeeRate
	if vbytes < 0 || floor.IsNegative() {
		return recovery.NetworkCost{}, recovery.Errorf(recovery.EInvalid, "%s cost estimate: vbytes and floor feerate must not be negative", c.network.ID)
	}
	cost := recovery.NetworkCost{Network: c.network.ID, Asset: c.network.NativeAsset, Decimals: c.network.Decimals, Method: recovery.MethodFeeRate, VBytes: vbytes}

	rate, reason, err := c.smartFeeRate(ctx)
	switch {
	case err != nil:
		return recovery.NetworkCost{}, err
	case reason != "":
		if !floor.IsPositive() {
			return recovery.NetworkCost{}, recovery.Errorf(recovery.EUnavailable, "the %s node gave no fee estimate and no floor feerate is configured (%s)", c.network.ID, reason)
		}
		cost.FeeRate = floor
		cost.Fallback = true
		cost.Note = reason + "; using the configured floor feerate of " + floor.String() + " sat/vB"
	case rate.LessThan(floor):
		cost.FeeRate = floor
		cost.Note = "estimate " + rate.String() + " sat/vB raised to the configured floor"
	default:
		cost.FeeRate = rate
	}
	// Whole satoshis, rounded up: a transaction paying a fraction of a
	// satoshi less than feerate × size could fall under the feerate.
	cost.Amount = cost.FeeRate.Mul(decimal.NewFromInt(vbytes)).Ceil().BigInt()
	return cost, nil
}

// smartFeeRate asks the node for its feerate estimate, in satoshi per vB.
// A node that answers without an estimate gives the reason instead; a node
// that does not answer is an EUnavailable error.
func (c *Client) smartFeeRate(ctx context.Context) (rate decimal.Decimal, reason string, err error) {
	res, err := c.rpc.EstimateSmartFee(ctx, confTarget)
	var rpcErr *btcjson.RPCError
	switch {
	case errors.As(err, &rpcErr):
		// The node answered, but has no estimate to give.
		return decimal.Zero, fmt.Sprintf("estimatesmartfee failed: %s", rpcErr.Message), nil
	case err != nil:
		return decimal.Zero, "", c.noEstimate("estimatesmartfee", err)
	case res == nil || res.FeeRate == nil || len(res.Errors) > 0:
		reason = "estimatesmartfee has no estimate"
		if res != nil && len(res.Errors) > 0 {
			reason += ": " + res.Errors[0]
		}
		return decimal.Zero, reason, nil
	case *res.FeeRate <= 0:
		return decimal.Zero, "estimatesmartfee gave a feerate that is not positive", nil
	}
	// The RPC answers BTC per kvB as a JSON number, which btcjson decodes
	// to a binary floating-point value. It is turned into a decimal here,
	// once: NewFromFloat takes the shortest decimal that reads back as the
	// same value, i.e. the digits the node wrote (0.00001234 stays
	// 0.00001234).
	return decimal.NewFromFloat(*res.FeeRate).Shift(satPerVBytePerBTCPerKvB), "", nil
}

// noEstimate is the EUnavailable error of a failed fee read: a message fit
// for a user, and the cause (without the endpoint URL, which may hold a
// provider's API key) for the logs.
func (c *Client) noEstimate(call string, cause error) error {
	var ue *url.Error
	if errors.As(cause, &ue) {
		cause = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return fmt.Errorf("%w: %s: %w",
		recovery.Errorf(recovery.EUnavailable, "the %s node did not give a fee estimate; try again later", c.network.ID),
		call, cause)
}
