package atom

import (
	"errors"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/bech32"
)

// HRP is the human-readable part of a Cosmos Hub account address.
const HRP = "cosmos"

var errAddress = errors.New("not a bech32 account address")

// AccountHash is the 20-byte account id a secp256k1 public key derives on
// the Cosmos Hub (and every chain of coin type 118): RIPEMD160(SHA256(the
// 33-byte compressed key)).
func AccountHash(pubKey []byte) []byte { return address.Hash160(pubKey) }

// AddressOfPublicKey is the cosmos1… address of a compressed secp256k1
// public key.
func AddressOfPublicKey(pubKey []byte) string {
	s, _ := EncodeAddress(HRP, AccountHash(pubKey))
	return s
}

// EncodeAddress writes an account id (20 bytes, or 32 for module and
// interchain accounts) as a bech32 address with the given hrp.
func EncodeAddress(hrp string, id []byte) (string, error) {
	if len(id) != 20 && len(id) != 32 {
		return "", errAddress
	}
	return bech32.EncodeFromBase256(hrp, id)
}

// DecodeAddress reads a bech32 account address of any chain (cosmos1…,
// osmo1…) and returns its hrp and account id. It refuses bech32m, mixed
// case, a bad checksum and an id that is neither 20 nor 32 bytes.
func DecodeAddress(s string) (hrp string, id []byte, err error) {
	if len(s) > 100 {
		return "", nil, errAddress
	}
	hrp, data, version, err := bech32.DecodeGeneric(s)
	if err != nil || version != bech32.Version0 || hrp == "" {
		return "", nil, errAddress
	}
	id, err = bech32.ConvertBits(data, 5, 8, false)
	if err != nil || (len(id) != 20 && len(id) != 32) {
		return "", nil, errAddress
	}
	return hrp, id, nil
}

// ValidAddress reports whether s is a Cosmos Hub account address
// (cosmos1…, lower case, good checksum).
func ValidAddress(s string) bool {
	hrp, _, err := DecodeAddress(s)
	return err == nil && hrp == HRP && s == toLower(s)
}

// validForeign reports whether s is an account address of any chain, as
// an IBC packet's sender on the chain it came from is written.
func validForeign(s string) bool {
	_, _, err := DecodeAddress(s)
	return err == nil
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
