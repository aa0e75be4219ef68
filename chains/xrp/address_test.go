package xrp_test

import (
	"encoding/hex"
	"testing"

	"github.com/misdeposit/recovery/chains/xrp"
)

func TestAddressVectors(t *testing.T) {
	// The genesis account and its public key, as the XRPL documentation
	// and every explorer show them.
	pub, _ := hex.DecodeString("0330E7FC9D56BB25D6893BA3F317AE5BCF33B3291BD63DB32654A313222F7FD020")
	if got := xrp.AddressOfPublicKey(pub); got != "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh" {
		t.Errorf("genesis key derives %s", got)
	}
	// ACCOUNT_ZERO, the all-zero account id.
	if got := xrp.EncodeAddress(make([]byte, 20)); got != "rrrrrrrrrrrrrrrrrrrrrhoLvTp" {
		t.Errorf("account zero is %s", got)
	}
	for _, a := range []string{"rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", "rrrrrrrrrrrrrrrrrrrrrhoLvTp", "rhub8VRN55s94qWKDv6jmDy1pUykJzF3wq"} {
		id, err := xrp.DecodeAddress(a)
		if err != nil || xrp.EncodeAddress(id) != a {
			t.Errorf("%s: %x %v", a, id, err)
		}
	}
	for _, bad := range []string{
		"rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTj",              // checksum
		"XV5sbjUmgPpvXv4ixFWZ5ptAYZ6PD28Sq49uo34VyjnmK5H", // an X-address
		"1Hb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",              // Bitcoin's alphabet
		"r0Hb9CJAWyB4rj91VRWn96DkukG4bwdtyT",              // no 0 in the alphabet
		"",
	} {
		if xrp.ValidAddress(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
