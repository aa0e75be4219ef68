// Package activities holds the side effects of a recovery case: finding the
// deposit on chain, the facts of a diagnosis, fee quotes priced from the
// network's nodes, resuming parked cases, and the recovery itself: its
// plan, its transactions signed, recorded and sent exactly once, their
// confirmations, and the ledger credit; and telling users what happened to
// their case.
// Activities is a struct carrying its dependencies so that the worker wires
// real adapters and tests wire real local nodes.
package activities

import (
	"context"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/signer"
	"github.com/misdeposit/recovery/workflows"
)

// Activities are registered with the worker by their method names.
type Activities struct {
	Registry    *chains.Registry
	Scanner     *chains.Scanner
	AddressBook *addressbook.Store
	// Policies answers the policy in force; nil means the built-in
	// default policy.
	Policies PolicySource
	// Prices values deposits in USD; nil leaves every deposit unpriced,
	// which policy conditions treat as such.
	Prices fees.Prices
	// Nodes estimate the network cost of a recovery; nil quotes without
	// one where the schedule absorbs it, and refuses where it charges it.
	Nodes Nodes
	// Signer signs recovery transactions, Send reaches the nodes that
	// carry them, and Ledger records them and the credit. A worker without
	// them leaves approved cases waiting in recovering until one with them
	// takes the case.
	Signer signer.Signer
	Send   SendNodes
	Ledger Journal
	// Temporal and Namespace reach the parked cases a new policy resumes.
	Temporal  client.Client
	Namespace string
	// Notifier tells users what happened to their case; without one a
	// notification waits (retried) for a worker that has one. Texts
	// writes an event's text in a language as the appeal API does; nil
	// sends the event's code as its text.
	Notifier Notifier
	Texts    func(lang, code string, params map[string]string) string
}

// LookupDeposit finds a transaction on the chains and picks out the transfer
// to the address the user named. Invalid input is a non-retryable business
// error; a node outage is returned as is so that Temporal retries it.
func (a *Activities) LookupDeposit(ctx context.Context, req workflows.LookupRequest) (*workflows.LookupResult, error) {
	res, err := a.Scanner.FindFor(ctx, req.TxHash, req.Network, req.ToAddress)
	if err != nil {
		if recovery.ErrorCode(err) == recovery.EInvalid {
			return nil, temporal.NewNonRetryableApplicationError(recovery.ErrorMessage(err), recovery.InvalidInput, err)
		}
		return nil, err
	}
	tx, d := res.Pick(a.Registry, req.ToAddress)
	return workflows.NewLookupResult(res.Scanned, tx, d), nil
}
