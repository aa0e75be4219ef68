package devchain

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/keystore"
)

// seed sends the EVM demo mis-deposits: real transactions from an outside
// sender's wallet to users' dev deposit addresses. The btc one is
// loadOrSeedDemo's, as btc may start later.
func (c *Chains) seed(ctx context.Context) ([]Deposit, error) {
	eth, err := ethclient.DialContext(ctx, c.eth.URL())
	if err != nil {
		return nil, err
	}
	defer eth.Close()
	bsc, err := ethclient.DialContext(ctx, c.bsc.URL())
	if err != nil {
		return nil, err
	}
	defer bsc.Close()
	key, err := c.cfg.Keystore.EVMKey(keystore.PurposeSender, 0)
	if err != nil {
		return nil, err
	}
	user := func(id string) (common.Address, error) {
		return c.cfg.Keystore.EVMAddress(keystore.PurposeUser, keystore.UserIndex(id))
	}
	milli := new(big.Int).Exp(big.NewInt(10), big.NewInt(15), nil) // 0.001 of an 18-decimal asset
	amount := func(m int64) *big.Int { return new(big.Int).Mul(big.NewInt(m), milli) }

	var out []Deposit
	add := func(d Deposit, hash common.Hash, to common.Address, wei *big.Int) {
		d.TxHash, d.ToAddress = hash.Hex(), to.Hex()
		if wei != nil {
			d.Amount = wei.String()
		}
		out = append(out, d)
	}

	alice, err := user("alice")
	if err != nil {
		return nil, err
	}
	h, err := evmnode.SendValue(ctx, bsc, key, alice, amount(500))
	if err != nil {
		return nil, fmt.Errorf("wrong-network deposit: %w", err)
	}
	add(Deposit{Name: "wrong-network", Category: "wrong_network_evm", Network: "bsc", UserID: "alice", Asset: "BNB",
		Note: "0.5 BNB sent on bsc to alice's eth deposit address"}, h, alice, amount(500))

	small := big.NewInt(400_000_000_000_000) // 0.0004 ETH
	h, err = evmnode.SendValue(ctx, eth, key, alice, small)
	if err != nil {
		return nil, fmt.Errorf("small deposit: %w", err)
	}
	add(Deposit{Name: "small-deposit", Category: "below_minimum", Network: "eth", UserID: "alice", Asset: "ETH",
		Note: "0.0004 ETH, below the usual minimum deposit"}, h, alice, small)

	bob, err := user("bob")
	if err != nil {
		return nil, err
	}
	token, err := evmnode.DeployToken(ctx, eth, key)
	if err != nil {
		return nil, fmt.Errorf("deploy demo token: %w", err)
	}
	tokens := amount(1_000_000) // 1000 tokens of 18 decimals
	h, err = evmnode.TransferToken(ctx, eth, key, token, bob, tokens)
	if err != nil {
		return nil, fmt.Errorf("unlisted token deposit: %w", err)
	}
	add(Deposit{Name: "unlisted-token", Category: "unlisted_token", Network: "eth", UserID: "bob", Asset: "DEMO",
		Note: "1000 tokens of a contract the exchange does not list (" + token.Hex() + ")"}, h, bob, tokens)

	carol, err := user("carol")
	if err != nil {
		return nil, err
	}
	fwd, err := evmnode.DeployForwarder(ctx, eth, key)
	if err != nil {
		return nil, fmt.Errorf("deploy forwarder: %w", err)
	}
	h, err = evmnode.SendViaContract(ctx, eth, key, fwd, carol, amount(300))
	if err != nil {
		return nil, fmt.Errorf("contract deposit: %w", err)
	}
	add(Deposit{Name: "contract-deposit", Category: "contract_deposit", Network: "eth", UserID: "carol", Asset: "ETH",
		Note: "0.3 ETH reached carol's address by an internal call of a contract wallet"}, h, carol, amount(300))

	erin, err := user("erin")
	if err != nil {
		return nil, err
	}
	rev, err := evmnode.DeployReverter(ctx, eth, key)
	if err != nil {
		return nil, fmt.Errorf("deploy reverter: %w", err)
	}
	h, err = evmnode.SendFailing(ctx, eth, key, rev)
	if err != nil {
		return nil, fmt.Errorf("failed transaction: %w", err)
	}
	add(Deposit{Name: "failed-tx", Category: "failed_tx", Network: "eth", UserID: "erin",
		Note: "a transaction that reverted: nothing moved"}, h, erin, nil)

	frank, err := user("frank")
	if err != nil {
		return nil, err
	}
	h, err = evmnode.SendPending(ctx, eth, key, frank, amount(100))
	if err != nil {
		return nil, fmt.Errorf("pending transaction: %w", err)
	}
	add(Deposit{Name: "stuck-pending", Category: "pending", Network: "eth", UserID: "frank", Asset: "ETH",
		Note: "signed with a nonce gap: the node holds it but never mines it (gone after a restart)"}, h, frank, amount(100))

	grace, err := user("grace")
	if err != nil {
		return nil, err
	}
	var unknown common.Hash
	if _, err := rand.Read(unknown[:]); err != nil {
		return nil, err
	}
	add(Deposit{Name: "unknown-hash", Category: "not_found", Network: "eth", UserID: "grace",
		Note: "a hash no chain knows: the engine re-checks, then asks the user to verify"}, unknown, grace, nil)
	return out, nil
}

// seedBitcoin funds the sender's wallet with block rewards and pays a
// user's deposit address on btc regtest.
func (c *Chains) seedBitcoin(ctx context.Context) ([]Deposit, error) {
	if err := c.wallet.Fund(ctx, c.btc); err != nil {
		return nil, err
	}
	dave, err := c.utxoKeyAddress(keystore.PurposeUser, keystore.UserIndex("dave"))
	if err != nil {
		return nil, err
	}
	const sats = 10_000_000 // 0.1 BTC
	txid, err := c.wallet.Send(ctx, c.btc, dave, sats, []byte("demo deposit"))
	if err != nil {
		return nil, err
	}
	// One block now so the deposit starts confirmed; the steady miner adds
	// the rest.
	if err := c.btc.Generate(ctx, 1); err != nil {
		return nil, err
	}
	return []Deposit{{
		Name: "btc-deposit", Category: "retired_address", Network: "btc", UserID: "dave", Asset: "BTC",
		TxHash: txid, ToAddress: dave.EncodeAddress(), Amount: fmt.Sprint(sats),
		Note: "0.1 BTC with an OP_RETURN note to an address of dave that the address book is to list as retired",
	}}, nil
}
