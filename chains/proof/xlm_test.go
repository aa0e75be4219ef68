package proof

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/misdeposit/recovery/chains/xlm"
)

// SEP-53's own test cases: the seed, its account and the signatures of
// two messages.
func TestXLMSEP53Vectors(t *testing.T) {
	const from = "GBXFXNDLV4LSWA4VB7YIL5GBD7BVNR22SGBTDKMO2SBZZHDXSKZYCP7L"
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString("SAKICEVQLYWGSOJS4WW7HZJWAHZVEEBS527LHK5V4MLJALYKICQCJXMW")
	if err != nil || len(raw) != 35 {
		t.Fatal(err)
	}
	key := ed25519.NewKeyFromSeed(raw[1:33])
	if got := xlm.EncodeAddress(key.Public().(ed25519.PublicKey)); got != from {
		t.Fatalf("the seed's account is %s, want %s", got, from)
	}
	chain := network(t, "xlm")
	for msg, sig := range map[string]string{
		"Hello, World!": "fO5dbYhXUhBMhe6kId/cuVq/AfEnHRHEvsP8vXh03M1uLpi5e46yO2Q8rEBzu3feXQewcQE5GArp88u6ePK6BA==",
		"こんにちは、世界！":     "083536eb95ecf32dce59b07fe7a1fd8cf814b2ce46f40d2a16e4ea1f6cecd980e04e6fbef9d21f98011c785a81edb85f3776a6e7d942b435eb0adc07da4d4604",
	} {
		if err := Verify(chain, from, msg, sig); err != nil {
			t.Errorf("%q: %v", msg, err)
		}
		refused(t, Verify(chain, from, msg+".", sig), "a changed message")
	}
	// The engine's message, signed as a SEP-53 wallet does.
	msg := Message("xlm.ab.v", "kim")
	good := base64.StdEncoding.EncodeToString(ed25519.Sign(key, XLMHash(msg)))
	if err := Verify(chain, from, msg, good); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	refused(t, Verify(chain, from, Message("xlm.ab.v", "lee"), good), "another claim's message")
}

// A wallet without SEP-53 signs the message's bytes; the key is still the
// sending account's.
func TestXLMRawSignature(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	from := xlm.EncodeAddress(pub)
	msg := Message("xlm.cd.v", "lee")
	chain := network(t, "xlm")
	if err := Verify(chain, from, msg, hex.EncodeToString(ed25519.Sign(priv, []byte(msg)))); err != nil {
		t.Fatalf("raw bytes, hex: %v", err)
	}
	refused(t, Verify(chain, from, msg, base64.StdEncoding.EncodeToString(ed25519.Sign(other, XLMHash(msg)))), "another account's key")
	refused(t, Verify(chain, from, msg, "not a signature"), "garbage")
	refused(t, Verify(chain, "GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHE", msg, hex.EncodeToString(ed25519.Sign(priv, []byte(msg)))), "a sender that is no account id")
}
