// Package signer owns the keys the engine signs recovery transactions with:
// the Signer interface, which hands out public keys and signs digests and
// never lets a private key out, and Keystore, the development signer on the
// dev HD keystore. A production signer (an HSM, an MPC service, go-ethereum's
// external signer) implements the same two methods; nothing else in the
// engine touches a key.
package signer

import (
	"context"
	"fmt"
	"regexp"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
)

// Use says what a key is for.
type Use string

const (
	// UseDeposit is a user's deposit key: the key behind the addresses the
	// exchange issued to that user, on every network of a family.
	UseDeposit Use = "deposit"
	// UseHot is a network's hot wallet key, where recovered coins go and
	// from which gas is topped up.
	UseHot Use = "hot"
)

// Key names a key the exchange holds, never the key itself.
type Key struct {
	Use    Use             `json:"use"`
	Family recovery.Family `json:"family"`
	// Owner is the user id of a deposit key, the network id of a hot
	// wallet key.
	Owner string `json:"owner"`
}

func (k Key) String() string { return fmt.Sprintf("%s/%s/%s", k.Use, k.Family, k.Owner) }

var ownerPattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)

// Validate checks that k names a key a signer can hold.
func (k Key) Validate() error {
	switch {
	case k.Use != UseDeposit && k.Use != UseHot:
		return recovery.FieldError("key.use", "a key is for %q or %q, not %q", UseDeposit, UseHot, k.Use)
	case k.Family != recovery.FamilyEVM && k.Family != recovery.FamilyUTXO:
		return recovery.FieldError("key.family", "keys sign on evm and utxo networks, not %q", k.Family)
	case !ownerPattern.MatchString(k.Owner):
		return recovery.FieldError("key.owner", "a key's owner is 1 to 128 letters, digits or . _ @ : -")
	}
	return nil
}

// Signer holds keys and signs with them.
//
// PublicKey returns the 33-byte compressed secp256k1 public key of k. Sign
// signs a 32-byte digest with k and returns the 65-byte signature
// [R || S || V], S in its low form and V the recovery id 0 or 1, which EVM
// transactions take as is and UTXO transactions turn into DER. A key the
// signer does not hold is recovery.ENotFound; a signer that cannot be
// reached is recovery.EUnavailable, so that the caller retries.
type Signer interface {
	PublicKey(ctx context.Context, k Key) ([]byte, error)
	Sign(ctx context.Context, k Key, digest [32]byte) ([]byte, error)
}

// Address is the address of k on network: the EVM address, or the P2WPKH
// address in the network's parameters where it has segwit, else P2PKH.
func Address(ctx context.Context, s Signer, k Key, network chains.Network) (string, error) {
	if network.Family != k.Family {
		return "", recovery.Errorf(recovery.EInvalid, "key %s is a %s key; %s is a %s network", k, k.Family, network.ID, network.Family)
	}
	pub, err := s.PublicKey(ctx, k)
	if err != nil {
		return "", err
	}
	switch network.Family {
	case recovery.FamilyEVM:
		p, err := crypto.DecompressPubkey(pub)
		if err != nil {
			return "", fmt.Errorf("signer: public key of %s: %w", k, err)
		}
		return crypto.PubkeyToAddress(*p).Hex(), nil
	case recovery.FamilyUTXO:
		params, err := utxo.ParamsFor(network.Params)
		if err != nil {
			return "", err
		}
		info := utxo.AddressInfo{Kind: utxo.P2WPKH, Hash: address.Hash160(pub)}
		if params.Bech32HRP == "" {
			info.Kind = utxo.P2PKH
		}
		return info.Encode(params)
	}
	return "", recovery.Errorf(recovery.EInvalid, "%s networks have no keys", network.Family)
}
