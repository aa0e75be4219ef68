package utxo

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2/bech32"
)

// Bitcoin Cash's cashaddr format (spec: bitcoincashorg/bitcoincash.org,
// spec/cashaddr.md): bech32's alphabet with a 40-bit BCH-code checksum over
// the prefix, a version byte (type and hash size) and the hash.

const cashAddrCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var cashAddrRev = func() (rev [128]int8) {
	for i := range rev {
		rev[i] = -1
	}
	for i, c := range cashAddrCharset {
		rev[c] = int8(i)
	}
	return rev
}()

func cashAddrPolymod(values []byte) uint64 {
	c := uint64(1)
	for _, d := range values {
		c0 := c >> 35
		c = ((c & 0x07ffffffff) << 5) ^ uint64(d)
		if c0&0x01 != 0 {
			c ^= 0x98f2bc8e61
		}
		if c0&0x02 != 0 {
			c ^= 0x79b76d99e2
		}
		if c0&0x04 != 0 {
			c ^= 0xf33e5fb3c4
		}
		if c0&0x08 != 0 {
			c ^= 0xae2eabe2a8
		}
		if c0&0x10 != 0 {
			c ^= 0x1e4f43e470
		}
	}
	return c ^ 1
}

// cashAddrChecksumInput is the prefix's low five bits, a zero separator and
// the payload, as the checksum covers them.
func cashAddrChecksumInput(prefix string, payload []byte) []byte {
	v := make([]byte, 0, len(prefix)+1+len(payload)+8)
	for i := 0; i < len(prefix); i++ {
		v = append(v, prefix[i]&0x1f)
	}
	v = append(v, 0)
	return append(v, payload...)
}

func encodeCashAddr(prefix string, isP2SH bool, hash []byte) (string, error) {
	if len(hash) != 20 {
		return "", fmt.Errorf("cashaddr needs a 20-byte hash, got %d", len(hash))
	}
	version := byte(0) // type 0 (P2PKH), size 0 (160 bits)
	if isP2SH {
		version = 1 << 3
	}
	payload, err := bech32.ConvertBits(append([]byte{version}, hash...), 8, 5, true)
	if err != nil {
		return "", err
	}
	mod := cashAddrPolymod(append(cashAddrChecksumInput(prefix, payload), make([]byte, 8)...))
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte(':')
	for _, d := range payload {
		b.WriteByte(cashAddrCharset[d])
	}
	for i := 0; i < 8; i++ {
		b.WriteByte(cashAddrCharset[(mod>>(5*(7-i)))&0x1f])
	}
	return b.String(), nil
}

// isCashAddrPayload reports whether s looks like a cashaddr written without
// its prefix, as wallets often show it: 42 characters starting with q or p.
func isCashAddrPayload(s string) bool {
	l := strings.ToLower(s)
	return len(l) == 42 && (l[0] == 'q' || l[0] == 'p')
}

// decodeCashAddr reads "prefix:payload" or a bare payload (checked against
// the expected prefix). Only 160-bit hashes are accepted: the larger sizes
// the spec allows are not used by standard outputs.
func decodeCashAddr(prefix, s string) (isP2SH bool, hash []byte, err error) {
	if s != strings.ToLower(s) && s != strings.ToUpper(s) {
		return false, nil, fmt.Errorf("mixed case")
	}
	s = strings.ToLower(s)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if s[:i] != prefix {
			return false, nil, fmt.Errorf("prefix %q is not %q", s[:i], prefix)
		}
		s = s[i+1:]
	}
	if len(s) != 42 {
		return false, nil, fmt.Errorf("payload of %d characters, want 42", len(s))
	}
	values := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 128 || cashAddrRev[c] < 0 {
			return false, nil, fmt.Errorf("invalid character %q", c)
		}
		values[i] = byte(cashAddrRev[c])
	}
	if cashAddrPolymod(cashAddrChecksumInput(prefix, values)) != 0 {
		return false, nil, fmt.Errorf("bad checksum")
	}
	data, err := bech32.ConvertBits(values[:len(values)-8], 5, 8, false)
	if err != nil {
		return false, nil, err
	}
	if len(data) != 21 {
		return false, nil, fmt.Errorf("payload of %d bytes, want 21", len(data))
	}
	switch data[0] {
	case 0:
		return false, data[1:], nil
	case 1 << 3:
		return true, data[1:], nil
	}
	return false, nil, fmt.Errorf("unsupported version byte %#x", data[0])
}
