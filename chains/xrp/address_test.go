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

// X-address vectors of the XRPL address codecs (XLS-5d): a classic
// address with no tag or a tag, for the main and the test network.
func TestXAddressVectors(t *testing.T) {
	for _, v := range []struct {
		x       string
		classic string
		tag     uint32
		hasTag  bool
		test    bool
	}{
		{"X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqZ", "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59", 0, false, false},
		{"T719a5UwUCnEs54UsxG9CJYYDhwmFCqkr7wxCcNcfZ6p5GZ", "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59", 0, false, true},
		{"X7AcgcsBL6XDcUb289X4mJ8djcdyKaGZMhc9YTE92ehJ2Fu", "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59", 1, true, false},
		{"T719a5UwUCnEs54UsxG9CJYYDhwmFCvbJNZbi37gBGkRkbE", "r9cZA1mLK5R5Am25ArfXFmqgNwjZgnfk59", 1, true, true},
		{"XV51P7h3aM7GwT18dURcjAdx6NufeYeqsMjj5BFwy6JFbKq", "rPWszQdxRJ8QrW3aTceUmBhXVFuxQZYUhk", 123, true, false},
	} {
		got, err := xrp.DecodeXAddress(v.x)
		want := xrp.XAddress{Classic: v.classic, Tag: v.tag, HasTag: v.hasTag, Test: v.test}
		if err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", v.x, got, err, want)
		}
		if enc, err := xrp.EncodeXAddress(want); err != nil || enc != v.x {
			t.Errorf("%+v encodes as %s %v, want %s", want, enc, err, v.x)
		}
	}
	// The largest tag, and a tag of 0, which is a tag.
	for _, tag := range []uint32{0, 4294967295} {
		x := xrp.XAddress{Classic: "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", Tag: tag, HasTag: true}
		s, err := xrp.EncodeXAddress(x)
		if got, derr := xrp.DecodeXAddress(s); err != nil || derr != nil || got != x {
			t.Errorf("tag %d: %s %+v %v %v", tag, s, got, err, derr)
		}
	}
	for _, bad := range []string{
		"rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",              // a classic address
		"X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqz", // checksum
		"X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cq",  // short
		"",
	} {
		if _, err := xrp.DecodeXAddress(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
