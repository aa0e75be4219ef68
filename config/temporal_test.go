package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The action key and the connection to Temporal come from the file and
// from RECOVERY_* variables, the variables winning; a short key and
// half a client certificate are refused with the setting named.
func TestActionKeyAndTemporalConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recovery.yaml")
	text := `action_key: file-action-key-0123456789abcdefghij
action_key_id: "2026-11"
previous_action_keys:
  - {id: "2026-10", key: old-action-key-0123456789abcdefghijk}
temporal_tls_ca: /etc/recovery/ca.pem
temporal_tls_server_name: temporal.internal
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"RECOVERY_ACTION_KEY":            "env-action-key-0123456789abcdefghijk",
		"RECOVERY_TEMPORAL_TLS_CERT":     "/etc/recovery/client.pem",
		"RECOVERY_TEMPORAL_TLS_KEY":      "/etc/recovery/client-key.pem",
		"RECOVERY_TEMPORAL_API_KEY_FILE": "/run/secrets/temporal-api-key",
	}
	cfg, err := Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ActionKey != env["RECOVERY_ACTION_KEY"] || cfg.ActionKeyID != "2026-11" || len(cfg.PreviousActionKeys) != 1 || cfg.PreviousActionKeys[0].ID != "2026-10" {
		t.Errorf("action keys: %q %q %+v", cfg.ActionKey, cfg.ActionKeyID, cfg.PreviousActionKeys)
	}
	if cfg.TemporalTLSCA != "/etc/recovery/ca.pem" || cfg.TemporalTLSServerName != "temporal.internal" ||
		cfg.TemporalTLSCert != env["RECOVERY_TEMPORAL_TLS_CERT"] || cfg.TemporalTLSKey != env["RECOVERY_TEMPORAL_TLS_KEY"] ||
		cfg.TemporalAPIKeyFile != env["RECOVERY_TEMPORAL_API_KEY_FILE"] {
		t.Errorf("temporal connection: %+v", cfg)
	}
	if Default().ActionKeyID != DefaultActionKeyID {
		t.Errorf("default action key id %q", Default().ActionKeyID)
	}

	for setting, bad := range map[string]map[string]string{
		"action_key":            {"RECOVERY_ACTION_KEY": "too-short"},
		"temporal_tls_key":      {"RECOVERY_TEMPORAL_TLS_CERT": "/etc/recovery/client.pem"},
		"temporal_api_key_file": {"RECOVERY_TEMPORAL_API_KEY": "k", "RECOVERY_TEMPORAL_API_KEY_FILE": "/run/secrets/k"},
	} {
		_, err := Load("", func(k string) string { return bad[k] })
		if err == nil || !strings.Contains(err.Error(), setting) {
			t.Errorf("%v: %v, want a refusal naming %s", bad, err, setting)
		}
	}
}
