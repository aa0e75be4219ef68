package recovery

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

// Family groups networks that one chain adapter can read.
type Family string

const (
	FamilyEVM  Family = "evm"
	FamilyUTXO Family = "utxo"
	FamilyMemo Family = "memo"
)

// TxStatus is the execution state of a transaction as the node sees it.
type TxStatus string

const (
	TxSuccess TxStatus = "success" // included and executed
	TxFailed  TxStatus = "failed"  // included but reverted (EVM receipt status 0)
	TxPending TxStatus = "pending" // known to the node, not yet in a block
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
// deposit records do: "v" for the native value (an EVM transaction's value,
// or a memo network's native payment in the first operation or message),
// "v<n>" for a native payment in operation or message n of a memo network's
// transaction (one transaction may pay several addresses), "l<n>" for a
// token log, "c<n>" for an internal call, "o<n>" for an output.
func (t Transfer) IndexCode() string {
	switch t.Kind {
	case KindNative:
		if t.Index == 0 {
			return "v"
		}
		return fmt.Sprintf("v%d", t.Index)
	case KindToken:
		return fmt.Sprintf("l%d", t.Index)
	case KindInternal:
		return fmt.Sprintf("c%d", t.Index)
	default:
		return fmt.Sprintf("o%d", t.Index)
	}
}

// The shapes of the ids built from IndexCode, written one way each (no
// leading zeros, no "v0"), so that one deposit has one spelling and a
// credit or a posting finds its case.
const (
	indexCodePattern = `(?:v(?:[1-9][0-9]{0,5})?|[olc](?:0|[1-9][0-9]{0,5}))`
	txPrefix         = `^[a-z][a-z0-9-]{1,31}\.[0-9a-f]{64}\.`
)

var (
	indexCodeRE = regexp.MustCompile(`^` + indexCodePattern + `$`)
	depositIDRE = regexp.MustCompile(txPrefix + indexCodePattern + `$`)
	caseIDRE    = regexp.MustCompile(txPrefix + `(?:` + indexCodePattern + `|to-[0-9a-f]{10})$`)
)

// ValidIndexCode reports whether s is an IndexCode as Transfer writes it.
func ValidIndexCode(s string) bool { return indexCodeRE.MatchString(s) }

// ValidDepositID reports whether s is a DepositID: network.hash.index.
func ValidDepositID(s string) bool { return depositIDRE.MatchString(s) }

// ValidCaseID reports whether s is the id of a case: a DepositID, or
// network.hash.to-<10 hex digits> while the deposit is not found yet.
func ValidCaseID(s string) bool { return caseIDRE.MatchString(s) }

// DepositID names one deposit: network, transaction hash (written as 64
// lower-case hex digits, without 0x, however hash is written) and the
// transfer's IndexCode. It is the id of the one case that owns the
// deposit, and the key its recovery and its credit are recorded under, so
// that the deposit is recovered and credited once.
func DepositID(network, hash string, t Transfer) string {
	hex := strings.ToLower(hash)
	hex = strings.TrimPrefix(hex, "0x")
	return network + "." + hex + "." + t.IndexCode()
}

// Tx is what a node says about one transaction.
type Tx struct {
	Network       string     `json:"network"`
	Hash          string     `json:"hash"`
	Status        TxStatus   `json:"status"`
	BlockNumber   uint64     `json:"block_number,omitempty"`
	BlockHash     string     `json:"block_hash,omitempty"`
	Confirmations uint64     `json:"confirmations"`
	Required      uint64     `json:"required_confirmations"`
	From          string     `json:"from,omitempty"`
	Transfers     []Transfer `json:"transfers"`
	Memo          string     `json:"memo,omitempty"` // OP_RETURN payload or memo field, as text when printable, else hex
	// Traced is true when internal calls were inspected (EVM debug_traceTransaction).
	Traced bool `json:"traced"`
	// Fee is what the transaction paid its network, in base units of the
	// native asset, when the node says (an EVM receipt's gas used times
	// its effective gas price); nil otherwise.
	Fee *big.Int `json:"fee,omitempty"`
}

// Final reports whether the transaction has the confirmations its network
// requires.
func (t *Tx) Final() bool {
	return t.Status != TxPending && t.Confirmations >= t.Required
}

// NetworkCost is the estimated on-chain cost of one recovery transaction,
// in base units of the network's native asset, with the inputs it was
// computed from so that a quote can show them.
type NetworkCost struct {
	Network  string   `json:"network"`
	Asset    string   `json:"asset"`    // the native asset that pays it
	Decimals int32    `json:"decimals"` // of Asset
	Amount   *big.Int `json:"amount"`   // base units (wei, satoshi)
	Method   string   `json:"method"`   // how it was estimated: evm_eip1559, evm_legacy, utxo_feerate

	// EVM inputs, in wei per gas.
	GasLimit     uint64   `json:"gas_limit,omitempty"`
	BaseFee      *big.Int `json:"base_fee,omitempty"`
	TipCap       *big.Int `json:"tip_cap,omitempty"`
	MaxFeePerGas *big.Int `json:"max_fee_per_gas,omitempty"` // base fee × 2 + tip (EIP-1559), or the gas price (legacy)

	// UTXO inputs.
	VBytes  int64           `json:"vbytes,omitempty"`
	FeeRate decimal.Decimal `json:"fee_rate,omitzero"` // satoshi per virtual byte
	// Fallback is true when the node gave no estimate and FeeRate is the
	// configured floor; Note says why.
	Fallback bool   `json:"fallback,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Methods of estimating a NetworkCost.
const (
	MethodEIP1559 = "evm_eip1559"
	MethodLegacy  = "evm_legacy"
	MethodFeeRate = "utxo_feerate"
)
