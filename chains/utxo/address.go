package utxo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/misdeposit/recovery"
)

// ScriptKind names the output script templates the adapter recognises.
type ScriptKind string

const (
	P2PKH          ScriptKind = "p2pkh"
	P2SH           ScriptKind = "p2sh"
	P2WPKH         ScriptKind = "p2wpkh"
	P2WSH          ScriptKind = "p2wsh"
	P2TR           ScriptKind = "p2tr"
	WitnessUnknown ScriptKind = "witness_unknown" // a future witness version, or P2A
	P2PK           ScriptKind = "p2pk"            // bare public key: no address, but a pubkey hash
	NullData       ScriptKind = "nulldata"        // OP_RETURN
	NonStandard    ScriptKind = "nonstandard"
)

// maxAddressLen bounds what DecodeAddress looks at: the longest real address
// is a bech32m one of ~90 characters, and base58 decoding is quadratic.
const maxAddressLen = 128

// AddressInfo is what an output script or an address pays to, independent of
// any chain's address text, so that one key is recognised across chains.
type AddressInfo struct {
	Kind ScriptKind
	// Hash is the 20-byte hash160 for P2PKH, P2WPKH, P2SH and P2PK (the
	// hash of the bare key), or the witness program for other witness kinds.
	Hash           []byte
	WitnessVersion int // meaningful for witness kinds only
}

// PubKeyHash returns the hex hash160 that recovery.Transfer.PubKeyHash carries:
// set for P2PKH, P2WPKH and P2PK (the key's hash) and for P2SH (the script's
// hash), empty otherwise.
//
// P2SH is not marked differently: a script hash and a key hash with the same
// 20 bytes would be a hash160 collision, so a match on the hex alone is
// already unambiguous, and it is what recognises the exchange's own P2SH
// (e.g. nested segwit) address when a user pays it on another chain. The
// Kind says which one it is for whoever needs to spend it.
func (a AddressInfo) PubKeyHash() string {
	switch a.Kind {
	case P2PKH, P2WPKH, P2SH, P2PK:
		return hex.EncodeToString(a.Hash)
	}
	return ""
}

// ParseScript classifies an output script. It never fails: an unknown script
// is NonStandard with no hash.
func ParseScript(pkScript []byte) AddressInfo {
	s := pkScript
	switch {
	case len(s) == 25 && s[0] == txscript.OP_DUP && s[1] == txscript.OP_HASH160 && s[2] == txscript.OP_DATA_20 &&
		s[23] == txscript.OP_EQUALVERIFY && s[24] == txscript.OP_CHECKSIG:
		return AddressInfo{Kind: P2PKH, Hash: bytes.Clone(s[3:23])}
	case len(s) == 23 && s[0] == txscript.OP_HASH160 && s[1] == txscript.OP_DATA_20 && s[22] == txscript.OP_EQUAL:
		return AddressInfo{Kind: P2SH, Hash: bytes.Clone(s[2:22])}
	case len(s) == 35 && s[0] == txscript.OP_DATA_33 && s[34] == txscript.OP_CHECKSIG && (s[1] == 0x02 || s[1] == 0x03),
		len(s) == 67 && s[0] == txscript.OP_DATA_65 && s[66] == txscript.OP_CHECKSIG && s[1] == 0x04:
		return AddressInfo{Kind: P2PK, Hash: address.Hash160(s[1 : len(s)-1])}
	case len(s) > 0 && s[0] == txscript.OP_RETURN:
		return AddressInfo{Kind: NullData}
	}
	if version, program, err := txscript.ExtractWitnessProgramInfo(s); err == nil {
		return witnessInfo(version, program)
	}
	return AddressInfo{Kind: NonStandard}
}

func witnessInfo(version int, program []byte) AddressInfo {
	kind := WitnessUnknown
	switch {
	case version == 0 && len(program) == 20:
		kind = P2WPKH
	case version == 0 && len(program) == 32:
		kind = P2WSH
	case version == 1 && len(program) == 32:
		kind = P2TR
	}
	return AddressInfo{Kind: kind, Hash: bytes.Clone(program), WitnessVersion: version}
}

// Script returns the output script that pays to a. P2PK, NullData and
// NonStandard have no script to rebuild from the hash.
func (a AddressInfo) Script() ([]byte, error) {
	b := txscript.NewScriptBuilder()
	switch a.Kind {
	case P2PKH:
		if len(a.Hash) != 20 {
			return nil, fmt.Errorf("p2pkh needs a 20-byte hash, got %d", len(a.Hash))
		}
		b.AddOp(txscript.OP_DUP).AddOp(txscript.OP_HASH160).AddData(a.Hash).AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG)
	case P2SH:
		if len(a.Hash) != 20 {
			return nil, fmt.Errorf("p2sh needs a 20-byte hash, got %d", len(a.Hash))
		}
		b.AddOp(txscript.OP_HASH160).AddData(a.Hash).AddOp(txscript.OP_EQUAL)
	case P2WPKH, P2WSH, P2TR, WitnessUnknown:
		if err := checkWitness(a.WitnessVersion, a.Hash); err != nil {
			return nil, err
		}
		if a.WitnessVersion == 0 {
			b.AddOp(txscript.OP_0)
		} else {
			b.AddOp(txscript.OP_1 + byte(a.WitnessVersion) - 1)
		}
		b.AddData(a.Hash)
	default:
		return nil, fmt.Errorf("a %s output cannot be rebuilt from its hash", a.Kind)
	}
	return b.Script()
}

// checkWitness applies BIP141's limits, plus BIP173's rule that version 0
// programs are 20 or 32 bytes.
func checkWitness(version int, program []byte) error {
	switch {
	case version < 0 || version > 16:
		return fmt.Errorf("witness version %d is out of range", version)
	case len(program) < 2 || len(program) > 40:
		return fmt.Errorf("witness program of %d bytes is out of range", len(program))
	case version == 0 && len(program) != 20 && len(program) != 32:
		return fmt.Errorf("version 0 witness program must be 20 or 32 bytes, got %d", len(program))
	}
	return nil
}

// EncodeAddress writes the P2PKH address of a public-key hash on the chain of
// p: the same hash gives 1… on Bitcoin, L… on Litecoin, D… on Dogecoin.
func EncodeAddress(p Params, pubKeyHash []byte) (string, error) {
	return AddressInfo{Kind: P2PKH, Hash: pubKeyHash}.Encode(p)
}

// Encode writes a as an address of the chain of p. It fails for kinds with
// no address (P2PK, NullData, NonStandard) and for witness outputs on a chain
// without segwit.
func (a AddressInfo) Encode(p Params) (string, error) {
	switch a.Kind {
	case P2PKH, P2SH:
		if len(a.Hash) != 20 {
			return "", fmt.Errorf("%s needs a 20-byte hash, got %d", a.Kind, len(a.Hash))
		}
		if p.CashAddrPrefix != "" {
			return encodeCashAddr(p.CashAddrPrefix, a.Kind == P2SH, a.Hash)
		}
		prefix := p.PubKeyHashAddrID
		if a.Kind == P2SH {
			prefix = p.ScriptHashAddrID
		}
		if len(prefix) == 0 {
			return "", fmt.Errorf("params %q have no %s prefix", p.Name, a.Kind)
		}
		return base58CheckEncode(prefix, a.Hash), nil
	case P2WPKH, P2WSH, P2TR, WitnessUnknown:
		if p.Bech32HRP == "" {
			return "", fmt.Errorf("%s has no segwit addresses", p.Name)
		}
		if err := checkWitness(a.WitnessVersion, a.Hash); err != nil {
			return "", err
		}
		data, err := bech32.ConvertBits(a.Hash, 8, 5, true)
		if err != nil {
			return "", fmt.Errorf("convert witness program: %w", err)
		}
		data = append([]byte{byte(a.WitnessVersion)}, data...)
		// BIP350: version 0 keeps bech32, every later version uses bech32m.
		if a.WitnessVersion == 0 {
			return bech32.Encode(p.Bech32HRP, data)
		}
		return bech32.EncodeM(p.Bech32HRP, data)
	}
	return "", fmt.Errorf("a %s output has no address", a.Kind)
}

// DecodeAddress reads an address of the chain of p. The error is a
// *recovery.Error with code EInvalid and field "address", so that a user who
// pasted another chain's address is told so.
func DecodeAddress(p Params, s string) (AddressInfo, error) {
	invalid := func(format string, args ...any) (AddressInfo, error) {
		return AddressInfo{}, recovery.FieldError("address", format, args...)
	}
	switch {
	case s == "":
		return invalid("address is empty")
	case len(s) > maxAddressLen:
		return invalid("address is longer than %d characters", maxAddressLen)
	}

	if p.Bech32HRP != "" && strings.HasPrefix(strings.ToLower(s), p.Bech32HRP+"1") {
		info, err := decodeSegwit(p.Bech32HRP, s)
		if err != nil {
			return invalid("not a valid %s segwit address: %v", p.Name, err)
		}
		return info, nil
	}

	if p.CashAddrPrefix != "" && (strings.Contains(s, ":") || isCashAddrPayload(s)) {
		isP2SH, hash, err := decodeCashAddr(p.CashAddrPrefix, s)
		if err != nil {
			return invalid("not a valid %s cashaddr: %v", p.Name, err)
		}
		if isP2SH {
			return AddressInfo{Kind: P2SH, Hash: hash}, nil
		}
		return AddressInfo{Kind: P2PKH, Hash: hash}, nil
	}

	payload, err := base58CheckDecode(s)
	if err != nil {
		return invalid("not a %s address: %v", p.Name, err)
	}
	for _, c := range []struct {
		kind   ScriptKind
		prefix []byte
	}{{P2PKH, p.PubKeyHashAddrID}, {P2SH, p.ScriptHashAddrID}} {
		if info, ok := splitPrefix(payload, c.prefix, c.kind); ok {
			return info, nil
		}
	}
	for _, prefix := range p.LegacyScriptHashAddrIDs {
		if info, ok := splitPrefix(payload, prefix, P2SH); ok {
			return info, nil
		}
	}
	return invalid("address version does not belong to %s", p.Name)
}

func splitPrefix(payload, prefix []byte, kind ScriptKind) (AddressInfo, bool) {
	if len(prefix) == 0 || len(payload) != len(prefix)+20 || !bytes.HasPrefix(payload, prefix) {
		return AddressInfo{}, false
	}
	return AddressInfo{Kind: kind, Hash: bytes.Clone(payload[len(prefix):])}, true
}

func decodeSegwit(hrp, s string) (AddressInfo, error) {
	gotHRP, data, version, err := bech32.DecodeGeneric(s)
	if err != nil {
		return AddressInfo{}, err
	}
	if gotHRP != hrp {
		return AddressInfo{}, fmt.Errorf("prefix %q is not %q", gotHRP, hrp)
	}
	if len(data) == 0 {
		return AddressInfo{}, fmt.Errorf("no witness version")
	}
	witnessVersion := int(data[0])
	program, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil {
		return AddressInfo{}, err
	}
	if err := checkWitness(witnessVersion, program); err != nil {
		return AddressInfo{}, err
	}
	// BIP350: a checksum of the wrong variant for the version is invalid,
	// which is what stops a mistyped v1 address from being read as v0.
	if (witnessVersion == 0) != (version == bech32.Version0) {
		return AddressInfo{}, fmt.Errorf("witness version %d with the wrong checksum variant", witnessVersion)
	}
	return witnessInfo(witnessVersion, program), nil
}

func checksum4(b []byte) []byte {
	first := sha256.Sum256(b)
	second := sha256.Sum256(first[:])
	return second[:4]
}

func base58CheckEncode(prefix, hash []byte) string {
	b := make([]byte, 0, len(prefix)+len(hash)+4)
	b = append(b, prefix...)
	b = append(b, hash...)
	return base58.Encode(append(b, checksum4(b)...))
}

// base58CheckDecode returns prefix and hash together: the prefix length
// differs between chains, so only the caller's params can split them.
func base58CheckDecode(s string) ([]byte, error) {
	raw := base58.Decode(s)
	if len(raw) < 5 {
		return nil, fmt.Errorf("not base58check")
	}
	payload, sum := raw[:len(raw)-4], raw[len(raw)-4:]
	if !bytes.Equal(checksum4(payload), sum) {
		return nil, fmt.Errorf("bad checksum")
	}
	return payload, nil
}
