package chains

import (
	"math/big"
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
		if n.Family == recovery.FamilyEVM {
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
	good := Network{ID: "eth", Family: recovery.FamilyEVM, ChainID: 1, Confirmations: 1, Decimals: 18, Tier: Direct}
	for name, mutate := range map[string]func(*Network){
		"bad id":         func(n *Network) { n.ID = "ETH!" },
		"no chain id":    func(n *Network) { n.ChainID = 0 },
		"bad family":     func(n *Network) { n.Family = "cosmos" },
		"zero confs":     func(n *Network) { n.Confirmations = 0 },
		"bad tier":       func(n *Network) { n.Tier = "maybe" },
		"bad rpc":        func(n *Network) { n.RPC = []string{"ftp://node"} },
		"utxo no params": func(n *Network) { n.Family = recovery.FamilyUTXO },
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
	if HashFor(recovery.FamilyEVM, h) != "0x"+h || HashFor(recovery.FamilyUTXO, h) != h {
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
		again, err := ParseTxHash(HashFor(recovery.FamilyEVM, h))
		if err != nil || again != h {
			t.Fatalf("not stable: %q -> %q, %v", h, again, err)
		}
	})
}

func TestAssetOfATransfer(t *testing.T) {
	reg, err := NewRegistry(DefaultNetworks())
	if err != nil {
		t.Fatal(err)
	}
	eth, _ := reg.Get("eth")
	eth.MinDeposit = "0.001"
	native := recovery.Transfer{Kind: recovery.KindNative, Amount: big.NewInt(1)}
	if a, listed, min := eth.Asset(native); a != "ETH" || !listed || min.String() != "1000000000000000" {
		t.Errorf("native: %s %v %v", a, listed, min)
	}
	// Contracts are compared without regard to case.
	usdt := recovery.Transfer{Kind: recovery.KindToken, Token: "0xdac17f958d2ee523a2206206994597c13d831ec7"}
	if a, listed, _ := eth.Asset(usdt); a != "USDT" || !listed {
		t.Errorf("usdt: %s %v", a, listed)
	}
	other := recovery.Transfer{Kind: recovery.KindToken, Token: "0x1111111111111111111111111111111111111111"}
	if a, listed, min := eth.Asset(other); a != other.Token || listed || min != nil {
		t.Errorf("unlisted: %s %v %v", a, listed, min)
	}
}

func TestRegistryRefusesBadListings(t *testing.T) {
	for name, change := range map[string]func(*Network){
		"minimum not a number":      func(n *Network) { n.MinDeposit = "ten" },
		"negative minimum":          func(n *Network) { n.MinDeposit = "-1" },
		"minimum below a base unit": func(n *Network) { n.MinDeposit = "0.0000000000000000001" },
		"token without symbol":      func(n *Network) { n.Tokens = []Token{{Contract: "0x1111111111111111111111111111111111111111"}} },
		"token contract not hex":    func(n *Network) { n.Tokens = []Token{{Symbol: "X", Contract: "0x12"}} },
	} {
		t.Run(name, func(t *testing.T) {
			nets := DefaultNetworks()
			change(&nets[0])
			if _, err := NewRegistry(nets); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
