package proof

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/xrp"
)

// An XRP Ledger claimant signs the case's message with the sending
// account's key, as ripple-keypairs' sign does, and hands over the public
// key with the signature.
func TestXRPSecp256k1(t *testing.T) {
	key, _ := btcec.NewPrivateKey()
	pub := key.PubKey().SerializeCompressed()
	from := xrp.AddressOfPublicKey(pub)
	msg := Message("xrp.ab.v", "kim")
	sig := ecdsa.Sign(key, XRPHash(msg)).Serialize()
	chain := network(t, "xrp")
	text := strings.ToUpper(hex.EncodeToString(pub)) + ":" + strings.ToUpper(hex.EncodeToString(sig))
	if err := Verify(chain, from, msg, text); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	refused(t, Verify(chain, from, Message("xrp.ab.v", "lee"), text), "another claim's message")

	other, _ := btcec.NewPrivateKey()
	otherPub := other.PubKey().SerializeCompressed()
	otherSig := ecdsa.Sign(other, XRPHash(msg)).Serialize()
	refused(t, Verify(chain, from, msg, hex.EncodeToString(otherPub)+":"+hex.EncodeToString(otherSig)), "another account's key")
	refused(t, Verify(chain, from, msg, hex.EncodeToString(pub)+":"+hex.EncodeToString(otherSig)), "a signature by another key")
	refused(t, Verify(chain, from, msg, hex.EncodeToString(sig)), "a signature without the public key")
	refused(t, Verify(chain, "rNotAnAddress", msg, text), "a sender that is no address")
}

func TestXRPEd25519(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	key := append([]byte{0xED}, pub...)
	from := xrp.AddressOfPublicKey(key)
	msg := Message("xrp.cd.v", "lee")
	text := hex.EncodeToString(key) + ":" + hex.EncodeToString(ed25519.Sign(priv, []byte(msg)))
	chain := network(t, "xrp")
	if err := Verify(chain, from, msg, text); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	refused(t, Verify(chain, from, msg+" ", text), "a changed message")
	// The same key without its ED prefix is another account.
	refused(t, Verify(chain, xrp.AddressOfPublicKey(append([]byte{0x02}, pub...)), msg, text), "the key of another address")
}

// Memo networks without an adapter still go to a specialist.
func TestMemoNetworksWithoutFormat(t *testing.T) {
	refused(t, Verify(Chain{ID: "other", Family: recovery.FamilyMemo, Params: "other-ledger"}, "addr", "m", "sig"), "a signature on a ledger without a format")
}
