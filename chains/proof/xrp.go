package proof

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/misdeposit/recovery/chains/xrp"
)

// XRPHash is what an XRP Ledger secp256k1 key signs for message:
// SHA-512Half, the first 32 bytes of SHA-512 of the message's bytes, as
// ripple-keypairs' sign does. An Ed25519 key signs the bytes themselves.
func XRPHash(message string) []byte {
	sum := sha512.Sum512([]byte(message))
	return sum[:32]
}

// verifyXRP checks a signature written "<public key>:<signature>", both in
// hex: the account's 33-byte public key as a transaction's SigningPubKey
// carries it (secp256k1 compressed, or 0xED and an Ed25519 key), and
// ripple-keypairs' signature of the message's UTF-8 bytes with it (DER
// ECDSA over XRPHash for secp256k1, 64 bytes of Ed25519 over the bytes).
// The key must derive addr, the classic address the deposit came from.
func verifyXRP(addr, message, signature string) error {
	want, err := xrp.DecodeAddress(addr)
	if err != nil {
		return bad("the sending address %q is not an XRP Ledger classic address", addr)
	}
	keyHex, sigHex, ok := strings.Cut(signature, ":")
	key, err1 := hex.DecodeString(strings.TrimSpace(keyHex))
	sig, err2 := hex.DecodeString(strings.TrimSpace(sigHex))
	if !ok || err1 != nil || err2 != nil || len(key) != 33 || len(sig) == 0 {
		return bad("write the signature as the sending account's public key (66 hexadecimal digits, as SigningPubKey shows it), a colon, and the signature in hexadecimal")
	}
	if xrp.EncodeAddress(xrp.AccountID(key)) != xrp.EncodeAddress(want) {
		return bad("the public key is not the master key of %s, the address the deposit came from (an account that signs with a regular key or a multi-signature list is confirmed by a specialist)", addr)
	}
	if key[0] == 0xED {
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(key[1:]), []byte(message), sig) {
			return bad("the message was not signed by %s, the address the deposit came from", addr)
		}
		return nil
	}
	pub, err := btcec.ParsePubKey(key)
	if err != nil {
		return bad("the public key cannot be read: %v", err)
	}
	s, err := ecdsa.ParseDERSignature(sig)
	if err != nil {
		return bad("the signature cannot be read: %v", err)
	}
	if !s.Verify(XRPHash(message), pub) {
		return bad("the message was not signed by %s, the address the deposit came from", addr)
	}
	return nil
}
