package chains

import (
	"strings"
	"testing"

	"github.com/misdeposit/recovery"
)

func TestDefaultRegistryHas16DirectAnd16Conditional(t *testing.T) {
	reg, err := NewRegistry(DefaultNetworks())
	if err != nil {
		t.Fatal(err)
	}
	count := map[Tier]int{}
	chainIDs := map[uint64]string{}
	for _, n := range reg.Networks() {
		count[n.Tier]++
		if n.Family == EVM {
			if other, dup := chainIDs[n.ChainID]; dup {
				t.Errorf("%s and %s share chain id %d", n.ID, other, n.ChainID)
			}
			chainIDs[n.ChainID] = n.ID
		}
	}
	if count[Direct] != 16 || count[Conditional] != 16 {
		t.Fatalf("tiers %v, want 16 direct and 16 conditional", count)
	}
	for id, want := range map[string]uint64{"eth": 1, "bsc": 56, "zksync": 324, "polygon-zkevm": 1101, "blast": 81457} {
		if n, _ := reg.Get(id); n.ChainID != want {
			t.Errorf("%s chain id %d, want %d", id, n.ChainID, want)
		}
	}
}

func TestRegistryRefusesBadNetworks(t *testing.T) {
	good := Network{ID: "eth", Family: EVM, ChainID: 1, Confirmations: 1, Decimals: 18, Tier: Direct}
	for name, mutate := range map[string]func(*Network){
		"bad id":         func(n *Network) { n.ID = "ETH!" },
		"no chain id":    func(n *Network) { n.ChainID = 0 },
		"bad family":     func(n *Network) { n.Family = "cosmos" },
		"zero confs":     func(n *Network) { n.Confirmations = 0 },
		"bad tier":       func(n *Network) { n.Tier = "maybe" },
		"bad rpc":        func(n *Network) { n.RPC = []string{"ftp://node"} },
		"utxo no params": func(n *Network) { n.Family = UTXO },
	} {
		n := good
		mutate(&n)
		if _, err := NewRegistry([]Network{n}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewRegistry([]Network{good, good}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate id: %v", err)
	}
	reg, _ := NewRegistry([]Network{good})
	if _, err := reg.Lookup("nope"); recovery.ErrorCode(err) != recovery.EInvalid {
		t.Errorf("unknown network lookup: %v", err)
	}
}

func TestParseTxHash(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for in, want := range map[string]string{
		h:                                  h,
		"0x" + h:                           h,
		"  0X" + strings.ToUpper(h) + "\n": h,
	} {
		got, err := ParseTxHash(in)
		if err != nil || got != want {
			t.Errorf("ParseTxHash(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0x", h[:63], h + "a", strings.Repeat("g", 64), "0x0x" + h[:60]} {
		if _, err := ParseTxHash(bad); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("ParseTxHash(%q) error %v, want invalid", bad, err)
		}
	}
	if HashFor(EVM, h) != "0x"+h || HashFor(UTXO, h) != h {
		t.Error("HashFor writes the wrong form")
	}
}

func FuzzParseTxHash(f *testing.F) {
	f.Add(strings.Repeat("ab", 32))
	f.Add("0x" + strings.Repeat("0", 64))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseTxHash(s)
		if err != nil {
			if recovery.ErrorCode(err) != recovery.EInvalid {
				t.Fatalf("error code %q", recovery.ErrorCode(err))
			}
			return
		}
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			t.Fatalf("accepted %q as %q", s, h)
		}
		again, err := ParseTxHash(HashFor(EVM, h))
		if err != nil || again != h {
			t.Fatalf("not stable: %q -> %q, %v", h, again, err)
		}
	})
}
