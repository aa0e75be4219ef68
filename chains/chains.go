// Package chains owns what the engine knows about blockchains: the network
// registry, the all-network scan, which transfer of a transaction is the
// deposit a user names (DepositTo), and the small interfaces every chain
// adapter implements: Lookup for transactions, CostEstimator for the cost of
// a recovery transaction, TokenReader for token contracts. Adapters live in
// sub-packages per family (evm, utxo) and depend on this package, never the
// other way round; chains/pool puts a network's nodes behind the same
// interfaces. Every call to a node goes through these packages.
package chains

import (
	"context"
	"math/big"

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

// CostEstimator estimates what the recovery transaction will cost on one
// network, in its native asset, from what its node says now.
//
// gasLimit is the gas of an EVM transaction (0: a plain native transfer);
// other families ignore it. A node that cannot be reached or gives no usable
// estimate is an error with code recovery.EUnavailable, so that the caller
// retries.
type CostEstimator interface {
	EstimateCost(ctx context.Context, gasLimit uint64) (recovery.NetworkCost, error)
}

// TokenReader reads what a token contract says of itself.
//
// A contract that does not answer as a token is recovery.EInvalid; a node
// that does not answer is recovery.EUnavailable.
type TokenReader interface {
	TokenDecimals(ctx context.Context, contract string) (int32, error)
}

// ErrTxNotFound is returned by adapters when the node does not know the hash.
var ErrTxNotFound = &recovery.Error{Code: recovery.ENotFound, Message: "transaction not found on this network"}

// Broadcaster sends signed transactions to one network.
//
// Broadcast sends raw, a signed transaction in the network's wire encoding,
// and returns its hash as LookupTx takes it. Sending a transaction the node
// already holds in its pool or has mined is no error: a retried broadcast
// never fails for having succeeded before. A node that refuses the
// transaction for what it is (an input spent, a nonce used by another
// transaction, too low a fee) answers recovery.EInvalid with its reason; a
// node that cannot be reached answers recovery.EUnavailable.
type Broadcaster interface {
	Broadcast(ctx context.Context, raw []byte) (string, error)
}

// BalanceReader reads the native balance of an address, in base units
// (wei, satoshi). A node that cannot tell (a UTXO node without an address
// index) answers recovery.EInvalid, saying why.
type BalanceReader interface {
	Balance(ctx context.Context, address string) (*big.Int, error)
}

// AccountReader reads what building an EVM transaction from an address
// needs, and the balance of an address (at the latest block).
type AccountReader interface {
	BalanceReader
	// PendingNonce is the address's next nonce, counting the transactions
	// in the node's pool.
	PendingNonce(ctx context.Context, address string) (uint64, error)
	// GasPrice is a gas price, in wei, that gets a transaction mined now.
	GasPrice(ctx context.Context) (*big.Int, error)
}

// OutputReader reads one output of a UTXO transaction.
type OutputReader interface {
	// Output returns output index of transaction txid, read from the raw
	// transaction (never the node's float values), and whether it is
	// still unspent, counting the node's pool. A transaction the node does
	// not know is ErrTxNotFound; an index past its outputs is
	// recovery.EInvalid.
	Output(ctx context.Context, txid string, index uint32) (Output, error)
}

// Output is one output of a UTXO transaction.
type Output struct {
	Script  []byte `json:"script"`
	Amount  int64  `json:"amount"` // satoshis
	Unspent bool   `json:"unspent"`
}
