package atom_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/atom"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
)

// fuzzHash is the transaction every fuzzed answer is asked about.
const fuzzHash = "A1F2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F91"

// FuzzLookupTx feeds the adapter whatever a node might answer to GetTx,
// with an HTTP status of 200 or 404: it must never panic, never call a
// garbled answer "not found", and whatever it accepts must be a
// transaction a case can stand on.
func FuzzLookupTx(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		body, hash, status := fixture(f, filepath.Base(name))
		if hash != "" {
			f.Add(strings.ReplaceAll(string(body), hash, fuzzHash), status == http.StatusNotFound)
		}
	}
	f.Fuzz(func(t *testing.T, answer string, notFound bool) {
		status := http.StatusOK
		if notFound {
			status = http.StatusNotFound
		}
		hc := memotest.Answering(func(*http.Request) (int, string) { return status, answer })
		c, err := atom.Dial(network(t), "https://lcd.invalid/", atom.WithHTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := c.LookupTx(context.Background(), strings.ToLower(fuzzHash))
		if err != nil {
			switch code := recovery.ErrorCode(err); code {
			case recovery.EUnavailable:
			case recovery.ENotFound:
				if !strings.Contains(strings.ToLower(answer), "tx not found") {
					t.Fatalf("not found without the tx service saying so: %v", err)
				}
			default:
				t.Fatalf("error code %s: %v", code, err)
			}
			return
		}
		if tx.Hash != fuzzHash || tx.BlockNumber == 0 || !tx.Final() {
			t.Fatalf("hash %s height %d final %v", tx.Hash, tx.BlockNumber, tx.Final())
		}
		switch tx.Status {
		case recovery.TxSuccess:
		case recovery.TxFailed:
			if len(tx.Transfers) > 0 {
				t.Fatal("a failed transaction moved something")
			}
		default:
			t.Fatalf("status %q", tx.Status)
		}
		if tx.Fee != nil && tx.Fee.Sign() < 0 {
			t.Fatalf("fee %s", tx.Fee)
		}
		memotest.OneCasePerDeposit(t, tx)
		for _, tr := range tx.Transfers {
			switch {
			case tr.Amount == nil || tr.Amount.Sign() < 0 || tr.Amount.BitLen() > 256:
				t.Fatalf("amount %v", tr.Amount)
			case !atom.ValidAddress(tr.To) || tr.From == "":
				t.Fatalf("transfer %+v", tr)
			case tr.Kind == recovery.KindToken && (tr.Token == "" || tr.Token == atom.Denom):
				t.Fatalf("token transfer %+v", tr)
			case tr.Kind != recovery.KindToken && tr.Kind != recovery.KindNative:
				t.Fatalf("kind %s", tr.Kind)
			}
		}
	})
}
