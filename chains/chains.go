// Package chains owns what the engine knows about blockchains: the network
// registry and the small Lookup interface every chain adapter implements.
// Adapters live in sub-packages per family (evm, utxo) and depend on this
// package, never the other way round.
package chains

import (
	"context"

	"github.com/misdeposit/recovery"
)

// Lookup answers what one network knows of a transaction hash.
//
// LookupTx returns an error with code recovery.ENotFound only when the node
// answered that it does not know the hash. A node that cannot be reached or
// answers garbage gives recovery.EUnavailable, so that an outage is retried
// and never mistaken for "not found".
type Lookup interface {
	LookupTx(ctx context.Context, hash string) (*recovery.Tx, error)
}

// ErrTxNotFound is returned by adapters when the node does not know the hash.
var ErrTxNotFound = &recovery.Error{Code: recovery.ENotFound, Message: "transaction not found on this network"}
