// Package chains owns what the engine knows about blockchains: the network
// registry and the small Lookup interface every chain adapter implements.
// Adapters live in sub-packages per family (evm, utxo) and depend on this
// package, never the other way round.
package chains

import (
	"context"
	"fmt"
	"math/big"

	"github.com/misdeposit/recovery"
)

// Family groups networks that one adapter can read.
type Family string

const (
	EVM  Family = "evm"
	UTXO Family = "utxo"
	Memo Family = "memo"
)

// Status is the execution state of a transaction as the node sees it.
type Status string

const (
	StatusSuccess Status = "success" // included and executed
	StatusFailed  Status = "failed"  // included but reverted (EVM receipt status 0)
	StatusPending Status = "pending" // known to the node, not yet in a block
)

// TransferKind says how value reached an address.
type TransferKind string

const (
	KindNative   TransferKind = "native"   // plain value transfer of the native asset (EVM tx value)
	KindToken    TransferKind = "token"    // ERC-20 Transfer log
	KindInternal TransferKind = "internal" // value moved by an internal call (needs a trace)
	KindOutput   TransferKind = "output"   // UTXO transaction output
)

// Transfer is one movement of value to an address inside a transaction.
// Amount is always in the asset's smallest unit (wei, satoshi, token base
// unit); it is never a float.
type Transfer struct {
	Kind  TransferKind `json:"kind"`
	Index uint32       `json:"index"` // output index (UTXO), log index (token), call index (internal), 0 (native)
	From  string       `json:"from,omitempty"`
	To    string       `json:"to"` // address as the network writes it; "" for a script with no address
	// PubKeyHash is the hex hash160 an UTXO output pays to, so that the same
	// key can be recognised on another UTXO chain. Empty for EVM.
	PubKeyHash string   `json:"pubkey_hash,omitempty"`
	Token      string   `json:"token,omitempty"` // token contract for KindToken
	Amount     *big.Int `json:"amount"`
}

// IndexCode names the transfer inside its transaction, as case ids and
// deposit records do: "v" for the native value, "l<n>" for a token log,
// "c<n>" for an internal call, "o<n>" for an output.
func (t Transfer) IndexCode() string {
	switch t.Kind {
	case KindNative:
		return "v"
	case KindToken:
		return fmt.Sprintf("l%d", t.Index)
	case KindInternal:
		return fmt.Sprintf("c%d", t.Index)
	default:
		return fmt.Sprintf("o%d", t.Index)
	}
}

// Tx is what a node says about one transaction.
type Tx struct {
	Network       string     `json:"network"`
	Hash          string     `json:"hash"`
	Status        Status     `json:"status"`
	BlockNumber   uint64     `json:"block_number,omitempty"`
	BlockHash     string     `json:"block_hash,omitempty"`
	Confirmations uint64     `json:"confirmations"`
	Required      uint64     `json:"required_confirmations"`
	From          string     `json:"from,omitempty"`
	Transfers     []Transfer `json:"transfers"`
	Memo          string     `json:"memo,omitempty"` // OP_RETURN payload or memo field, as text when printable, else hex
	// Traced is true when internal calls were inspected (EVM debug_traceTransaction).
	Traced bool `json:"traced"`
}

// Final reports whether the transaction has the confirmations its network
// requires.
func (t *Tx) Final() bool {
	return t.Status != StatusPending && t.Confirmations >= t.Required
}

// Lookup answers what one network knows of a transaction hash.
//
// LookupTx returns an error with code recovery.ENotFound only when the node
// answered that it does not know the hash. A node that cannot be reached or
// answers garbage gives recovery.EUnavailable, so that an outage is retried
// and never mistaken for "not found".
type Lookup interface {
	LookupTx(ctx context.Context, hash string) (*Tx, error)
}

// ErrTxNotFound is returned by adapters when the node does not know the hash.
var ErrTxNotFound = &recovery.Error{Code: recovery.ENotFound, Message: "transaction not found on this network"}
