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

// X-addresses (XLS-5d) pack a classic address and an optional destination
// tag into one string, as some wallets show an exchange's deposit address:
// base58 of a 2-byte prefix (mainnet "X…", testnet "T…"), the 20-byte
// account id, a flag byte (0 no tag, 1 a 32-bit tag), the tag in 8
// little-endian bytes (the top four zero) and a 4-byte checksum.
var (
	xPrefixMain = [2]byte{0x05, 0x44}
	xPrefixTest = [2]byte{0x04, 0x93}
)

const xAddressLen = 2 + 20 + 1 + 8 + 4

var errXAddress = errors.New("not an X-address")

// XAddress is what an X-address holds.
type XAddress struct {
	Classic string // the classic address ("r…")
	Tag     uint32
	HasTag  bool
	Test    bool // written for a test network ("T…")
}

// DecodeXAddress reads an X-address; it refuses any other text, classic
// addresses included.
func DecodeXAddress(s string) (XAddress, error) {
	if len(s) != 47 || (s[0] != 'X' && s[0] != 'T') {
		return XAddress{}, errXAddress
	}
	raw, ok := decode58(s)
	if !ok || len(raw) != xAddressLen {
		return XAddress{}, errXAddress
	}
	if sum := checksum(raw[:xAddressLen-4]); !bytes.Equal(sum[:], raw[xAddressLen-4:]) {
		return XAddress{}, errXAddress
	}
	var x XAddress
	switch [2]byte(raw[:2]) {
	case xPrefixMain:
	case xPrefixTest:
		x.Test = true
	default:
		return XAddress{}, errXAddress
	}
	x.Classic = EncodeAddress(raw[2:22])
	flag, tag := raw[22], raw[23:31]
	if flag > 1 || tag[4]|tag[5]|tag[6]|tag[7] != 0 {
		return XAddress{}, errXAddress // a 64-bit tag is reserved, and no tag is on the ledger
	}
	x.Tag = uint32(tag[0]) | uint32(tag[1])<<8 | uint32(tag[2])<<16 | uint32(tag[3])<<24
	x.HasTag = flag == 1
	if !x.HasTag && x.Tag != 0 {
		return XAddress{}, errXAddress
	}
	return x, nil
}

// EncodeXAddress writes x as an X-address.
func EncodeXAddress(x XAddress) (string, error) {
	id, err := DecodeAddress(x.Classic)
	if err != nil {
		return "", err
	}
	prefix := xPrefixMain
	if x.Test {
		prefix = xPrefixTest
	}
	raw := append(prefix[:], id...)
	var flag byte
	if x.HasTag {
		flag = 1
	} else if x.Tag != 0 {
		return "", errors.New("a tag without its flag")
	}
	raw = append(raw, flag, byte(x.Tag), byte(x.Tag>>8), byte(x.Tag>>16), byte(x.Tag>>24), 0, 0, 0, 0)
	sum := checksum(raw)
	return encode58(append(raw, sum[:]...)), nil
}
