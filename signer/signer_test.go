package signer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/devchain/keystore"
	"github.com/misdeposit/recovery/signer"
)

func devSigner(t *testing.T) (*signer.Keystore, *keystore.Keystore) {
	t.Helper()
	ks, err := keystore.FromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return signer.NewKeystore(ks), ks
}

func network(t *testing.T, id string) chains.Network {
	t.Helper()
	for _, n := range chains.DefaultNetworks() {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("no network %s", id)
	return chains.Network{}
}

// A signature recovers to the key's public key, in the form EVM
// transactions take.
func TestSignRecoversToThePublicKey(t *testing.T) {
	s, _ := devSigner(t)
	ctx := context.Background()
	for _, k := range []signer.Key{
		{Use: signer.UseDeposit, Family: recovery.FamilyEVM, Owner: "alice"},
		{Use: signer.UseHot, Family: recovery.FamilyUTXO, Owner: "btc"},
	} {
		digest := [32]byte{1, 2, 3}
		sig, err := s.Sign(ctx, k, digest)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != 65 || sig[64] > 1 {
			t.Fatalf("%s: signature %x is not [R || S || V]", k, sig)
		}
		got, err := crypto.SigToPub(digest[:], sig)
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.PublicKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(crypto.CompressPubkey(got), want) {
			t.Fatalf("%s: signature recovers to another key", k)
		}
	}
}

// A user's deposit key is the key behind the dev deposit addresses; each
// network's hot wallet has a key of its own.
func TestAddresses(t *testing.T) {
	s, ks := devSigner(t)
	ctx := context.Background()
	alice := signer.Key{Use: signer.UseDeposit, Family: recovery.FamilyEVM, Owner: "alice"}
	got, err := signer.Address(ctx, s, alice, network(t, "eth"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ks.EVMAddress(keystore.PurposeUser, keystore.UserIndex("alice"))
	if got != want.Hex() {
		t.Fatalf("alice's deposit address %s, want %s", got, want.Hex())
	}
	eth, _ := signer.Address(ctx, s, signer.Key{Use: signer.UseHot, Family: recovery.FamilyEVM, Owner: "eth"}, network(t, "eth"))
	bsc, _ := signer.Address(ctx, s, signer.Key{Use: signer.UseHot, Family: recovery.FamilyEVM, Owner: "bsc"}, network(t, "bsc"))
	if eth == bsc || eth == got {
		t.Fatalf("hot wallets eth %s, bsc %s, deposit %s: not distinct", eth, bsc, got)
	}
	btc, err := signer.Address(ctx, s, signer.Key{Use: signer.UseHot, Family: recovery.FamilyUTXO, Owner: "btc"}, network(t, "btc"))
	if err != nil || !strings.HasPrefix(btc, "bc1q") {
		t.Fatalf("btc hot wallet %q, %v: want a P2WPKH address", btc, err)
	}
	doge, err := signer.Address(ctx, s, signer.Key{Use: signer.UseHot, Family: recovery.FamilyUTXO, Owner: "doge"}, network(t, "doge"))
	if err != nil || !strings.HasPrefix(doge, "D") {
		t.Fatalf("doge hot wallet %q, %v: want a P2PKH address", doge, err)
	}
	if _, err := signer.Address(ctx, s, alice, network(t, "btc")); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("an EVM key on btc: %v", err)
	}
}

func TestKeysRefused(t *testing.T) {
	s, _ := devSigner(t)
	for _, k := range []signer.Key{
		{Use: "cold", Family: recovery.FamilyEVM, Owner: "alice"},
		{Use: signer.UseDeposit, Family: recovery.FamilyMemo, Owner: "alice"},
		{Use: signer.UseDeposit, Family: recovery.FamilyEVM, Owner: ""},
		{Use: signer.UseDeposit, Family: recovery.FamilyEVM, Owner: "a b"},
	} {
		if _, err := s.Sign(context.Background(), k, [32]byte{}); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("%s: %v, want a refusal", k, err)
		}
	}
}
