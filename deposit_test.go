package recovery_test

import (
	"math/big"
	"testing"

	"github.com/misdeposit/recovery"
)

// A deposit has one id however its hash is written, so that a case filed
// with 0x or in capitals finds the case of the same deposit.
func TestDepositIDOfAHashWrittenAnyWay(t *testing.T) {
	native := recovery.Transfer{Kind: recovery.KindNative, Amount: big.NewInt(1)}
	want := "eth.00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff.v"
	for _, h := range []string{
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"0x00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF",
	} {
		if got := recovery.DepositID("eth", h, native); got != want {
			t.Errorf("DepositID(%q) = %s, want %s", h, got, want)
		}
	}
	out := recovery.Transfer{Kind: recovery.KindOutput, Index: 3}
	if got := recovery.DepositID("btc", "ab", out); got != "btc.ab.o3" {
		t.Errorf("output: %s", got)
	}
}
