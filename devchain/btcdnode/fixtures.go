package btcdnode

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Regtest consensus numbers the wallet depends on.
const (
	coinbaseMaturity = 100 // blocks before a coinbase output can be spent
	dustLimit        = 546 // change below this goes to the fee instead
)

// DefaultFeeRate is the wallet's fee rate in satoshis per virtual byte:
// comfortably above btcd's minimum relay fee (1 sat/vB).
const DefaultFeeRate = 10

// Wallet makes real, signed transactions on regtest nodes from keys it holds,
// without any node wallet (btcd has none). It finds its coins by scanning
// blocks for outputs paying its keys' P2PKH and P2WPKH scripts, and checks
// each coin with gettxout before spending it. One wallet can be used on
// several nodes; it keeps its coins per node.
//
// Addresses are address/v2 values for regtest; scripts and transactions are
// txscript/v2 and wire/v2.
type Wallet struct {
	// FeeRate in satoshis per virtual byte; 0 means DefaultFeeRate.
	FeeRate int64

	keys   []*btcec.PrivateKey
	owned  map[string]*btcec.PrivateKey // pkScript → key that spends it
	mu     sync.Mutex
	byNode map[*Node]*coinSet
}

type coin struct {
	op       wire.OutPoint
	value    int64
	pkScript []byte
	coinbase bool
	height   int64 // -1 while unconfirmed
}

type coinSet struct {
	scanned int64 // next height to scan
	coins   map[wire.OutPoint]coin
}

// NewWallet returns a wallet holding keys, or one new random key if none is
// given.
func NewWallet(keys ...*btcec.PrivateKey) (*Wallet, error) {
	if len(keys) == 0 {
		k, err := btcec.NewPrivateKey()
		if err != nil {
			return nil, fmt.Errorf("btcdnode wallet: new key: %w", err)
		}
		keys = []*btcec.PrivateKey{k}
	}
	w := &Wallet{keys: keys, owned: map[string]*btcec.PrivateKey{}, byNode: map[*Node]*coinSet{}}
	for _, k := range keys {
		pkh := address.Hash160(k.PubKey().SerializeCompressed())
		for _, s := range [][]byte{p2pkhScript(pkh), p2wpkhScript(pkh)} {
			w.owned[string(s)] = k
		}
	}
	return w, nil
}

func p2pkhScript(pkh []byte) []byte {
	s, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_DUP).AddOp(txscript.OP_HASH160).
		AddData(pkh).AddOp(txscript.OP_EQUALVERIFY).AddOp(txscript.OP_CHECKSIG).Script()
	return s
}

func p2wpkhScript(pkh []byte) []byte {
	s, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(pkh).Script()
	return s
}

// Key returns the wallet's first key.
func (w *Wallet) Key() *btcec.PrivateKey { return w.keys[0] }

// PubKeyHash is the hash160 of the first key's compressed public key: what
// its P2PKH and P2WPKH outputs pay to on every chain.
func (w *Wallet) PubKeyHash() []byte {
	return address.Hash160(w.keys[0].PubKey().SerializeCompressed())
}

// Address is the first key's regtest P2PKH address.
func (w *Wallet) Address() *address.AddressPubKeyHash {
	a, err := address.NewAddressPubKeyHash(w.PubKeyHash(), &chaincfg.RegressionNetParams)
	if err != nil {
		panic(err) // a 20-byte hash always makes an address
	}
	return a
}

// WitnessAddress is the first key's regtest P2WPKH address.
func (w *Wallet) WitnessAddress() *address.AddressWitnessPubKeyHash {
	a, err := address.NewAddressWitnessPubKeyHash(w.PubKeyHash(), &chaincfg.RegressionNetParams)
	if err != nil {
		panic(err) // a 20-byte program always makes an address
	}
	return a
}

// MiningAddr is the address to start a node with (Config.MiningAddr) so that
// Fund pays this wallet.
func (w *Wallet) MiningAddr() string { return w.Address().EncodeAddress() }

// Fund mines enough blocks on n for the first block reward paying this
// wallet to be spendable. n must have been started with w.MiningAddr().
func (w *Wallet) Fund(ctx context.Context, n *Node) error {
	a, err := address.DecodeAddress(n.MiningAddr(), &chaincfg.RegressionNetParams)
	if err != nil {
		return fmt.Errorf("btcdnode wallet fund: node mining address: %w", err)
	}
	script, err := txscript.PayToAddrScript(a)
	if err != nil {
		return fmt.Errorf("btcdnode wallet fund: %w", err)
	}
	if _, ok := w.owned[string(script)]; !ok {
		return fmt.Errorf("btcdnode wallet fund: the node mines to %s, which is not this wallet's", n.MiningAddr())
	}
	if err := n.Generate(ctx, coinbaseMaturity+1); err != nil {
		return fmt.Errorf("btcdnode wallet fund: %w", err)
	}
	return nil
}

// Balance returns the satoshis the wallet can spend on n now.
func (w *Wallet) Balance(ctx context.Context, n *Node) (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	set, best, err := w.sync(ctx, n)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, c := range set.coins {
		if spendable(c, best) {
			total += c.value
		}
	}
	return total, nil
}

// Send pays sats to an address, with an optional OP_RETURN output carrying
// opReturn (at most 80 bytes), and returns the txid. The transaction is in
// n's mempool when Send returns; Generate confirms it.
func (w *Wallet) Send(ctx context.Context, n *Node, to address.Address, sats int64, opReturn []byte) (string, error) {
	script, err := txscript.PayToAddrScript(to)
	if err != nil {
		return "", fmt.Errorf("btcdnode wallet send: %w", err)
	}
	return w.SendToScript(ctx, n, script, sats, opReturn)
}

// SendToScript is Send to a raw output script, for outputs no address
// describes on this chain (e.g. paying a bare public-key hash, or another
// chain's witness program).
func (w *Wallet) SendToScript(ctx context.Context, n *Node, pkScript []byte, sats int64, opReturn []byte) (string, error) {
	outs := []*wire.TxOut{wire.NewTxOut(sats, pkScript)}
	if opReturn != nil {
		s, err := txscript.NullDataScript(opReturn)
		if err != nil {
			return "", fmt.Errorf("btcdnode wallet send: op_return: %w", err)
		}
		outs = append(outs, wire.NewTxOut(0, s))
	}
	return w.SendOutputs(ctx, n, outs)
}

// SendOutputs pays the given outputs, in that order, and adds a change
// output back to the wallet's first key after them when the change is above
// dust. It returns the txid.
func (w *Wallet) SendOutputs(ctx context.Context, n *Node, outs []*wire.TxOut) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var want int64
	for _, o := range outs {
		if o.Value < 0 {
			return "", errors.New("btcdnode wallet send: negative amount")
		}
		want += o.Value
	}
	set, best, err := w.sync(ctx, n)
	if err != nil {
		return "", err
	}
	rate := cmp.Or(w.FeeRate, DefaultFeeRate)
	change := p2pkhScript(w.PubKeyHash())

	tx := wire.NewMsgTx(wire.TxVersion)
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	var picked []coin
	var have, fee int64
	for _, c := range candidates(set, best) {
		// The node has the last word: a coin spent elsewhere, or by a
		// transaction this wallet made before a restart, is dropped here.
		res, err := call(ctx, n, "gettxout", func(cl *rpcclient.Client) (*btcjson.GetTxOutResult, error) {
			return cl.GetTxOut(&c.op.Hash, c.op.Index, true)
		})
		if err != nil {
			return "", fmt.Errorf("btcdnode wallet send: %w", err)
		}
		if res == nil {
			delete(set.coins, c.op)
			continue
		}
		picked = append(picked, c)
		have += c.value
		fee = rate * estimateVSize(tx, picked, change)
		if have >= want+fee {
			break
		}
	}
	if have < want+fee {
		return "", fmt.Errorf("btcdnode wallet send: %d sat spendable, %d needed with the fee", have, want+fee)
	}
	for _, c := range picked {
		tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
	}
	if rest := have - want - fee; rest >= dustLimit {
		tx.AddTxOut(wire.NewTxOut(rest, change))
	}
	if err := w.sign(tx, picked); err != nil {
		return "", fmt.Errorf("btcdnode wallet send: %w", err)
	}
	txid, err := call(ctx, n, "sendrawtransaction", func(cl *rpcclient.Client) (*chainhash.Hash, error) {
		return cl.SendRawTransaction(tx, false)
	})
	if err != nil {
		return "", fmt.Errorf("btcdnode wallet send: %w", err)
	}
	// Spend and receive locally at once, so that the next Send can chain on
	// the change without waiting for a block.
	for _, c := range picked {
		delete(set.coins, c.op)
	}
	w.addOwned(set, tx, -1, false)
	return txid.String(), nil
}

// candidates lists the coins worth asking the node about, oldest first, so
// that mature block rewards go before unconfirmed change.
func candidates(set *coinSet, best int64) []coin {
	var cs []coin
	for _, c := range set.coins {
		if spendable(c, best) {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b coin) int {
		ha, hb := a.height, b.height
		if ha < 0 {
			ha = best + 1
		}
		if hb < 0 {
			hb = best + 1
		}
		if c := cmp.Compare(ha, hb); c != 0 {
			return c
		}
		if c := bytes.Compare(a.op.Hash[:], b.op.Hash[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.op.Index, b.op.Index)
	})
	return cs
}

// spendable is the coinbase maturity rule as btcd applies it to a
// transaction for the next block.
func spendable(c coin, best int64) bool {
	return !c.coinbase || (best+1)-c.height >= coinbaseMaturity
}

// estimateVSize bounds the virtual size of tx once it spends picked and pays
// change: a signature is at most 72 bytes and the key is compressed.
func estimateVSize(tx *wire.MsgTx, picked []coin, change []byte) int64 {
	vsize := int64(11) // version, locktime, counts, segwit marker
	for _, o := range tx.TxOut {
		vsize += int64(o.SerializeSize())
	}
	vsize += int64(wire.NewTxOut(0, change).SerializeSize())
	for _, c := range picked {
		if txscript.IsPayToWitnessPubKeyHash(c.pkScript) {
			vsize += 41 + (1+1+73+1+33+3)/4 // outpoint+sequence+empty script, witness at a quarter
		} else {
			vsize += 41 + 1 + 73 + 1 + 33 // outpoint+sequence, script with sig and key
		}
	}
	return vsize
}

func (w *Wallet) sign(tx *wire.MsgTx, picked []coin) error {
	prevOuts := make(map[wire.OutPoint]*wire.TxOut, len(picked))
	for _, c := range picked {
		prevOuts[c.op] = wire.NewTxOut(c.value, c.pkScript)
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prevOuts)
	sigHashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, c := range picked {
		key := w.owned[string(c.pkScript)]
		if txscript.IsPayToWitnessPubKeyHash(c.pkScript) {
			wit, err := txscript.WitnessSignature(tx, sigHashes, i, c.value, c.pkScript, txscript.SigHashAll, key, true)
			if err != nil {
				return fmt.Errorf("sign input %d: %w", i, err)
			}
			tx.TxIn[i].Witness = wit
		} else {
			sig, err := txscript.SignatureScript(tx, i, c.pkScript, txscript.SigHashAll, key, true)
			if err != nil {
				return fmt.Errorf("sign input %d: %w", i, err)
			}
			tx.TxIn[i].SignatureScript = sig
		}
	}
	// Check locally: the node's rejection message for a bad signature says
	// less than the script engine does.
	for i, c := range picked {
		vm, err := txscript.NewEngine(c.pkScript, tx, i, txscript.StandardVerifyFlags, nil, sigHashes, c.value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return fmt.Errorf("verify input %d: %w", i, err)
		}
	}
	return nil
}

// sync brings the wallet's view of n up to its best block and returns it
// with that height. w.mu must be held.
func (w *Wallet) sync(ctx context.Context, n *Node) (*coinSet, int64, error) {
	set := w.byNode[n]
	if set == nil {
		set = &coinSet{coins: map[wire.OutPoint]coin{}}
		w.byNode[n] = set
	}
	best, err := n.BlockCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("btcdnode wallet: %w", err)
	}
	for ; set.scanned <= best; set.scanned++ {
		h := set.scanned
		block, err := call(ctx, n, fmt.Sprintf("block %d", h), func(c *rpcclient.Client) (*wire.MsgBlock, error) {
			hash, err := c.GetBlockHash(h)
			if err != nil {
				return nil, err
			}
			return c.GetBlock(hash)
		})
		if err != nil {
			return nil, 0, fmt.Errorf("btcdnode wallet: %w", err)
		}
		for i, tx := range block.Transactions {
			for _, in := range tx.TxIn {
				delete(set.coins, in.PreviousOutPoint)
			}
			w.addOwned(set, tx, h, i == 0)
		}
	}
	return set, best, nil
}

func (w *Wallet) addOwned(set *coinSet, tx *wire.MsgTx, height int64, coinbase bool) {
	txid := tx.TxHash()
	for i, o := range tx.TxOut {
		if _, ok := w.owned[string(o.PkScript)]; ok {
			op := wire.OutPoint{Hash: txid, Index: uint32(i)}
			set.coins[op] = coin{op: op, value: o.Value, pkScript: o.PkScript, coinbase: coinbase, height: height}
		}
	}
}
