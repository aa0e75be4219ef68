package proof

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/misdeposit/recovery/chains/atom"
)

// CosmosSignDoc is what a Cosmos wallet's signArbitrary (Keplr, Leap,
// cosmjs; ADR-036) signs for message and signer: the amino JSON of a
// transaction that can never be valid (chain_id "", no fee, sequence 0)
// whose one message, sign/MsgSignData, carries the message's bytes in
// base64, with its keys sorted and no spaces.
func CosmosSignDoc(signer, message string) []byte {
	// Every field is fixed but the address and base64, which json.Marshal
	// writes as they are.
	s, _ := json.Marshal(signer)
	return []byte(`{"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"","msgs":[{"type":"sign/MsgSignData","value":{"data":"` +
		base64.StdEncoding.EncodeToString([]byte(message)) + `","signer":` + string(s) + `}}],"sequence":"0"}`)
}

// verifyCosmos checks a signature written "<public key>:<signature>": the
// sending account's 33-byte compressed secp256k1 key and its 64-byte r||s
// signature, each in base64 as signArbitrary returns them (pub_key.value
// and signature) or in hex. The signature is over SHA-256 of
// CosmosSignDoc(addr, message), or over SHA-256 of the message's bytes
// themselves, for tools that sign raw bytes with the key. The key must
// derive addr: RIPEMD160(SHA256(key)) is its bech32 account id, whatever
// its prefix (cosmos1…, or osmo1… for an IBC transfer's sender on
// Osmosis). A key the Hub shows in the transaction's signer_infos is the
// one that derives its sender, so it is checked through the address.
func verifyCosmos(addr, message, signature string) error {
	_, want, err := atom.DecodeAddress(addr)
	if err != nil || len(want) != 20 {
		return bad("the sending address %q is not a Cosmos account address", addr)
	}
	keyText, sigText, ok := strings.Cut(signature, ":")
	key, ok1 := decodeKeyBytes(keyText, 33)
	sig, ok2 := decodeKeyBytes(sigText, 64)
	if !ok || !ok1 || !ok2 {
		return bad("write the signature as the public key, a colon, and the signature, as your wallet's signArbitrary returns them (pub_key.value and signature, in base64)")
	}
	if !bytes.Equal(atom.AccountHash(key), want) {
		return bad("the public key is not the key of %s, the address the deposit came from (a multisig or an Ethereum-style key is confirmed by a specialist)", addr)
	}
	pub, err := btcec.ParsePubKey(key)
	if err != nil {
		return bad("the public key cannot be read: %v", err)
	}
	var r, s btcec.ModNScalar
	if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() || s.IsOverHalfOrder() {
		// The SDK accepts only low-s signatures.
		return bad("the signature cannot be read")
	}
	es := ecdsa.NewSignature(&r, &s)
	doc := sha256.Sum256(CosmosSignDoc(addr, message))
	raw := sha256.Sum256([]byte(message))
	if !es.Verify(doc[:], pub) && !es.Verify(raw[:], pub) {
		return bad("the message was not signed by %s, the address the deposit came from", addr)
	}
	return nil
}

// decodeKeyBytes reads n bytes written in hex or base64 (standard, with
// padding); the lengths tell them apart.
func decodeKeyBytes(s string, n int) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 2*n {
		b, err := hex.DecodeString(s)
		return b, err == nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	return b, err == nil && len(b) == n
}
