package utxo

import (
	"bytes"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/misdeposit/recovery"
)

// DustLimit is the smallest output, in satoshis, that BuildSpend makes:
// Bitcoin Core's dust threshold for a P2PKH output at its default 3 sat/vB
// dust feerate, the largest among the outputs a recovery pays. A smaller
// output is not relayed.
const DustLimit = 546

// Spend describes a recovery transaction that moves one output, less the
// fee, to one script: the transaction BuildSpend makes.
type Spend struct {
	TxID       string // txid of the output spent, as LookupTx takes it
	Index      uint32 // its index in that transaction
	PrevScript []byte // its script: P2PKH or P2WPKH
	Amount     int64  // its amount, in satoshis
	To         []byte // the output script paid
	Fee        int64  // satoshis left to the network
}

// BuildSpend returns the unsigned transaction s describes: version 2, one
// input (final sequence: no replace-by-fee), one output of Amount − Fee to
// To, no lock time. Any of these is recovery.EInvalid: a previous script
// that is neither P2PKH nor P2WPKH (the only ones AttachSignature can
// sign), a non-positive amount, a negative fee, an output under
// DustLimit, no destination or an OP_RETURN one.
func BuildSpend(s Spend) (*wire.MsgTx, error) {
	prev, err := ParseTxHash(s.TxID)
	if err != nil {
		return nil, err
	}
	if _, err := spendKind(s.PrevScript); err != nil {
		return nil, err
	}
	switch to := ParseScript(s.To).Kind; {
	case len(s.To) == 0:
		return nil, recovery.FieldError("to", "no output script to pay")
	case to == NullData:
		return nil, recovery.FieldError("to", "an OP_RETURN output cannot be spent: the coins would be burnt")
	case s.Amount <= 0:
		return nil, recovery.FieldError("amount", "the output spent has no value")
	case s.Fee < 0:
		return nil, recovery.FieldError("fee", "a fee is not negative")
	case s.Amount-s.Fee < DustLimit:
		return nil, recovery.FieldError("fee", "%d sat less a fee of %d sat leaves %d sat, under the dust limit of %d sat",
			s.Amount, s.Fee, s.Amount-s.Fee, DustLimit)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: *wire.NewOutPoint(prev, s.Index), Sequence: wire.MaxTxInSequenceNum})
	tx.AddTxOut(wire.NewTxOut(s.Amount-s.Fee, bytes.Clone(s.To)))
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

// checkSpend checks that tx is the one-input transaction spending what s
// names.
func checkSpend(tx *wire.MsgTx, s Spend) error {
	prev, err := ParseTxHash(s.TxID)
	if err != nil {
		return err
	}
	if len(tx.TxIn) != 1 || tx.TxIn[0].PreviousOutPoint != *wire.NewOutPoint(prev, s.Index) {
		return recovery.FieldError("tx", "the transaction does not spend %s:%d as its one input", s.TxID, s.Index)
	}
	return nil
}

// SpendSigHash is the hash the key of s.PrevScript signs, with SIGHASH_ALL,
// for tx's one input: the legacy algorithm for P2PKH, BIP-143's for P2WPKH,
// which commits to s.Amount.
func SpendSigHash(tx *wire.MsgTx, s Spend) ([32]byte, error) {
	var out [32]byte
	kind, err := spendKind(s.PrevScript)
	if err != nil {
		return out, err
	}
	if err := checkSpend(tx, s); err != nil {
		return out, err
	}
	var h []byte
	if kind == P2PKH {
		h, err = txscript.CalcSignatureHash(s.PrevScript, txscript.SigHashAll, tx, 0)
	} else {
		fetcher := txscript.NewCannedPrevOutputFetcher(s.PrevScript, s.Amount)
		h, err = txscript.CalcWitnessSigHash(s.PrevScript, txscript.NewTxSigHashes(tx, fetcher), txscript.SigHashAll, tx, 0, s.Amount)
	}
	if err != nil {
		return out, recovery.FieldError("prev_script", "cannot hash the spend: %v", err)
	}
	copy(out[:], h)
	return out, nil
}

// AttachSignature completes tx's one input with sig, a 65-byte
// [R || S || V] signature of SpendSigHash(tx, s) (V 0 or 1, unused here),
// and pubKey, the serialized public key whose hash s.PrevScript pays: a
// scriptSig for P2PKH, a witness for P2WPKH (whose key must be compressed).
// The signature is written in DER with S in the lower half, as relay rules
// require, followed by SIGHASH_ALL.
//
// The completed input is run through the script engine with the standard
// verification flags, so that a wrong key, a signature of another hash or
// any other flaw is recovery.EInvalid here rather than a refusal at the
// node; tx is then left unsigned.
func AttachSignature(tx *wire.MsgTx, s Spend, sig []byte, pubKey []byte) error {
	kind, err := spendKind(s.PrevScript)
	if err != nil {
		return err
	}
	if err := checkSpend(tx, s); err != nil {
		return err
	}
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
	if !bytes.Equal(address.Hash160(pubKey), ParseScript(s.PrevScript).Hash) {
		return recovery.FieldError("public_key", "the output spent does not pay this key")
	}
	if kind == P2WPKH && len(pubKey) != btcec.PubKeyBytesLenCompressed {
		return recovery.FieldError("public_key", "a P2WPKH output pays a compressed key")
	}

	der := append(ecdsa.NewSignature(&r, &sv).Serialize(), byte(txscript.SigHashAll))
	in := tx.TxIn[0]
	if kind == P2PKH {
		script, err := txscript.NewScriptBuilder().AddData(der).AddData(pubKey).Script()
		if err != nil {
			return recovery.FieldError("signature", "cannot build the input script: %v", err)
		}
		in.SignatureScript, in.Witness = script, nil
	} else {
		in.SignatureScript, in.Witness = nil, wire.TxWitness{der, bytes.Clone(pubKey)}
	}

	fetcher := txscript.NewCannedPrevOutputFetcher(s.PrevScript, s.Amount)
	engine, err := txscript.NewEngine(s.PrevScript, tx, 0, txscript.StandardVerifyFlags, nil,
		txscript.NewTxSigHashes(tx, fetcher), s.Amount, fetcher)
	if err == nil {
		err = engine.Execute()
	}
	if err != nil {
		in.SignatureScript, in.Witness = nil, nil
		return recovery.FieldError("signature", "the signed input does not verify: %v", err)
	}
	return nil
}

// SpendVSize is the virtual size, in vbytes, of the transaction BuildSpend
// makes from an output paying prevScript to a P2WPKH output, once signed:
// what its fee is the feerate times. It is measured on the transaction
// itself with the largest DER signature (72 bytes) and a compressed key,
// rounded up, so a real signature never makes it larger. A P2PKH output of
// an uncompressed key is 32 vbytes more.
func SpendVSize(prevScript []byte) (int64, error) {
	kind, err := spendKind(prevScript)
	if err != nil {
		return 0, err
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{Sequence: wire.MaxTxInSequenceNum})
	tx.AddTxOut(wire.NewTxOut(0, make([]byte, 22))) // OP_0 <20 bytes>
	sig := make([]byte, 72+1)                       // DER signature and sighash type
	pubKey := make([]byte, btcec.PubKeyBytesLenCompressed)
	if kind == P2PKH {
		script, err := txscript.NewScriptBuilder().AddData(sig).AddData(pubKey).Script()
		if err != nil {
			return 0, err
		}
		tx.TxIn[0].SignatureScript = script
	} else {
		tx.TxIn[0].Witness = wire.TxWitness{sig, pubKey}
	}
	return vsize(tx), nil
}

// vsize is BIP-141's virtual size: the weight (stripped size × 3 + total
// size) over 4, rounded up.
func vsize(tx *wire.MsgTx) int64 {
	weight := int64(tx.SerializeSizeStripped())*3 + int64(tx.SerializeSize())
	return (weight + 3) / 4
}
