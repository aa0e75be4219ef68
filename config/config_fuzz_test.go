package config

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

// A configuration file is either refused with an error that starts
// "config" and repeats no staff token nor the user-token secret, or it
// loads into a configuration that holds what the engine relies on: valid
// networks, each reached over http(s), with a usable rate limit and a
// non-negative minimum deposit; staff tokens long enough, unique, of known
// roles.
func FuzzLoad(f *testing.F) {
	deploy, err := os.ReadFile(filepath.Join("..", "deploy", "recovery.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(deploy))
	for _, s := range []string{
		"",
		"api_addr: \":9090\"\nlog_level: debug\nlog_format: json\nworkflow_cache: 0\n",
		"networks:\n  - id: eth\n    rpc: [\"http://10.0.0.1:8545\"]\n    chain_id: 1337\n    confirmations: 3\n    rate_limit: 0\n" +
			"  - id: mychain\n    family: evm\n    chain_id: 777\n    confirmations: 5\n    native_asset: MY\n    decimals: 18\n    min_deposit: \"0.01\"\n" +
			"    tokens: [{symbol: USDT, contract: \"0xdAC17F958D2ee523a2206206994597C13D831ec7\", decimals: 6, min_deposit: \"1\"}]\n",
		"networks: [{id: btc, rpc: ['http://user:pass@btc.internal:8332'], min_deposit: '0.0001'}]\n",
		"networks: [{id: eth, rate_limit: .inf}]\n",
		"networks: [{id: eth, rate_limit: .nan}]\n",
		"networks: [{id: eth, rate_limit: -1}]\n",
		"networks: [{id: eth, min_deposit: '-1'}]\n",
		"networks: [{id: eth, decimals: 99}]\n",
		"networks: [{id: eth, rpc: ['ws://x']}]\n",
		"networks: [{id: nowhere, rpc: ['http://x']}]\n",
		"networks: [{id: eth}, {id: eth, chain_id: 5}]\n",
		"staff_tokens:\n  - {token: \"ann-Q7vLx2RkT9mWz4NcB8pJd3HsY6fG\", person: ann, roles: [specialist]}\n  - {token: \"bob-Z3kWq8TnR5xLm2VcJ7pBd9HsY4fG\", person: bob, roles: [wallet, security]}\n",
		"staff_tokens: [{token: abc, person: ann, roles: [admin]}]\n",
		"staff_tokens: [{token: ann-Q7vLx2RkT9mWz4NcB8pJd3HsY6fG, person: ann, roles: [root]}]\n",
		"user_token_secret: short\n",
		"dev: {block_period: 1s, recheck: [1s, 2s], confirmation_poll: 500ms}\n",
		"ui_port: many\n",
		"api_adr: x\n",
		"networks: {id: eth}\n",
		"- a\n- b\n",
		"&a [*a]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		path := filepath.Join(t.TempDir(), "recovery.yaml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, func(string) string { return "" })
		if err != nil {
			checkRefusal(t, file, err)
			return
		}
		reg, err := cfg.Registry()
		if err != nil {
			t.Fatalf("loaded a configuration whose registry fails: %v", err)
		}
		checkLoaded(t, cfg, reg)

	})
}

func checkRefusal(t *testing.T, file string, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "config") {
		t.Fatalf("refusal %q does not say it is about the configuration", msg)
	}
	// What the file holds as secrets, read by hand.
	var secrets struct {
		StaffTokens []struct {
			Token any `yaml:"token"`
		} `yaml:"staff_tokens"`
		UserTokenSecret any `yaml:"user_token_secret"`
	}
	if yaml.Unmarshal([]byte(file), &secrets) != nil {
		return
	}
	values := []any{secrets.UserTokenSecret}
	for _, st := range secrets.StaffTokens {
		values = append(values, st.Token)
	}
	for _, v := range values {
		if s, ok := v.(string); ok && len(s) >= 8 && strings.Contains(msg, s) {
			t.Fatalf("refusal %q repeats a secret of the file", msg)
		}
	}
}

func checkLoaded(t *testing.T, cfg Config, reg *chains.Registry) {
	t.Helper()
	if len(reg.Networks()) < len(chains.DefaultNetworks()) {
		t.Fatalf("%d networks, fewer than the defaults", len(reg.Networks()))
	}
	seen := map[string]bool{}
	for _, n := range reg.Networks() {
		if seen[n.ID] {
			t.Fatalf("network %s twice", n.ID)
		}
		seen[n.ID] = true
		for _, u := range n.RPC {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("network %s reached at %q", n.ID, u)
			}
		}
		if r := n.RateLimit; r != nil && (*r < 0 || math.IsNaN(*r) || math.IsInf(*r, 0)) {
			t.Fatalf("network %s at %v requests per second", n.ID, *r)
		}
		if n.Decimals < 0 || n.Decimals > 36 || n.Confirmations == 0 {
			t.Fatalf("network %+v", n)
		}
		if m, listed, min := n.Asset(recovery.Transfer{Kind: recovery.KindNative}); m != n.NativeAsset || !listed || (n.MinDeposit != "") != (min != nil) || min != nil && min.Sign() < 0 {
			t.Fatalf("network %s: minimum deposit %q is %v base units", n.ID, n.MinDeposit, min)
		}
	}
	tokens := map[[32]byte]bool{}
	for _, st := range cfg.StaffTokens {
		if st.unresolved != "" {
			if cfg.StaffTokensReady() == nil {
				t.Fatalf("staff token of %q unread, and the API would start", st.Person)
			}
			continue
		}
		sum, err := st.Sum()
		if err != nil || st.Token != "" && CheckStaffToken(st.Token) != nil || st.Person == "" || len(st.Roles) == 0 || tokens[sum] {
			t.Fatalf("staff token of %q accepted", st.Person)
		}
		tokens[sum] = true
		for _, r := range st.Roles {
			if !slices.Contains(recovery.Roles(), r) {
				t.Fatalf("role %q accepted", r)
			}
		}
	}
	if cfg.UserTokenSecret != "" && len(cfg.UserTokenSecret) < 32 || cfg.WorkflowCache < 0 {
		t.Fatalf("accepted %+v", cfg)
	}
}
