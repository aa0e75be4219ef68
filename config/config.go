// Package config loads the engine's configuration: embedded defaults, then a
// YAML file (--config), then RECOVERY_* environment variables, then flags.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/workflows"
)

// Defaults every part of the engine and docker-compose.yml agree on.
const (
	DefaultAPIAddr         = ":8080"
	DefaultDevAPIAddr      = "127.0.0.1:8080"
	DefaultTemporalPort    = 7233
	DefaultTemporalAddress = "127.0.0.1:7233"
	DefaultUIPort          = 8233
	DefaultNamespace       = "default"
	DefaultDataDir         = ".recovery"
	DefaultLogLevel        = "info"
	DefaultMetricsAddr     = ":9091"
	// DefaultWorkflowCache is how many cases a worker keeps in memory
	// between their steps.
	DefaultWorkflowCache = 500
	// DefaultActionKeyID names the action key when the configuration does not.
	DefaultActionKeyID = "1"
)

// Config is the whole configuration.
type Config struct {
	DataDir string `yaml:"data_dir"`
	// AddressBook is the SQLite file of the address book, or a PostgreSQL
	// URL (postgres://user:password@host:5432/database?sslmode=require,
	// also postgresql://) for production; "" means addressbook.db in the
	// data directory. A password is best given in RECOVERY_ADDRESS_BOOK
	// or PGPASSWORD rather than in the file.
	AddressBook string `yaml:"address_book"`
	// Ledger is the journal of recoveries, fees and network costs: a
	// SQLite file or a PostgreSQL URL, like address_book; "" means
	// ledger.db in the data directory.
	Ledger string `yaml:"ledger"`
	// PriceFile is a static price file (see fees.PriceFile); "" leaves
	// deposits unpriced outside dev, which policy conditions treat as such.
	PriceFile string `yaml:"price_file"`
	// KeystoreDir is the directory of the HD keystore (its seed file) that
	// recovery transactions are signed with; "" outside dev leaves the
	// worker without a signer, and approved cases wait in recovering for
	// a worker that has one. `recovery dev` uses <data-dir>/keystore.
	KeystoreDir string `yaml:"keystore_dir"`
	// PolicyFile is a recovery policy (YAML or JSON) applied at start when
	// its version is not the one in force; "" keeps the policy in force
	// (the built-in default until one is applied).
	PolicyFile string `yaml:"policy_file"`
	// APIAddr is where the API listens; "" is DefaultAPIAddr, or
	// DefaultDevAPIAddr (this machine only) for recovery dev.
	APIAddr string `yaml:"api_addr"`
	// MetricsAddr is where recovery worker serves /metrics and /healthz
	// ("off" disables).
	MetricsAddr string `yaml:"metrics_addr"`
	// InternalAddr, when set, is where recovery api and recovery dev serve
	// their /metrics and /healthz, which api_addr then does not serve: a
	// port for the monitoring network only.
	InternalAddr string `yaml:"internal_addr"`
	// TrustedProxies are the reverse proxies in front of the API, as
	// addresses or CIDR prefixes ("10.0.0.0/8"). A request that comes
	// from one is counted, by the failed sign-in throttle, against the
	// client X-Forwarded-For names: the rightmost address there that is
	// not itself a trusted proxy. Empty: X-Forwarded-For is ignored and
	// the peer's own address counts (behind a proxy, all its clients as
	// one).
	TrustedProxies  []string `yaml:"trusted_proxies"`
	TemporalAddress string   `yaml:"temporal_address"`
	Namespace       string   `yaml:"namespace"`
	UIPort          int      `yaml:"ui_port"` // dev only; -1 disables the Web UI
	LogLevel        string   `yaml:"log_level"`
	LogFormat       string   `yaml:"log_format"` // text or json
	// WorkflowCache bounds the cases a worker process (recovery worker,
	// recovery dev) keeps in memory between their steps. Most open cases
	// wait for days; one that is not kept is read back from its history
	// when it next moves, which costs milliseconds, while each kept case
	// costs tens of KiB. 0 keeps none.
	WorkflowCache int `yaml:"workflow_cache"`
	// WorkerFamilies are the chain families whose recovery transactions
	// this process's worker sends and follows, each on its task queue
	// (recovery.evm, recovery.utxo); nil is every family, an empty list
	// none (RECOVERY_WORKER_FAMILIES=none). Every worker serves the cases
	// themselves. Give a family to the workers that hold its nodes and
	// keys; some worker must serve each family a case recovers on.
	WorkerFamilies []string        `yaml:"worker_families"`
	Networks       []NetworkConfig `yaml:"networks"`
	StaffTokens    []StaffToken    `yaml:"staff_tokens"`
	// UserTokenSecret signs the users' tokens on the appeal API (at least
	// 32 characters; better in RECOVERY_USER_TOKEN_SECRET than in the
	// file). recovery api needs it; recovery dev makes one of its own.
	UserTokenSecret string    `yaml:"user_token_secret"`
	Dev             DevConfig `yaml:"dev"`
	// ActionKey is the key the API and the workers stamp every update and
	// start they send to Temporal with; a workflow acts only on stamped
	// ones, so that whoever reaches Temporal without it cannot sign off as
	// someone else. At least 32 characters, the same in every recovery api
	// and recovery worker, better in RECOVERY_ACTION_KEY than in the file;
	// both refuse to start without it. recovery dev makes one of its own.
	ActionKey string `yaml:"action_key"`
	// ActionKeyID names action_key in the stamps (default "1"): give a
	// new key a new id.
	ActionKeyID string `yaml:"action_key_id"`
	// PreviousActionKeys are still accepted while a new action_key rolls
	// out to every process; remove them once it has.
	PreviousActionKeys []ActionKey `yaml:"previous_action_keys"`
	// The connection to Temporal: TLS with the CA that signed the
	// frontend's certificate (temporal_tls_ca; the system's roots when
	// empty) and the name it must carry, a client certificate for mTLS
	// (temporal_tls_cert and temporal_tls_key, PEM files), and an API key
	// (temporal_api_key, or temporal_api_key_file holding it). Any of them
	// turns TLS on.
	TemporalTLSCert       string `yaml:"temporal_tls_cert"`
	TemporalTLSKey        string `yaml:"temporal_tls_key"`
	TemporalTLSCA         string `yaml:"temporal_tls_ca"`
	TemporalTLSServerName string `yaml:"temporal_tls_server_name"`
	TemporalAPIKey        string `yaml:"temporal_api_key"`
	TemporalAPIKeyFile    string `yaml:"temporal_api_key_file"`
	// PayloadKeys encrypt the payloads the engine stores in Temporal's
	// history (user ids, addresses, memos, contacts) with AES-256-GCM; each
	// is 32 bytes in base64 (key) or in a file (key_file). Payloads are
	// sealed with the key named by payload_key_id and opened with any key
	// listed, so a key rotates by adding a new one, making it current, and
	// removing the old one only once no open case holds payloads under it.
	// RECOVERY_PAYLOAD_KEY (and RECOVERY_PAYLOAD_KEY_ID, default "1") adds
	// a key and makes it current. Every recovery api and recovery worker
	// needs the same keys, and both refuse to start without one (make one
	// with `openssl rand -base64 32`); recovery dev makes one of its own.
	PayloadKeys  []PayloadKey `yaml:"payload_keys"`
	PayloadKeyID string       `yaml:"payload_key_id"`
	// WebUIOrigin is the Temporal Web UI's origin (scheme://host:port),
	// allowed by CORS to call the API's codec endpoint, /v1/codec, with a
	// staff token to show decrypted payloads.
	WebUIOrigin string `yaml:"web_ui_origin"`
	// NotifyURL is the exchange's notification service (http or https):
	// the workers post each notification of a user there, signed with
	// NotifySecret (at least 32 characters, required with a URL; better in
	// RECOVERY_NOTIFY_SECRET than in the file). The API accepts an appeal's
	// contact only when it is set, so recovery api and recovery worker
	// both need it; recovery dev without it writes the notifications to
	// notifications.jsonl in its data directory.
	NotifyURL    string `yaml:"notify_url"`
	NotifySecret string `yaml:"notify_secret"`
}

// PayloadKey is one key that encrypts workflow payloads.
type PayloadKey struct {
	ID      string `yaml:"id"`
	Key     string `yaml:"key"`
	KeyFile string `yaml:"key_file"`
}

// NetworkConfig points a network at nodes or adjusts it. A network not in
// the default registry needs family and the fields its family requires.
type NetworkConfig struct {
	ID            string          `yaml:"id"`
	RPC           []string        `yaml:"rpc"`
	ChainID       uint64          `yaml:"chain_id"`
	Params        string          `yaml:"params"`
	Confirmations uint64          `yaml:"confirmations"`
	Family        recovery.Family `yaml:"family"`
	NativeAsset   string          `yaml:"native_asset"`
	Decimals      *int32          `yaml:"decimals"`
	Tier          chains.Tier     `yaml:"tier"`
	MinDeposit    string          `yaml:"min_deposit"` // whole units
	// RateLimit is the requests per second the engine sends to each of
	// the network's nodes (default 20, what public providers allow a
	// free key); 0 lifts the limit, for the operator's own nodes.
	RateLimit *float64 `yaml:"rate_limit"`
	// Tokens replace the network's listed tokens when given.
	Tokens []chains.Token `yaml:"tokens"`
}

// ActionKey is a previous action key, by id.
type ActionKey struct {
	ID  string `yaml:"id"`
	Key string `yaml:"key"`
}

// DevConfig tunes `recovery dev`.
type DevConfig struct {
	// BlockPeriod is how often the local chains make a block.
	BlockPeriod time.Duration `yaml:"block_period"`
	// Recheck is the wait before each new look-up of an unknown hash.
	Recheck []time.Duration `yaml:"recheck"`
	// ConfirmationPoll is the wait between look-ups of an unconfirmed deposit.
	ConfirmationPoll time.Duration `yaml:"confirmation_poll"`
}

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		DataDir:         DefaultDataDir,
		MetricsAddr:     DefaultMetricsAddr,
		TemporalAddress: DefaultTemporalAddress,
		Namespace:       DefaultNamespace,
		UIPort:          DefaultUIPort,
		LogLevel:        DefaultLogLevel,
		LogFormat:       "text",
		WorkflowCache:   DefaultWorkflowCache,
		ActionKeyID:     DefaultActionKeyID,
		Dev: DevConfig{
			BlockPeriod:      2 * time.Second,
			Recheck:          []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second},
			ConfirmationPoll: 2 * time.Second,
		},
	}
}

// Load returns the defaults overlaid with the file at path (when not "")
// and the RECOVERY_* variables getenv answers.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	str := map[string]*string{
		"RECOVERY_DATA_DIR":          &cfg.DataDir,
		"RECOVERY_ADDRESS_BOOK":      &cfg.AddressBook, // a SQLite path or a postgres:// URL
		"RECOVERY_PRICE_FILE":        &cfg.PriceFile,
		"RECOVERY_KEYSTORE_DIR":      &cfg.KeystoreDir,
		"RECOVERY_POLICY_FILE":       &cfg.PolicyFile,
		"RECOVERY_USER_TOKEN_SECRET": &cfg.UserTokenSecret,
		"RECOVERY_API_ADDR":          &cfg.APIAddr,
		"RECOVERY_METRICS_ADDR":      &cfg.MetricsAddr,
		"RECOVERY_INTERNAL_ADDR":     &cfg.InternalAddr,
		"RECOVERY_TEMPORAL_ADDRESS":  &cfg.TemporalAddress,
		"RECOVERY_NAMESPACE":         &cfg.Namespace,
		"RECOVERY_LOG_LEVEL":         &cfg.LogLevel,
		"RECOVERY_LOG_FORMAT":        &cfg.LogFormat,
	}
	for k, p := range str {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	// The action key and the connection to Temporal.
	for k, p := range map[string]*string{
		"RECOVERY_ACTION_KEY":               &cfg.ActionKey,
		"RECOVERY_ACTION_KEY_ID":            &cfg.ActionKeyID,
		"RECOVERY_TEMPORAL_TLS_CERT":        &cfg.TemporalTLSCert,
		"RECOVERY_TEMPORAL_TLS_KEY":         &cfg.TemporalTLSKey,
		"RECOVERY_TEMPORAL_TLS_CA":          &cfg.TemporalTLSCA,
		"RECOVERY_TEMPORAL_TLS_SERVER_NAME": &cfg.TemporalTLSServerName,
		"RECOVERY_TEMPORAL_API_KEY":         &cfg.TemporalAPIKey,
		"RECOVERY_TEMPORAL_API_KEY_FILE":    &cfg.TemporalAPIKeyFile,
	} {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	if v := getenv("RECOVERY_WORKER_FAMILIES"); v == "none" {
		cfg.WorkerFamilies = []string{}
	} else if v != "" {
		cfg.WorkerFamilies = strings.Split(v, ",")
	}
	if v := getenv("RECOVERY_TRUSTED_PROXIES"); v != "" {
		cfg.TrustedProxies = strings.Split(v, ",")
	}
	if v := getenv("RECOVERY_WEB_UI_ORIGIN"); v != "" {
		cfg.WebUIOrigin = v
	}
	for k, p := range map[string]*string{"RECOVERY_NOTIFY_URL": &cfg.NotifyURL, "RECOVERY_NOTIFY_SECRET": &cfg.NotifySecret} {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	if v := getenv("RECOVERY_PAYLOAD_KEY"); v != "" {
		id := getenv("RECOVERY_PAYLOAD_KEY_ID")
		if id == "" {
			id = "1"
		}
		cfg.PayloadKeys = append(cfg.PayloadKeys, PayloadKey{ID: id, Key: v})
		cfg.PayloadKeyID = id
	}
	for k, p := range map[string]*int{"RECOVERY_UI_PORT": &cfg.UIPort, "RECOVERY_WORKFLOW_CACHE": &cfg.WorkflowCache} {
		if v := getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return cfg, fmt.Errorf("config: %s %q is not a number", k, v)
			}
			*p = n
		}
	}
	// RECOVERY_RPC_<NETWORK>=url[,url] points one network at nodes, e.g.
	// RECOVERY_RPC_AVAX_C for avax-c.
	for _, n := range chains.DefaultNetworks() {
		key := "RECOVERY_RPC_" + strings.ToUpper(strings.ReplaceAll(n.ID, "-", "_"))
		if v := getenv(key); v != "" {
			cfg.setRPC(n.ID, strings.Split(v, ","))
		}
	}
	if err := resolveStaffTokens(cfg.StaffTokens, getenv); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// ListenAddr is where the API listens: api_addr, else DefaultAPIAddr, or
// for recovery dev DefaultDevAPIAddr, so that a dev engine with its demo
// tokens is not open to the network unless asked.
func (c *Config) ListenAddr(dev bool) string {
	switch {
	case c.APIAddr != "":
		return c.APIAddr
	case dev:
		return DefaultDevAPIAddr
	}
	return DefaultAPIAddr
}

func (c *Config) setRPC(id string, urls []string) {
	for i := range c.Networks {
		if c.Networks[i].ID == id {
			c.Networks[i].RPC = urls
			return
		}
	}
	c.Networks = append(c.Networks, NetworkConfig{ID: id, RPC: urls})
}

// Validate checks what Load cannot check while decoding.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("config: data_dir must not be empty")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		return fmt.Errorf("config: log_level %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("config: log_format %q is not text or json", c.LogFormat)
	}
	if err := validateStaffTokens(c.StaffTokens); err != nil {
		return err
	}
	if c.WorkflowCache < 0 {
		return fmt.Errorf("config: workflow_cache %d is negative (0 keeps no case in memory)", c.WorkflowCache)
	}
	if c.UserTokenSecret != "" && len(c.UserTokenSecret) < 32 {
		return errors.New("config: user_token_secret is shorter than 32 characters")
	}
	if c.ActionKey != "" && len(c.ActionKey) < 32 {
		return errors.New("config: action_key is shorter than 32 characters")
	}
	if (c.TemporalTLSCert == "") != (c.TemporalTLSKey == "") {
		return errors.New("config: temporal_tls_cert and temporal_tls_key go together (a client certificate and its key)")
	}
	for _, k := range c.PayloadKeys {
		if k.ID == "" || (k.Key == "") == (k.KeyFile == "") {
			return errors.New("config: each of payload_keys needs an id and one of key or key_file")
		}
	}
	if len(c.PayloadKeys) > 0 && c.PayloadKeyID == "" {
		return errors.New("config: payload_key_id names the payload key to encrypt with")
	}
	if c.TemporalAPIKey != "" && c.TemporalAPIKeyFile != "" {
		return errors.New("config: give temporal_api_key or temporal_api_key_file, not both")
	}
	if err := c.validateNotify(); err != nil {
		return err
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		return err
	}
	if _, err := c.Families(); err != nil {
		return err
	}
	_, err := c.Registry()
	return err
}

// Families reads worker_families (see WorkerFamilies).
func (c *Config) Families() ([]recovery.Family, error) {
	if c.WorkerFamilies == nil {
		return slices.Clone(workflows.FamilyQueues), nil
	}
	out := []recovery.Family{}
	for _, s := range c.WorkerFamilies {
		f := recovery.Family(strings.ToLower(strings.TrimSpace(s)))
		if !slices.Contains(workflows.FamilyQueues, f) {
			return nil, fmt.Errorf("config: worker_families: %q is not a family whose recoveries send transactions (evm, utxo)", s)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// TrustedProxyPrefixes reads trusted_proxies: an address is a prefix of
// its full length. A prefix of length 0 (every address) is refused: any
// client could then name any address in X-Forwarded-For and never be
// throttled.
func (c *Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("config: trusted_proxies: %q is not an IP address or a CIDR prefix such as 10.0.0.0/8", s)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("config: trusted_proxies: %q trusts every address, and so every client's X-Forwarded-For; name your proxies' addresses or networks", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// validateNotify checks the notification service's URL and secret.
func (c *Config) validateNotify() error {
	if c.NotifyURL == "" {
		if c.NotifySecret != "" {
			return errors.New("config: notify_secret is set without notify_url, which it signs notifications for")
		}
		return nil
	}
	u, err := url.Parse(c.NotifyURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is not repeated: it may hold a password.
		return errors.New("config: notify_url must be an http:// or https:// URL with a host")
	}
	if len(c.NotifySecret) < 32 {
		return errors.New("config: notify_secret is required with notify_url, at least 32 characters (RECOVERY_NOTIFY_SECRET)")
	}
	return nil
}

// LedgerPath is where the ledger lives: a SQLite path or a PostgreSQL URL,
// as ledger.Open takes it.
func (c *Config) LedgerPath() string {
	if c.Ledger != "" {
		return c.Ledger
	}
	return filepath.Join(c.DataDir, "ledger.db")
}

// AddressBookPath is where the address book lives: a SQLite path or a
// PostgreSQL URL, as addressbook.Open takes it. A configured value is
// returned as it is, never joined to the data directory.
func (c *Config) AddressBookPath() string {
	if c.AddressBook != "" {
		return c.AddressBook
	}
	return filepath.Join(c.DataDir, "addressbook.db")
}

// ExternalNodes reports whether the file points any network at nodes, in
// which case `recovery dev` uses them instead of starting local chains.
func (c *Config) ExternalNodes() bool {
	for _, n := range c.Networks {
		if len(n.RPC) > 0 {
			return true
		}
	}
	return false
}

// Registry builds the network registry: the defaults with the configured
// overrides and additions.
func (c *Config) Registry() (*chains.Registry, error) {
	nets := chains.DefaultNetworks()
	for _, o := range c.Networks {
		i := slices.IndexFunc(nets, func(n chains.Network) bool { return n.ID == o.ID })
		if i < 0 {
			if o.Family == "" {
				return nil, fmt.Errorf("config: network %q is not a default network; give its family to add it", o.ID)
			}
			nets = append(nets, chains.Network{ID: o.ID, Name: o.ID, Family: o.Family, Tier: chains.Conditional})
			i = len(nets) - 1
		}
		n := &nets[i]
		if o.RPC != nil {
			n.RPC = o.RPC
		}
		if o.ChainID != 0 {
			n.ChainID = o.ChainID
		}
		if o.Params != "" {
			n.Params = o.Params
		}
		if o.Confirmations != 0 {
			n.Confirmations = o.Confirmations
		}
		if o.Family != "" {
			n.Family = o.Family
		}
		if o.NativeAsset != "" {
			n.NativeAsset = o.NativeAsset
		}
		if o.Decimals != nil {
			n.Decimals = *o.Decimals
		}
		if o.Tier != "" {
			n.Tier = o.Tier
		}
		if o.MinDeposit != "" {
			n.MinDeposit = o.MinDeposit
		}
		if o.Tokens != nil {
			n.Tokens = o.Tokens
		}
		if o.RateLimit != nil {
			if r := *o.RateLimit; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
				return nil, fmt.Errorf("config: network %q: rate_limit must be 0 (no limit) or a number of requests per second, not %v", o.ID, r)
			}
			n.RateLimit = o.RateLimit
		}
	}
	reg, err := chains.NewRegistry(nets)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return reg, nil
}
