package xrp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
	"github.com/misdeposit/recovery/chains/pool"
	"github.com/misdeposit/recovery/chains/xrp"
)

const (
	hot    = "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh" // the exchange's shared address
	sender = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"
	issuer = "rhub8VRN55s94qWKDv6jmDy1pUykJzF3wq"
)

func network(t testing.TB) chains.Network { return memotest.Network(t, "xrp") }

// fixture reads a testdata answer and the hash it is about.
func fixture(t testing.TB, name string) (body []byte, hash string) {
	t.Helper()
	body = memotest.Fixture(t, name)
	var env struct {
		Result struct {
			Hash    string `json:"hash"`
			Request struct {
				Transaction string `json:"transaction"`
			} `json:"request"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return body, env.Result.Hash + env.Result.Request.Transaction
}

// server answers every request with body, after checking it is the
// JSON-RPC request the reference documents.
func server(t testing.TB, body []byte, calls *[]string) *httptest.Server {
	s := memotest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Method string           `json:"method"`
			Params []map[string]any `json:"params"`
		}
		raw, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || json.Unmarshal(raw, &req) != nil || len(req.Params) != 1 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if calls != nil {
			*calls = append(*calls, req.Method)
		}
		_, _ = w.Write(body)
	}))
	return s
}

func lookup(t *testing.T, name string) (*recovery.Tx, error) {
	t.Helper()
	body, hash := fixture(t, name)
	s := server(t, body, nil)
	c, err := xrp.Dial(network(t), s.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	// The engine's scanner asks with lower-case hex.
	return c.LookupTx(context.Background(), strings.ToLower(hash))
}

func TestLookupPayments(t *testing.T) {
	cases := []struct {
		file   string
		memo   string
		kind   recovery.TransferKind
		token  string
		amount string
	}{
		{"payment_tag.json", "1002", recovery.KindNative, "", "25000000"},
		{"payment_no_tag.json", "", recovery.KindNative, "", "25000000"},
		// Amount says 1000 XRP; 12.345678 arrived, and that is the deposit.
		{"partial_payment.json", "1002", recovery.KindNative, "", "12345678"},
		{"issued_currency.json", "1002", recovery.KindToken, "USD." + issuer, "12500000000000000"},
		{"payment_api_v2.json", "1002", recovery.KindNative, "", "25000000"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			tx, err := lookup(t, c.file)
			if err != nil {
				t.Fatal(err)
			}
			if tx.Status != recovery.TxSuccess || !tx.Final() || tx.BlockNumber != 86123445 {
				t.Errorf("status %s final %v ledger %d, want a final success in ledger 86123445", tx.Status, tx.Final(), tx.BlockNumber)
			}
			if tx.Memo != c.memo || tx.From != sender || tx.Fee.String() != "12" {
				t.Errorf("memo %q from %q fee %s", tx.Memo, tx.From, tx.Fee)
			}
			if len(tx.Transfers) != 1 {
				t.Fatalf("%d transfers, want 1", len(tx.Transfers))
			}
			tr := tx.Transfers[0]
			if tr.Kind != c.kind || tr.To != hot || tr.From != sender || tr.Token != c.token || tr.Amount.String() != c.amount {
				t.Errorf("transfer %+v (amount %s), want %s %s %s to %s", tr, tr.Amount, c.kind, c.amount, c.token, hot)
			}
			if id := recovery.DepositID("xrp", tx.Hash, tr); id != "xrp."+strings.ToLower(tx.Hash)+"."+tr.IndexCode() {
				t.Errorf("deposit id %s", id)
			}
		})
	}
}

// A listed issued currency is read in the decimals the network lists it
// with, and is then a listed asset.
func TestLookupListedIssuedCurrency(t *testing.T) {
	body, hash := fixture(t, "issued_currency.json")
	n := network(t)
	n.Tokens = []chains.Token{{Symbol: "USD", Contract: "USD." + issuer, Decimals: 6}}
	c, _ := xrp.Dial(n, server(t, body, nil).URL)
	tx, err := c.LookupTx(context.Background(), hash)
	if err != nil {
		t.Fatal(err)
	}
	tr := tx.Transfers[0]
	if asset, listed, _ := n.Asset(tr); tr.Amount.String() != "12500000" || asset != "USD" || !listed {
		t.Fatalf("amount %s asset %s listed %v", tr.Amount, asset, listed)
	}
	if _, listed, _ := network(t).Asset(tr); listed {
		t.Fatal("an issued currency the network does not list is listed")
	}
}

func TestLookupFailedAndPending(t *testing.T) {
	tx, err := lookup(t, "failed_tec_path_dry.json")
	if err != nil {
		t.Fatal(err)
	}
	if tx.Status != recovery.TxFailed || len(tx.Transfers) != 0 {
		t.Errorf("tecPATH_DRY: status %s, %d transfers; want failed, nothing delivered", tx.Status, len(tx.Transfers))
	}
	tx, err = lookup(t, "not_validated.json")
	if err != nil {
		t.Fatal(err)
	}
	if tx.Status != recovery.TxPending || tx.Final() || tx.Confirmations != 0 {
		t.Errorf("not validated: status %s final %v", tx.Status, tx.Final())
	}
}

func TestLookupNotFound(t *testing.T) {
	_, err := lookup(t, "txn_not_found.json")
	memotest.WantNotFound(t, err, "txnNotFound")
	c, _ := xrp.Dial(network(t), "http://127.0.0.1:1")
	memotest.RefusesMalformedHash(t, c)
}

// A "not found" from a server with a gap in its history gets a second
// opinion from the pool's next server, which has the payment.
func TestPoolSecondOpinion(t *testing.T) {
	missing, _ := fixture(t, "txn_not_found.json")
	found, hash := fixture(t, "payment_tag.json")
	var a, b []string
	ca, _ := xrp.Dial(network(t), server(t, missing, &a).URL)
	cb, _ := xrp.Dial(network(t), server(t, found, &b).URL)
	p, err := pool.New("xrp", []pool.Endpoint{{Lookup: ca}, {Lookup: cb}}, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := p.LookupTx(context.Background(), hash)
	if err != nil || tx.Memo != "1002" {
		t.Fatalf("tx %+v err %v", tx, err)
	}
	if len(a) != 1 || len(b) != 1 || a[0] != "tx" {
		t.Errorf("calls %v %v", a, b)
	}
}

// A server that is down, answers another transaction, or answers an error
// of its own is unavailable, never "not found".
func TestLookupUnavailable(t *testing.T) {
	body, hash := fixture(t, "payment_tag.json")
	other := strings.Replace(string(body), hash, strings.Repeat("A", 64), 1)
	busy := `{"result":{"error":"tooBusy","error_code":9,"error_message":"The server is too busy to help you now.","status":"error"}}`
	unvalidatedResult := strings.Replace(string(body), `"tesSUCCESS"`, `"tefPAST_SEQ"`, 1)
	for name, answer := range map[string]string{"another transaction": other, "tooBusy": busy, "tef in a validated ledger": unvalidatedResult, "html": "<html>502</html>"} {
		t.Run(name, func(t *testing.T) {
			c, _ := xrp.Dial(network(t), server(t, []byte(answer), nil).URL)
			if _, err := c.LookupTx(context.Background(), hash); recovery.ErrorCode(err) != recovery.EUnavailable {
				t.Fatalf("%v, want unavailable", err)
			}
		})
	}
	memotest.DownIsUnavailable(t, func(endpoint string) chains.Lookup {
		c, _ := xrp.Dial(network(t), endpoint)
		return c
	}, hash)
}

func TestEstimateCost(t *testing.T) {
	body, _ := fixture(t, "fee.json")
	c, _ := xrp.Dial(network(t), server(t, body, nil).URL)
	cost, err := c.EstimateCost(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if cost.Amount.String() != "12" || cost.Asset != "XRP" || cost.Decimals != 6 || cost.Method != xrp.MethodFee {
		t.Fatalf("%+v", cost)
	}
}
