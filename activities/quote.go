package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/workflows"
)

// Nodes is what the quote asks of a network's nodes: the cost of the
// recovery transaction and, for a token the exchange does not list, its
// decimals. Node failures have code recovery.EUnavailable so the activity
// is retried.
type Nodes interface {
	// NetworkCost estimates a recovery transaction on network; gasLimit is
	// for EVM networks (0: a native transfer).
	NetworkCost(ctx context.Context, network string, gasLimit uint64) (recovery.NetworkCost, error)
	// TokenDecimals reads decimals() of a token contract on an EVM network.
	TokenDecimals(ctx context.Context, network, contract string) (int32, error)
}

// QuoteFee prices a recoverable deposit under the decision's fee schedule:
// the deposit and the native asset in USD, the real cost of the recovery
// transaction from the network's nodes, and the itemised quote with its
// expiry. It only reads, so a retry is harmless. A deposit without a price
// is refused (ErrUnpriced): a specialist prices it by hand.
func (a *Activities) QuoteFee(ctx context.Context, req workflows.QuoteRequest) (*fees.Quote, error) {
	n, ok := a.Registry.Get(req.Network)
	if !ok {
		return nil, invalidInput("quote: unknown network " + req.Network)
	}
	d := req.Deposit
	if d == nil || d.Amount == nil || d.Amount.Sign() <= 0 {
		return nil, invalidInput("quote: no deposit amount")
	}
	asset, listed, _ := n.Asset(*d)
	decimals, err := a.decimals(ctx, n, *d)
	if err != nil {
		return nil, err
	}
	price, err := a.price(ctx, n.ID, asset)
	if err != nil {
		return nil, err
	}
	in := fees.QuoteInput{
		ID: req.ID, Network: n.ID, Asset: asset, Decimals: decimals, Amount: d.Amount,
		Price: price, Schedule: req.Schedule, Urgent: req.Urgent, Now: req.Now, TTL: req.TTL,
	}
	if needsTransaction(req.Category) {
		cost, err := a.networkCost(ctx, n, *d, listed)
		switch {
		case err == nil:
			in.NetworkCost = &cost
		case req.Schedule.NetworkCost == fees.ChargeNetworkCost || recovery.ErrorCode(err) != recovery.EUnavailable:
			return nil, err
		}
		// An absorbed cost the nodes cannot estimate now is left off the
		// quote: the user pays nothing for it either way.
		if in.NetworkCost != nil && in.NetworkCost.Asset != asset {
			native, err := a.price(ctx, n.ID, n.NativeAsset)
			if err != nil {
				return nil, err
			}
			in.NativePrice = &native
		}
	}
	q, err := fees.NewQuote(in)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("quote: "+err.Error(), recovery.InvalidInput, err)
	}
	return &q, nil
}

// needsTransaction reports whether recovering a category moves funds on
// chain. A missing or wrong memo is credited internally: the coins are on
// the exchange's own address already.
func needsTransaction(category string) bool {
	return category != recovery.CategoryMissingOrWrongMemo
}

// tokenSendGas is the gas limit quoted for an ERC-20 transfer out of a
// deposit address: the usual transfer costs 35,000 to 52,000 gas; the
// margin covers tokens with hooks. What is not used is not paid.
const tokenSendGas = 65000

func (a *Activities) networkCost(ctx context.Context, n chains.Network, d recovery.Transfer, listed bool) (recovery.NetworkCost, error) {
	if a.Nodes == nil {
		return recovery.NetworkCost{}, recovery.Errorf(recovery.EUnavailable, "no nodes to estimate the network cost on %s", n.ID)
	}
	var gas uint64
	if n.Family == recovery.FamilyEVM && d.Kind == recovery.KindToken {
		gas = tokenSendGas
	}
	return a.Nodes.NetworkCost(ctx, n.ID, gas)
}

// decimals returns the decimals of the deposited asset: the network's for
// its native asset, the listing's for a listed token, and the contract's
// own decimals() for a token the exchange does not list.
func (a *Activities) decimals(ctx context.Context, n chains.Network, d recovery.Transfer) (int32, error) {
	if d.Kind != recovery.KindToken {
		return n.Decimals, nil
	}
	if tok, ok := n.Token(d.Token); ok {
		return tok.Decimals, nil
	}
	if n.Family != recovery.FamilyEVM || a.Nodes == nil {
		return 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the decimals of token %s on %s are unknown", d.Token, n.ID), workflows.ErrUnpriced, nil)
	}
	dec, err := a.Nodes.TokenDecimals(ctx, n.ID, d.Token)
	if err != nil {
		if recovery.ErrorCode(err) == recovery.EUnavailable {
			return 0, err
		}
		return 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("token %s on %s: %s", d.Token, n.ID, recovery.ErrorMessage(err)), workflows.ErrUnpriced, err)
	}
	return dec, nil
}

// price is the USD price of asset on network; an asset without one is
// refused with ErrUnpriced, a price source outage retried.
func (a *Activities) price(ctx context.Context, network, asset string) (fees.Price, error) {
	if a.Prices == nil {
		return fees.Price{}, temporal.NewNonRetryableApplicationError("no price source is configured", workflows.ErrUnpriced, nil)
	}
	p, err := a.Prices.USD(ctx, network, asset)
	if err == nil {
		return p, nil
	}
	if recovery.ErrorCode(err) == recovery.ENotFound {
		return fees.Price{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("no price for %s on %s", asset, network), workflows.ErrUnpriced, err)
	}
	return fees.Price{}, fmt.Errorf("price of %s on %s: %w", asset, network, err)
}

func invalidInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, recovery.InvalidInput, nil)
}
