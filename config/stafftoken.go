package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/misdeposit/recovery"
)

// StaffToken maps a bearer token to a person and roles. The token is given
// by exactly one of: Token (in this file), TokenSHA256 (only its hash, so
// that the file holds no secret), TokenFile (a file holding it, e.g. a
// mounted secret) or TokenEnv (the variable holding it).
type StaffToken struct {
	Token       string   `yaml:"token,omitempty"`
	TokenSHA256 string   `yaml:"token_sha256,omitempty"`
	TokenFile   string   `yaml:"token_file,omitempty"`
	TokenEnv    string   `yaml:"token_env,omitempty"`
	Person      string   `yaml:"person"`
	Roles       []string `yaml:"roles"`
	// unresolved says why the token could not be read from its file or
	// variable: only what serves the API needs it (StaffTokensReady).
	unresolved string
}

// MinStaffTokenLength is the shortest staff token taken.
const MinStaffTokenLength = 32

// Sum is the SHA-256 of the token, which is all the engine keeps of it.
func (t StaffToken) Sum() ([32]byte, error) {
	if t.Token != "" {
		return sha256.Sum256([]byte(t.Token)), nil
	}
	var sum [32]byte
	raw, err := hex.DecodeString(t.TokenSHA256)
	if err != nil || len(raw) != len(sum) {
		return sum, fmt.Errorf("config: token_sha256 of %q is not 64 hexadecimal digits (the SHA-256 of the token: printf %%s \"$TOKEN\" | sha256sum)", t.Person)
	}
	copy(sum[:], raw)
	return sum, nil
}

// resolveStaffTokens reads the staff tokens given by file or variable.
func resolveStaffTokens(tokens []StaffToken, getenv func(string) string) error {
	for i := range tokens {
		t := &tokens[i]
		sources := 0
		for _, s := range []string{t.Token, t.TokenSHA256, t.TokenFile, t.TokenEnv} {
			if s != "" {
				sources++
			}
		}
		switch {
		case sources == 0:
			return fmt.Errorf("config: staff token of %q: give one of token, token_sha256, token_file or token_env", t.Person)
		case sources > 1:
			return fmt.Errorf("config: staff token of %q: give only one of token, token_sha256, token_file or token_env", t.Person)
		case t.TokenFile != "":
			raw, err := os.ReadFile(t.TokenFile)
			switch {
			case err != nil:
				t.unresolved = err.Error()
			case strings.TrimRight(string(raw), "\r\n") == "":
				t.unresolved = t.TokenFile + " is empty"
			default:
				t.Token = strings.TrimRight(string(raw), "\r\n")
			}
		case t.TokenEnv != "":
			if t.Token = getenv(t.TokenEnv); t.Token == "" {
				t.unresolved = "the variable " + t.TokenEnv + " is not set"
			}
		}
	}
	return nil
}

// validateStaffTokens checks each staff token's source, strength, person
// and roles, and that no token is listed twice.
func validateStaffTokens(tokens []StaffToken) error {
	seen := map[[32]byte]bool{}
	for _, t := range tokens {
		switch {
		case t.Person == "":
			return errors.New("config: a staff token has no person")
		case t.unresolved != "":
			continue // StaffTokensReady says so where the API is served
		case t.Token == "" && t.TokenSHA256 == "":
			return fmt.Errorf("config: staff token of %q: give one of token, token_sha256, token_file or token_env", t.Person)
		case t.Token != "" && t.TokenSHA256 != "":
			return fmt.Errorf("config: staff token of %q: give only one of token, token_sha256, token_file or token_env", t.Person)
		case len(t.Roles) == 0:
			return fmt.Errorf("config: staff token of %q has no roles (%s)", t.Person, strings.Join(recovery.Roles(), ", "))
		}
		if t.Token != "" {
			if err := CheckStaffToken(t.Token); err != nil {
				return fmt.Errorf("config: staff token of %q: %w", t.Person, err)
			}
		}
		sum, err := t.Sum()
		if err != nil {
			return err
		}
		if seen[sum] {
			return fmt.Errorf("config: staff token of %q is listed twice", t.Person)
		}
		seen[sum] = true
		for _, r := range t.Roles {
			if !slices.Contains(recovery.Roles(), r) {
				return fmt.Errorf("config: staff token of %q has the unknown role %q (roles: %s)", t.Person, r, strings.Join(recovery.Roles(), ", "))
			}
		}
	}
	return nil
}

// StaffTokensReady fails when a staff token's file or variable could not
// be read: recovery api and dev call it, a worker (which admits no staff)
// does not need the staff's secrets.
func (c *Config) StaffTokensReady() error {
	for _, t := range c.StaffTokens {
		if t.unresolved != "" {
			return fmt.Errorf("config: staff token of %q: %s", t.Person, t.unresolved)
		}
	}
	return nil
}

// placeholderWords betray a token copied from an example or typed by hand.
var placeholderWords = []string{"replace", "changeme", "change-me", "change_me", "example", "placeholder",
	"your", "secret", "password", "passwd", "token", "dummy", "sample", "default", "xxxx", "qwerty"}

// CheckStaffToken refuses a staff token an attacker could guess: shorter
// than MinStaffTokenLength, holding a placeholder word or an obvious
// run, or with too little variety to be random (under 96 bits by the
// letter frequencies it shows).
func CheckStaffToken(token string) error {
	advice := "use at least 32 random characters, e.g. from openssl rand -base64 32"
	if len(token) < MinStaffTokenLength {
		return fmt.Errorf("the token is shorter than %d characters: %s", MinStaffTokenLength, advice)
	}
	lower := strings.ToLower(token)
	for _, w := range placeholderWords {
		if strings.Contains(lower, w) {
			return fmt.Errorf("the token looks like a placeholder (it contains %q): %s", w, advice)
		}
	}
	for _, r := range token {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("the token holds a space or a control character: %s", advice)
		}
	}
	if patterned(token) {
		return fmt.Errorf("the token is a pattern (a run or a repetition), not random: %s", advice)
	}
	if bits := estimatedBits(token); bits < 96 {
		return fmt.Errorf("the token is too easy to guess (about %.0f bits): %s", bits, advice)
	}
	return nil
}

// estimatedBits is the token's length times the entropy of its letter
// frequencies: a lower bound for a random token's strength, far above
// what repeated or patterned text reaches.
func estimatedBits(s string) float64 {
	count := map[rune]int{}
	n := 0
	for _, r := range s {
		count[r]++
		n++
	}
	h := 0.0
	for _, c := range count {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h * float64(n)
}

// patterned says whether s repeats itself (abcabc…) or is mostly runs of
// neighbouring characters (0123…, abcd…, 9876…), which letter frequencies
// alone take for random.
func patterned(s string) bool {
	for p := 1; p <= len(s)/2; p++ {
		if s[p:] == s[:len(s)-p] {
			return true
		}
	}
	steps := 0
	for i := 1; i < len(s); i++ {
		if d := int(s[i]) - int(s[i-1]); d == 1 || d == -1 {
			steps++
		}
	}
	return steps*2 > len(s)-1
}
