package utxo

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
)

// Params are the address parameters of one UTXO network: what turns an
// output script into the text a user pastes, and back.
//
// Version prefixes are byte slices because Zcash uses two-byte prefixes
// (t1…, t3…); every other chain here uses one byte.
type Params struct {
	Name             string
	PubKeyHashAddrID []byte // base58 prefix of a P2PKH address
	ScriptHashAddrID []byte // base58 prefix of a P2SH address
	// LegacyScriptHashAddrIDs are older P2SH prefixes still in circulation
	// (Litecoin's 3… and 2… before it moved to M… and Q…). They are
	// accepted when decoding and never produced.
	LegacyScriptHashAddrIDs [][]byte
	// Bech32HRP is the segwit human-readable part; "" for chains without
	// segwit, whose witness outputs then have no address.
	Bech32HRP string
	// CashAddrPrefix is set for Bitcoin Cash: addresses are written in
	// cashaddr ("bitcoincash:q…"), and the legacy base58 form, identical to a
	// Bitcoin address, is still accepted when decoding.
	CashAddrPrefix string
}

func params(name string, pkh, sh []byte, hrp, cash string, legacySH ...[]byte) Params {
	return Params{Name: name, PubKeyHashAddrID: pkh, ScriptHashAddrID: sh, Bech32HRP: hrp, CashAddrPrefix: cash, LegacyScriptHashAddrIDs: legacySH}
}

// knownParams lists mainnet parameters under the registry's params names and
// the testnet/regtest variants that local chains use. Regtest and testnet
// share base58 prefixes on most chains; only the segwit HRP tells Bitcoin
// regtest (bcrt) from Litecoin regtest (rltc).
var knownParams = map[string]Params{
	"btc":         params("btc", []byte{0x00}, []byte{0x05}, "bc", ""),
	"btc-testnet": params("btc-testnet", []byte{0x6f}, []byte{0xc4}, "tb", ""),
	"btc-regtest": params("btc-regtest", []byte{0x6f}, []byte{0xc4}, "bcrt", ""),

	"ltc":         params("ltc", []byte{0x30}, []byte{0x32}, "ltc", "", []byte{0x05}),
	"ltc-testnet": params("ltc-testnet", []byte{0x6f}, []byte{0x3a}, "tltc", "", []byte{0xc4}),
	"ltc-regtest": params("ltc-regtest", []byte{0x6f}, []byte{0x3a}, "rltc", "", []byte{0xc4}),

	"bch":         params("bch", []byte{0x00}, []byte{0x05}, "", "bitcoincash"),
	"bch-testnet": params("bch-testnet", []byte{0x6f}, []byte{0xc4}, "", "bchtest"),
	"bch-regtest": params("bch-regtest", []byte{0x6f}, []byte{0xc4}, "", "bchreg"),

	"doge":         params("doge", []byte{0x1e}, []byte{0x16}, "", ""),
	"doge-testnet": params("doge-testnet", []byte{0x71}, []byte{0xc4}, "", ""),
	"doge-regtest": params("doge-regtest", []byte{0x6f}, []byte{0xc4}, "", ""),

	"dash":         params("dash", []byte{0x4c}, []byte{0x10}, "", ""),
	"dash-testnet": params("dash-testnet", []byte{0x8c}, []byte{0x13}, "", ""),
	"dash-regtest": params("dash-regtest", []byte{0x8c}, []byte{0x13}, "", ""),

	"zec":         params("zec", []byte{0x1c, 0xb8}, []byte{0x1c, 0xbd}, "", ""),
	"zec-testnet": params("zec-testnet", []byte{0x1d, 0x25}, []byte{0x1c, 0xba}, "", ""),
	"zec-regtest": params("zec-regtest", []byte{0x1d, 0x25}, []byte{0x1c, 0xba}, "", ""),
}

// ParamsFor returns the address parameters registered under name, as
// chains.Network.Params names them.
func ParamsFor(name string) (Params, error) {
	p, ok := knownParams[name]
	if !ok {
		return Params{}, fmt.Errorf("unknown utxo params %q (known: %v)", name, ParamsNames())
	}
	// Callers get their own slices so that no one can alter the table.
	p.PubKeyHashAddrID = bytes.Clone(p.PubKeyHashAddrID)
	p.ScriptHashAddrID = bytes.Clone(p.ScriptHashAddrID)
	p.LegacyScriptHashAddrIDs = slices.Clone(p.LegacyScriptHashAddrIDs)
	for i, id := range p.LegacyScriptHashAddrIDs {
		p.LegacyScriptHashAddrIDs[i] = bytes.Clone(id)
	}
	return p, nil
}

// ParamsNames lists the names ParamsFor knows, sorted.
func ParamsNames() []string {
	names := make([]string, 0, len(knownParams))
	for n := range knownParams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
