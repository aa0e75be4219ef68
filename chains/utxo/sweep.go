package utxo

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/misdeposit/recovery"
)

// DustLimit is the smallest output, in satoshis, that BuildSweep and
// BuildSpend make: Bitcoin Core's dust threshold for a P2PKH output at its
// default 3 sat/vB dust feerate, the largest among the outputs a recovery
// pays. A smaller output is not relayed.
const DustLimit = 546

// MaxSweepInputs is the most inputs one sweep spends. A larger batch is
// split: the signer is asked for one signature per input, and a transaction
// that fails takes every case in it along.
const MaxSweepInputs = 1000

// maxStandardWeight is the heaviest transaction, in weight units, that
// Bitcoin Core and btcd relay (MAX_STANDARD_TX_WEIGHT): 1000 P2PKH inputs
// are over it, 1000 P2WPKH ones are not.
const maxStandardWeight = 400_000

// Input is one output a sweep spends.
type Input struct {
	TxID       string // txid of the output spent, as LookupTx takes it
	Index      uint32 // its index in that transaction
	PrevScript []byte // its script: P2PKH or P2WPKH
	Amount     int64  // its amount, in satoshis
}

// Sweep describes a recovery transaction that moves every input, less Fee,
// to one output script: the transaction BuildSweep makes. It recovers many
// small deposits at once, the network fee shared between them.
type Sweep struct {
	Inputs []Input
	To     []byte // the output script paid
	Fee    int64  // satoshis left to the network
}

// fields names the input fields an error is about: "inputs[2].amount" in a
// Sweep, plain "amount" in a Spend, whose fields are flat, so that a Spend
// is refused exactly as before sweeps existed.
type fields struct{ flat bool }

var sweepFields, spendFields = fields{}, fields{flat: true}

// at names input i in err's field.
func (f fields) at(i int, err error) error {
	var e *recovery.Error
	if f.flat || !errors.As(err, &e) || e.Field == "" {
		return err
	}
	named := *e
	named.Field = fmt.Sprintf("inputs[%d].%s", i, e.Field)
	return &named
}

// BuildSweep returns the unsigned transaction s describes: version 2, the
// inputs in the given order (final sequences: no replace-by-fee), one output
// of the sum of their amounts less Fee to To, no lock time. Any of these is
// recovery.EInvalid: no inputs, more than MaxSweepInputs, the same output
// twice, a previous script that is neither P2PKH nor P2WPKH (the only ones
// AttachSweepSignature can sign), a non-positive amount, amounts whose sum
// overflows, a negative fee, an output under DustLimit, no destination or an
// OP_RETURN one, and a transaction too heavy, once signed, for nodes to
// relay.
func BuildSweep(s Sweep) (*wire.MsgTx, error) { return buildSweep(s, sweepFields) }

func buildSweep(s Sweep, f fields) (*wire.MsgTx, error) {
	switch n := len(s.Inputs); {
	case n == 0:
		return nil, recovery.FieldError("inputs", "a sweep spends at least one output")
	case n > MaxSweepInputs:
		return nil, recovery.FieldError("inputs", "a sweep spends at most %d outputs, not %d", MaxSweepInputs, n)
	}
	tx := wire.NewMsgTx(2)
	seen := make(map[wire.OutPoint]int, len(s.Inputs))
	kinds := make([]ScriptKind, len(s.Inputs))
	for i, in := range s.Inputs {
		prev, err := ParseTxHash(in.TxID)
		if err != nil {
			return nil, f.at(i, err)
		}
		if kinds[i], err = spendKind(in.PrevScript); err != nil {
			return nil, f.at(i, err)
		}
		op := *wire.NewOutPoint(prev, in.Index)
		if j, ok := seen[op]; ok {
			return nil, f.at(i, recovery.FieldError("index", "output %s is input %d already", op, j))
		}
		seen[op] = i
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: op, Sequence: wire.MaxTxInSequenceNum})
	}
	switch to := ParseScript(s.To).Kind; {
	case len(s.To) == 0:
		return nil, recovery.FieldError("to", "no output script to pay")
	case to == NullData:
		return nil, recovery.FieldError("to", "an OP_RETURN output cannot be spent: the coins would be burnt")
	}
	var sum int64
	for i, in := range s.Inputs {
		if in.Amount <= 0 {
			return nil, f.at(i, recovery.FieldError("amount", "the output spent has no value"))
		}
		if sum > math.MaxInt64-in.Amount {
			return nil, recovery.FieldError("inputs", "the amounts add up to more than %d sat", int64(math.MaxInt64))
		}
		sum += in.Amount
	}
	switch {
	case s.Fee < 0:
		return nil, recovery.FieldError("fee", "a fee is not negative")
	case sum-s.Fee < DustLimit:
		return nil, recovery.FieldError("fee", "%d sat less a fee of %d sat leaves %d sat, under the dust limit of %d sat",
			sum, s.Fee, sum-s.Fee, DustLimit)
	}
	tx.AddTxOut(wire.NewTxOut(sum-s.Fee, bytes.Clone(s.To)))

	signed := tx.Copy()
	if err := fillWorstCase(signed, kinds); err != nil {
		return nil, err
	}
	if w := weight(signed); w > maxStandardWeight {
		return nil, recovery.FieldError("inputs", "%d inputs weigh up to %d WU once signed, over the %d WU nodes relay: sweep fewer",
			len(s.Inputs), w, maxStandardWeight)
	}
	return tx, nil
}

// spendKind is the kind of a previous output script this package signs for.
func spendKind(prevScript []byte) (ScriptKind, error) {
	switch k := ParseScript(prevScript).Kind; k {
	case P2PKH, P2WPKH:
		return k, nil
	default:
		return "", recovery.FieldError("prev_script", "only P2PKH and P2WPKH outputs can be spent, not %s", k)
	}
}

// sweepInput checks that tx is the transaction spending exactly s.Inputs, in
// order, and returns the kind of input i and the previous outputs of all of
// them, which BIP-143 hashes look up.
func sweepInput(tx *wire.MsgTx, s Sweep, i int, f fields) (ScriptKind, *txscript.MultiPrevOutFetcher, error) {
	if i < 0 || i >= len(s.Inputs) {
		return "", nil, recovery.FieldError("input", "the sweep has no input %d", i)
	}
	kind, err := spendKind(s.Inputs[i].PrevScript)
	if err != nil {
		return "", nil, f.at(i, err)
	}
	prevOuts := make(map[wire.OutPoint]*wire.TxOut, len(s.Inputs))
	for j, in := range s.Inputs {
		prev, err := ParseTxHash(in.TxID)
		if err != nil {
			return "", nil, f.at(j, err)
		}
		op := *wire.NewOutPoint(prev, in.Index)
		if j >= len(tx.TxIn) || tx.TxIn[j].PreviousOutPoint != op {
			return "", nil, recovery.FieldError("tx", "input %d of the transaction does not spend %s:%d", j, in.TxID, in.Index)
		}
		prevOuts[op] = wire.NewTxOut(in.Amount, in.PrevScript)
	}
	if len(tx.TxIn) != len(s.Inputs) {
		return "", nil, recovery.FieldError("tx", "the transaction has %d inputs, the sweep %d", len(tx.TxIn), len(s.Inputs))
	}
	return kind, txscript.NewMultiPrevOutFetcher(prevOuts), nil
}

// SweepSigHash is the hash the key of s.Inputs[i].PrevScript signs, with
// SIGHASH_ALL, for tx's input i: the legacy algorithm for P2PKH, BIP-143's
// for P2WPKH, which commits to that input's Amount. tx must spend exactly
// s.Inputs, in order.
func SweepSigHash(tx *wire.MsgTx, s Sweep, i int) ([32]byte, error) {
	return sweepSigHash(tx, s, i, sweepFields)
}

func sweepSigHash(tx *wire.MsgTx, s Sweep, i int, f fields) ([32]byte, error) {
	var out [32]byte
	kind, fetcher, err := sweepInput(tx, s, i, f)
	if err != nil {
		return out, err
	}
	in := s.Inputs[i]
	var h []byte
	if kind == P2PKH {
		h, err = txscript.CalcSignatureHash(in.PrevScript, txscript.SigHashAll, tx, i)
	} else {
		h, err = txscript.CalcWitnessSigHash(in.PrevScript, txscript.NewTxSigHashes(tx, fetcher), txscript.SigHashAll, tx, i, in.Amount)
	}
	if err != nil {
		return out, f.at(i, recovery.FieldError("prev_script", "cannot hash the spend: %v", err))
	}
	copy(out[:], h)
	return out, nil
}

// AttachSweepSignature completes tx's input i with sig, a 65-byte
// [R || S || V] signature of SweepSigHash(tx, s, i) (V 0 or 1, unused here),
// and pubKey, the serialized public key whose hash s.Inputs[i].PrevScript
// pays: a scriptSig for P2PKH, a witness for P2WPKH (whose key must be
// compressed). The signature is written in DER with S in the lower half, as
// relay rules require, followed by SIGHASH_ALL.
//
// The completed input is run through the script engine with the standard
// verification flags and every input's previous output, so that a wrong
// key, a signature of another hash or another input, or any other flaw is
// recovery.EInvalid here rather than a refusal at the node; input i is then
// left unsigned, and the other inputs as they were.
func AttachSweepSignature(tx *wire.MsgTx, s Sweep, i int, sig, pubKey []byte) error {
	return attachSweepSignature(tx, s, i, sig, pubKey, sweepFields)
}

func attachSweepSignature(tx *wire.MsgTx, s Sweep, i int, sig, pubKey []byte, f fields) error {
	kind, fetcher, err := sweepInput(tx, s, i, f)
	if err != nil {
		return err
	}
	prevScript, amount := s.Inputs[i].PrevScript, s.Inputs[i].Amount
	if len(sig) != 65 || sig[64] > 1 {
		return recovery.FieldError("signature", "a signature is 65 bytes, R || S || V with V 0 or 1")
	}
	var r, sv btcec.ModNScalar
	if overflow := r.SetByteSlice(sig[:32]); overflow || r.IsZero() {
		return recovery.FieldError("signature", "R is out of range")
	}
	if overflow := sv.SetByteSlice(sig[32:64]); overflow || sv.IsZero() {
		return recovery.FieldError("signature", "S is out of range")
	}
	if _, err := btcec.ParsePubKey(pubKey); err != nil {
		return recovery.FieldError("public_key", "not a secp256k1 public key: %v", err)
	}
	if !bytes.Equal(address.Hash160(pubKey), ParseScript(prevScript).Hash) {
		return recovery.FieldError("public_key", "the output spent does not pay this key")
	}
	if kind == P2WPKH && len(pubKey) != btcec.PubKeyBytesLenCompressed {
		return recovery.FieldError("public_key", "a P2WPKH output pays a compressed key")
	}

	der := append(ecdsa.NewSignature(&r, &sv).Serialize(), byte(txscript.SigHashAll))
	in := tx.TxIn[i]
	if kind == P2PKH {
		script, err := txscript.NewScriptBuilder().AddData(der).AddData(pubKey).Script()
		if err != nil {
			return recovery.FieldError("signature", "cannot build the input script: %v", err)
		}
		in.SignatureScript, in.Witness = script, nil
	} else {
		in.SignatureScript, in.Witness = nil, wire.TxWitness{der, bytes.Clone(pubKey)}
	}

	engine, err := txscript.NewEngine(prevScript, tx, i, txscript.StandardVerifyFlags, nil,
		txscript.NewTxSigHashes(tx, fetcher), amount, fetcher)
	if err == nil {
		err = engine.Execute()
	}
	if err != nil {
		in.SignatureScript, in.Witness = nil, nil
		return recovery.FieldError("signature", "the signed input does not verify: %v", err)
	}
	return nil
}

// SweepVSize is the virtual size, in vbytes, of the transaction BuildSweep
// makes from outputs paying prevScripts to a P2WPKH output, once signed:
// what its fee is the feerate times. It is measured on the transaction
// itself with the largest DER signatures (72 bytes) and compressed keys,
// rounded up, so real signatures never make it larger. Each P2PKH output of
// an uncompressed key is 32 vbytes more.
func SweepVSize(prevScripts [][]byte) (int64, error) { return sweepVSize(prevScripts, sweepFields) }

func sweepVSize(prevScripts [][]byte, f fields) (int64, error) {
	switch n := len(prevScripts); {
	case n == 0:
		return 0, recovery.FieldError("inputs", "a sweep spends at least one output")
	case n > MaxSweepInputs:
		return 0, recovery.FieldError("inputs", "a sweep spends at most %d outputs, not %d", MaxSweepInputs, n)
	}
	kinds := make([]ScriptKind, len(prevScripts))
	tx := wire.NewMsgTx(2)
	for i, script := range prevScripts {
		var err error
		if kinds[i], err = spendKind(script); err != nil {
			return 0, f.at(i, err)
		}
		tx.AddTxIn(&wire.TxIn{Sequence: wire.MaxTxInSequenceNum})
	}
	tx.AddTxOut(wire.NewTxOut(0, make([]byte, 22))) // OP_0 <20 bytes>
	if err := fillWorstCase(tx, kinds); err != nil {
		return 0, err
	}
	return vsize(tx), nil
}

// fillWorstCase signs tx's inputs, of the given kinds, with placeholders
// of the largest size a real signature and compressed key take.
func fillWorstCase(tx *wire.MsgTx, kinds []ScriptKind) error {
	sig := make([]byte, 72+1) // DER signature and sighash type
	pubKey := make([]byte, btcec.PubKeyBytesLenCompressed)
	script, err := txscript.NewScriptBuilder().AddData(sig).AddData(pubKey).Script()
	if err != nil {
		return err
	}
	for i, kind := range kinds {
		if kind == P2PKH {
			tx.TxIn[i].SignatureScript, tx.TxIn[i].Witness = script, nil
		} else {
			tx.TxIn[i].SignatureScript, tx.TxIn[i].Witness = nil, wire.TxWitness{sig, pubKey}
		}
	}
	return nil
}

// weight is BIP-141's weight: the stripped size × 3 plus the total size.
func weight(tx *wire.MsgTx) int64 {
	return int64(tx.SerializeSizeStripped())*3 + int64(tx.SerializeSize())
}

// vsize is BIP-141's virtual size: the weight over 4, rounded up.
func vsize(tx *wire.MsgTx) int64 {
	return (weight(tx) + 3) / 4
}
