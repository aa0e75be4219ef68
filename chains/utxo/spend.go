package utxo

import (
	"github.com/btcsuite/btcd/wire/v2"
)

// Spend describes a recovery transaction that moves one output, less the
// fee, to one script: the transaction BuildSpend makes. It is a Sweep of one
// Input, refused and signed as such, with the fields errors name flat
// ("amount", not "inputs[0].amount").
type Spend struct {
	TxID       string // txid of the output spent, as LookupTx takes it
	Index      uint32 // its index in that transaction
	PrevScript []byte // its script: P2PKH or P2WPKH
	Amount     int64  // its amount, in satoshis
	To         []byte // the output script paid
	Fee        int64  // satoshis left to the network
}

// sweep is the Sweep of s's one output.
func (s Spend) sweep() Sweep {
	return Sweep{
		Inputs: []Input{{TxID: s.TxID, Index: s.Index, PrevScript: s.PrevScript, Amount: s.Amount}},
		To:     s.To,
		Fee:    s.Fee,
	}
}

// BuildSpend returns the unsigned transaction s describes: BuildSweep's of
// one input, one output of Amount − Fee to To. Any of these is
// recovery.EInvalid: a previous script that is neither P2PKH nor P2WPKH
// (the only ones AttachSignature can sign), a non-positive amount, a
// negative fee, an output under DustLimit, no destination or an OP_RETURN
// one.
func BuildSpend(s Spend) (*wire.MsgTx, error) {
	return buildSweep(s.sweep(), spendFields)
}

// SpendSigHash is the hash the key of s.PrevScript signs, with SIGHASH_ALL,
// for tx's one input: the legacy algorithm for P2PKH, BIP-143's for P2WPKH,
// which commits to s.Amount.
func SpendSigHash(tx *wire.MsgTx, s Spend) ([32]byte, error) {
	return sweepSigHash(tx, s.sweep(), 0, spendFields)
}

// AttachSignature completes tx's one input with sig, a 65-byte
// [R || S || V] signature of SpendSigHash(tx, s) (V 0 or 1, unused here),
// and pubKey, the serialized public key whose hash s.PrevScript pays, as
// AttachSweepSignature does: on any flaw it is recovery.EInvalid and tx is
// left unsigned.
func AttachSignature(tx *wire.MsgTx, s Spend, sig []byte, pubKey []byte) error {
	return attachSweepSignature(tx, s.sweep(), 0, sig, pubKey, spendFields)
}

// SpendVSize is the virtual size, in vbytes, of the transaction BuildSpend
// makes from an output paying prevScript to a P2WPKH output, once signed:
// SweepVSize of one input. A P2PKH output of an uncompressed key is 32
// vbytes more.
func SpendVSize(prevScript []byte) (int64, error) {
	return sweepVSize([][]byte{prevScript}, spendFields)
}
