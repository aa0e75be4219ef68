package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// A staff token may come from the file, from a file of its own (a mounted
// secret), from a variable, or as its hash only; each gives the same
// staff member, and the engine keeps only the hash.
func TestStaffTokenFromFileEnvOrHash(t *testing.T) {
	const token = "ann-Q7vLx2RkT9mWz4NcB8pJd3HsY6fG"
	dir := t.TempDir()
	secret := filepath.Join(dir, "ann.token")
	if err := os.WriteFile(secret, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, line := range map[string]string{
		"inline": "{token: " + token + ", person: ann, roles: [wallet]}",
		"file":   "{token_file: " + secret + ", person: ann, roles: [wallet]}",
		"env":    "{token_env: ANN_TOKEN, person: ann, roles: [wallet]}",
		"hash":   "{token_sha256: " + sha256Hex(token) + ", person: ann, roles: [wallet]}",
	} {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte("staff_tokens:\n  - "+line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, env(map[string]string{"ANN_TOKEN": token}))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sum, err := cfg.StaffTokens[0].Sum()
		if err != nil || hex.EncodeToString(sum[:]) != sha256Hex(token) {
			t.Fatalf("%s: hash %x (%v), want the token's", name, sum, err)
		}
	}
}

// The example configuration's placeholder, and tokens a person would type,
// are refused; random ones of 32 characters are taken.
func TestGuessableStaffTokensAreRefused(t *testing.T) {
	for _, weak := range []string{
		"replace-me-with-a-long-random-token",
		"at-least-16-characters",
		"changeme-changeme-changeme-changeme",
		"wallet-token-0123456789",
		"0123456789abcdef0123456789abcdef",
		"abcdefghijklmnopqrstuvwxyz012345",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3",
		"correct horse battery staple and more",
	} {
		if err := CheckStaffToken(weak); err == nil {
			t.Errorf("%q was taken as a staff token", weak)
		}
	}
	for _, strong := range []string{
		"9f86d081884c7d659a2feaa0c55ad015",            // openssl rand -hex 16
		"q3Jx+e0v1R9YzB7nWk2cL5mT8hPa4sDf6gUiOo1X3Y=", // openssl rand -base64 32
	} {
		if err := CheckStaffToken(strong); err != nil {
			t.Errorf("%q refused: %v", strong, err)
		}
	}
}

// A token whose variable or file is missing stops only what serves the
// API (StaffTokensReady), with the reason; a worker loading the same file
// starts without the staff's secrets.
func TestMissingStaffTokenSourceIsReportedWhereNeeded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	yaml := "staff_tokens:\n  - {token_env: RECOVERY_TEST_UNSET, person: ann, roles: [wallet]}\n" +
		"  - {token_file: /nonexistent/bob.token, person: bob, roles: [wallet]}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, env(nil))
	if err != nil {
		t.Fatalf("the worker's load: %v", err)
	}
	if err := cfg.StaffTokensReady(); err == nil || !strings.Contains(err.Error(), "RECOVERY_TEST_UNSET is not set") {
		t.Fatalf("StaffTokensReady: %v", err)
	}
	cfg, err = Load(path, env(map[string]string{"RECOVERY_TEST_UNSET": "ann-Q7vLx2RkT9mWz4NcB8pJd3HsY6fG"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.StaffTokensReady(); err == nil || !strings.Contains(err.Error(), "bob.token") {
		t.Fatalf("StaffTokensReady: %v", err)
	}
	cfg, err = Load(path, env(map[string]string{"RECOVERY_TEST_UNSET": "short"}))
	if err == nil || !strings.Contains(err.Error(), "shorter than 32") {
		t.Fatalf("a weak token from a variable: %v", err)
	}
}
