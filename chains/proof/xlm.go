package proof

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"

	"github.com/misdeposit/recovery/chains/xlm"
)

// sep53Prefix is what SEP-53 puts before a message it signs.
const sep53Prefix = "Stellar Signed Message:\n"

// XLMHash is what a Stellar key signs for message under SEP-53 ("Sign and
// Verify Messages"), as Freighter's signMessage and the stellar CLI's
// `message sign` do: SHA-256 of "Stellar Signed Message:\n" and the
// message's UTF-8 bytes.
func XLMHash(message string) []byte {
	sum := sha256.Sum256([]byte(sep53Prefix + message))
	return sum[:]
}

// verifyXLM checks a 64-byte Ed25519 signature, in base64 (as SEP-53
// wallets write it) or in 128 hexadecimal digits, by the key of addr, the
// sending account: a Stellar account id is its public key, so nothing but
// the signature is handed over. The signature is of XLMHash(message)
// (SEP-53) or, for a wallet that signs raw bytes, of the message's UTF-8
// bytes themselves.
func verifyXLM(addr, message, signature string) error {
	pub, err := xlm.DecodeAddress(addr)
	if err != nil {
		return bad("the sending address %q is not a Stellar account id (G…)", addr)
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		sig, err = hex.DecodeString(signature)
	}
	if err != nil || len(sig) != ed25519.SignatureSize {
		return bad("the signature is 64 bytes in base64 (88 characters), as a wallet's SEP-53 signMessage writes it, or in 128 hexadecimal digits")
	}
	if !ed25519.Verify(pub, XLMHash(message), sig) && !ed25519.Verify(pub, []byte(message), sig) {
		return bad("the message was not signed by %s, the address the deposit came from (an account whose master key is not its signer is confirmed by a specialist)", addr)
	}
	return nil
}
