package signer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/devchain/keystore"
)

// Keystore signs with keys of the dev HD keystore: a deposit key is the
// user's dev deposit key (the one `recovery dev` issues addresses from), a
// hot wallet key is derived from the network's id under a purpose of its
// own. It is for development and tests: the seed sits in a file.
type Keystore struct {
	ks *keystore.Keystore
}

// NewKeystore returns a signer on ks.
func NewKeystore(ks *keystore.Keystore) *Keystore { return &Keystore{ks: ks} }

var _ Signer = (*Keystore)(nil)

// PublicKey implements Signer.
func (s *Keystore) PublicKey(_ context.Context, k Key) ([]byte, error) {
	priv, err := s.key(k)
	if err != nil {
		return nil, err
	}
	return priv.PubKey().SerializeCompressed(), nil
}

// Sign implements Signer.
func (s *Keystore) Sign(_ context.Context, k Key, digest [32]byte) ([]byte, error) {
	priv, err := s.key(k)
	if err != nil {
		return nil, err
	}
	// SignCompact gives [27 + 4 + V] || R || S for a compressed key, with
	// S low (RFC 6979 nonces).
	compact := ecdsa.SignCompact(priv, digest[:], true)
	sig := make([]byte, 65)
	copy(sig, compact[1:])
	sig[64] = compact[0] - 27 - 4
	return sig, nil
}

func (s *Keystore) key(k Key) (*btcec.PrivateKey, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	coin := keystore.CoinUTXO
	if k.Family == recovery.FamilyEVM {
		coin = keystore.CoinEVM
	}
	if k.Use == UseHot {
		return s.ks.Key(coin, keystore.PurposeHot, HotIndex(k.Owner))
	}
	return s.ks.Key(coin, keystore.PurposeUser, keystore.UserIndex(k.Owner))
}

// HotIndex is the keystore index of a network's hot wallet key.
func HotIndex(network string) uint32 {
	sum := sha256.Sum256([]byte("hot:" + network))
	return binary.BigEndian.Uint32(sum[:4]) &^ hdkeychain.HardenedKeyStart
}
