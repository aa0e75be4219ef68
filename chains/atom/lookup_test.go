package atom_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/atom"
	"github.com/misdeposit/recovery/chains/memonet/memotest"
	"github.com/misdeposit/recovery/chains/pool"
)

const (
	hot        = "cosmos1tpedaeatr9qsv5sg38dmhnuwpvhjmueses2ptd" // the exchange's shared address
	sender     = "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r"
	other      = "cosmos1dz5atdvdmfugpgum0mj0flq3asruycfyynswla"
	osmoSender = "osmo1h806c7khnvmjlywdrkdgk2vrayy2mmvfdc4xu3"
	// osmoVoucher is OSMO on the Hub: ibc/ and SHA-256 of
	// "transfer/channel-141/uosmo", as explorers list it.
	osmoVoucher = "ibc/14F9BC3E44B8A9C1BE1FB08980FAB87034C9905EF17CF2F5008FC085218811CC"
)

func network(t testing.TB) chains.Network { return memotest.Network(t, "atom") }

// fixture reads a testdata answer, the hash it is about and the HTTP
// status the node answers it with.
func fixture(t testing.TB, name string) (body []byte, hash string, status int) {
	t.Helper()
	body = memotest.Fixture(t, name)
	var env struct {
		Status     int    `json:"_http_status"`
		Message    string `json:"message"`
		TxResponse struct {
			TxHash string `json:"txhash"`
		} `json:"tx_response"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if env.Status == 0 {
		env.Status = http.StatusOK
	}
	return body, env.TxResponse.TxHash + strings.TrimPrefix(env.Message, "tx not found: "), env.Status
}

// server answers the REST paths the SDK documents: GET
// /cosmos/tx/v1beta1/txs/{hash} with body and status, and the node config;
// anything else is the gateway's 404 for an unknown route (code 5 too,
// "Not Implemented" in its message).
func server(t testing.TB, body []byte, status int, calls *[]string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cosmos/tx/v1beta1/txs/{hash}", func(w http.ResponseWriter, r *http.Request) {
		if calls != nil {
			*calls = append(*calls, r.PathValue("hash"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /cosmos/base/node/v1beta1/config", func(w http.ResponseWriter, r *http.Request) {
		b, _, _ := fixture(t, "node_config.json")
		_, _ = w.Write(b)
	})
	s := memotest.Serve(t, mux)
	return s
}

func lookup(t *testing.T, name string) (*recovery.Tx, error) {
	t.Helper()
	body, hash, status := fixture(t, name)
	c, err := atom.Dial(network(t), server(t, body, status, nil).URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	// The engine's scanner asks with lower-case hex.
	return c.LookupTx(context.Background(), strings.ToLower(hash))
}

func TestLookupSends(t *testing.T) {
	cases := []struct {
		file string
		memo string
	}{
		{"send_memo.json", "104857"},
		{"send_no_memo.json", ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			tx, err := lookup(t, c.file)
			if err != nil {
				t.Fatal(err)
			}
			if tx.Status != recovery.TxSuccess || !tx.Final() || tx.BlockNumber != 24871205 {
				t.Errorf("status %s final %v height %d, want a final success at 24871205", tx.Status, tx.Final(), tx.BlockNumber)
			}
			if tx.Memo != c.memo || tx.From != sender || tx.Fee.String() != "5000" {
				t.Errorf("memo %q from %q fee %s", tx.Memo, tx.From, tx.Fee)
			}
			if len(tx.Transfers) != 1 {
				t.Fatalf("%d transfers, want 1", len(tx.Transfers))
			}
			tr := tx.Transfers[0]
			if tr.Kind != recovery.KindNative || tr.To != hot || tr.From != sender || tr.Amount.String() != "25000000" {
				t.Errorf("transfer %+v (amount %s), want 25000000 uatom to %s", tr, tr.Amount, hot)
			}
			if asset, listed, _ := network(t).Asset(tr); asset != "ATOM" || !listed {
				t.Errorf("asset %s listed %v", asset, listed)
			}
		})
	}
}

// A MsgExec runs a MsgSend that a granter authorised: the grantee signs
// (its key is checked against the grantee), and the deposit is the
// granter's, who proves sending with its own key.
func TestLookupAuthzExec(t *testing.T) {
	tx, err := lookup(t, "authz_exec.json")
	if err != nil {
		t.Fatal(err)
	}
	if tx.Status != recovery.TxSuccess || tx.Memo != "104857" || tx.From != other || len(tx.Transfers) != 1 {
		t.Fatalf("status %s memo %q from %q transfers %+v", tx.Status, tx.Memo, tx.From, tx.Transfers)
	}
	if tr := tx.Transfers[0]; tr.Kind != recovery.KindNative || tr.From != other || tr.To != hot || tr.Amount.String() != "25000000" || tr.IndexCode() != "v" {
		t.Errorf("transfer %+v (amount %s)", tr, tr.Amount)
	}
	// The grantee is the signer: a key that is not the grantee's is a
	// node answer the Hub never accepted.
	body, hash, _ := fixture(t, "authz_exec.json")
	forged := strings.ReplaceAll(string(body), `"grantee": "`+sender, `"grantee": "`+other)
	c, _ := atom.Dial(network(t), server(t, []byte(forged), 200, nil).URL+"/")
	if _, err := c.LookupTx(context.Background(), hash); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("a grantee the signer's key does not derive: %v, want unavailable", err)
	}
	// Nested past the bound, or empty, it is refused the same way.
	empty := strings.Replace(string(body), `"msgs": [`, `"msgs": [], "x": [`, -1)
	c, _ = atom.Dial(network(t), server(t, []byte(empty), 200, nil).URL+"/")
	if _, err := c.LookupTx(context.Background(), hash); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Errorf("a MsgExec of no message: %v, want unavailable", err)
	}
}

// Three MsgSends in one transaction: the coins of one denom to one
// address are one deposit under the transaction's memo; an ibc/ coin is
// an unlisted token unless the network lists its denom.
func TestLookupMultiMessage(t *testing.T) {
	tx, err := lookup(t, "multi_message.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind   recovery.TransferKind
		to     string
		token  string
		amount string
		index  string
	}{
		{recovery.KindNative, hot, "", "15000000", "v"},
		{recovery.KindToken, hot, osmoVoucher, "3000000", "l1"},
		{recovery.KindNative, other, "", "1000", "v2"},
	}
	if len(tx.Transfers) != len(want) || tx.Memo != "104857" || tx.Fee.String() != "7500" {
		t.Fatalf("transfers %+v memo %q fee %s", tx.Transfers, tx.Memo, tx.Fee)
	}
	for i, w := range want {
		tr := tx.Transfers[i]
		if tr.Kind != w.kind || tr.To != w.to || tr.Token != w.token || tr.Amount.String() != w.amount || tr.From != sender || tr.IndexCode() != w.index {
			t.Errorf("transfer %d: %+v (amount %s), want %+v", i, tr, tr.Amount, w)
		}
	}
	n := network(t)
	if _, listed, _ := n.Asset(tx.Transfers[1]); listed {
		t.Error("an ibc/ coin the network does not list is listed")
	}
	n.Tokens = []chains.Token{{Symbol: "OSMO", Contract: osmoVoucher, Decimals: 6}}
	if asset, listed, _ := n.Asset(tx.Transfers[1]); asset != "OSMO" || !listed {
		t.Errorf("listed voucher: %s %v", asset, listed)
	}
	if a, b := recovery.DepositID("atom", tx.Hash, tx.Transfers[0]), recovery.DepositID("atom", tx.Hash, tx.Transfers[1]); a == b {
		t.Errorf("two deposits share the id %s", a)
	}
}

// A MsgMultiSend pays each of its outputs from its input.
func TestLookupMultiSend(t *testing.T) {
	tx, err := lookup(t, "multisend.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Transfers) != 2 || tx.From != sender || tx.Memo != "104857" {
		t.Fatalf("transfers %+v from %q memo %q", tx.Transfers, tx.From, tx.Memo)
	}
	for i, w := range []struct{ to, amount, index string }{{hot, "4000000", "v"}, {other, "3000000", "v1"}} {
		if tr := tx.Transfers[i]; tr.Kind != recovery.KindNative || tr.From != sender || tr.To != w.to || tr.Amount.String() != w.amount || tr.IndexCode() != w.index {
			t.Errorf("output %d: %+v (amount %s, index %s), want index %s", i, tr, tr.Amount, tr.IndexCode(), w.index)
		}
	}
	// Two addresses paid in one transaction are two deposits, two cases.
	if a, b := recovery.DepositID("atom", tx.Hash, tx.Transfers[0]), recovery.DepositID("atom", tx.Hash, tx.Transfers[1]); a == b || !recovery.ValidDepositID(a) || !recovery.ValidDepositID(b) {
		t.Errorf("deposit ids %s and %s", a, b)
	}
}

// ATOM and OSMO withdrawn from Osmosis to the shared address arrive as
// packets a relayer delivers: the deposit is the packet's, from its sender
// on Osmosis, under the memo the user wrote in the packet (the
// transaction's memo is the relayer's).
func TestLookupIBCReceive(t *testing.T) {
	tx, err := lookup(t, "ibc_recv.json")
	if err != nil {
		t.Fatal(err)
	}
	if tx.Status != recovery.TxSuccess || tx.Memo != "104857" || tx.From != osmoSender || len(tx.Transfers) != 2 {
		t.Fatalf("status %s memo %q from %q transfers %+v", tx.Status, tx.Memo, tx.From, tx.Transfers)
	}
	if tr := tx.Transfers[0]; tr.Kind != recovery.KindNative || tr.To != hot || tr.From != osmoSender || tr.Amount.String() != "1500000" {
		t.Errorf("ATOM coming home: %+v (amount %s)", tr, tr.Amount)
	}
	if tr := tx.Transfers[1]; tr.Kind != recovery.KindToken || tr.Token != osmoVoucher || tr.To != hot || tr.Amount.String() != "3000000" {
		t.Errorf("OSMO: %+v (amount %s)", tr, tr.Amount)
	}

	// A packet the Hub refused, or one relayed again, credits nothing.
	body, hash, _ := fixture(t, "ibc_recv.json")
	for name, answer := range map[string]string{
		"refused":   strings.ReplaceAll(string(body), `"value": "true"`, `"value": "false"`),
		"redundant": strings.ReplaceAll(string(body), `"fungible_token_packet"`, `"ibccallbackerror-fungible_token_packet"`),
	} {
		c, _ := atom.Dial(network(t), server(t, []byte(answer), http.StatusOK, nil).URL)
		tx, err := c.LookupTx(context.Background(), hash)
		if err != nil || len(tx.Transfers) != 0 || tx.Status != recovery.TxSuccess {
			t.Errorf("%s: %+v %v, want a success that credited nothing", name, tx, err)
		}
	}
}

// A node before SDK 0.50 writes the plain events in logs, one per
// message, merged by type (in type order); its events list has base64
// attributes, which tell nothing.
func TestLookupIBCReceiveFromLogs(t *testing.T) {
	body, hash, _ := fixture(t, "ibc_recv.json")
	var answer map[string]any
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatal(err)
	}
	resp := answer["tx_response"].(map[string]any)
	var logs []any
	for i, msg := range []string{"0", "1", "2"} {
		var events []any
		for _, e := range resp["events"].([]any) {
			for _, a := range e.(map[string]any)["attributes"].([]any) {
				if a := a.(map[string]any); a["key"] == "msg_index" && a["value"] == msg {
					events = append(events, e)
				}
			}
		}
		sort.Slice(events, func(i, j int) bool {
			return events[i].(map[string]any)["type"].(string) < events[j].(map[string]any)["type"].(string)
		})
		logs = append(logs, map[string]any{"msg_index": i, "log": "", "events": events})
	}
	resp["logs"] = logs
	resp["events"] = []any{map[string]any{"type": "fungible_token_packet", "attributes": []any{map[string]any{"key": "c3VjY2Vzcw==", "value": "dHJ1ZQ=="}}}}
	old, _ := json.Marshal(answer)
	c, _ := atom.Dial(network(t), server(t, old, http.StatusOK, nil).URL)
	tx, err := c.LookupTx(context.Background(), hash)
	if err != nil || len(tx.Transfers) != 2 || tx.Transfers[0].Amount.String() != "1500000" || tx.Memo != "104857" {
		t.Fatalf("%+v %v", tx, err)
	}
}

// Messages that move no value to an address (a delegation, whose amount
// is one coin and not a list) are found, with no transfer.
func TestLookupOtherMessages(t *testing.T) {
	body, hash, _ := fixture(t, "send_memo.json")
	send := `"@type": "/cosmos.bank.v1beta1.MsgSend",
          "from_address": "` + sender + `",
          "to_address": "` + hot + `",
          "amount": [
            {
              "denom": "uatom",
              "amount": "25000000"
            }
          ]`
	delegate := `"@type": "/cosmos.staking.v1beta1.MsgDelegate", "delegator_address": "` + sender + `", "validator_address": "cosmosvaloper1sjllsnramtg3ewxqwwrwjxfgc4n4ef9u2lcnj0", "amount": {"denom": "uatom", "amount": "25000000"}`
	if !strings.Contains(string(body), send) {
		t.Fatal("the fixture's MsgSend is not where the test looks")
	}
	answer := strings.ReplaceAll(string(body), send, delegate)
	c, _ := atom.Dial(network(t), server(t, []byte(answer), http.StatusOK, nil).URL)
	tx, err := c.LookupTx(context.Background(), hash)
	if err != nil || tx.Status != recovery.TxSuccess || len(tx.Transfers) != 0 || tx.Memo != "104857" {
		t.Fatalf("%+v %v", tx, err)
	}
}

func TestLookupFailed(t *testing.T) {
	tx, err := lookup(t, "failed_out_of_gas.json")
	if err != nil {
		t.Fatal(err)
	}
	if tx.Status != recovery.TxFailed || !tx.Final() || len(tx.Transfers) != 0 || tx.From != sender || tx.Fee.String() != "5000" {
		t.Errorf("out of gas: status %s final %v transfers %d from %q fee %s; want failed, nothing moved", tx.Status, tx.Final(), len(tx.Transfers), tx.From, tx.Fee)
	}
}

func TestLookupNotFound(t *testing.T) {
	_, err := lookup(t, "tx_not_found.json")
	memotest.WantNotFound(t, err, "code 5")
	c, _ := atom.Dial(network(t), "http://127.0.0.1:1")
	memotest.RefusesMalformedHash(t, c)
}

// A "not found" from a pruned node gets a second opinion from the pool's
// next node, which has the transaction.
func TestPoolSecondOpinion(t *testing.T) {
	missing, _, status := fixture(t, "tx_not_found.json")
	found, hash, _ := fixture(t, "send_memo.json")
	var a, b []string
	ca, _ := atom.Dial(network(t), server(t, missing, status, &a).URL)
	cb, _ := atom.Dial(network(t), server(t, found, http.StatusOK, &b).URL)
	p, err := pool.New("atom", []pool.Endpoint{{Lookup: ca}, {Lookup: cb}}, pool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := p.LookupTx(context.Background(), strings.ToLower(hash))
	if err != nil || tx.Memo != "104857" {
		t.Fatalf("tx %+v err %v", tx, err)
	}
	if len(a) != 1 || len(b) != 1 || a[0] != hash {
		t.Errorf("calls %v %v, want the upper-case hash once each", a, b)
	}
}

// A node that is down, answers another transaction, answers an error of
// its own or a 404 that is not the SDK's is unavailable, never "not
// found".
func TestLookupUnavailable(t *testing.T) {
	body, hash, _ := fixture(t, "send_memo.json")
	answers := map[string]struct {
		body   string
		status int
	}{
		"another transaction":      {strings.Replace(string(body), hash, strings.Repeat("A", 64), 1), http.StatusOK},
		"internal error":           {`{"code":13,"message":"failed to load state at height 24871205","details":[]}`, http.StatusInternalServerError},
		"proxy 404":                {`<html><body>404 Not Found</body></html>`, http.StatusNotFound},
		"not a tx answer":          {`{"tx":null,"tx_response":null}`, http.StatusOK},
		"amount as a float":        {strings.Replace(string(body), `"amount": "25000000"`, `"amount": 25.5`, 1), http.StatusOK},
		"negative amount":          {strings.Replace(string(body), `"amount": "25000000"`, `"amount": "-25000000"`, 1), http.StatusOK},
		"signer is not the sender": {strings.ReplaceAll(string(body), `"from_address": "`+sender, `"from_address": "`+other), http.StatusOK},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			c, _ := atom.Dial(network(t), server(t, []byte(a.body), a.status, nil).URL)
			if _, err := c.LookupTx(context.Background(), hash); recovery.ErrorCode(err) != recovery.EUnavailable {
				t.Fatalf("%v, want unavailable", err)
			}
		})
	}
	var query string
	keyed := memotest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		_, _ = w.Write(body)
	}))
	c, _ := atom.Dial(network(t), keyed.URL+"/lcd/?key=k3y")
	if _, err := c.LookupTx(context.Background(), hash); err != nil || query != "key=k3y" {
		t.Errorf("a provider's key in the URL: query %q, %v", query, err)
	}
	memotest.DownIsUnavailable(t, func(endpoint string) chains.Lookup {
		c, _ := atom.Dial(network(t), endpoint)
		return c
	}, hash)
}

func TestEstimateCost(t *testing.T) {
	c, _ := atom.Dial(network(t), server(t, nil, http.StatusOK, nil).URL)
	cost, err := c.EstimateCost(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// The node's 0.005 uatom is below the default 0.025: 100,000 gas at
	// 0.025 is 2,500 uatom.
	if cost.Amount.String() != "2500" || cost.Asset != "ATOM" || cost.Decimals != 6 || cost.Method != atom.MethodGasPrice {
		t.Fatalf("%+v", cost)
	}
	cases := []struct {
		name   string
		status int
		body   string
		want   string // "" for unavailable
	}{
		{"a node asking more", http.StatusOK, `{"minimum_gas_price":"0.0001ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2,0.0400000000uatom"}`, "4000"},
		{"a price in another denom only", http.StatusOK, `{"minimum_gas_price":"0.1stuatom"}`, "2500"},
		{"no minimum", http.StatusOK, `{"minimum_gas_price":""}`, "2500"},
		{"an SDK without the node service", http.StatusNotImplemented, `{"code":12,"message":"unknown service cosmos.base.node.v1beta1.Service","details":[]}`, "2500"},
		{"a price that is no number", http.StatusOK, `{"minimum_gas_price":"0.0.1uatom"}`, ""},
		{"an error of the node's own", http.StatusInternalServerError, `{"code":13,"message":"internal","details":[]}`, ""},
		{"html", http.StatusBadGateway, `<html>502</html>`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := memotest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			c, _ := atom.Dial(network(t), s.URL)
			cost, err := c.EstimateCost(context.Background(), 0)
			switch {
			case tc.want == "" && recovery.ErrorCode(err) != recovery.EUnavailable:
				t.Fatalf("%+v %v, want unavailable", cost, err)
			case tc.want != "" && (err != nil || cost.Amount.String() != tc.want):
				t.Fatalf("%+v %v, want %s uatom", cost, err, tc.want)
			}
		})
	}
}
