package xlm

import (
	"crypto/ed25519"
	"encoding/base32"
	"errors"
)

// versionAccountID is the StrKey version byte of an account id (an
// Ed25519 public key): 6<<3, so that the text starts with "G".
const versionAccountID = 6 << 3

// addressLen is the length of an account id's StrKey: base32 of a version
// byte, 32 key bytes and a 2-byte checksum, 35 bytes, is 56 characters
// with no padding.
const addressLen = 56

var (
	strkey     = base32.StdEncoding.WithPadding(base32.NoPadding)
	errAddress = errors.New("not a Stellar account id (G…)")
)

// EncodeAddress writes an Ed25519 public key as its account id, the
// StrKey "G…": base32 (RFC 4648, no padding) of the version byte 6<<3,
// the 32 key bytes and their CRC16-XModem checksum, little-endian.
func EncodeAddress(pub ed25519.PublicKey) string {
	raw := make([]byte, 0, 35)
	raw = append(raw, versionAccountID)
	raw = append(raw, pub...)
	sum := crc16(raw)
	raw = append(raw, byte(sum), byte(sum>>8))
	return strkey.EncodeToString(raw)
}

// DecodeAddress reads an account id and returns the Ed25519 public key it
// is: on Stellar the address is the key. It refuses any other text: muxed
// accounts (M…), secret seeds (S…), contracts (C…), lower case and a bad
// checksum.
func DecodeAddress(s string) (ed25519.PublicKey, error) {
	if len(s) != addressLen || s[0] != 'G' {
		return nil, errAddress
	}
	raw, err := strkey.DecodeString(s)
	if err != nil || len(raw) != 35 || raw[0] != versionAccountID {
		return nil, errAddress
	}
	if sum := crc16(raw[:33]); raw[33] != byte(sum) || raw[34] != byte(sum>>8) {
		return nil, errAddress
	}
	// 35 bytes fill 56 characters exactly: no trailing bits to ignore, so
	// the text is the only one for its key.
	return ed25519.PublicKey(raw[1:33]), nil
}

// ValidAddress reports whether s is an account id with a good checksum.
func ValidAddress(s string) bool {
	_, err := DecodeAddress(s)
	return err == nil
}

// crc16 is CRC-16/XMODEM: polynomial 0x1021, initial value 0, no
// reflection, as StrKey's checksum.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
