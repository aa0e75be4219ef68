package evmnode

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// The fixtures below put real, signed transactions on a chain through its
// JSON-RPC endpoint, so what an adapter later reads is exactly what a node
// serves. They pick the sender's next nonce themselves: do not use one key
// from two goroutines at once.
//
// There is no Solidity compiler here, so the contracts are a few dozen
// bytes of EVM assembly each, assembled by asm at package init.

// TokenSupply is the balance DeployToken credits to the deployer:
// 10^9 tokens of 18 decimals, in base units.
var TokenSupply = new(big.Int).Mul(big.NewInt(1_000_000_000), new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))

// TransferTopic is keccak256("Transfer(address,address,uint256)"), the first
// topic of an ERC-20 (and ERC-721) Transfer log.
var TransferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// pendingNonceGap is how far past the sender's next nonce SendPending signs.
// The gap keeps the transaction queued: it would only become executable
// after this many more transactions from the same key.
const pendingNonceGap = 1 << 20

// failingGas is the fixed gas limit of SendFailing: estimation would refuse
// a call that reverts, but a transaction with enough gas is still included,
// with receipt status 0.
const failingGas = 100_000

// receiptTimeout bounds the wait for a receipt when ctx has no deadline, so
// a node that stopped producing blocks fails a fixture instead of hanging it.
const receiptTimeout = 30 * time.Second

var (
	selTransfer   = crypto.Keccak256([]byte("transfer(address,uint256)"))[:4] // a9059cbb
	selBalanceOf  = crypto.Keccak256([]byte("balanceOf(address)"))[:4]        // 70a08231
	tokenCode     = creation(asm(fmt.Sprintf(tokenCtor, TokenSupply)), asm(fmt.Sprintf(tokenRuntime, TransferTopic.Big())))
	reverterCode  = creation(nil, asm(reverterRuntime))
	forwarderCode = creation(nil, asm(forwarderRuntime))
)

// tokenCtor credits the whole supply to the deployer. Balances live in the
// storage slot numbered by the holder's address: no mapping hash needed,
// and no collision since nothing else is stored.
const tokenCtor = `
	PUSH32 %#x  ; supply
	CALLER SSTORE  ; balance[deployer] = supply
`

// tokenRuntime answers transfer(address,uint256), balanceOf(address) and
// decimals() (18); any other call reverts. transfer emits the standard three-topic
// Transfer(from, to, value) log with value as the 32-byte data.
const tokenRuntime = `
	PUSH1 0x00 CALLDATALOAD PUSH1 0xe0 SHR     ; [sel]
	DUP1 PUSH4 0xa9059cbb EQ @transfer JUMPI    ; [sel]
	DUP1 PUSH4 0x313ce567 EQ @decimals JUMPI    ; [sel]
	PUSH4 0x70a08231 EQ @balanceOf JUMPI        ; []
fail:
	PUSH1 0x00 DUP1 REVERT
transfer:
	POP
	PUSH1 0x04 CALLDATALOAD                     ; [to]
	DUP1 PUSH1 0xa0 SHR @fail JUMPI             ; not a 20-byte address: revert
	PUSH1 0x24 CALLDATALOAD                     ; [amt, to]
	CALLER SLOAD                                ; [bal, amt, to]
	DUP2 DUP2 LT @fail JUMPI                    ; bal < amt: revert
	DUP2 SWAP1 SUB                              ; [bal-amt, amt, to]
	CALLER SSTORE                               ; balance[caller] = bal-amt; [amt, to]
	DUP2 SLOAD DUP2 ADD                         ; [balTo+amt, amt, to] (cannot overflow: supply is fixed)
	DUP3 SSTORE                                 ; balance[to] += amt; [amt, to]
	PUSH1 0x00 MSTORE                           ; mem[0:32] = amt; [to]
	CALLER PUSH32 %#x                           ; [topic0, from, to]
	PUSH1 0x20 PUSH1 0x00 LOG3                  ; Transfer(from, to, amt)
	PUSH1 0x01 PUSH1 0x00 MSTORE
	PUSH1 0x20 PUSH1 0x00 RETURN                ; returns true
balanceOf:
	PUSH1 0x04 CALLDATALOAD SLOAD
	PUSH1 0x00 MSTORE PUSH1 0x20 PUSH1 0x00 RETURN
decimals:
	PUSH1 0x12 PUSH1 0x00 MSTORE PUSH1 0x20 PUSH1 0x00 RETURN
`

// reverterRuntime reverts whatever it is sent.
const reverterRuntime = `PUSH1 0x00 DUP1 REVERT`

// forwarderRuntime CALLs the address in the first calldata word with the
// whole msg.value and no data, and reverts if that call fails: value that
// reaches the recipient only through an internal call, as a contract wallet
// or a payment router would send it.
const forwarderRuntime = `
	PUSH1 0x00 DUP1 DUP1 DUP1                   ; retSize retOffset argsSize argsOffset
	CALLVALUE PUSH1 0x00 CALLDATALOAD GAS       ; [gas, to, value, 0, 0, 0, 0]
	CALL @ok JUMPI
	PUSH1 0x00 DUP1 REVERT
ok:
	STOP
`

// SendValue sends wei from key's account to to and waits until it is mined.
func SendValue(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey, to common.Address, wei *big.Int) (common.Hash, error) {
	return sendAndWait(ctx, c, key, txRequest{to: &to, value: wei}, true)
}

// DeployToken deploys the fixture ERC-20 and returns its address; the
// deployer holds TokenSupply.
func DeployToken(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey) (common.Address, error) {
	return deploy(ctx, c, key, tokenCode)
}

// TransferToken calls transfer(to, amount) on a token deployed by
// DeployToken and waits until it is mined.
func TransferToken(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey, token, to common.Address, amount *big.Int) (common.Hash, error) {
	if amount == nil || amount.Sign() < 0 || amount.BitLen() > 256 {
		return common.Hash{}, errors.New("evmnode: token amount must be a uint256")
	}
	data := append(append(append([]byte{}, selTransfer...), common.LeftPadBytes(to.Bytes(), 32)...), common.LeftPadBytes(amount.Bytes(), 32)...)
	return sendAndWait(ctx, c, key, txRequest{to: &token, data: data}, true)
}

// TokenBalance reads balanceOf(holder) from a token deployed by DeployToken.
func TokenBalance(ctx context.Context, c *ethclient.Client, token, holder common.Address) (*big.Int, error) {
	data := append(append([]byte{}, selBalanceOf...), common.LeftPadBytes(holder.Bytes(), 32)...)
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &token, Data: data}, nil)
	if err != nil {
		return nil, fmt.Errorf("evmnode: balanceOf %s on %s: %w", holder, token, err)
	}
	if len(out) != 32 {
		return nil, fmt.Errorf("evmnode: balanceOf on %s returned %d bytes, want 32", token, len(out))
	}
	return new(big.Int).SetBytes(out), nil
}

// DeployReverter deploys a contract that reverts every call.
func DeployReverter(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey) (common.Address, error) {
	return deploy(ctx, c, key, reverterCode)
}

// SendFailing calls reverter with a fixed gas limit and waits until the
// transaction is mined with receipt status 0.
func SendFailing(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey, reverter common.Address) (common.Hash, error) {
	return sendAndWait(ctx, c, key, txRequest{to: &reverter, gas: failingGas}, false)
}

// DeployForwarder deploys a contract that forwards msg.value to the address
// given in its calldata.
func DeployForwarder(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey) (common.Address, error) {
	return deploy(ctx, c, key, forwarderCode)
}

// SendViaContract sends wei to forwarder, which passes it on to to by an
// internal CALL, and waits until it is mined.
func SendViaContract(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey, forwarder, to common.Address, wei *big.Int) (common.Hash, error) {
	return sendAndWait(ctx, c, key, txRequest{to: &forwarder, value: wei, data: common.LeftPadBytes(to.Bytes(), 32)}, true)
}

// SendPending signs a value transfer with a nonce far past the sender's
// next one and submits it without waiting: the node keeps it queued
// (known, never mined) for as long as it runs.
func SendPending(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey, to common.Address, wei *big.Int) (common.Hash, error) {
	tx, err := send(ctx, c, key, txRequest{to: &to, value: wei, gas: 21_000, nonceGap: pendingNonceGap})
	if err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

type txRequest struct {
	to       *common.Address // nil deploys data as creation code
	value    *big.Int
	data     []byte
	gas      uint64 // 0 estimates
	nonceGap uint64
}

func deploy(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey, code []byte) (common.Address, error) {
	tx, err := send(ctx, c, key, txRequest{data: code})
	if err != nil {
		return common.Address{}, err
	}
	receipt, err := waitReceipt(ctx, c, tx.Hash())
	if err != nil {
		return common.Address{}, err
	}
	if receipt.Status != types.ReceiptStatusSuccessful {
		return common.Address{}, fmt.Errorf("evmnode: deployment %s reverted", tx.Hash())
	}
	return receipt.ContractAddress, nil
}

// sendAndWait sends req, waits for its receipt and checks that the receipt
// status is the one the fixture promises.
func sendAndWait(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey, req txRequest, wantSuccess bool) (common.Hash, error) {
	tx, err := send(ctx, c, key, req)
	if err != nil {
		return common.Hash{}, err
	}
	receipt, err := waitReceipt(ctx, c, tx.Hash())
	if err != nil {
		return common.Hash{}, err
	}
	if ok := receipt.Status == types.ReceiptStatusSuccessful; ok != wantSuccess {
		return common.Hash{}, fmt.Errorf("evmnode: transaction %s mined with status %d", tx.Hash(), receipt.Status)
	}
	return tx.Hash(), nil
}

func send(ctx context.Context, c *ethclient.Client, key *ecdsa.PrivateKey, req txRequest) (*types.Transaction, error) {
	from := crypto.PubkeyToAddress(key.PublicKey)
	value := req.value
	if value == nil {
		value = new(big.Int)
	}
	if value.Sign() < 0 {
		return nil, errors.New("evmnode: value must not be negative")
	}
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("evmnode: chain id: %w", err)
	}
	nonce, err := c.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("evmnode: nonce of %s: %w", from, err)
	}
	tip, err := c.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, fmt.Errorf("evmnode: gas tip: %w", err)
	}
	head, err := c.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("evmnode: head block: %w", err)
	}
	// Twice the base fee survives several full blocks of base fee increase,
	// the same margin go-ethereum's bind package uses.
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	gas := req.gas
	if gas == 0 {
		gas, err = c.EstimateGas(ctx, ethereum.CallMsg{From: from, To: req.to, Value: value, Data: req.data})
		if err != nil {
			return nil, fmt.Errorf("evmnode: estimate gas: %w", err)
		}
		// The estimate is made against the state of the moment; a call
		// whose storage cost moves with the state (a token credited to a
		// new holder) can need more by the time it is mined. Only the gas
		// used is paid.
		if req.to != nil && len(req.data) > 0 {
			gas += gas / 2
		}
	}
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{
		ChainID:   chainID,
		Nonce:     nonce + req.nonceGap,
		GasTipCap: tip,
		GasFeeCap: feeCap,
		Gas:       gas,
		To:        req.to,
		Value:     value,
		Data:      req.data,
	}), types.LatestSignerForChainID(chainID), key)
	if err != nil {
		return nil, fmt.Errorf("evmnode: sign: %w", err)
	}
	if err := c.SendTransaction(ctx, tx); err != nil {
		return nil, fmt.Errorf("evmnode: send %s: %w", tx.Hash(), err)
	}
	return tx, nil
}

// waitReceipt polls for hash's receipt. Polling, not a subscription, because
// the node is reached over plain HTTP.
func waitReceipt(ctx context.Context, c *ethclient.Client, hash common.Hash) (*types.Receipt, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, receiptTimeout)
		defer cancel()
	}
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		receipt, err := c.TransactionReceipt(ctx, hash)
		switch {
		case err == nil:
			// The receipt can be served a moment before its block becomes
			// the head: a gas estimate or a nonce read in that moment would
			// see the state without it (a freshly deployed contract with no
			// code yet), and the next transaction would run out of gas.
			if head, herr := c.BlockNumber(ctx); herr == nil && receipt.BlockNumber != nil && head >= receipt.BlockNumber.Uint64() {
				return receipt, nil
			}
			err = errors.New("mined, its block not the head yet") // wait, and say so on a timeout
		case errors.Is(err, ethereum.NotFound), strings.Contains(err.Error(), "indexing"):
			// Not mined yet, or mined and the lookup index is catching up.
		default:
			return nil, fmt.Errorf("evmnode: receipt of %s: %w", hash, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("evmnode: waiting for receipt of %s (last answer: %v; %s): %w", hash, err, whereIs(c, hash), ctx.Err())
		case <-ticker.C:
		}
	}
}

// creation wraps runtime code in creation code: ctor runs first, then the
// runtime is copied out of the creation code and returned for the chain to
// store as the contract's code.
func creation(ctor, runtime []byte) []byte {
	// The tail is "PUSH2 len DUP1 PUSH2 off PUSH1 0 CODECOPY PUSH1 0 RETURN",
	// 13 bytes whatever the values, so the runtime's offset is known up front.
	const tailLen = 13
	off := len(ctor) + tailLen
	tail := asm(fmt.Sprintf(`
		PUSH2 %#04x DUP1                 ; [len, len]
		PUSH2 %#04x PUSH1 0x00 CODECOPY  ; mem[0:len] = code[off:off+len]; [len]
		PUSH1 0x00 RETURN                ; return mem[0:len]
	`, len(runtime), off))
	if len(tail) != tailLen {
		panic("evmnode: creation tail is not 13 bytes")
	}
	return append(append(append([]byte{}, ctor...), tail...), runtime...)
}

// asm assembles a program of whitespace-separated words: an opcode name as
// go-ethereum's vm package spells it; after PUSHn, its immediate in hex,
// left-padded to n bytes; "name:" for a label, which emits a JUMPDEST; and
// "@name" for a PUSH2 of a label's offset. PUSH2 for every jump keeps
// instruction sizes fixed, so one pass finds the labels and a second emits.
// Text from ";" to the end of a line is a comment. The programs are
// constants, so a mistake panics at init instead of returning an error.
func asm(src string) []byte {
	var words []string
	for line := range strings.SplitSeq(src, "\n") {
		line, _, _ = strings.Cut(line, ";")
		words = append(words, strings.Fields(line)...)
	}
	labels := map[string]int{}
	for pass := range 2 {
		var code []byte
		for i := 0; i < len(words); i++ {
			w := words[i]
			switch {
			case strings.HasSuffix(w, ":"):
				labels[strings.TrimSuffix(w, ":")] = len(code)
				code = append(code, byte(vm.JUMPDEST))
			case strings.HasPrefix(w, "@"):
				target, ok := labels[w[1:]]
				if !ok && pass == 1 {
					panic(fmt.Sprintf("evmnode: asm: unknown label %q", w))
				}
				code = append(code, byte(vm.PUSH2), byte(target>>8), byte(target))
			default:
				op := vm.StringToOp(w)
				if op == vm.STOP && w != "STOP" {
					panic(fmt.Sprintf("evmnode: asm: unknown opcode %q", w))
				}
				code = append(code, byte(op))
				if n := int(op) - int(vm.PUSH0); op.IsPush() && n > 0 {
					i++
					if i == len(words) {
						panic(fmt.Sprintf("evmnode: asm: %s needs an immediate", w))
					}
					imm, err := hex.DecodeString(padEven(strings.TrimPrefix(words[i], "0x")))
					if err != nil || len(imm) > n {
						panic(fmt.Sprintf("evmnode: asm: bad immediate %q for %s", words[i], w))
					}
					code = append(code, common.LeftPadBytes(imm, n)...)
				}
			}
		}
		if pass == 1 {
			return code
		}
	}
	panic("unreachable")
}

func padEven(s string) string {
	if len(s)%2 == 1 {
		return "0" + s
	}
	return s
}

// whereIs describes what the node knows of hash, for the error of a wait
// that timed out.
func whereIs(c *ethclient.Client, hash common.Hash) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	head, err := c.BlockNumber(ctx)
	if err != nil {
		return fmt.Sprintf("head unknown: %v", err)
	}
	_, pending, err := c.TransactionByHash(ctx, hash)
	switch {
	case err != nil:
		return fmt.Sprintf("head %d, transaction: %v", head, err)
	case pending:
		return fmt.Sprintf("head %d, transaction still in the pool", head)
	default:
		return fmt.Sprintf("head %d, transaction in a block", head)
	}
}
