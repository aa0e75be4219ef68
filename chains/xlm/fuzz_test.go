package xlm_test

import (
	"context"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
	"github.com/misdeposit/recovery/chains/xlm"
)

// fuzzHash is the transaction every fuzzed answer is asked about.
const fuzzHash = "3389e9f0f1a65f19736cacf544c2e825313e8447f569233bb8db39aa607c8889"

// FuzzLookupTx feeds the adapter whatever a server might answer for the
// transaction (with status 404 when notFound) and for its operations: it
// must never panic, never call a garbled answer "not found", and whatever
// it accepts must be a transaction a case can stand on.
func FuzzLookupTx(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		h := fixture(f, filepath.Base(name))
		if h.Hash == "" {
			continue
		}
		path := "/transactions/" + h.Hash
		swap := func(s string) string { return strings.ReplaceAll(s, h.Hash, fuzzHash) }
		f.Add(swap(string(h.Answers[path])), swap(string(h.Answers[path+"/operations"])), h.Status[path] == http.StatusNotFound)
	}
	f.Fuzz(func(t *testing.T, txAnswer, opsAnswer string, notFound bool) {
		hc := memotest.Answering(func(r *http.Request) (int, string) {
			status, body := http.StatusOK, txAnswer
			if strings.HasSuffix(r.URL.Path, "/operations") {
				body = opsAnswer
			} else if notFound {
				status = http.StatusNotFound
			}
			return status, body
		})
		c, err := xlm.Dial(network(t), "https://horizon.invalid", xlm.WithHTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := c.LookupTx(context.Background(), fuzzHash)
		if err != nil {
			switch code := recovery.ErrorCode(err); code {
			case recovery.EUnavailable:
			case recovery.ENotFound:
				if !notFound || !strings.Contains(txAnswer, "not_found") {
					t.Fatalf("not found without Horizon's 404 not_found: %v", err)
				}
			default:
				t.Fatalf("error code %s: %v", code, err)
			}
			return
		}
		if notFound || tx.Hash != fuzzHash || !xlm.ValidAddress(tx.From) {
			t.Fatalf("hash %s from %q (answered 404: %v)", tx.Hash, tx.From, notFound)
		}
		if (tx.Status != recovery.TxSuccess && tx.Status != recovery.TxFailed) || !tx.Final() {
			t.Fatalf("status %q final %v: Horizon serves closed ledgers only", tx.Status, tx.Final())
		}
		if tx.Status == recovery.TxFailed && len(tx.Transfers) > 0 {
			t.Fatal("a failed transaction delivered something")
		}
		maxStroops := big.NewInt(1<<63 - 1)
		if tx.Fee == nil || tx.Fee.Sign() < 0 || tx.Fee.Cmp(maxStroops) > 0 {
			t.Fatalf("fee %v", tx.Fee)
		}
		natives := map[string]bool{}
		memotest.OneCasePerDeposit(t, tx)
		for _, tr := range tx.Transfers {
			switch {
			case tr.Amount == nil || tr.Amount.Sign() < 0:
				t.Fatalf("amount %v", tr.Amount)
			case !xlm.ValidAddress(tr.To) || !xlm.ValidAddress(tr.From):
				t.Fatalf("transfer %+v", tr)
			case tr.Kind == recovery.KindNative && (tr.Token != "" || natives[tr.To]):
				t.Fatalf("native transfer %+v: one per destination", tr)
			case tr.Kind == recovery.KindToken && tr.Token == "":
				t.Fatal("a token transfer without its token")
			case tr.Kind != recovery.KindNative && tr.Kind != recovery.KindToken:
				t.Fatalf("kind %s", tr.Kind)
			}
			if tr.Kind == recovery.KindNative {
				natives[tr.To] = true
				if tr.Amount.Cmp(maxStroops) > 0 {
					t.Fatalf("%s stroops: more than the ledger can write", tr.Amount)
				}
			}
		}
	})
}

// TestMalformedAnswers: every answer of the seed corpus is garbled in one
// way, and each one is a node outage, never a deposit or "not found".
func TestMalformedAnswers(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzLookupTx", "*"))
	if len(files) == 0 {
		t.Fatal("no seed corpus")
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			text, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(text)), "\n")
			if len(lines) != 4 {
				t.Fatalf("%d lines", len(lines))
			}
			var answers [2]string
			for i := range answers {
				if answers[i], err = strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[i+1], "string("), ")")); err != nil {
					t.Fatalf("line %d: %v", i+2, err)
				}
			}
			notFound := lines[3] == "bool(true)"
			hc := memotest.Answering(func(r *http.Request) (int, string) {
				status, body := http.StatusOK, answers[0]
				if strings.HasSuffix(r.URL.Path, "/operations") {
					body = answers[1]
				} else if notFound {
					status = http.StatusNotFound
				}
				return status, body
			})
			c, _ := xlm.Dial(network(t), "https://horizon.invalid", xlm.WithHTTPClient(hc))
			if tx, err := c.LookupTx(context.Background(), fuzzHash); recovery.ErrorCode(err) != recovery.EUnavailable {
				t.Fatalf("tx %+v err %v, want unavailable", tx, err)
			}
		})
	}
}
