package evm_test

import (
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/evm"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// sign builds the legacy transaction, signs it as a remote signer would
// (crypto.Sign over SigningHash) and returns it encoded for Broadcast.
func sign(t *testing.T, key *ecdsa.PrivateKey, chainID, nonce uint64, to common.Address, value *big.Int, gas uint64, price *big.Int, data []byte) (*types.Transaction, []byte) {
	t.Helper()
	tx := evm.NewTransfer(chainID, nonce, to, value, gas, price, data)
	h := evm.SigningHash(chainID, tx)
	sig, err := crypto.Sign(h[:], key)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := evm.WithSignature(chainID, tx, sig)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return signed, raw
}

func broadcast(t *testing.T, c *evm.Client, raw []byte, want common.Hash) {
	t.Helper()
	got, err := c.Broadcast(nodetest.Context(t), raw)
	if err != nil || got != want.Hex() {
		t.Fatalf("Broadcast = %s, %v; want %s", got, err, want.Hex())
	}
}

func waitMined(t *testing.T, ec *ethclient.Client, h common.Hash) *types.Receipt {
	t.Helper()
	ctx := nodetest.Context(t)
	for {
		r, err := ec.TransactionReceipt(ctx, h)
		if err == nil {
			return r
		}
		if !errors.Is(err, ethereum.NotFound) && ctx.Err() == nil {
			t.Logf("receipt of %s: %v", h, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not mined: %v", h, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func balance(t *testing.T, c *evm.Client, addr common.Address) *big.Int {
	t.Helper()
	b, err := c.Balance(nodetest.Context(t), addr.Hex())
	if err != nil {
		t.Fatalf("Balance(%s): %v", addr, err)
	}
	return b
}

// A signed transfer is sent, sent again without error, and paid exactly
// gas × price; the recipient receives the value.
func TestBroadcastTransfer(t *testing.T) {
	ctx := nodetest.Context(t)
	c := dial(t, shared.URL())
	key, from := nodetest.Key(t)
	funds := big.NewInt(1e18)
	sendValue(t, from, funds)
	to := newAddress(t)
	value := big.NewInt(123_456_789)

	nonce, err := c.PendingNonce(ctx, from.Hex())
	if err != nil || nonce != 0 {
		t.Fatalf("PendingNonce of a fresh account = %d, %v; want 0", nonce, err)
	}
	price, err := c.GasPrice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, raw := sign(t, key, devNetwork.ChainID, nonce, to, value, evm.TransferGas, price, nil)
	broadcast(t, c, raw, tx.Hash())
	broadcast(t, c, raw, tx.Hash()) // in the pool or already mined
	waitMined(t, faucetRPC, tx.Hash())
	broadcast(t, c, raw, tx.Hash()) // mined: the node says "nonce too low", and has it

	got := lookup(t, c, tx.Hash())
	wantFee := new(big.Int).Mul(big.NewInt(evm.TransferGas), price)
	if got.Status != recovery.TxSuccess || got.From != from.Hex() || got.Fee == nil || got.Fee.Cmp(wantFee) != 0 {
		t.Fatalf("tx = %+v (fee %v), want success from %s paying %s", got, got.Fee, from.Hex(), wantFee)
	}
	if b := balance(t, c, to); b.Cmp(value) != 0 {
		t.Errorf("recipient balance %s, want %s", b, value)
	}
	left := new(big.Int).Sub(new(big.Int).Sub(funds, value), wantFee)
	if b := balance(t, c, from); b.Cmp(left) != 0 {
		t.Errorf("sender balance %s, want %s", b, left)
	}

	// The nonce is used: another transaction with it is refused for good.
	_, other := sign(t, key, devNetwork.ChainID, nonce, newAddress(t), value, evm.TransferGas, price, nil)
	if _, err := c.Broadcast(ctx, other); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("second transaction with nonce %d: %v, want EInvalid", nonce, err)
	}
}

func TestBroadcastTokenTransfer(t *testing.T) {
	ctx := nodetest.Context(t)
	c := dial(t, shared.URL())
	token := deployToken(t) // the faucet holds the supply
	to := newAddress(t)
	amount, _ := new(big.Int).SetString("4200000000000000000000", 10)

	nonce, err := c.PendingNonce(ctx, faucetAddr())
	if err != nil {
		t.Fatal(err)
	}
	price, err := c.GasPrice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, raw := sign(t, faucet, devNetwork.ChainID, nonce, token, nil, evm.TokenTransferGas, price, evm.TokenTransferData(to, amount))
	broadcast(t, c, raw, tx.Hash())
	receipt := waitMined(t, faucetRPC, tx.Hash())

	held, err := evmnode.TokenBalance(ctx, faucetRPC, token, to)
	if err != nil || held.Cmp(amount) != 0 {
		t.Fatalf("recipient holds %v tokens (%v), want %s", held, err, amount)
	}
	got := lookup(t, c, tx.Hash())
	sameTransfers(t, got.Transfers, []recovery.Transfer{
		{Kind: recovery.KindToken, From: faucetAddr(), To: to.Hex(), Token: token.Hex(), Amount: amount},
	})
	// Only the gas used is paid, well under the limit.
	wantFee := new(big.Int).Mul(new(big.Int).SetUint64(receipt.GasUsed), price)
	if got.Fee == nil || got.Fee.Cmp(wantFee) != 0 || receipt.GasUsed >= evm.TokenTransferGas {
		t.Errorf("fee %v for %d gas, want %s under the %d limit", got.Fee, receipt.GasUsed, wantFee, evm.TokenTransferGas)
	}
}

// TestBroadcastPool runs on a chain of its own: its transaction pays 1 wei
// per gas, under any base fee, so it stays in the pool for good.
func TestBroadcastPool(t *testing.T) {
	ctx := nodetest.Context(t)
	key, from := nodetest.Key(t)
	n, _ := nodetest.EVM(t, evmnode.Config{ChainID: devNetwork.ChainID, Alloc: nodetest.Alloc(big.NewInt(1e18), from)})
	c := dial(t, n.URL())
	to := newAddress(t)

	tx, raw := sign(t, key, devNetwork.ChainID, 0, to, big.NewInt(1), evm.TransferGas, big.NewInt(1), nil)
	broadcast(t, c, raw, tx.Hash())
	broadcast(t, c, raw, tx.Hash()) // "already known"
	// The pool moves a new transaction to its pending set in the
	// background: the count may lag the broadcast by a moment.
	nonce, err := c.PendingNonce(ctx, from.Hex())
	for deadline := time.Now().Add(5 * time.Second); err == nil && nonce != 1 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		nonce, err = c.PendingNonce(ctx, from.Hex())
	}
	if err != nil || nonce != 1 {
		t.Fatalf("PendingNonce with one transaction in the pool = %d, %v; want 1", nonce, err)
	}
	if got := lookup(t, c, tx.Hash()); got.Status != recovery.TxPending || got.Fee != nil {
		t.Errorf("tx = %+v, want pending with no fee yet", got)
	}
	// Same nonce, other content, no higher price: not a valid replacement.
	_, other := sign(t, key, devNetwork.ChainID, 0, to, big.NewInt(2), evm.TransferGas, big.NewInt(1), nil)
	if _, err := c.Broadcast(ctx, other); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("underpriced replacement: %v, want EInvalid", err)
	}
	// An account without funds.
	poor, _ := nodetest.Key(t)
	_, broke := sign(t, poor, devNetwork.ChainID, 0, to, big.NewInt(1), evm.TransferGas, big.NewInt(1e9), nil)
	if _, err := c.Broadcast(ctx, broke); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Fatalf("transfer without funds: %v, want EInvalid", err)
	}

	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Broadcast(ctx, raw); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("Broadcast to a node that is down: %v, want EUnavailable", err)
	}
	if _, err := c.PendingNonce(ctx, from.Hex()); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("PendingNonce from a node that is down: %v, want EUnavailable", err)
	}
	if _, err := c.GasPrice(ctx); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("GasPrice from a node that is down: %v, want EUnavailable", err)
	}
}

func TestSendRefusesBadInput(t *testing.T) {
	ctx := nodetest.Context(t)
	c := dial(t, shared.URL())
	key, _ := nodetest.Key(t)
	to := newAddress(t)

	_, otherChain := sign(t, key, 1, 0, to, big.NewInt(1), evm.TransferGas, big.NewInt(1e9), nil)
	for name, raw := range map[string][]byte{
		"nothing":                  nil,
		"not a transaction":        []byte("0xdeadbeef"),
		"signed for another chain": otherChain,
	} {
		if _, err := c.Broadcast(ctx, raw); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("Broadcast(%s): %v, want EInvalid", name, err)
		}
	}
	for _, addr := range []string{"", "0x1234", "not an address"} {
		if _, err := c.PendingNonce(ctx, addr); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("PendingNonce(%q): %v, want EInvalid", addr, err)
		}
		if _, err := c.Balance(ctx, addr); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("Balance(%q): %v, want EInvalid", addr, err)
		}
	}

	tx := evm.NewTransfer(devNetwork.ChainID, 0, to, big.NewInt(1), evm.TransferGas, big.NewInt(1e9), nil)
	h := evm.SigningHash(devNetwork.ChainID, tx)
	sig, err := crypto.Sign(h[:], key)
	if err != nil {
		t.Fatal(err)
	}
	badV := append([]byte{}, sig...)
	badV[64] = 27
	highS := append([]byte{}, sig...)
	copy(highS[32:64], new(big.Int).Sub(crypto.S256().Params().N, new(big.Int).SetBytes(sig[32:64])).FillBytes(make([]byte, 32)))
	for name, s := range map[string][]byte{"short": sig[:64], "V of 27": badV, "zero": make([]byte, 65), "high S": highS} {
		if _, err := evm.WithSignature(devNetwork.ChainID, tx, s); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("WithSignature(%s): %v, want EInvalid", name, err)
		}
	}
}

// The builders make what go-ethereum's own signer makes.
func TestBuildersMatchGoEthereum(t *testing.T) {
	key, from := nodetest.Key(t)
	to := newAddress(t)
	const chainID = 56
	tx, _ := sign(t, key, chainID, 7, to, big.NewInt(5), evm.TransferGas, big.NewInt(3e9), []byte{1, 2})
	want, err := types.SignNewTx(key, types.NewEIP155Signer(big.NewInt(chainID)), &types.LegacyTx{
		Nonce: 7, To: &to, Value: big.NewInt(5), Gas: evm.TransferGas, GasPrice: big.NewInt(3e9), Data: []byte{1, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tx.Hash() != want.Hash() || tx.Type() != types.LegacyTxType || tx.ChainId().Int64() != chainID {
		t.Fatalf("signed %s (type %d, chain %s), want %s", tx.Hash(), tx.Type(), tx.ChainId(), want.Hash())
	}
	if sender, err := types.Sender(types.LatestSignerForChainID(big.NewInt(chainID)), tx); err != nil || sender != from {
		t.Errorf("sender %s, %v; want %s", sender, err, from)
	}

	amount, _ := new(big.Int).SetString("1000000000000000000000001", 10)
	data := evm.TokenTransferData(to, amount)
	if len(data) != 68 || common.Bytes2Hex(data[:4]) != "a9059cbb" ||
		common.BytesToAddress(data[4:36]) != to || new(big.Int).SetBytes(data[36:]).Cmp(amount) != 0 {
		t.Errorf("transfer calldata %x", data)
	}
}
