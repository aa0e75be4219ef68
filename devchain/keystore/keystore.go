// Package keystore is the development HD keystore: one random seed kept in
// the data directory, from which every dev key is derived (faucets, miners,
// users' deposit addresses). It is for `recovery dev` and tests only; in
// production keys sit behind an HSM or MPC signer.
package keystore

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/misdeposit/recovery/internal/securefile"
)

// Purpose separates key trees so that a user index can never collide with
// an operational key.
type Purpose uint32

const (
	PurposeUser   Purpose = 0 // deposit addresses of exchange users
	PurposeFaucet Purpose = 1 // funds the dev chains and demo senders
	PurposeSender Purpose = 2 // outside wallets that send the demo mis-deposits
	PurposeHot    Purpose = 3 // the exchange's hot wallets, one per network
)

// Coin types of BIP-44; they keep EVM and UTXO keys apart.
const (
	CoinUTXO uint32 = 0
	CoinEVM  uint32 = 60
)

const seedFile = "dev-seed.hex"

// Keystore derives keys from one seed.
type Keystore struct {
	master *hdkeychain.ExtendedKey
}

// Open loads the seed from dir, creating a new random one on first use.
func Open(dir string) (*Keystore, error) {
	path := filepath.Join(dir, seedFile)
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := create(path); err != nil {
			return nil, err
		}
		// Whoever created the seed first, every process reads that one.
		return Open(dir)
	case err != nil:
		return nil, fmt.Errorf("keystore: %w", err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("keystore: %s is not hex: %w", path, err)
	}
	return FromSeed(seed)
}

// create makes a new random seed at path, unless another process (a worker
// and an API starting together on one keystore) made one first: the seed
// is written to a file of its own and linked into place, which only one
// process can do.
func create(path string) error {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("keystore: new seed: %w", err)
	}
	if _, err := securefile.CreateOnce(path, []byte(hex.EncodeToString(seed)+"\n")); err != nil {
		return fmt.Errorf("keystore: save seed: %w", err)
	}
	return nil
}

// FromSeed builds a keystore from a fixed seed (16 to 64 bytes).
func FromSeed(seed []byte) (*Keystore, error) {
	// The chain params only set the serialisation version of the extended
	// key, which is never exported; derivation is the same for every chain.
	master, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	// Every derivation reads the parent's public key, which hdkeychain
	// computes on first use and caches in the key without a lock: computing
	// it here makes concurrent derivations from master read-only.
	if _, err := master.ECPubKey(); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return &Keystore{master: master}, nil
}

// Key derives m/44'/coin'/purpose'/0/index.
func (k *Keystore) Key(coin uint32, purpose Purpose, index uint32) (*btcec.PrivateKey, error) {
	path := []uint32{
		hdkeychain.HardenedKeyStart + 44,
		hdkeychain.HardenedKeyStart + coin,
		hdkeychain.HardenedKeyStart + uint32(purpose),
		0,
		index,
	}
	key := k.master
	for _, i := range path {
		var err error
		if key, err = key.Derive(i); err != nil {
			return nil, fmt.Errorf("keystore: derive: %w", err)
		}
	}
	return key.ECPrivKey()
}

// EVMKey derives an EVM key as go-ethereum wants it.
func (k *Keystore) EVMKey(purpose Purpose, index uint32) (*ecdsa.PrivateKey, error) {
	key, err := k.Key(CoinEVM, purpose, index)
	if err != nil {
		return nil, err
	}
	return crypto.ToECDSA(key.Serialize())
}

// EVMAddress is the address of EVMKey(purpose, index).
func (k *Keystore) EVMAddress(purpose Purpose, index uint32) (common.Address, error) {
	key, err := k.EVMKey(purpose, index)
	if err != nil {
		return common.Address{}, err
	}
	return crypto.PubkeyToAddress(key.PublicKey), nil
}

// UserIndex maps a user id to the index of the user's deposit key. Dev only:
// a hash keeps the mapping stateless; production address books assign
// indexes and store them.
func UserIndex(userID string) uint32 {
	sum := sha256.Sum256([]byte(userID))
	return binary.BigEndian.Uint32(sum[:4]) &^ hdkeychain.HardenedKeyStart
}
