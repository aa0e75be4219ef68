package harness_test

import (
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/harness"
	"github.com/misdeposit/recovery/internal/nodetest"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

func lookup(t *testing.T, h *harness.Harness, network, hash string) *recovery.Tx {
	t.Helper()
	tx, err := h.Lookups()[network].LookupTx(nodetest.Context(t), hash)
	if err != nil {
		t.Fatalf("%s: LookupTx(%s): %v", network, hash, err)
	}
	return tx
}

func notFound(t *testing.T, h *harness.Harness, network, hash string) {
	t.Helper()
	tx, err := h.Lookups()[network].LookupTx(nodetest.Context(t), hash)
	if !errors.Is(err, chains.ErrTxNotFound) || recovery.ErrorCode(err) != recovery.ENotFound {
		t.Errorf("%s: LookupTx(%s) = %+v, %v; want not found", network, hash, tx, err)
	}
}

// transferTo returns the transfer of tx with the fixture's index and kind.
func transferTo(t *testing.T, tx *recovery.Tx, kind recovery.TransferKind, index uint32) recovery.Transfer {
	t.Helper()
	for _, tr := range tx.Transfers {
		if tr.Kind == kind && tr.Index == index {
			return tr
		}
	}
	t.Fatalf("%s has no %s transfer %d: %+v", tx.Hash, kind, index, tx.Transfers)
	return recovery.Transfer{}
}

func TestRegistryPointsFourNetworksAtTheLocalChains(t *testing.T) {
	h := harness.Shared(t)
	nets := h.Registry().Networks()
	if len(nets) != 32 {
		t.Fatalf("%d networks, want the 32 defaults", len(nets))
	}
	tiers := map[chains.Tier]int{}
	for _, n := range nets {
		tiers[n.Tier]++
		switch n.ID {
		case "eth", "bsc", "btc", "ltc":
			if len(n.RPC) != 1 {
				t.Errorf("%s has rpc %v, want the local node", n.ID, n.RPC)
			}
		default:
			if len(n.RPC) != 0 {
				t.Errorf("%s has rpc %v, want none", n.ID, n.RPC)
			}
		}
	}
	if tiers[chains.Direct] != 16 || tiers[chains.Conditional] != 16 {
		t.Errorf("tiers %v", tiers)
	}
	for id, want := range map[string]chains.Network{
		"eth": {ChainID: harness.EthChainID, Confirmations: harness.EthConfirmations},
		"bsc": {ChainID: harness.BscChainID, Confirmations: harness.BscConfirmations},
		"btc": {Params: harness.BtcParams, Confirmations: harness.BtcConfirmations},
		"ltc": {Params: harness.LtcParams, Confirmations: harness.LtcConfirmations},
	} {
		n := h.Network(id)
		if n.ChainID != want.ChainID || n.Params != want.Params || n.Confirmations != want.Confirmations {
			t.Errorf("%s = chain id %d params %q confirmations %d, want %+v", id, n.ChainID, n.Params, n.Confirmations, want)
		}
	}
	if got := len(h.Lookups()); got != 4 {
		t.Errorf("%d lookups, want 4", got)
	}
	// Lookups is a copy: a test may change it without touching others.
	l := h.Lookups()
	delete(l, "eth")
	if _, ok := h.Lookups()["eth"]; !ok {
		t.Error("deleting from Lookups() changed the harness")
	}
}

func TestDepositAddresses(t *testing.T) {
	h := harness.Shared(t)
	addr := func(user, network string) harness.DepositAddress {
		d, err := h.DepositAddress(user, network)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if eth, bsc := addr("alice", "eth"), addr("alice", "bsc"); eth.Address != bsc.Address || !strings.HasPrefix(eth.Address, "0x") {
		t.Errorf("alice's eth %s and bsc %s addresses, want one EVM address", eth.Address, bsc.Address)
	}
	if addr("alice", "eth").Address == addr("bob", "eth").Address {
		t.Error("two users share an address")
	}
	btc, ltc := addr("dave", "btc"), addr("dave", "ltc")
	if !strings.HasPrefix(btc.Address, "bcrt1q") || !strings.HasPrefix(ltc.Address, "rltc1q") || len(btc.PubKeyHash) != 40 {
		t.Errorf("dave's btc %+v and ltc %+v, want P2WPKH regtest addresses", btc, ltc)
	}
	if btc.PubKeyHash == ltc.PubKeyHash {
		t.Error("btc and ltc deposit keys are the same key: a cross-chain payment would look like a deposit")
	}
	if _, err := h.DepositAddress("alice", "xrp"); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("xrp deposit address: %v", err)
	}
}

// Every fixture is what it says it is, read through the real adapters.
func TestFixtures(t *testing.T) {
	h := harness.Shared(t)
	f := h.Fixtures()

	t.Run("native", func(t *testing.T) {
		tx := lookup(t, h, "eth", f.Native.TxHash)
		tr := transferTo(t, tx, recovery.KindNative, 0)
		if tx.Status != recovery.TxSuccess || !tx.Final() || !chains.SameAddress(recovery.FamilyEVM, tr.To, f.Native.To) || tr.Amount.Cmp(f.Native.Amount) != 0 {
			t.Errorf("native = %+v, transfer %+v; want a final payment of %s to %s", tx, tr, f.Native.Amount, f.Native.To)
		}
	})
	t.Run("unlisted token", func(t *testing.T) {
		fx := f.UnlistedToken
		tx := lookup(t, h, "eth", fx.TxHash)
		tr := transferTo(t, tx, recovery.KindToken, fx.Index)
		if tx.Status != recovery.TxSuccess || !tx.Final() || tr.Token != fx.Token || !chains.SameAddress(recovery.FamilyEVM, tr.To, fx.To) || tr.Amount.Cmp(fx.Amount) != 0 {
			t.Errorf("token deposit = %+v, transfer %+v; want %s of %s to %s", tx, tr, fx.Amount, fx.Token, fx.To)
		}
	})
	t.Run("wrong network", func(t *testing.T) {
		fx := f.WrongNetwork
		tx := lookup(t, h, "bsc", fx.TxHash)
		tr := transferTo(t, tx, recovery.KindNative, 0)
		eth, _ := h.DepositAddress(fx.UserID, "eth")
		if tx.Status != recovery.TxSuccess || !tx.Final() || fx.AddressNetwork != "eth" || !chains.SameAddress(recovery.FamilyEVM, tr.To, eth.Address) || tr.Amount.Cmp(fx.Amount) != 0 {
			t.Errorf("wrong-network deposit = %+v, transfer %+v; want final on bsc to the eth address %s", tx, tr, eth.Address)
		}
		notFound(t, h, "eth", fx.TxHash)
	})
	t.Run("cross chain", func(t *testing.T) {
		fx := f.CrossChain
		tx := lookup(t, h, "ltc", fx.TxHash)
		tr := transferTo(t, tx, recovery.KindOutput, fx.Index)
		if tx.Status != recovery.TxSuccess || !tx.Final() || tr.PubKeyHash != fx.PubKeyHash || tr.Amount.Cmp(fx.Amount) != 0 {
			t.Errorf("cross-chain output = %+v, transfer %+v; want final, paying %s", tx, tr, fx.PubKeyHash)
		}
		if !strings.HasPrefix(tr.To, "rltc1q") || tr.To == fx.To || !strings.HasPrefix(fx.To, "bcrt1q") {
			t.Errorf("ltc output to %q, btc deposit address %q: want different address texts", tr.To, fx.To)
		}
		notFound(t, h, "btc", fx.TxHash)
	})
	t.Run("failed", func(t *testing.T) {
		tx := lookup(t, h, "eth", f.Failed.TxHash)
		if tx.Status != recovery.TxFailed || len(tx.Transfers) != 0 || tx.Confirmations < harness.EthConfirmations {
			t.Errorf("failed tx = %+v, want status failed, nothing moved, final", tx)
		}
	})
	t.Run("pending", func(t *testing.T) {
		tx := lookup(t, h, "eth", f.Pending.TxHash)
		tr := transferTo(t, tx, recovery.KindNative, 0)
		if tx.Status != recovery.TxPending || tx.Final() || tx.BlockHash != "" || tr.Amount.Cmp(f.Pending.Amount) != 0 {
			t.Errorf("pending tx = %+v, want pending", tx)
		}
	})
	t.Run("few confirmations", func(t *testing.T) {
		fx := f.FewConfirmations
		tx := lookup(t, h, "btc", fx.TxHash)
		tr := transferTo(t, tx, recovery.KindOutput, fx.Index)
		if tx.Status != recovery.TxSuccess || tx.Confirmations != 1 || tx.Required != 2 || tx.Final() ||
			tr.To != fx.To || tr.Amount.Cmp(fx.Amount) != 0 {
			t.Errorf("btc deposit = %+v, transfer %+v; want 1 confirmation of 2 to %s", tx, tr, fx.To)
		}
	})
	t.Run("reorged evm", func(t *testing.T) {
		if f.ReorgedEVM.OldBlockHash == "" {
			t.Error("no old block recorded")
		}
		notFound(t, h, "eth", f.ReorgedEVM.TxHash)
	})
	t.Run("reorged utxo", func(t *testing.T) {
		fx := f.ReorgedUTXO
		tx := lookup(t, h, "ltc", fx.TxHash)
		tr := transferTo(t, tx, recovery.KindOutput, fx.Index)
		if tx.Status != recovery.TxPending || tx.BlockHash != "" || tx.Confirmations != 0 || fx.OldBlockHash == "" || tr.To != fx.To {
			t.Errorf("reorged ltc deposit = %+v, want pending, out of its old block %s", tx, fx.OldBlockHash)
		}
	})
	t.Run("not found", func(t *testing.T) {
		for _, network := range []string{"eth", "bsc"} {
			notFound(t, h, network, f.NotFound.TxHash)
		}
		for _, network := range []string{"btc", "ltc"} {
			notFound(t, h, network, strings.TrimPrefix(f.NotFound.TxHash, "0x"))
		}
	})
	t.Run("hashes", func(t *testing.T) {
		seen := map[string]string{}
		for _, fx := range f.All() {
			hex64, err := chains.ParseTxHash(fx.TxHash)
			if err != nil {
				t.Errorf("%s: hash %q: %v", fx.Name, fx.TxHash, err)
				continue
			}
			if chains.HashFor(h.Network(fx.Network).Family, hex64) != fx.TxHash {
				t.Errorf("%s: hash %q is not written as %s's adapter writes it", fx.Name, fx.TxHash, fx.Network)
			}
			if other, dup := seen[hex64]; dup {
				t.Errorf("%s and %s share a hash", fx.Name, other)
			}
			seen[hex64] = fx.Name
			if fx.UserID == "" || fx.To == "" {
				t.Errorf("%s: no user or address: %+v", fx.Name, fx)
			}
		}
	})
}

// A harness of a test's own is stopped when the test ends: its nodes no
// longer accept connections.
func TestStartStopsItsNodesAtCleanup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second harness")
	}
	var endpoints []string
	t.Run("own", func(t *testing.T) {
		h := harness.Start(t)
		if _, err := h.EVM("eth").Reorg(nodetest.Context(t), evmnode.ReorgOptions{Depth: 1}); err != nil {
			t.Fatal(err)
		}
		for _, n := range h.Registry().Networks() {
			for _, rpc := range n.RPC {
				u, err := url.Parse(rpc)
				if err != nil {
					t.Fatal(err)
				}
				endpoints = append(endpoints, u.Host)
			}
		}
		// Its fixtures are its own.
		if h.Fixtures().Native.TxHash == harness.Shared(t).Fixtures().Native.TxHash {
			t.Error("two harnesses share a fixture")
		}
	})
	if len(endpoints) != 4 {
		t.Fatalf("endpoints %v, want 4", endpoints)
	}
	for _, host := range endpoints {
		if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after cleanup", host)
		}
	}
}
