package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

var (
	_ chains.Broadcaster   = (*Client)(nil)
	_ chains.AccountReader = (*Client)(nil)
)

// TransferGas is the gas a plain native transfer to an account without code
// uses, exactly: the intrinsic gas of a transaction with no data.
const TransferGas = NativeSendGas

// TokenTransferGas is the gas limit of an ERC-20 transfer(address,uint256).
// Today a standard token uses about 51,000 gas to credit a holder with no
// balance yet (21,000 intrinsic, ~1,000 of calldata, 22,100 for a storage
// slot set from zero, ~5,000 to lower the sender's, ~1,900 for the Transfer
// log) and ~35,000 for an existing holder; tokens behind a proxy or with
// blacklist, pause or fee hooks (USDC, USDT) stay under 70,000. Under
// EIP-8037's state-creation pricing (Amsterdam, which go-ethereum's dev
// chain already runs) the new slot alone costs ~98,000, and the same
// transfer ~146,000. 200,000 covers both without an eth_estimateGas round
// trip whose answer would depend on the state at signing time. Only the gas
// used is paid: the margin raises the worst-case cost a quote charges and
// the balance the sender must hold, never what the network takes.
const TokenTransferGas = 200_000

// transferSelector is the selector of ERC-20 transfer(address,uint256).
var transferSelector = crypto.Keccak256([]byte("transfer(address,uint256)"))[:4]

// maxUint256 bounds an ERC-20 amount.
var maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// NewTransfer returns an unsigned legacy transaction (type 0) of value wei
// and data to to, at a fixed gas price: it pays gas used × gasPrice,
// exactly, which an EIP-1559 transaction with its variable base fee does
// not. A legacy transaction has no chain id field of its own: it commits to
// chainID when signed (EIP-155), so SigningHash and WithSignature must be
// given the same chainID; NewTransfer takes it so that a transaction is
// built and signed with the one network's id in hand.
//
// A nil value or gasPrice is zero.
func NewTransfer(chainID uint64, nonce uint64, to common.Address, value *big.Int, gas uint64, gasPrice *big.Int, data []byte) *types.Transaction {
	return types.NewTx(&types.LegacyTx{
		Nonce:    nonce,
		GasPrice: orZero(gasPrice),
		Gas:      gas,
		To:       &to,
		Value:    orZero(value),
		Data:     common.CopyBytes(data),
	})
}

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return new(big.Int).Set(v)
}

// signer is the EIP-155 signer of chainID, the one that signs a legacy
// transaction bound to one chain.
func signer(chainID uint64) types.Signer {
	return types.NewEIP155Signer(new(big.Int).SetUint64(chainID))
}

// SigningHash is the hash a key signs for tx on chainID (EIP-155): what
// crypto.Sign or a remote signer takes.
func SigningHash(chainID uint64, tx *types.Transaction) [32]byte {
	return signer(chainID).Hash(tx)
}

// WithSignature returns tx signed by sig, a 65-byte [R || S || V]
// signature of SigningHash(chainID, tx) with V 0 or 1, as crypto.Sign
// returns it. A signature of another length, V or form, or one from which no
// sender can be recovered, is recovery.EInvalid.
func WithSignature(chainID uint64, tx *types.Transaction, sig []byte) (*types.Transaction, error) {
	if len(sig) != crypto.SignatureLength || sig[crypto.RecoveryIDOffset] > 1 {
		return nil, recovery.FieldError("signature", "a transaction signature is 65 bytes, R || S || V with V 0 or 1")
	}
	s := signer(chainID)
	signed, err := tx.WithSignature(s, sig)
	if err != nil {
		return nil, recovery.FieldError("signature", "unusable signature: %v", err)
	}
	// A signature the chain would refuse (S in the upper half, R or S out of
	// range) recovers no sender: say so now rather than at the node.
	if _, err := types.Sender(s, signed); err != nil {
		return nil, recovery.FieldError("signature", "no sender can be recovered from the signature: %v", err)
	}
	return signed, nil
}

// TokenTransferData is the calldata of ERC-20 transfer(to, amount).
//
// It panics when amount is negative or above 2^256-1, as no token amount
// is: amounts are checked long before a transaction is built, and calldata
// of a wrapped or truncated amount would move another sum.
func TokenTransferData(to common.Address, amount *big.Int) []byte {
	if amount == nil || amount.Sign() < 0 || amount.Cmp(maxUint256) > 0 {
		panic(fmt.Sprintf("evm: token amount %v is not a uint256", amount))
	}
	data := make([]byte, 0, 4+32+32)
	data = append(data, transferSelector...)
	data = append(data, common.LeftPadBytes(to.Bytes(), 32)...)
	return append(data, common.LeftPadBytes(amount.Bytes(), 32)...)
}

// Broadcast implements chains.Broadcaster with eth_sendRawTransaction. raw
// is a signed transaction in its binary encoding (types.Transaction's
// MarshalBinary); the hash returned is its hash, computed here.
//
// A node that answers "already known", or "nonce too low" while it has the
// transaction in a block (a retried broadcast of a mined transaction), has
// it: that is success. Any other refusal is recovery.EInvalid with the node's reason; a
// node that does not answer, or answers that it cannot serve the call, is
// recovery.EUnavailable.
func (c *Client) Broadcast(ctx context.Context, raw []byte) (string, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return "", recovery.FieldError("raw", "not a signed EVM transaction: %v", err)
	}
	if id := tx.ChainId(); id.Sign() != 0 && (!id.IsUint64() || id.Uint64() != c.network.ChainID) {
		return "", recovery.FieldError("raw", "the transaction is signed for chain id %s, not %s's %d", id, c.network.ID, c.network.ChainID)
	}
	hash := tx.Hash()
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()

	var got common.Hash
	err := c.rc.CallContext(ctx, &got, "eth_sendRawTransaction", hexutil.Bytes(raw))
	if err == nil {
		if got != hash {
			return "", unavailable(c.network, "eth_sendRawTransaction", fmt.Errorf("node answered hash %s for transaction %s", got, hash))
		}
		return hash.Hex(), nil
	}
	reason, ok := refusal(err)
	if !ok {
		return "", unavailable(c.network, "eth_sendRawTransaction", err)
	}
	if alreadyKnown(reason) {
		return hash.Hex(), nil
	}
	if strings.Contains(strings.ToLower(reason), "nonce") {
		// "nonce too low" is also what a retry of a mined transaction
		// gets: ask whether the node has it. Other refusals need no
		// question: a node holding the transaction would say "already
		// known".
		has, err := c.hasTx(ctx, hash)
		switch {
		case err != nil:
			return "", err
		case has:
			return hash.Hex(), nil
		}
	}
	return "", recovery.Errorf(recovery.EInvalid, "the %s node refused transaction %s: %s", c.network.ID, hash.Hex(), reason)
}

// maxReasonLen bounds the node's reason quoted in a refusal.
const maxReasonLen = 200

// serviceErrors are the JSON-RPC error codes with which a node says it cannot
// serve a call, rather than refusing what it was sent: parse error, invalid
// request, method not found, internal error, and EIP-1474's resource
// unavailable, method not supported and limit exceeded.
var serviceErrors = map[int]bool{-32700: true, -32600: true, -32601: true, -32603: true, -32002: true, -32004: true, -32005: true}

// refusal returns the node's reason when err is its refusal of a sent
// transaction: a JSON-RPC error other than one about serving the call.
func refusal(err error) (string, bool) {
	var rpcErr rpc.Error
	if !errors.As(err, &rpcErr) || serviceErrors[rpcErr.ErrorCode()] {
		return "", false
	}
	reason := rpcErr.Error()
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen] + "…"
	}
	return reason, true
}

// alreadyKnown reports whether a refusal says the node holds the transaction
// already: go-ethereum's "already known", and the wordings of other clients.
func alreadyKnown(reason string) bool {
	r := strings.ToLower(reason)
	for _, known := range []string{"already known", "known transaction", "already imported", "already exists", "alreadyknown"} {
		if strings.Contains(r, known) {
			return true
		}
	}
	return false
}

// hasTx reports whether the node has the transaction, in its pool or in a
// block.
func (c *Client) hasTx(ctx context.Context, h common.Hash) (bool, error) {
	var tx *rpcTx
	if err := c.rc.CallContext(ctx, &tx, "eth_getTransactionByHash", h); err != nil {
		return false, unavailable(c.network, "eth_getTransactionByHash", err)
	}
	return tx != nil && tx.Hash == h, nil
}

// PendingNonce implements chains.AccountReader: eth_getTransactionCount at
// "pending", which counts the transactions the node holds in its pool.
func (c *Client) PendingNonce(ctx context.Context, address string) (uint64, error) {
	addr, err := parseAddress(address)
	if err != nil {
		return 0, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var n hexutil.Uint64
	if err := c.rc.CallContext(ctx, &n, "eth_getTransactionCount", addr, "pending"); err != nil {
		return 0, unavailable(c.network, "eth_getTransactionCount", err)
	}
	return uint64(n), nil
}

// Balance implements chains.AccountReader: eth_getBalance at the latest
// block, in wei.
func (c *Client) Balance(ctx context.Context, address string) (*big.Int, error) {
	addr, err := parseAddress(address)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var b *hexutil.Big
	if err := c.rc.CallContext(ctx, &b, "eth_getBalance", addr, "latest"); err != nil {
		return nil, unavailable(c.network, "eth_getBalance", err)
	}
	if b == nil {
		return nil, unavailable(c.network, "eth_getBalance", errors.New("empty answer"))
	}
	return new(big.Int).Set(b.ToInt()), nil
}

// GasPrice implements chains.AccountReader: eth_gasPrice, which go-ethereum
// answers with the latest base fee plus a suggested tip, the price a legacy
// transaction pays.
func (c *Client) GasPrice(ctx context.Context) (*big.Int, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var p *hexutil.Big
	if err := c.rc.CallContext(ctx, &p, "eth_gasPrice"); err != nil {
		return nil, unavailable(c.network, "eth_gasPrice", err)
	}
	if p == nil || p.ToInt().Sign() <= 0 {
		return nil, unavailable(c.network, "eth_gasPrice", fmt.Errorf("gas price %v", p))
	}
	return new(big.Int).Set(p.ToInt()), nil
}

func parseAddress(s string) (common.Address, error) {
	s = strings.TrimSpace(s)
	if !common.IsHexAddress(s) {
		return common.Address{}, recovery.FieldError("address", "is not an EVM address: 0x and 40 hex digits")
	}
	return common.HexToAddress(s), nil
}
