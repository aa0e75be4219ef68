package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/misdeposit/recovery/chains"
)

// An xlm network with Horizon servers configured is looked up and quoted
// through its pool: the first server is down, the second answers.
func TestStellarThroughThePool(t *testing.T) {
	const hash = "3389e9f0f1a65f19736cacf544c2e825313e8447f569233bb8db39aa607c8889"
	horizon := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/transactions/" + hash:
			_, _ = io.WriteString(w, `{"hash":"`+hash+`","successful":true,"ledger":50123456,"source_account":"GBXFXNDLV4LSWA4VB7YIL5GBD7BVNR22SGBTDKMO2SBZZHDXSKZYCP7L","fee_charged":"100","operation_count":1,"memo_type":"id","memo":"1002"}`)
		case "/transactions/" + hash + "/operations":
			_, _ = io.WriteString(w, `{"_embedded":{"records":[{"type":"payment","transaction_hash":"`+hash+`","asset_type":"native","from":"GBXFXNDLV4LSWA4VB7YIL5GBD7BVNR22SGBTDKMO2SBZZHDXSKZYCP7L","to":"GA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHES5","amount":"25.0000000"}]}}`)
		case "/fee_stats":
			_, _ = io.WriteString(w, `{"last_ledger_base_fee":"100","fee_charged":{"p50":"100"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"type":"https://stellar.org/horizon-errors/not_found","status":404}`)
		}
	}))
	t.Cleanup(horizon.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	var networks []chains.Network
	for _, n := range chains.DefaultNetworks() {
		if n.ID == "xlm" {
			n.RPC = []string{down.URL, horizon.URL}
			networks = append(networks, n)
		}
	}
	reg, err := chains.NewRegistry(networks)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	lookups, quoting, err := buildLookups(ctx, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, ok := lookups["xlm"]
	if !ok {
		t.Fatal("no pool for xlm")
	}
	tx, err := l.LookupTx(ctx, hash)
	if err != nil || tx.Memo != "1002" || len(tx.Transfers) != 1 || tx.Transfers[0].Amount.String() != "250000000" {
		t.Fatalf("tx %+v err %v", tx, err)
	}
	cost, err := quoting.NetworkCost(ctx, "xlm", 0)
	if err != nil || cost.Amount.String() != "100" || cost.Asset != "XLM" {
		t.Fatalf("cost %+v err %v", cost, err)
	}
}
