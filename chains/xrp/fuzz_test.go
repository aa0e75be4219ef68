package xrp_test

import (
	"context"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
	"github.com/misdeposit/recovery/chains/xrp"
)

// fuzzHash is the transaction every fuzzed answer is asked about.
const fuzzHash = "9E3B7D1B0E4F3D7BF1B2D0C5A0B5A5E9D0E0C7B3A4F2E1D0C9B8A7F6E5D4C3B2"

// FuzzLookupTx feeds the adapter whatever a server might answer to tx: it
// must never panic, never call a garbled answer "not found", and whatever
// it accepts must be a transaction a case can stand on.
func FuzzLookupTx(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		body, hash := fixture(f, filepath.Base(name))
		f.Add(strings.ReplaceAll(string(body), hash, fuzzHash))
	}
	f.Fuzz(func(t *testing.T, answer string) {
		hc := memotest.Answering(func(*http.Request) (int, string) { return http.StatusOK, answer })
		c, err := xrp.Dial(network(t), "http://xrpl.invalid/", xrp.WithHTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := c.LookupTx(context.Background(), strings.ToLower(fuzzHash))
		if err != nil {
			switch code := recovery.ErrorCode(err); code {
			case recovery.EUnavailable, recovery.EInvalid:
			case recovery.ENotFound:
				if !strings.Contains(answer, `"txnNotFound"`) {
					t.Fatalf("not found without txnNotFound: %v", err)
				}
			default:
				t.Fatalf("error code %s: %v", code, err)
			}
			return
		}
		if tx.Hash != fuzzHash || !xrp.ValidAddress(tx.From) {
			t.Fatalf("hash %s from %q", tx.Hash, tx.From)
		}
		switch tx.Status {
		case recovery.TxSuccess, recovery.TxFailed:
			if !tx.Final() {
				t.Fatalf("a validated transaction is not final: %+v", tx)
			}
		case recovery.TxPending:
			if tx.Final() {
				t.Fatal("a pending transaction is final")
			}
		default:
			t.Fatalf("status %q", tx.Status)
		}
		if tx.Status == recovery.TxFailed && len(tx.Transfers) > 0 {
			t.Fatal("a failed transaction delivered something")
		}
		if tx.Fee != nil && tx.Fee.Sign() < 0 {
			t.Fatalf("fee %s", tx.Fee)
		}
		maxDrops := big.NewInt(100_000_000_000_000_000)
		memotest.OneCasePerDeposit(t, tx)
		for _, tr := range tx.Transfers {
			switch {
			case tr.Amount == nil || tr.Amount.Sign() < 0:
				t.Fatalf("amount %v", tr.Amount)
			case !xrp.ValidAddress(tr.To) || tr.From != tx.From:
				t.Fatalf("transfer %+v", tr)
			case tr.Kind == recovery.KindNative && tr.Amount.Cmp(maxDrops) > 0:
				t.Fatalf("%s drops: more XRP than exists", tr.Amount)
			case tr.Kind == recovery.KindToken && tr.Token == "":
				t.Fatal("a token transfer without its token")
			}
		}
	})
}
