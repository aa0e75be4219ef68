package xlm_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/chains/xlm"
)

const (
	hot    = "GA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHES5" // the exchange's shared address
	sender = "GBXFXNDLV4LSWA4VB7YIL5GBD7BVNR22SGBTDKMO2SBZZHDXSKZYCP7L"
	issuer = "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN" // USDC's issuer
)

func network(t testing.TB) chains.Network { return memotest.Network(t, "xlm") }

// horizon is what a fixture holds: the transaction it is about, and the
// body (and status, when not 200) Horizon answers on each path.
type horizon struct {
	Hash    string                     `json:"hash"`
	Answers map[string]json.RawMessage `json:"answers"`
	Status  map[string]int             `json:"status"`
}

func fixture(t testing.TB, name string) horizon {
	t.Helper()
	body := memotest.Fixture(t, name)
	var h horizon
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return h
}

// server answers GET requests on the fixture's paths, and Horizon's
// not_found on every other path, recording the paths asked.
func server(t testing.TB, h horizon, calls *[]string) *httptest.Server {
	var mu sync.Mutex
	s := memotest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		if calls != nil {
			mu.Lock()
			*calls = append(*calls, r.URL.Path)
			mu.Unlock()
		}
		body, ok := h.Answers[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"type":"https://stellar.org/horizon-errors/not_found","title":"Resource Missing","status":404}`))
			return
		}
		if strings.HasSuffix(r.URL.Path, "/operations") && r.URL.Query().Get("limit") != "100" {
			http.Error(w, "the adapter must ask for every operation at once", http.StatusBadRequest)
			return
		}
		status := http.StatusOK
		if s, ok := h.Status[r.URL.Path]; ok {
			status = s
		}
		w.Header().Set("Content-Type", "application/hal+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	return s
}

func lookup(t *testing.T, name string) (*recovery.Tx, error) {
	t.Helper()
	h := fixture(t, name)
	c, err := xlm.Dial(network(t), server(t, h, nil).URL)
	if err != nil {
		t.Fatal(err)
	}
	// Users paste hashes in upper case too.
	return c.LookupTx(context.Background(), strings.ToUpper(h.Hash))
}

func TestLookupPayments(t *testing.T) {
	cases := []struct {
		file   string
		memo   string
		kind   recovery.TransferKind
		token  string
		amount string // stroops
		index  uint32
	}{
		{"payment_id_memo.json", "1002", recovery.KindNative, "", "250000000", 0},
		{"payment_text_memo.json", "1002", recovery.KindNative, "", "250000000", 0},
		{"payment_no_memo.json", "", recovery.KindNative, "", "250000000", 0},
		// 3 USDC were spent; 24.9876543 XLM arrived, and that is the deposit.
		{"path_payment_strict_send.json", "1002", recovery.KindNative, "", "249876543", 0},
		// 101.2345678 XLM were spent; 12.5 USDC arrived. The hash memo is
		// written in hex, as the exchange would issue it.
		{"path_payment_strict_receive_hash_memo.json", "e47e19cb0812fc7e6bdde6c05e2dd652e47e19cb0812fc7e6bdde6c05e2dd652", recovery.KindToken, "USDC." + issuer, "125000000", 0},
		// A change_trust first, which pays no one: the payment is operation 1.
		{"credit_asset_text_memo.json", "1002", recovery.KindToken, "USDC." + issuer, "125000000", 1},
		// Another account paid the fee: the sender is still the inner
		// transaction's source, found by the hash the sender's wallet shows.
		{"fee_bump_inner_hash.json", "1002", recovery.KindNative, "", "250000000", 0},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			tx, err := lookup(t, c.file)
			if err != nil {
				t.Fatal(err)
			}
			if tx.Status != recovery.TxSuccess || !tx.Final() || tx.BlockNumber != 50123456 {
				t.Errorf("status %s final %v ledger %d, want a final success in ledger 50123456", tx.Status, tx.Final(), tx.BlockNumber)
			}
			fee := "100"
			if c.file == "fee_bump_inner_hash.json" {
				fee = "200" // the fee payer's, of the outer transaction
			}
			if tx.Memo != c.memo || tx.From != sender || tx.Fee.String() != fee {
				t.Errorf("memo %q from %q fee %s", tx.Memo, tx.From, tx.Fee)
			}
			if len(tx.Transfers) != 1 {
				t.Fatalf("%d transfers, want 1", len(tx.Transfers))
			}
			tr := tx.Transfers[0]
			if tr.Kind != c.kind || tr.To != hot || tr.From != sender || tr.Token != c.token || tr.Amount.String() != c.amount || tr.Index != c.index {
				t.Errorf("transfer %+v (amount %s), want %s %s %s to %s", tr, tr.Amount, c.kind, c.amount, c.token, hot)
			}
			if asset, listed, _ := network(t).Asset(tr); (asset == "XLM") != (c.kind == recovery.KindNative) || listed != (c.kind == recovery.KindNative) {
				t.Errorf("asset %s listed %v", asset, listed)
			}
		})
	}
}

// A listed credit asset is read in the decimals the network lists it
// with, and is then a listed asset.
func TestLookupListedAsset(t *testing.T) {
	h := fixture(t, "credit_asset_text_memo.json")
	for _, decimals := range []int32{7, 6} {
		n := network(t)
		n.Tokens = []chains.Token{{Symbol: "USDC", Contract: "USDC." + issuer, Decimals: decimals}}
		c, _ := xlm.Dial(n, server(t, h, nil).URL)
		tx, err := c.LookupTx(context.Background(), h.Hash)
		if err != nil {
			t.Fatal(err)
		}
		tr := tx.Transfers[0]
		want := map[int32]string{7: "125000000", 6: "12500000"}[decimals]
		if asset, listed, _ := n.Asset(tr); tr.Amount.String() != want || asset != "USDC" || !listed {
			t.Errorf("decimals %d: amount %s asset %s listed %v", decimals, tr.Amount, asset, listed)
		}
	}
}

// Several XLM payments to one address in a transaction are one deposit of
// their sum; a payment to another address is a deposit of its own.
func TestLookupSeveralPayments(t *testing.T) {
	h := fixture(t, "payment_id_memo.json")
	path := "/transactions/" + h.Hash
	var page map[string]any
	_ = json.Unmarshal(h.Answers[path+"/operations"], &page)
	records := page["_embedded"].(map[string]any)["records"].([]any)
	op := records[0].(map[string]any)
	second, third := map[string]any{}, map[string]any{}
	for k, v := range op {
		second[k], third[k] = v, v
	}
	second["amount"] = "0.0000001"
	third["to"] = issuer
	page["_embedded"] = map[string]any{"records": []any{op, second, third}}
	h.Answers[path+"/operations"], _ = json.Marshal(page)
	h.Answers[path] = []byte(strings.Replace(string(h.Answers[path]), `"operation_count": 1`, `"operation_count": 3`, 1))

	c, _ := xlm.Dial(network(t), server(t, h, nil).URL)
	tx, err := c.LookupTx(context.Background(), h.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Transfers) != 2 || tx.Transfers[0].To != hot || tx.Transfers[0].Amount.String() != "250000001" || tx.Transfers[1].To != issuer {
		t.Fatalf("transfers %+v", tx.Transfers)
	}
	// The two are two deposits, two cases: each named by the first
	// operation that paid its address.
	first, other := recovery.DepositID("xlm", h.Hash, tx.Transfers[0]), recovery.DepositID("xlm", h.Hash, tx.Transfers[1])
	if first != "xlm."+h.Hash+".v" || other != "xlm."+h.Hash+".v2" || !recovery.ValidDepositID(other) {
		t.Errorf("deposit ids %s and %s", first, other)
	}
}

// A payment to a muxed address (M…, here the shared account with id 7001)
// carries the user's id in the address instead of a memo: without a memo
// the muxed id is the transaction's memo, the account its destination; a
// memo, when there is one, stays the memo.
func TestLookupPaymentToAMuxedAddress(t *testing.T) {
	for _, c := range []struct {
		file, want string
	}{
		{"payment_no_memo.json", "7001"},
		{"payment_id_memo.json", "1002"},
	} {
		h := fixture(t, c.file)
		path := "/transactions/" + h.Hash + "/operations"
		muxed := strings.Replace(string(h.Answers[path]), `"to": "`+hot+`",`,
			`"to": "`+hot+`", "to_muxed": "MA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQGAAAAAAAAAA3LHZ3O", "to_muxed_id": "7001",`, 1)
		if muxed == string(h.Answers[path]) {
			t.Fatalf("%s: no payment to %s to make muxed", c.file, hot)
		}
		h.Answers[path] = []byte(muxed)
		cl, _ := xlm.Dial(network(t), server(t, h, nil).URL)
		tx, err := cl.LookupTx(context.Background(), h.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if tx.Memo != c.want || len(tx.Transfers) != 1 || tx.Transfers[0].To != hot {
			t.Errorf("%s: memo %q transfers %+v, want memo %s to %s", c.file, tx.Memo, tx.Transfers, c.want, hot)
		}
	}
	// A muxed id that is not a number is not an answer to stand on.
	h := fixture(t, "payment_no_memo.json")
	path := "/transactions/" + h.Hash + "/operations"
	h.Answers[path] = []byte(strings.Replace(string(h.Answers[path]), `"to": "`+hot+`",`, `"to": "`+hot+`", "to_muxed_id": "x1",`, 1))
	cl, _ := xlm.Dial(network(t), server(t, h, nil).URL)
	if _, err := cl.LookupTx(context.Background(), h.Hash); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("a muxed id %q: %v, want unavailable", "x1", err)
	}
}

func TestLookupFailed(t *testing.T) {
	var calls []string
	h := fixture(t, "failed.json")
	c, _ := xlm.Dial(network(t), server(t, h, &calls).URL)
	tx, err := c.LookupTx(context.Background(), h.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if tx.Status != recovery.TxFailed || !tx.Final() || len(tx.Transfers) != 0 || tx.Fee.String() != "100" {
		t.Errorf("successful false: status %s final %v, %d transfers, fee %s; want failed, final, nothing delivered, the fee charged", tx.Status, tx.Final(), len(tx.Transfers), tx.Fee)
	}
	if len(calls) != 1 {
		t.Errorf("calls %v: a failed transaction's operations delivered nothing", calls)
	}
}

func TestLookupNotFound(t *testing.T) {
	_, err := lookup(t, "not_found.json")
	memotest.WantNotFound(t, err, "not_found")
	c, _ := xlm.Dial(network(t), "http://127.0.0.1:1")
	memotest.RefusesMalformedHash(t, c)
}

// A "not found" from a server that keeps a short history gets a second
// opinion from the pool's next server, which has the payment.
func TestPoolSecondOpinion(t *testing.T) {
	found := fixture(t, "payment_id_memo.json")
	var a, b []string
	ca, _ := xlm.Dial(network(t), server(t, horizon{}, &a).URL)
	cb, _ := xlm.Dial(network(t), server(t, found, &b).URL)
	p, err := pool.New("xlm", []pool.Endpoint{{Lookup: ca}, {Lookup: cb}}, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := p.LookupTx(context.Background(), found.Hash)
	if err != nil || tx.Memo != "1002" {
		t.Fatalf("tx %+v err %v", tx, err)
	}
	if len(a) != 1 || len(b) != 2 || a[0] != "/transactions/"+found.Hash {
		t.Errorf("calls %v %v", a, b)
	}
}

// A server that is down, answers another transaction, an error of its
// own, a 404 that is not Horizon's, or only some of the operations is
// unavailable, never "not found" and never a transaction without its
// deposit.
func TestLookupUnavailable(t *testing.T) {
	good := fixture(t, "payment_id_memo.json")
	path := "/transactions/" + good.Hash
	edit := func(f func(h *horizon)) horizon {
		h := fixture(t, "payment_id_memo.json")
		f(&h)
		return h
	}
	cases := map[string]horizon{
		"another transaction": edit(func(h *horizon) {
			h.Answers[path] = []byte(strings.ReplaceAll(string(h.Answers[path]), good.Hash, strings.Repeat("a", 64)))
		}),
		"rate limited": edit(func(h *horizon) {
			h.Answers[path] = []byte(`{"type":"https://stellar.org/horizon-errors/rate_limit_exceeded","title":"Rate Limit Exceeded","status":429}`)
			h.Status = map[string]int{path: http.StatusTooManyRequests}
		}),
		"a proxy's 404": edit(func(h *horizon) {
			h.Answers[path] = []byte(`<html>404 Not Found</html>`)
			h.Status = map[string]int{path: http.StatusNotFound}
		}),
		"operations missing": edit(func(h *horizon) {
			delete(h.Answers, path+"/operations")
		}),
		"fewer operations than the transaction has": edit(func(h *horizon) {
			h.Answers[path] = []byte(strings.Replace(string(h.Answers[path]), `"operation_count": 1`, `"operation_count": 2`, 1))
		}),
		"amount as a number": edit(func(h *horizon) {
			h.Answers[path+"/operations"] = []byte(strings.Replace(string(h.Answers[path+"/operations"]), `"25.0000000"`, `25.0`, 1))
		}),
		"html": edit(func(h *horizon) { h.Answers[path] = []byte("<html>502</html>") }),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			c, _ := xlm.Dial(network(t), server(t, h, nil).URL)
			if _, err := c.LookupTx(context.Background(), good.Hash); recovery.ErrorCode(err) != recovery.EUnavailable {
				t.Fatalf("%v, want unavailable", err)
			}
		})
	}
	memotest.DownIsUnavailable(t, func(endpoint string) chains.Lookup {
		c, _ := xlm.Dial(network(t), endpoint)
		return c
	}, good.Hash)
}

// A provider's base URL with a path and a key keeps both.
func TestDialKeepsPathAndKey(t *testing.T) {
	h := fixture(t, "payment_id_memo.json")
	prefixed := horizon{Hash: h.Hash, Answers: map[string]json.RawMessage{}}
	for p, body := range h.Answers {
		prefixed.Answers["/k/horizon"+p] = body
	}
	var seen []string
	s := memotest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Query().Get("apikey"))
		body, ok := prefixed.Answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	c, _ := xlm.Dial(network(t), s.URL+"/k/horizon/?apikey=s3cret")
	if _, err := c.LookupTx(context.Background(), h.Hash); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != "s3cret" || seen[1] != "s3cret" {
		t.Fatalf("keys sent %v", seen)
	}
}

func TestEstimateCost(t *testing.T) {
	c, _ := xlm.Dial(network(t), server(t, fixture(t, "fee_stats.json"), nil).URL)
	cost, err := c.EstimateCost(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Ledgers are full: the median fee charged (250), not the base fee (100).
	if cost.Amount.String() != "250" || cost.Asset != "XLM" || cost.Decimals != 7 || cost.Method != xlm.MethodFeeStats {
		t.Fatalf("%+v", cost)
	}
}
