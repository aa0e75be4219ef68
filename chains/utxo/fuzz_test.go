package utxo_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains/utxo"
)

// FuzzDecodeAddress checks, for every params, that DecodeAddress never
// panics, fails only with EInvalid on the address field, and that whatever
// it accepts writes back to an address that decodes to the same thing.
func FuzzDecodeAddress(f *testing.F) {
	for _, s := range []string{
		"1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "LVuDpNCSSj6pQ7t9Pv6d6sUkLKoqDEVUnJ",
		"3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
		"ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", "t1UYsZVJkLPeMjxEtACvSxfWuNmddpWfxzs",
		"bitcoincash:qp63uahgrxged4z5jswyt5dn5v3lzsem6cy4spdc2h", "qp63uahgrxged4z5jswyt5dn5v3lzsem6cy4spdc2h",
		"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", "rltc1q", "", "0x00", ":",
	} {
		f.Add(s)
	}
	names := utxo.ParamsNames()
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range names {
			p, err := utxo.ParamsFor(name)
			if err != nil {
				t.Fatal(err)
			}
			info, err := utxo.DecodeAddress(p, s)
			if err != nil {
				var e *recovery.Error
				if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != "address" {
					t.Fatalf("%s %q: error %v is not EInvalid on address", name, s, err)
				}
				continue
			}
			enc, err := info.Encode(p)
			if err != nil {
				t.Fatalf("%s %q decodes to %s %x, which does not encode: %v", name, s, info.Kind, info.Hash, err)
			}
			back, err := utxo.DecodeAddress(p, enc)
			if err != nil || back.Kind != info.Kind || !bytes.Equal(back.Hash, info.Hash) || back.WitnessVersion != info.WitnessVersion {
				t.Fatalf("%s %q → %s → %+v, %v; want %+v", name, s, enc, back, err, info)
			}
			if _, err := info.Script(); err != nil {
				t.Fatalf("%s %q: no script for %+v: %v", name, s, info, err)
			}
		}
	})
}

// FuzzParseTxHash checks that ParseTxHash never panics, fails only with
// EInvalid on tx_hash, and accepts exactly the 64-hex-character strings,
// giving back the same hash in lower case.
func FuzzParseTxHash(f *testing.F) {
	for _, s := range []string{
		"4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
		"0x4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
		"", "zz", strings.Repeat("0", 64), strings.Repeat("F", 64),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := utxo.ParseTxHash(s)
		trimmed := strings.TrimSpace(s)
		valid := len(trimmed) == 64 && strings.Trim(strings.ToLower(trimmed), "0123456789abcdef") == ""
		if err != nil {
			var e *recovery.Error
			if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != "tx_hash" {
				t.Fatalf("%q: error %v is not EInvalid on tx_hash", s, err)
			}
			if valid {
				t.Fatalf("%q refused: %v", s, err)
			}
			return
		}
		if !valid {
			t.Fatalf("%q accepted", s)
		}
		if h.String() != strings.ToLower(trimmed) {
			t.Fatalf("%q parsed as %s", s, h)
		}
	})
}
