package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const notifySecret = "0123456789abcdef0123456789abcdef"

// The notification service comes from the file or the environment, the
// environment winning; its secret is refused when short or missing.
func TestNotifyURLAndSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recovery.yaml")
	if err := os.WriteFile(path, []byte("notify_url: https://notify.exchange.example/v1/recovery\nnotify_secret: "+notifySecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NotifyURL != "https://notify.exchange.example/v1/recovery" || cfg.NotifySecret != notifySecret {
		t.Errorf("from the file: notify_url %q, notify_secret %q", cfg.NotifyURL, cfg.NotifySecret)
	}
	cfg, err = Load(path, env(map[string]string{"RECOVERY_NOTIFY_URL": "http://notifier:8000/hook", "RECOVERY_NOTIFY_SECRET": strings.Repeat("s", 40)}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NotifyURL != "http://notifier:8000/hook" || cfg.NotifySecret != strings.Repeat("s", 40) {
		t.Errorf("the environment did not win: notify_url %q, notify_secret %q", cfg.NotifyURL, cfg.NotifySecret)
	}
	if cfg, err := Load("", env(nil)); err != nil || cfg.NotifyURL != "" {
		t.Errorf("by default: notify_url %q, %v; want none", cfg.NotifyURL, err)
	}

	for _, tc := range []struct {
		name, url, secret, refusal string
	}{
		{"no secret", "https://notify.example", "", "notify_secret is required"},
		{"short secret", "https://notify.example", "0123456789abcdef0123456789abcde", "at least 32 characters"},
		{"not http", "ftp://notify.example/x", notifySecret, "notify_url must be an http:// or https:// URL"},
		{"no scheme", "notify.example/hook", notifySecret, "notify_url must be an http:// or https:// URL"},
		{"no host", "https:///hook", notifySecret, "notify_url must be an http:// or https:// URL"},
		{"not a URL", "https://notify example/%zz", notifySecret, "notify_url must be an http:// or https:// URL"},
		{"secret without a URL", "", notifySecret, "notify_secret is set without notify_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("", env(map[string]string{"RECOVERY_NOTIFY_URL": tc.url, "RECOVERY_NOTIFY_SECRET": tc.secret}))
			if err == nil || !strings.Contains(err.Error(), tc.refusal) {
				t.Fatalf("got %v, want a refusal saying %q", err, tc.refusal)
			}
		})
	}
	// A refused URL is not repeated: it may hold a password.
	_, err = Load("", env(map[string]string{"RECOVERY_NOTIFY_URL": "ftp://user:hunter2@notify.example", "RECOVERY_NOTIFY_SECRET": notifySecret}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("refusal %v shows the URL's password", err)
	}
}
