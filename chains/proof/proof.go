// Package proof checks a claimant's proof of sending: a message signed
// with the key of the address the deposit came from, the way wallets sign
// messages (EIP-191 personal_sign on EVM networks, the "signmessage"
// compact signature on UTXO networks, ripple-keypairs' sign with the
// account's key on the XRP Ledger, SEP-53 on Stellar, ADR-036
// signArbitrary on the Cosmos Hub). Where the address alone does not
// tie a deposit to one account (a shared address with a missing memo, an
// address of another user), the engine asks for it before the user can
// accept a quote (DESIGN §5).
//
// Verification is pure computation: a workflow's update validator runs it.
package proof

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/atom"
	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/chains/xlm"
	"github.com/misdeposit/recovery/chains/xrp"
)

// Message is the text the claimant signs: it names the case and the
// account, so that a signature proves this claim and no other.
func Message(caseID, userID string) string {
	return fmt.Sprintf("I sent the deposit of recovery case %s and claim it for account %s.", caseID, userID)
}

// maxSignature bounds the signature text looked at: an XRP Ledger proof
// (public key, colon, DER signature) is the longest, 211 characters.
const maxSignature = 240

// Chain is what Verify needs to know of the network a deposit came on.
type Chain struct {
	ID     string          `json:"id"`
	Family recovery.Family `json:"family"`
	Params string          `json:"params,omitempty"` // UTXO address parameters (utxo.ParamsFor), or a memo network's ledger ("xrpl")
}

// ChainOf is the Chain of a registry network.
func ChainOf(n chains.Network) Chain { return Chain{ID: n.ID, Family: n.Family, Params: n.Params} }

// Verify checks that signature signs message with the key behind address
// on network n. A refusal is an *recovery.Error with field "signature".
func Verify(n Chain, addr, message, signature string) error {
	signature = strings.TrimSpace(signature)
	if signature == "" || len(signature) > maxSignature {
		return bad("a signature is required: sign the message shown with the address you sent from")
	}
	switch n.Family {
	case recovery.FamilyEVM:
		return verifyEVM(addr, message, signature)
	case recovery.FamilyUTXO:
		return verifyUTXO(n, addr, message, signature)
	case recovery.FamilyMemo:
		if n.Params == xrp.Params {
			return verifyXRP(addr, message, signature)
		}
		if n.Params == xlm.Params {
			return verifyXLM(addr, message, signature)
		}
		if n.Params == atom.Params {
			return verifyCosmos(addr, message, signature)
		}
		return bad("signed messages are not checked on %s yet: a specialist confirms the claim", n.ID)
	default:
		return bad("signed messages are not checked on %s networks: a specialist confirms the claim", n.Family)
	}
}

func bad(format string, args ...any) error {
	return recovery.FieldError("signature", format, args...)
}

// verifyEVM checks an EIP-191 personal_sign signature: 65 bytes, hex, with
// v as 27/28 or 0/1.
func verifyEVM(addr, message, signature string) error {
	if !common.IsHexAddress(addr) {
		return bad("the sending address %q is not an EVM address", addr)
	}
	sig, err := hexutil.Decode(signature)
	if err != nil || len(sig) != crypto.SignatureLength {
		return bad("the signature is 65 bytes written as 0x and 130 hexadecimal digits")
	}
	sig = bytes.Clone(sig)
	if sig[64] >= 27 {
		sig[64] -= 27
	}
	pub, err := crypto.SigToPub(accounts.TextHash([]byte(message)), sig)
	if err != nil {
		return bad("the signature cannot be read: %v", err)
	}
	if crypto.PubkeyToAddress(*pub) != common.HexToAddress(addr) {
		return bad("the message was not signed by %s, the address the deposit came from", addr)
	}
	return nil
}

// magics are the signed-message prefixes of the UTXO chains' wallets.
var magics = map[string]string{
	"btc": "Bitcoin Signed Message:\n", "bch": "Bitcoin Signed Message:\n", "ltc": "Litecoin Signed Message:\n",
	"doge": "Dogecoin Signed Message:\n", "dash": "DarkCoin Signed Message:\n", "zec": "Zcash Signed Message:\n",
}

// UTXOHash is the hash a UTXO wallet signs for message on the chain of
// params (btc, ltc, ... with or without -testnet / -regtest).
func UTXOHash(params, message string) ([]byte, error) {
	magic, ok := magics[strings.SplitN(params, "-", 2)[0]]
	if !ok {
		return nil, fmt.Errorf("no signed-message format for %s", params)
	}
	var b bytes.Buffer
	writeVarString(&b, magic)
	writeVarString(&b, message)
	first := sha256.Sum256(b.Bytes())
	second := sha256.Sum256(first[:])
	return second[:], nil
}

func writeVarString(b *bytes.Buffer, s string) {
	n := len(s)
	switch {
	case n < 0xfd:
		b.WriteByte(byte(n))
	case n <= 0xffff:
		b.Write([]byte{0xfd, byte(n), byte(n >> 8)})
	default:
		b.Write([]byte{0xfe, byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)})
	}
	b.WriteString(s)
}

// verifyUTXO checks a compact signature (base64 of 65 bytes) against a
// P2PKH, P2WPKH or P2SH-wrapped P2WPKH address.
func verifyUTXO(n Chain, addr, message, signature string) error {
	p, err := utxo.ParamsFor(n.Params)
	if err != nil {
		return bad("%v", err)
	}
	info, err := utxo.DecodeAddress(p, addr)
	if err != nil {
		return bad("the sending address %q cannot be read on %s", addr, n.ID)
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) != 65 {
		return bad("the signature is 65 bytes in base64, as a wallet's signmessage writes it")
	}
	hash, err := UTXOHash(n.Params, message)
	if err != nil {
		return bad("%v", err)
	}
	pub, compressed, err := ecdsa.RecoverCompact(sig, hash)
	if err != nil {
		return bad("the signature cannot be read: %v", err)
	}
	if !signedBy(pub, compressed, info) {
		return bad("the message was not signed by %s, the address the deposit came from", addr)
	}
	return nil
}

func signedBy(pub *btcec.PublicKey, compressed bool, info utxo.AddressInfo) bool {
	key := pub.SerializeUncompressed()
	if compressed {
		key = pub.SerializeCompressed()
	}
	keyHash := address.Hash160(key)
	switch info.Kind {
	case utxo.P2PKH:
		return bytes.Equal(keyHash, info.Hash)
	case utxo.P2WPKH:
		return compressed && bytes.Equal(keyHash, info.Hash)
	case utxo.P2SH:
		// P2SH-wrapped P2WPKH: the script is 0 <20-byte key hash>.
		script := append([]byte{0x00, 0x14}, keyHash...)
		return compressed && bytes.Equal(address.Hash160(script), info.Hash)
	}
	return false
}
