package main

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/keystore"
	"github.com/misdeposit/recovery/internal/nodetest"
)

// recovery dev with its networks on the operator's own nodes issues dev
// deposit addresses from its keystore (and puts them in the address book),
// and lists the hot wallets the operator funds, with their balance.
func TestDevOnExternalNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engine and a dev chain")
	}
	funder, funderAddr := nodetest.Key(t)
	node, eth := nodetest.EVM(t, evmnode.Config{ChainID: 1337, Alloc: nodetest.Alloc(new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil), funderAddr)})
	e, dir, _ := startOnNode(t, node.URL(), "", "")
	defer e.stop(t)

	var issued struct{ Address string }
	if code := call(t, "GET", e.api+"/v1/deposit-address?user_id=zoe&network=eth", "", nil, &issued); code != 200 {
		t.Fatalf("deposit address on an external eth node: %d", code)
	}
	ks, err := keystore.Open(filepath.Join(dir, "keystore"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ks.EVMAddress(keystore.PurposeUser, keystore.UserIndex("zoe"))
	if issued.Address != want.Hex() {
		t.Fatalf("deposit address %s, want zoe's keystore address %s", issued.Address, want.Hex())
	}
	var book struct {
		Entries []struct {
			Network string `json:"network"`
			UserID  string `json:"user_id"`
		}
	}
	if code := call(t, "GET", e.api+"/v1/addressbook?address="+issued.Address, "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &book); code != 200 ||
		len(book.Entries) != 1 || book.Entries[0].UserID != "zoe" || book.Entries[0].Network != "eth" {
		t.Fatalf("the issued address is not in the address book: %d %+v", code, book)
	}
	if code := call(t, "GET", e.api+"/v1/deposit-address?user_id=zoe&network=xrp", "", nil, nil); code != 400 {
		t.Fatalf("a memo network's dev address: %d, want 400", code)
	}

	// The eth hot wallet, empty until the operator funds it.
	type wallets struct {
		Wallets []struct{ Network, Address, Balance string }
	}
	var ws wallets
	if code := call(t, "GET", e.api+"/v1/wallets", "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &ws); code != 200 || len(ws.Wallets) != 1 ||
		ws.Wallets[0].Network != "eth" || ws.Wallets[0].Balance != "0" || strings.EqualFold(ws.Wallets[0].Address, issued.Address) {
		t.Fatalf("hot wallets: %d %+v", code, ws)
	}
	hot := ws.Wallets[0].Address
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := evmnode.SendValue(ctx, eth, funder, common.HexToAddress(hot), big.NewInt(5_000_000)); err != nil {
		t.Fatal(err)
	}
	if code := call(t, "GET", e.api+"/v1/wallets", "wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg", nil, &ws); code != 200 || ws.Wallets[0].Balance != "5000000" {
		t.Fatalf("funded hot wallet: %d %+v", code, ws)
	}
}

// startOnNode starts recovery dev with eth on the node at url (chain id
// 1337, 2 confirmations) and no local chains, the settings in extra and the
// network entries in networks added to its config file; see startWith.
func startOnNode(t *testing.T, url, extra, networks string) (e *engine, dataDir, temporalAddr string) {
	t.Helper()
	return startWith(t, "  - {id: eth, rpc: ["+url+"], chain_id: 1337, confirmations: 2}\n"+networks, extra)
}

// startWith starts recovery dev with the network entries in networks (a
// YAML list's lines), the settings in extra, and three staff: wanda
// (wallet, token wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg), seth (settlement,
// seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy) and fay (finance, fay-f7QmZ3tLx9WkR2vNc6BpJ8hDs4Gy). It
// returns the engine, its data directory and the address of its Temporal
// frontend.
func startWith(t *testing.T, networks, extra string) (e *engine, dataDir, temporalAddr string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "recovery.yaml")
	cfg := extra + "networks:\n" + networks +
		"staff_tokens:\n  - {token: wanda-w4LrT9qXz2VbN7kPs3HjC8mYd6Fg, person: wanda, roles: [wallet]}\n" +
		"  - {token: seth-s8KpW2nQx5RtL9vBc4MzJ7hDf3Gy, person: seth, roles: [settlement]}\n" +
		"  - {token: fay-f7QmZ3tLx9WkR2vNc6BpJ8hDs4Gy, person: fay, roles: [finance]}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	temporalAddr = "127.0.0.1:" + freePort(t)
	e = startEngine(t, []string{"dev", "--config", cfgPath, "--data-dir", dir, "--api-addr", "127.0.0.1:0",
		"--temporal-address", temporalAddr, "--ui-port", "-1", "--log-level", "error"})
	return e, dir, temporalAddr
}
