package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	cfg, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ListenAddr(false) != ":8080" || cfg.ListenAddr(true) != "127.0.0.1:8080" || cfg.TemporalAddress != "127.0.0.1:7233" || cfg.UIPort != 8233 || cfg.DataDir != ".recovery" {
		t.Fatalf("defaults changed: %+v", cfg)
	}
	if cfg.ExternalNodes() {
		t.Fatal("defaults point at external nodes")
	}
}

func TestFileEnvAndOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recovery.yaml")
	err := os.WriteFile(path, []byte(`
api_addr: ":9090"
networks:
  - id: eth
    rpc: ["http://10.0.0.1:8545"]
    chain_id: 1337
    confirmations: 3
  - id: mychain
    family: evm
    chain_id: 777
    confirmations: 5
    native_asset: MY
staff_tokens:
  - {token: "ann-Q7vLx2RkT9mWz4NcB8pJd3HsY6fG", person: ann, roles: [specialist]}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, env(map[string]string{"RECOVERY_API_ADDR": ":7070", "RECOVERY_RPC_AVAX_C": "http://a:1,http://b:2"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIAddr != ":7070" {
		t.Errorf("env did not win over the file: %s", cfg.APIAddr)
	}
	reg, err := cfg.Registry()
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := reg.Get("eth")
	if eth.ChainID != 1337 || eth.Confirmations != 3 || eth.RPC[0] != "http://10.0.0.1:8545" {
		t.Errorf("eth override not applied: %+v", eth)
	}
	if avax, _ := reg.Get("avax-c"); len(avax.RPC) != 2 {
		t.Errorf("RECOVERY_RPC_AVAX_C not applied: %+v", avax)
	}
	if my, ok := reg.Get("mychain"); !ok || my.ChainID != 777 {
		t.Errorf("added network missing: %+v", my)
	}
	if len(reg.Networks()) != 33 {
		t.Errorf("%d networks, want 33", len(reg.Networks()))
	}
}

func TestBadConfigIsRefusedWithAReason(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":     {"api_adr: x\n", "api_adr"},
		"unknown network": {"networks: [{id: nowhere, rpc: ['http://x']}]\n", "nowhere"},
		"short token":     {"staff_tokens: [{token: abc, person: ann, roles: [wallet]}]\n", "shorter than 32"},
		"placeholder":     {"staff_tokens: [{token: replace-me-with-a-long-random-token, person: ann, roles: [wallet]}]\n", "placeholder"},
		"guessable token": {"staff_tokens: [{token: 0123456789abcdef0123456789abcdef, person: ann, roles: [wallet]}]\n", "pattern"},
		"two sources":     {"staff_tokens: [{token: ann-Q7vLx2RkT9mWz4NcB8pJd3HsY6fG, token_env: T, person: ann, roles: [wallet]}]\n", "only one of"},
		"bad hash":        {"staff_tokens: [{token_sha256: abc, person: ann, roles: [wallet]}]\n", "64 hexadecimal"},
		"no token":        {"staff_tokens: [{person: ann, roles: [wallet]}]\n", "give one of"},
		"same token twice": {"staff_tokens: [{token: ann-Q7vLx2RkT9mWz4NcB8pJd3HsY6fG, person: ann, roles: [wallet]}, " +
			"{token_sha256: " + sha256Hex("ann-Q7vLx2RkT9mWz4NcB8pJd3HsY6fG") + ", person: bob, roles: [wallet]}]\n", "listed twice"},
		"bad rpc":       {"networks: [{id: eth, rpc: ['ws://x']}]\n", "http(s)"},
		"bad log level": {"log_level: loud\n", "log_level"},
		"bad proxy":     {"trusted_proxies: [10.0.0.0/33]\n", "trusted_proxies"},
		"every proxy":   {"trusted_proxies: [0.0.0.0/0]\n", "trusts every address"},
		"bad family":    {"worker_families: [evm, xrp]\n", "worker_families"},
	} {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, env(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
}

// Trusted proxies come from the file or from RECOVERY_TRUSTED_PROXIES, as
// addresses or prefixes; an address is a prefix of its own length.
func TestTrustedProxiesFromFileOrEnv(t *testing.T) {
	cfg, err := Load("", env(map[string]string{"RECOVERY_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.10,2001:db8::/32"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.TrustedProxyPrefixes()
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("2001:db8::/32")}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("trusted proxies %v %v, want %v", got, err, want)
	}
	if cfg, _ := Load("", env(nil)); len(cfg.TrustedProxies) != 0 {
		t.Errorf("trusted proxies by default: %v", cfg.TrustedProxies)
	}
}

// A worker sends for every family unless worker_families or
// RECOVERY_WORKER_FAMILIES names some, or none.
func TestWorkerFamiliesFromFileOrEnv(t *testing.T) {
	for _, c := range []struct {
		env  string
		want []recovery.Family
	}{
		{"", []recovery.Family{recovery.FamilyEVM, recovery.FamilyUTXO}},
		{"utxo", []recovery.Family{recovery.FamilyUTXO}},
		{" EVM ,evm", []recovery.Family{recovery.FamilyEVM}},
		{"none", []recovery.Family{}},
	} {
		cfg, err := Load("", env(map[string]string{"RECOVERY_WORKER_FAMILIES": c.env}))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := cfg.Families(); err != nil || !slices.Equal(got, c.want) {
			t.Errorf("RECOVERY_WORKER_FAMILIES=%q: %v %v, want %v", c.env, got, err, c.want)
		}
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("worker_families: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(path, env(nil)); err != nil {
		t.Fatal(err)
	} else if got, _ := cfg.Families(); len(got) != 0 {
		t.Errorf("worker_families: [] sends for %v", got)
	}
}

func TestAddressBookIsAFileOrAPostgresURL(t *testing.T) {
	const dsn = "postgres://recovery:pw@db.internal:5432/recovery?sslmode=require"
	for name, tc := range map[string]struct{ env, want string }{
		"default":  {"", filepath.Join("/var/lib/recovery", "addressbook.db")},
		"file":     {"/srv/book.db", "/srv/book.db"},
		"postgres": {dsn, dsn},
	} {
		cfg, err := Load("", env(map[string]string{"RECOVERY_DATA_DIR": "/var/lib/recovery", "RECOVERY_ADDRESS_BOOK": tc.env}))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.AddressBookPath(); got != tc.want {
			t.Errorf("%s: address book %q, want %q", name, got, tc.want)
		}
	}
}

func TestWorkflowCacheFromFileOrEnv(t *testing.T) {
	cfg, err := Load("", env(nil))
	if err != nil || cfg.WorkflowCache != DefaultWorkflowCache {
		t.Fatalf("default workflow_cache %d, %v; want %d", cfg.WorkflowCache, err, DefaultWorkflowCache)
	}
	path := filepath.Join(t.TempDir(), "recovery.yaml")
	if err := os.WriteFile(path, []byte("workflow_cache: 2000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err = Load(path, env(nil)); err != nil || cfg.WorkflowCache != 2000 {
		t.Fatalf("workflow_cache from the file: %d, %v", cfg.WorkflowCache, err)
	}
	if cfg, err = Load(path, env(map[string]string{"RECOVERY_WORKFLOW_CACHE": "0"})); err != nil || cfg.WorkflowCache != 0 {
		t.Fatalf("RECOVERY_WORKFLOW_CACHE=0: %d, %v", cfg.WorkflowCache, err)
	}
	for v, want := range map[string]string{"-1": "negative", "many": "not a number"} {
		if _, err := Load("", env(map[string]string{"RECOVERY_WORKFLOW_CACHE": v})); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("RECOVERY_WORKFLOW_CACHE=%s: %v, want an error saying %q", v, err, want)
		}
	}
}
