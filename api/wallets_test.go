package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
)

type fixedWallets []Wallet

func (f fixedWallets) Wallets(context.Context) ([]Wallet, error) { return f, nil }

// The wallet and settlement teams (and admins) see each network's hot
// wallet; other staff are refused; without a signer there is none.
func TestWalletsRoute(t *testing.T) {
	tokens := map[string]Staff{
		"wallet-token-0123456789": {Person: "wanda", Roles: []string{"wallet"}},
		"settle-token-0123456789": {Person: "seth", Roles: []string{"settlement"}},
		"special-token-012345678": {Person: "sam", Roles: []string{"specialist"}},
	}
	list := fixedWallets{{Network: "eth", Address: "0x00000000000000000000000000000000000000bb", Asset: "ETH", Balance: "21000", Decimals: 18},
		{Network: "btc", Address: "bcrt1qexample", Asset: "BTC", Decimals: 8, BalanceError: "no wallet index"}}
	for _, tc := range []struct {
		token   string
		wallets Wallets
		code    int
	}{
		{"wallet-token-0123456789", list, 200},
		{"settle-token-0123456789", list, 200},
		{"special-token-012345678", list, 403},
		{"", list, 401},
		{"wallet-token-0123456789", nil, 503},
	} {
		srv := NewServer(Deps{Registry: registry(t), StaffTokens: tokens, HotWallets: tc.wallets})
		req := httptest.NewRequest("GET", "/v1/wallets", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.token, rec.Code, rec.Body, tc.code)
			continue
		}
		if tc.code != 200 {
			continue
		}
		var got walletList
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Wallets) != 2 || got.Wallets[0].Balance != "21000" || got.Wallets[1].BalanceError == "" {
			t.Errorf("%s: %v %s", tc.token, err, rec.Body)
		}
	}
}
