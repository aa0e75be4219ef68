package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/diagnosis"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
)

// Diagnose gathers what the exchange knows of a found, final deposit (the
// address book, the deposit records, the token listings), classifies it
// and asks the current policy for a decision. It only reads, so a retry is
// harmless; an address book or price source outage is retried.
func (a *Activities) Diagnose(ctx context.Context, req workflows.DiagnoseRequest) (*workflows.DiagnoseResult, error) {
	if req.Tx == nil {
		return nil, temporal.NewNonRetryableApplicationError("diagnose: no transaction", recovery.InvalidInput, nil)
	}
	// One policy for the whole diagnosis, even if a new one is applied
	// meanwhile: the decision names the version it used.
	pol, seq, err := a.policy(ctx, req.MinPolicySeq)
	if err != nil {
		return nil, err
	}
	facts, err := a.facts(ctx, req, pol)
	if err != nil {
		return nil, err
	}
	res := &workflows.DiagnoseResult{Diagnosis: diagnosis.Classify(facts), PolicySeq: seq, Family: facts.Network.Family, Params: facts.Network.Params}
	d := res.Diagnosis
	if d.Category == diagnosis.CategoryRegularDeposit {
		return res, nil
	}
	in := policy.DecideInput{Now: req.Now}
	if d.Deposit != nil && a.Prices != nil {
		// d.Asset is how a price source knows the asset: the symbol of a
		// native asset or listed token, the contract of an unlisted one.
		price, err := a.Prices.USD(ctx, facts.Network.ID, d.Asset)
		var decimals int32
		if err == nil {
			decimals, err = a.decimals(ctx, facts.Network, *d.Deposit)
		}
		switch {
		case err == nil:
			in.USD, in.Priced = fees.Units(d.Deposit.Amount, decimals).Mul(price.Value), true
			res.USD, res.PriceSource = in.USD.StringFixed(2), price.Source
		case recovery.ErrorCode(err) == recovery.EUnavailable:
			return nil, fmt.Errorf("value of %s on %s: %w", d.Asset, facts.Network.ID, err)
		case recovery.ErrorCode(err) != recovery.ENotFound && !unpriced(err):
			return nil, fmt.Errorf("price of %s on %s: %w", d.Asset, facts.Network.ID, err)
		}
		// Without a price (or the token's decimals) the deposit is
		// unpriced, which the policy's conditions look at.
	}
	if d.OwnerMismatch {
		in.RiskFlags = append(in.RiskFlags, "claimant_not_owner")
	}
	decision := pol.Decide(facts.Network.ID, d.Category, in)
	if dep := d.Deposit; dep != nil && dep.Kind == recovery.KindToken && !a.Registry.ListsToken(dep.Token) &&
		(decision.Action == policy.Direct || decision.Action == policy.Conditional) {
		// Listed nowhere, it cannot be credited: the user is told before
		// the quote that it goes back to where it came from.
		decision.Outcome = policy.OutcomeReturn
	}
	res.Decision = &decision
	return res, nil
}

// facts gathers the facts Classify looks at.
func (a *Activities) facts(ctx context.Context, req workflows.DiagnoseRequest, pol *policy.Policy) (diagnosis.Facts, error) {
	tx := req.Tx
	n, ok := a.Registry.Get(tx.Network)
	if !ok {
		return diagnosis.Facts{}, temporal.NewNonRetryableApplicationError("diagnose: unknown network "+tx.Network, recovery.InvalidInput, nil)
	}
	_, inPolicy := pol.Networks[n.ID]
	f := diagnosis.Facts{
		Found: true, Tx: tx, Network: n, InPolicy: inPolicy,
		ClaimedNetwork: req.ClaimedNetwork, ClaimedAddress: req.ToAddress, ClaimedMemo: req.Memo, UserID: req.UserID,
	}
	hex64, err := chains.ParseTxHash(tx.Hash)
	if err != nil {
		return f, temporal.NewNonRetryableApplicationError("diagnose: "+recovery.ErrorMessage(err), recovery.InvalidInput, err)
	}
	for _, t := range tx.Transfers {
		tf := diagnosis.TransferFacts{Transfer: t}
		tf.Asset, tf.Listed, tf.Minimum = n.Asset(t)
		if tf.Owners, err = a.owners(ctx, n, t); err != nil {
			return f, err
		}
		if len(tf.Owners) > 0 {
			if tf.Credit, err = a.AddressBook.Credited(ctx, n.ID, hex64, t.IndexCode()); err != nil {
				return f, fmt.Errorf("deposit records: %w", err)
			}
		}
		f.Transfers = append(f.Transfers, tf)
	}
	return f, nil
}

// owners finds the address book entries a transfer pays: the address on
// its own network, the same EVM address issued for another EVM network,
// or the same key hash issued on another UTXO chain.
func (a *Activities) owners(ctx context.Context, n chains.Network, t recovery.Transfer) ([]diagnosis.Owner, error) {
	if t.To == "" || a.AddressBook == nil {
		return nil, nil
	}
	var out []diagnosis.Owner
	same, err := a.AddressBook.Owners(ctx, n.ID, t.To)
	if err != nil {
		return nil, fmt.Errorf("address book: %w", err)
	}
	for _, e := range same {
		out = append(out, diagnosis.Owner{Entry: e, Match: diagnosis.MatchSameNetwork})
	}
	switch {
	case n.Family == recovery.FamilyEVM:
		all, err := a.AddressBook.ByAddress(ctx, t.To)
		if err != nil {
			return nil, fmt.Errorf("address book: %w", err)
		}
		for _, e := range all {
			if other, ok := a.Registry.Get(e.Network); ok && e.Network != n.ID && other.Family == recovery.FamilyEVM {
				out = append(out, diagnosis.Owner{Entry: e, Match: diagnosis.MatchOtherEVMNetwork})
			}
		}
	case n.Family == recovery.FamilyUTXO && t.PubKeyHash != "":
		all, err := a.AddressBook.ByPubKeyHash(ctx, t.PubKeyHash)
		if err != nil {
			return nil, fmt.Errorf("address book: %w", err)
		}
		for _, e := range all {
			if e.Network != n.ID {
				out = append(out, diagnosis.Owner{Entry: e, Match: diagnosis.MatchPubKeyHash})
			}
		}
	}
	return out, nil
}

// policy returns the policy in force, at least as recent as the applied
// policy minSeq, and its sequence number.
func (a *Activities) policy(ctx context.Context, minSeq int64) (*policy.Policy, int64, error) {
	if a.Policies == nil {
		return policy.Default(), 0, nil
	}
	return a.Policies.Policy(ctx, minSeq)
}

// unpriced reports whether err is a refusal for want of a price.
func unpriced(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == workflows.ErrUnpriced
}

// Redecide asks the policy in force for a decision on the category a
// specialist set by hand, with the facts of the case that the policy's
// conditions look at.
func (a *Activities) Redecide(ctx context.Context, req workflows.RedecideRequest) (*workflows.RedecideResult, error) {
	if !recovery.IsCategory(req.Category) {
		return nil, invalidInput("redecide: unknown category " + req.Category)
	}
	pol, seq, err := a.policy(ctx, 0)
	if err != nil {
		return nil, err
	}
	in := policy.DecideInput{Now: req.Now}
	if req.USD != "" {
		if in.USD, err = decimal.NewFromString(req.USD); err != nil {
			return nil, invalidInput("redecide: usd is not a decimal")
		}
		in.Priced = true
	}
	if req.OwnerMismatch {
		in.RiskFlags = append(in.RiskFlags, "claimant_not_owner")
	}
	return &workflows.RedecideResult{Decision: pol.Decide(req.Network, req.Category, in), PolicySeq: seq}, nil
}
