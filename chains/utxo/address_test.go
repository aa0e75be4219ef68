package utxo_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/utxo"
)

// key1 is the private key 1, whose addresses on every chain are published
// widely; the hashes below are computed from its public key here, so only
// the address strings come from outside (BIP173/BIP350 and published tables
// of key 1's addresses, e.g. the README of seega/MultichainPrivateKeysChecker).
func key1() *btcec.PublicKey {
	_, pub := btcec.PrivKeyFromBytes([]byte{1})
	return pub
}

type vector struct {
	params string
	addr   string
	kind   utxo.ScriptKind
	hash   []byte
}

func key1Vectors(t *testing.T) []vector {
	t.Helper()
	pub := key1()
	compressed := address.Hash160(pub.SerializeCompressed())
	uncompressed := address.Hash160(pub.SerializeUncompressed())
	// Nested segwit: P2SH of the redeem script OP_0 <20-byte key hash>.
	nested := address.Hash160(append([]byte{0x00, 0x14}, compressed...))
	// BIP173's P2WSH example: the witness script <key> OP_CHECKSIG.
	wsh := sha256.Sum256(append(append([]byte{0x21}, pub.SerializeCompressed()...), 0xac))
	// BIP350's v1 example: the x-only key itself as the program.
	xonly := pub.SerializeCompressed()[1:]

	if got := hex.EncodeToString(compressed); got != "751e76e8199196d454941c45d1b3a323f1433bd6" {
		t.Fatalf("hash160 of key 1 = %s", got)
	}
	return []vector{
		{"btc", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", utxo.P2PKH, compressed},
		{"btc", "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm", utxo.P2PKH, uncompressed},
		{"btc", "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN", utxo.P2SH, nested},
		{"btc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", utxo.P2WPKH, compressed},
		{"btc", "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", utxo.P2WSH, wsh[:]},
		{"btc", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", utxo.P2TR, xonly},
		{"btc-testnet", "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r", utxo.P2PKH, compressed},
		{"btc-testnet", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", utxo.P2WPKH, compressed},

		{"ltc", "LVuDpNCSSj6pQ7t9Pv6d6sUkLKoqDEVUnJ", utxo.P2PKH, compressed},
		{"ltc", "LYWKqJhtPeGyBAw7WC8R3F7ovxtzAiubdM", utxo.P2PKH, uncompressed},
		{"ltc", "MR8UQSBr5ULwWheBHznrHk2jxyxkHQu8vB", utxo.P2SH, nested},
		{"ltc", "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", utxo.P2WPKH, compressed},
		{"ltc", "ltc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qmu8tk5", utxo.P2WSH, wsh[:]},

		{"doge", "DFpN6QqFfUm3gKNaxN6tNcab1FArL9cZLE", utxo.P2PKH, compressed},
		{"doge", "DJRU7MLhcPwCTNRZ4e8gJzDebtG1H5M7pc", utxo.P2PKH, uncompressed},
		{"doge", "A9faqPqnCRNQcZjkcFTviEQiLrkLPctjsJ", utxo.P2SH, nested},

		{"dash", "XmN7PQYWKn5MJFna5fRYgP6mxT2F7xpekE", utxo.P2PKH, compressed},
		{"dash", "XoyDQM3xGhFW5JqYBwTLckjqZ67Q3jZfAL", utxo.P2PKH, uncompressed},
		{"dash", "7jdxvk43wLb9hxuETjU1oUmzZqCg5D1fGv", utxo.P2SH, nested},

		{"zec", "t1UYsZVJkLPeMjxEtACvSxfWuNmddpWfxzs", utxo.P2PKH, compressed},
		{"zec", "t1X9yaRpCHJpWX1HrGUxEu39xyQinmo3Ana", utxo.P2PKH, uncompressed},
		{"zec", "t3bnw6tC26gH7JqRB8YcdbutFtwZP4Xp5o5", utxo.P2SH, nested},

		{"bch", "bitcoincash:qp63uahgrxged4z5jswyt5dn5v3lzsem6cy4spdc2h", utxo.P2PKH, compressed},
		{"bch", "bitcoincash:qzgmyjle755g2v5kptrg02asx5f8k8fg55zdx7hd4l", utxo.P2PKH, uncompressed},
		{"bch", "bitcoincash:pz70adegkkzz202l8acteduqa8hjrzng7s9tg65l3m", utxo.P2SH, nested},
	}
}

func mustParams(t testing.TB, name string) utxo.Params {
	t.Helper()
	p, err := utxo.ParamsFor(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAddressVectors(t *testing.T) {
	for _, v := range key1Vectors(t) {
		t.Run(v.params+"/"+v.addr, func(t *testing.T) {
			p := mustParams(t, v.params)
			info, err := utxo.DecodeAddress(p, v.addr)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if info.Kind != v.kind || !bytes.Equal(info.Hash, v.hash) {
				t.Fatalf("decode = %s %x, want %s %x", info.Kind, info.Hash, v.kind, v.hash)
			}
			got, err := info.Encode(p)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if got != v.addr {
				t.Fatalf("encode = %s, want %s", got, v.addr)
			}
			// The output script the address stands for classifies back to
			// the same hash, which is how LookupTx sees it.
			script, err := info.Script()
			if err != nil {
				t.Fatal(err)
			}
			if back := utxo.ParseScript(script); back.Kind != v.kind || !bytes.Equal(back.Hash, v.hash) {
				t.Fatalf("script %x parses as %s %x", script, back.Kind, back.Hash)
			}
		})
	}
}

// The product promise: one key hash, one PubKeyHash on every chain, while the
// address text differs.
func TestEncodeAddressSameHashAcrossChains(t *testing.T) {
	pkh := address.Hash160(key1().SerializeCompressed())
	want := map[string]string{
		"btc":  "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH",
		"ltc":  "LVuDpNCSSj6pQ7t9Pv6d6sUkLKoqDEVUnJ",
		"doge": "DFpN6QqFfUm3gKNaxN6tNcab1FArL9cZLE",
		"dash": "XmN7PQYWKn5MJFna5fRYgP6mxT2F7xpekE",
		"zec":  "t1UYsZVJkLPeMjxEtACvSxfWuNmddpWfxzs",
		"bch":  "bitcoincash:qp63uahgrxged4z5jswyt5dn5v3lzsem6cy4spdc2h",
	}
	for name, addr := range want {
		p := mustParams(t, name)
		got, err := utxo.EncodeAddress(p, pkh)
		if err != nil || got != addr {
			t.Errorf("%s: EncodeAddress = %q, %v; want %q", name, got, err, addr)
		}
		info, err := utxo.DecodeAddress(p, addr)
		if err != nil || info.PubKeyHash() != hex.EncodeToString(pkh) {
			t.Errorf("%s: DecodeAddress(%s).PubKeyHash() = %q, %v", name, addr, info.PubKeyHash(), err)
		}
	}
}

func TestDecodeAddressAcceptsOtherForms(t *testing.T) {
	pkh := address.Hash160(key1().SerializeCompressed())
	for _, c := range []struct{ params, addr string }{
		{"bch", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"},                     // legacy form
		{"bch", "qp63uahgrxged4z5jswyt5dn5v3lzsem6cy4spdc2h"},             // cashaddr without prefix
		{"bch", "BITCOINCASH:QP63UAHGRXGED4Z5JSWYT5DN5V3LZSEM6CY4SPDC2H"}, // upper case
		{"btc", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"},             // BIP173 upper case
	} {
		info, err := utxo.DecodeAddress(mustParams(t, c.params), c.addr)
		if err != nil || !bytes.Equal(info.Hash, pkh) {
			t.Errorf("%s %s: %x, %v", c.params, c.addr, info.Hash, err)
		}
	}
	// Litecoin's old 3… P2SH prefix still decodes, to the M… address's hash.
	nested := address.Hash160(append([]byte{0x00, 0x14}, pkh...))
	info, err := utxo.DecodeAddress(mustParams(t, "ltc"), "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN")
	if err != nil || info.Kind != utxo.P2SH || !bytes.Equal(info.Hash, nested) {
		t.Errorf("ltc legacy p2sh: %s %x, %v", info.Kind, info.Hash, err)
	}
	if got, _ := info.Encode(mustParams(t, "ltc")); got != "MR8UQSBr5ULwWheBHznrHk2jxyxkHQu8vB" {
		t.Errorf("ltc legacy p2sh re-encodes as %s", got)
	}
}

func TestDecodeAddressRejects(t *testing.T) {
	for _, c := range []struct{ params, addr, why string }{
		{"btc", "", "empty"},
		{"btc", "LVuDpNCSSj6pQ7t9Pv6d6sUkLKoqDEVUnJ", "litecoin address on bitcoin"},
		{"ltc", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "bitcoin address on litecoin"},
		{"btc", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ", "bad checksum"},
		{"btc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "bad bech32 checksum"},
		{"btc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "v0 with a bech32m checksum (BIP350)"},
		{"btc", "ltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9", "litecoin segwit on bitcoin"},
		{"btc-regtest", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mainnet on regtest"},
		{"doge", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "segwit where there is none"},
		{"bch", "bchtest:qp63uahgrxged4z5jswyt5dn5v3lzsem6cy4spdc2h", "testnet cashaddr on mainnet"},
		{"bch", "bitcoincash:qp63uahgrxged4z5jswyt5dn5v3lzsem6cy4spdc2j", "bad cashaddr checksum"},
		{"zec", "zs1z7rejlpsa98s2rrrfkwmaxu53e4ue0ulcrw0h4x5g8jl04tak0d3mm47vdtahatqrlkngh9sly", "shielded zcash address"},
		{"btc", "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", "evm address"},
		{"btc", strings.Repeat("1", 200), "too long"},
	} {
		_, err := utxo.DecodeAddress(mustParams(t, c.params), c.addr)
		var e *recovery.Error
		if err == nil || recovery.ErrorCode(err) != recovery.EInvalid || !errors.As(err, &e) || e.Field != "address" {
			t.Errorf("%s (%s %q): err = %v, want EInvalid on field address", c.why, c.params, c.addr, err)
		}
	}
}

func TestParseScript(t *testing.T) {
	pub := key1()
	pkh := address.Hash160(pub.SerializeCompressed())
	p2pk := append(append([]byte{0x21}, pub.SerializeCompressed()...), 0xac)
	for _, c := range []struct {
		script string
		kind   utxo.ScriptKind
		pkh    string
	}{
		{"76a914" + hex.EncodeToString(pkh) + "88ac", utxo.P2PKH, hex.EncodeToString(pkh)},
		{"0014" + hex.EncodeToString(pkh), utxo.P2WPKH, hex.EncodeToString(pkh)},
		{"a914" + hex.EncodeToString(pkh) + "87", utxo.P2SH, hex.EncodeToString(pkh)},
		{hex.EncodeToString(p2pk), utxo.P2PK, hex.EncodeToString(pkh)},
		{"6a0548656c6c6f", utxo.NullData, ""},
		{"51024e73", utxo.WitnessUnknown, ""}, // pay-to-anchor
		{"", utxo.NonStandard, ""},
		{"76a914" + hex.EncodeToString(pkh) + "88", utxo.NonStandard, ""},
	} {
		raw, _ := hex.DecodeString(c.script)
		info := utxo.ParseScript(raw)
		if info.Kind != c.kind || info.PubKeyHash() != c.pkh {
			t.Errorf("%s: %s %q, want %s %q", c.script, info.Kind, info.PubKeyHash(), c.kind, c.pkh)
		}
	}
}

func TestParamsFor(t *testing.T) {
	for _, n := range chains.DefaultNetworks() {
		if n.Family != recovery.FamilyUTXO {
			continue
		}
		for _, name := range []string{n.Params, n.Params + "-testnet", n.Params + "-regtest"} {
			if _, err := utxo.ParamsFor(name); err != nil {
				t.Errorf("network %s: %v", n.ID, err)
			}
		}
	}
	if _, err := utxo.ParamsFor("eth"); err == nil {
		t.Error("ParamsFor(eth) did not fail")
	}
	// A caller changing its copy must not change the table.
	p := mustParams(t, "btc")
	p.PubKeyHashAddrID[0] = 0x30
	if mustParams(t, "btc").PubKeyHashAddrID[0] != 0x00 {
		t.Error("ParamsFor hands out the table's own slices")
	}
}

func TestParseTxHash(t *testing.T) {
	const h = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
	for _, s := range []string{h, strings.ToUpper(h), " " + h + "\n"} {
		got, err := utxo.ParseTxHash(s)
		if err != nil || got.String() != h {
			t.Errorf("ParseTxHash(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "0x" + h, h[:63], h + "0", "g" + h[1:], h[:32] + " " + h[33:]} {
		_, err := utxo.ParseTxHash(s)
		var e *recovery.Error
		if !errors.As(err, &e) || e.Code != recovery.EInvalid || e.Field != "tx_hash" {
			t.Errorf("ParseTxHash(%q) err = %v, want EInvalid on tx_hash", s, err)
		}
	}
}
