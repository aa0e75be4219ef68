package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAsActsWithTheDevTeamToken: --as TEAM sends the token recovery dev
// wrote for that team's person; a team that does not exist, a missing
// token file, or --as with --token are refused before anything is sent.
func TestAsActsWithTheDevTeamToken(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"networks":[]}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	for name, token := range map[string]string{"staff-token": "admin-token", "staff-token-wallet": "wallet-token", "staff-token-security": "security-token"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	getenv := func(k string) string {
		if k == "RECOVERY_DATA_DIR" {
			return dir
		}
		return ""
	}
	casectl := func(args ...string) error {
		var out, errOut bytes.Buffer
		return run(context.Background(), append([]string{"--api", srv.URL, "-o", "json"}, args...), getenv, &out, &errOut)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"networks"}, "Bearer admin-token"},
		{[]string{"--as", "wallet", "networks"}, "Bearer wallet-token"},
		{[]string{"--as", "security", "networks"}, "Bearer security-token"},
	} {
		got = nil
		if err := casectl(tc.args...); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%v sent %v, want %q", tc.args, got, tc.want)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--as", "admin", "networks"}, "--as is one of wallet, settlement, security"},
		{[]string{"--as", "settlement", "networks"}, "no dev token for the settlement team"},
		{[]string{"--as", "wallet", "--token", "x-0123456789abcdef", "networks"}, "not both"},
	} {
		got = nil
		err := casectl(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
		if len(got) != 0 {
			t.Errorf("%v sent a request: %v", tc.args, got)
		}
	}
}
