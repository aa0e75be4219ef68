package proof

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/misdeposit/recovery/chains/atom"
)

// signCosmos signs digest as the SDK's secp256k1 key does: 64 bytes r||s,
// low s.
func signCosmos(key *btcec.PrivateKey, digest []byte) []byte {
	compact := ecdsa.SignCompact(key, digest, true) // header byte, r, s; s is low
	return compact[1:]
}

// A Cosmos Hub claimant signs the case's message with Keplr's
// signArbitrary (ADR-036) and hands over pub_key.value and signature.
func TestCosmosSignArbitrary(t *testing.T) {
	key, _ := btcec.NewPrivateKey()
	pub := key.PubKey().SerializeCompressed()
	from := atom.AddressOfPublicKey(pub)
	msg := Message("atom.ab.v", "kim")
	doc := sha256.Sum256(CosmosSignDoc(from, msg))
	sig := signCosmos(key, doc[:])
	chain := network(t, "atom")
	b64 := base64.StdEncoding.EncodeToString
	text := b64(pub) + ":" + b64(sig)
	if err := Verify(chain, from, msg, text); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	if err := Verify(chain, from, msg, hex.EncodeToString(pub)+":"+hex.EncodeToString(sig)); err != nil {
		t.Fatalf("the same in hex: %v", err)
	}
	raw := sha256.Sum256([]byte(msg))
	if err := Verify(chain, from, msg, b64(pub)+":"+b64(signCosmos(key, raw[:]))); err != nil {
		t.Fatalf("a signature of the message's bytes: %v", err)
	}
	// The same key sent from Osmosis (an IBC transfer's sender).
	osmo, _ := atom.EncodeAddress("osmo", atom.AccountHash(pub))
	osmoDoc := sha256.Sum256(CosmosSignDoc(osmo, msg))
	if err := Verify(chain, osmo, msg, b64(pub)+":"+b64(signCosmos(key, osmoDoc[:]))); err != nil {
		t.Fatalf("signed on Osmosis: %v", err)
	}

	refused(t, Verify(chain, from, Message("atom.ab.v", "lee"), text), "another claim's message")
	other, _ := btcec.NewPrivateKey()
	otherPub := other.PubKey().SerializeCompressed()
	refused(t, Verify(chain, from, msg, b64(otherPub)+":"+b64(signCosmos(other, doc[:]))), "another account's key")
	refused(t, Verify(chain, from, msg, b64(pub)+":"+b64(signCosmos(other, doc[:]))), "a signature by another key")
	refused(t, Verify(chain, from, msg, b64(sig)), "a signature without the public key")
	refused(t, Verify(chain, "cosmos1notanaddress", msg, text), "a sender that is no address")
	// The same signature with s replaced by n - s verifies in ECDSA, but
	// the SDK refuses it: so does the engine.
	var s btcec.ModNScalar
	s.SetByteSlice(sig[32:])
	s.Negate()
	high := s.Bytes()
	refused(t, Verify(chain, from, msg, b64(pub)+":"+b64(append(append([]byte{}, sig[:32]...), high[:]...))), "a high-s signature")
}

// A signature Keplr's signArbitrary made, as published with its
// verifyADR36Amino example: the message is the signer's own address.
func TestCosmosKeplrVector(t *testing.T) {
	addr := "cosmos1m9l358xunhhwds0568za49mzhvuxx9uxre5tud"
	text := "A/MdHVpitzHNSdD1Zw3kY+L5PEIPyd9l6sD5i4aIfXp9:vb78/y129cOiWyQkeFF8wCKZsOyzjpILnpEVZ72o5YUhEOmQZzVPcbUqWPLR7aZQ20j6vnYhIuCQN0HEG3igFg=="
	if err := Verify(network(t, "atom"), addr, addr, text); err != nil {
		t.Fatalf("Keplr's signature: %v", err)
	}
}
