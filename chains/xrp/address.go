package xrp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
)

// alphabet is the XRP Ledger's base58 alphabet: Bitcoin's digits in another
// order, so that a classic address starts with "r".
const alphabet = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"

// accountVersion is the version byte of a classic address (an AccountID).
const accountVersion = 0x00

var errAddress = errors.New("not a classic XRP Ledger address")

// AccountID is the 20-byte account id a public key derives:
// RIPEMD160(SHA256(key)), over the 33 bytes of a compressed secp256k1 key
// or of an Ed25519 key with its 0xED prefix.
func AccountID(pubKey []byte) []byte { return address.Hash160(pubKey) }

// AddressOfPublicKey is the classic address ("r…") of a public key as a
// transaction's SigningPubKey carries it.
func AddressOfPublicKey(pubKey []byte) string { return EncodeAddress(AccountID(pubKey)) }

// EncodeAddress writes a 20-byte account id as a classic address: base58
// (XRPL alphabet) of version byte 0, the id and a 4-byte double-SHA256
// checksum.
func EncodeAddress(accountID []byte) string {
	payload := append([]byte{accountVersion}, accountID...)
	sum := checksum(payload)
	return encode58(append(payload, sum[:]...))
}

// DecodeAddress reads a classic address and returns its account id. It
// refuses any other text, X-addresses included.
func DecodeAddress(s string) ([]byte, error) {
	if len(s) < 25 || len(s) > 35 || s[0] != 'r' {
		return nil, errAddress
	}
	raw, ok := decode58(s)
	if !ok || len(raw) != 25 || raw[0] != accountVersion {
		return nil, errAddress
	}
	sum := checksum(raw[:21])
	if !bytes.Equal(sum[:], raw[21:]) {
		return nil, errAddress
	}
	return raw[1:21], nil
}

// ValidAddress reports whether s is a classic address with a good checksum.
func ValidAddress(s string) bool {
	_, err := DecodeAddress(s)
	return err == nil
}

func checksum(b []byte) [4]byte {
	first := sha256.Sum256(b)
	second := sha256.Sum256(first[:])
	return [4]byte(second[:4])
}

func encode58(b []byte) string {
	n := new(big.Int).SetBytes(b)
	base, mod := big.NewInt(58), new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		out = append(out, alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, alphabet[0])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func decode58(s string) ([]byte, bool) {
	n := new(big.Int)
	base := big.NewInt(58)
	for _, r := range s {
		i := strings.IndexRune(alphabet, r)
		if i < 0 {
			return nil, false
		}
		n.Mul(n, base)
		n.Add(n, big.NewInt(int64(i)))
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == alphabet[0] {
		zeros++
	}
	return append(make([]byte, zeros), n.Bytes()...), true
}
