package proof

import (
	"encoding/base64"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
)

func network(t testing.TB, id string) Chain {
	t.Helper()
	for _, n := range chains.DefaultNetworks() {
		if n.ID == id {
			return ChainOf(n)
		}
	}
	t.Fatalf("no network %s", id)
	return Chain{}
}

func refused(t *testing.T, err error, what string) {
	t.Helper()
	var e *recovery.Error
	if err == nil {
		t.Errorf("%s: accepted", what)
	} else if !errorAs(err, &e) || e.Field != "signature" {
		t.Errorf("%s: %v, want a refusal naming the signature", what, err)
	}
}

func errorAs(err error, e **recovery.Error) bool {
	re, ok := err.(*recovery.Error)
	*e = re
	return ok
}

func TestEVMPersonalSign(t *testing.T) {
	key, _ := crypto.GenerateKey()
	other, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey).Hex()
	msg := Message("eth.abc.v", "alice")
	sig, err := crypto.Sign(accounts.TextHash([]byte(msg)), key)
	if err != nil {
		t.Fatal(err)
	}
	eth := network(t, "eth")
	if err := Verify(eth, from, msg, hexutil.Encode(sig)); err != nil {
		t.Fatalf("v as 0/1: %v", err)
	}
	sig27 := append([]byte(nil), sig...)
	sig27[64] += 27
	if err := Verify(eth, from, msg, hexutil.Encode(sig27)); err != nil {
		t.Fatalf("v as 27/28 (what wallets write): %v", err)
	}
	otherSig, _ := crypto.Sign(accounts.TextHash([]byte(msg)), other)
	refused(t, Verify(eth, from, msg, hexutil.Encode(otherSig)), "signed by another key")
	refused(t, Verify(eth, from, Message("eth.abc.v", "mallory"), hexutil.Encode(sig27)), "another claim")
	refused(t, Verify(eth, from, msg, "0x1234"), "short signature")
	refused(t, Verify(eth, from, msg, ""), "no signature")
	refused(t, Verify(eth, "not-an-address", msg, hexutil.Encode(sig27)), "bad address")
}

func TestUTXOSignMessage(t *testing.T) {
	key, _ := btcec.NewPrivateKey()
	other, _ := btcec.NewPrivateKey()
	for _, id := range []string{"btc", "ltc", "doge"} {
		n := network(t, id)
		p, err := utxo.ParamsFor(n.Params)
		if err != nil {
			t.Fatal(err)
		}
		msg := Message(id+".abc.o0", "bob")
		sign := func(k *btcec.PrivateKey, compressed bool, message string) string {
			hash, err := UTXOHash(n.Params, message)
			if err != nil {
				t.Fatal(err)
			}
			return base64.StdEncoding.EncodeToString(ecdsa.SignCompact(k, hash, compressed))
		}
		keyHash := address.Hash160(key.PubKey().SerializeCompressed())
		encode := func(info utxo.AddressInfo) string {
			s, err := info.Encode(p)
			if err != nil {
				t.Fatalf("%s %s: %v", id, info.Kind, err)
			}
			return s
		}
		addrs := map[string]string{
			"p2pkh":               encode(utxo.AddressInfo{Kind: utxo.P2PKH, Hash: keyHash}),
			"p2sh-wrapped p2wpkh": encode(utxo.AddressInfo{Kind: utxo.P2SH, Hash: address.Hash160(append([]byte{0, 0x14}, keyHash...))}),
		}
		if p.Bech32HRP != "" {
			addrs["p2wpkh"] = encode(utxo.AddressInfo{Kind: utxo.P2WPKH, Hash: keyHash})
		}
		good := sign(key, true, msg)
		for kind, a := range addrs {
			if err := Verify(n, a, msg, good); err != nil {
				t.Errorf("%s %s %s: %v", id, kind, a, err)
			}
			refused(t, Verify(n, a, msg, sign(other, true, msg)), id+" "+kind+": another key")
			refused(t, Verify(n, a, Message(id+".abc.o0", "mallory"), good), id+" "+kind+": another claim")
		}
		// An uncompressed key signs for its own (uncompressed) P2PKH only.
		uncompressed := encode(utxo.AddressInfo{Kind: utxo.P2PKH, Hash: address.Hash160(key.PubKey().SerializeUncompressed())})
		if err := Verify(n, uncompressed, msg, sign(key, false, msg)); err != nil {
			t.Errorf("%s uncompressed p2pkh: %v", id, err)
		}
		refused(t, Verify(n, addrs["p2pkh"], msg, sign(key, false, msg)), id+": uncompressed signature for the compressed address")
		refused(t, Verify(n, addrs["p2pkh"], msg, "not base64!"), id+": garbage")
	}
	// Each chain signs with its own prefix: a Bitcoin signature is no
	// Litecoin one.
	h1, _ := UTXOHash("btc", "m")
	h2, _ := UTXOHash("ltc-regtest", "m")
	if string(h1) == string(h2) {
		t.Error("btc and ltc messages hash the same")
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("eth", "0x52908400098527886E0F7030069857D2E4169EE7", "m", "0x00")
	f.Add("btc", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "m", "H+/w")
	f.Fuzz(func(t *testing.T, id, addr, msg, sig string) {
		for _, n := range chains.DefaultNetworks() {
			if n.ID == id {
				_ = Verify(ChainOf(n), addr, msg, sig) // must not panic
			}
		}
	})
}
