package harness

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery/chains/utxo"
	"github.com/misdeposit/recovery/devchain/btcdnode"
	"github.com/misdeposit/recovery/devchain/evmnode"
)

// Fixture is one real transaction on a harness chain, with what a user
// appealing it would quote.
type Fixture struct {
	Name string
	// Network is where the transaction is.
	Network string
	// TxHash is written as Network's adapter writes it: 0x and 64 hex
	// digits on EVM networks, 64 bare hex digits on UTXO networks.
	TxHash string
	// To is the deposit address the user quotes, as the network the
	// address was issued for writes it (see AddressNetwork).
	To string
	// AddressNetwork is the network the exchange issued To for. It differs
	// from Network for the deposits made on the wrong chain.
	AddressNetwork string
	// PubKeyHash is the hex hash160 the deposit pays, for UTXO fixtures.
	PubKeyHash string
	// UserID is the exchange user whose deposit key To is ("" if none).
	UserID string
	// Amount is what reached To in base units (wei, token base units,
	// satoshis); nil when nothing moved.
	Amount *big.Int
	// Token is the ERC-20 contract of a token deposit.
	Token string
	// Index is the deposit's Transfer.Index: the log index of a token
	// transfer, the output index of a UTXO output, 0 for a native transfer.
	Index uint32
	// OldBlockHash is, for the reorged fixtures, the block the transaction
	// was in before the reorg replaced it, as the adapter wrote it then.
	OldBlockHash string
	// Note says what a lookup finds, for people reading test output.
	Note string
}

// Fixtures are the transactions a harness makes at start, one of each kind
// the engine must recognise. What each promises (confirmations, pending,
// not found) holds as long as nobody mines on the harness's nodes.
type Fixtures struct {
	// Native: 1.25 ETH to alice's eth deposit address; final (4+
	// confirmations of 3).
	Native Fixture
	// UnlistedToken: 1000 tokens of a freshly deployed ERC-20 the exchange
	// does not list, to bob's eth address; final.
	UnlistedToken Fixture
	// WrongNetwork: 0.5 BNB on bsc to carol's eth deposit address (the same
	// EVM address exists on bsc); final on bsc (3 confirmations of 3), and
	// unknown to eth.
	WrongNetwork Fixture
	// CrossChain: 0.7 coin on ltc, a P2WPKH output paying the key hash of
	// dave's btc deposit address, so that the ltc address text (rltc1q…)
	// differs from the btc one (bcrt1q…); final on ltc.
	CrossChain Fixture
	// Failed: a call that reverted (receipt status 0) on eth; nothing moved.
	// To is erin's eth address, which the user would quote; the
	// transaction itself called a contract that reverts everything.
	Failed Fixture
	// Pending: 0.1 ETH to frank's eth address, signed with a nonce gap:
	// the node keeps it in its pool and never mines it.
	Pending Fixture
	// FewConfirmations: 0.5 BTC to grace's btc address with 1
	// confirmation; btc needs 2.
	FewConfirmations Fixture
	// ReorgedEVM: 0.2 ETH to heidi's eth address, mined, then its block
	// replaced by a reorg that dropped it from the node (evmnode
	// ReorgOptions.DropTxs): the eth adapter answers not found.
	ReorgedEVM Fixture
	// ReorgedUTXO: 0.3 coin on ltc to ivan's ltc address, mined, then its
	// block replaced by a heavier branch of empty blocks: btcd took it back
	// into its mempool and the ltc adapter answers pending, no block.
	ReorgedUTXO Fixture
	// NotFound: a random hash no chain knows, appealed by judy as an eth
	// deposit.
	NotFound Fixture
}

// All lists the fixtures in a fixed order.
func (f Fixtures) All() []Fixture {
	return []Fixture{f.Native, f.UnlistedToken, f.WrongNetwork, f.CrossChain, f.Failed, f.Pending,
		f.FewConfirmations, f.ReorgedEVM, f.ReorgedUTXO, f.NotFound}
}

func (h *Harness) senderAddress() common.Address { return crypto.PubkeyToAddress(h.sender.PublicKey) }

// milli is 0.001 of an 18-decimal asset, in base units.
var milli = new(big.Int).Exp(big.NewInt(10), big.NewInt(15), nil)

func millis(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), milli) }

// evmFixtures sends the eth and bsc fixtures. The chains have no block
// period: each transaction gets a block of its own, and Mine adds the
// confirmations.
func (h *Harness) evmFixtures(ctx context.Context) error {
	eth, err := ethclient.DialContext(ctx, h.eth.URL())
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	defer eth.Close()
	bsc, err := ethclient.DialContext(ctx, h.bsc.URL())
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	defer bsc.Close()
	f := &h.fixtures
	key := h.sender

	user := func(id, network string) (string, error) {
		d, err := h.DepositAddress(id, network)
		return d.Address, err
	}
	evmFixture := func(name, network, userID string, amount *big.Int, note string) (Fixture, common.Address, error) {
		to, err := user(userID, "eth")
		return Fixture{Name: name, Network: network, To: to, AddressNetwork: "eth", UserID: userID, Amount: amount, Note: note},
			common.HexToAddress(to), err
	}

	// Reorged first: Reorg replaces the head block, which must hold only
	// this transaction.
	fx, to, err := evmFixture("reorged-evm", "eth", "heidi", millis(200), "mined, then reorged out and dropped: not found on eth")
	if err != nil {
		return err
	}
	hash, err := evmnode.SendValue(ctx, eth, key, to, fx.Amount)
	if err != nil {
		return fmt.Errorf("harness: reorged eth deposit: %w", err)
	}
	receipt, err := eth.TransactionReceipt(ctx, hash)
	if err != nil {
		return fmt.Errorf("harness: reorged eth deposit: %w", err)
	}
	if _, err := h.eth.Reorg(ctx, evmnode.ReorgOptions{Depth: 1, DropTxs: true}); err != nil {
		return fmt.Errorf("harness: reorg eth: %w", err)
	}
	fx.TxHash, fx.OldBlockHash = hash.Hex(), receipt.BlockHash.Hex()
	f.ReorgedEVM = fx

	fx, to, err = evmFixture("native", "eth", "alice", millis(1250), "plain ETH deposit, final")
	if err != nil {
		return err
	}
	if hash, err = evmnode.SendValue(ctx, eth, key, to, fx.Amount); err != nil {
		return fmt.Errorf("harness: native deposit: %w", err)
	}
	fx.TxHash = hash.Hex()
	f.Native = fx

	fx, to, err = evmFixture("unlisted-token", "eth", "bob", millis(1_000_000), "ERC-20 the exchange does not list, final")
	if err != nil {
		return err
	}
	token, err := evmnode.DeployToken(ctx, eth, key)
	if err != nil {
		return fmt.Errorf("harness: deploy token: %w", err)
	}
	if hash, err = evmnode.TransferToken(ctx, eth, key, token, to, fx.Amount); err != nil {
		return fmt.Errorf("harness: token deposit: %w", err)
	}
	if receipt, err = eth.TransactionReceipt(ctx, hash); err != nil {
		return fmt.Errorf("harness: token deposit receipt: %w", err)
	}
	if len(receipt.Logs) != 1 {
		return fmt.Errorf("harness: token deposit has %d logs, want its Transfer", len(receipt.Logs))
	}
	fx.TxHash, fx.Token, fx.Index = hash.Hex(), token.Hex(), uint32(receipt.Logs[0].Index)
	f.UnlistedToken = fx

	fx, _, err = evmFixture("failed", "eth", "erin", nil, "reverted (receipt status 0): nothing moved")
	if err != nil {
		return err
	}
	reverter, err := evmnode.DeployReverter(ctx, eth, key)
	if err != nil {
		return fmt.Errorf("harness: deploy reverter: %w", err)
	}
	if hash, err = evmnode.SendFailing(ctx, eth, key, reverter); err != nil {
		return fmt.Errorf("harness: failed transaction: %w", err)
	}
	fx.TxHash = hash.Hex()
	f.Failed = fx

	fx, to, err = evmFixture("pending", "eth", "frank", millis(100), "queued behind a nonce gap: pending for as long as the node runs")
	if err != nil {
		return err
	}
	if hash, err = evmnode.SendPending(ctx, eth, key, to, fx.Amount); err != nil {
		return fmt.Errorf("harness: pending transaction: %w", err)
	}
	fx.TxHash = hash.Hex()
	f.Pending = fx

	fx, _, err = evmFixture("not-found", "eth", "judy", nil, "a random hash: no chain knows it")
	if err != nil {
		return err
	}
	var unknown common.Hash
	_, _ = rand.Read(unknown[:]) // crypto/rand.Read never fails (Go 1.24+)
	fx.TxHash = unknown.Hex()
	f.NotFound = fx

	// The last eth fixture's block plus three: every mined eth fixture is
	// final (3 confirmations or more).
	if err := h.eth.Mine(ctx, EthConfirmations); err != nil {
		return fmt.Errorf("harness: mine eth: %w", err)
	}

	fx, to, err = evmFixture("wrong-network", "bsc", "carol", millis(500), "native bsc payment to an address issued on eth, final on bsc")
	if err != nil {
		return err
	}
	if hash, err = evmnode.SendValue(ctx, bsc, key, to, fx.Amount); err != nil {
		return fmt.Errorf("harness: wrong-network deposit: %w", err)
	}
	fx.TxHash = hash.Hex()
	f.WrongNetwork = fx
	if err := h.bsc.Mine(ctx, BscConfirmations-1); err != nil {
		return fmt.Errorf("harness: mine bsc: %w", err)
	}
	return nil
}

// utxoFixtures sends the btc and ltc fixtures once the wallet is funded on
// both nodes.
func (h *Harness) utxoFixtures(ctx context.Context) error {
	f := &h.fixtures
	w := h.wallet

	// btc: one confirmation of two.
	grace, err := h.DepositAddress("grace", "btc")
	if err != nil {
		return err
	}
	graceAddr, err := address.DecodeAddress(grace.Address, &chaincfg.RegressionNetParams)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	const graceSats = 50_000_000
	txid, err := w.Send(ctx, h.btc, graceAddr, graceSats, nil)
	if err != nil {
		return fmt.Errorf("harness: btc deposit: %w", err)
	}
	if err := h.btc.Generate(ctx, 1); err != nil {
		return fmt.Errorf("harness: btc deposit: %w", err)
	}
	f.FewConfirmations = Fixture{Name: "few-confirmations", Network: "btc", TxHash: txid, To: grace.Address, AddressNetwork: "btc",
		PubKeyHash: grace.PubKeyHash, UserID: "grace", Amount: big.NewInt(graceSats), Index: 0,
		Note: "1 confirmation where btc needs 2: pending"}

	// ltc: an output paying dave's btc key hash, written the ltc way.
	dave, err := h.DepositAddress("dave", "btc")
	if err != nil {
		return err
	}
	info, err := utxo.DecodeAddress(h.params("btc"), dave.Address)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	script, err := info.Script()
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	const daveSats = 70_000_000
	if txid, err = w.SendToScript(ctx, h.ltc, script, daveSats, nil); err != nil {
		return fmt.Errorf("harness: cross-chain deposit: %w", err)
	}
	if err := h.ltc.Generate(ctx, LtcConfirmations-1); err != nil {
		return fmt.Errorf("harness: cross-chain deposit: %w", err)
	}
	f.CrossChain = Fixture{Name: "cross-chain", Network: "ltc", TxHash: txid, To: dave.Address, AddressNetwork: "btc",
		PubKeyHash: dave.PubKeyHash, UserID: "dave", Amount: big.NewInt(daveSats), Index: 0,
		Note: "ltc output paying the key hash of a btc deposit address, final on ltc"}

	// ltc: mined in the tip, then the tip replaced by a heavier branch.
	ivan, err := h.DepositAddress("ivan", "ltc")
	if err != nil {
		return err
	}
	ivanInfo, err := utxo.DecodeAddress(h.params("ltc"), ivan.Address)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	if script, err = ivanInfo.Script(); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	const ivanSats = 30_000_000
	if txid, err = w.SendToScript(ctx, h.ltc, script, ivanSats, nil); err != nil {
		return fmt.Errorf("harness: reorged ltc deposit: %w", err)
	}
	if err := h.ltc.Generate(ctx, 1); err != nil {
		return fmt.Errorf("harness: reorged ltc deposit: %w", err)
	}
	res, err := h.ltc.Reorg(ctx, btcdnode.ReorgOptions{Depth: 1})
	if err != nil {
		return fmt.Errorf("harness: reorg ltc: %w", err)
	}
	if len(res.Replaced) != 1 || !containsTx(res.Txs, txid) {
		return fmt.Errorf("harness: reorg ltc replaced %v holding %v, not the block of %s", res.Replaced, res.Txs, txid)
	}
	f.ReorgedUTXO = Fixture{Name: "reorged-utxo", Network: "ltc", TxHash: txid, To: ivan.Address, AddressNetwork: "ltc",
		PubKeyHash: ivan.PubKeyHash, UserID: "ivan", Amount: big.NewInt(ivanSats), Index: 0, OldBlockHash: res.Replaced[0].String(),
		Note: "mined, then its block reorged away: back in the ltc mempool, pending"}
	return nil
}

func containsTx(txs []chainhash.Hash, txid string) bool {
	for _, h := range txs {
		if h.String() == txid {
			return true
		}
	}
	return false
}
