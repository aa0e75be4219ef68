package xlm_test

import (
	"encoding/hex"
	"testing"

	"github.com/misdeposit/recovery/chains/xlm"
)

func TestAddressVectors(t *testing.T) {
	vectors := []struct{ address, key string }{
		// The all-zero key.
		{"GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF", "0000000000000000000000000000000000000000000000000000000000000000"},
		// stellar/go strkey's TestDecode account id.
		{"GA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHES5", "363eaa3867841fbad0f4ed88c779e4fe66e56a2470dc98c0ec9c073d05c7b103"},
	}
	for _, v := range vectors {
		key, _ := hex.DecodeString(v.key)
		if got := xlm.EncodeAddress(key); got != v.address {
			t.Errorf("key %s encodes %s, want %s", v.key, got, v.address)
		}
		got, err := xlm.DecodeAddress(v.address)
		if err != nil || hex.EncodeToString(got) != v.key {
			t.Errorf("%s decodes %x %v", v.address, got, err)
		}
	}
	for _, bad := range []string{
		"GA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHE55",              // checksum
		"GA3D5KRYM6CB7OWOOOORR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHES5",               // payload
		"ga3d5krym6cb7owq6twyrr3z4t7gnzlkerynzgga5soaopify6yqhes5",              // lower case
		"SBU2RRGLXH3E5CQHTD3ODLDF2BWDCYUSSBLLZ5GNW7JXHDIYKXZWHOKR",              // a secret seed
		"MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUQ", // a muxed account
		"GA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHES",               // short
		"",
	} {
		if xlm.ValidAddress(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
