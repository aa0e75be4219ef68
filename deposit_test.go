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

// Every transfer's id is one the API, the ledger and the credits import
// accept, and each is written one way only.
func TestIndexCodesAreValidIDs(t *testing.T) {
	hash := "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	for _, tr := range []recovery.Transfer{
		{Kind: recovery.KindNative},
		{Kind: recovery.KindNative, Index: 2},
		{Kind: recovery.KindToken, Index: 0},
		{Kind: recovery.KindToken, Index: 17},
		{Kind: recovery.KindInternal, Index: 4},
		{Kind: recovery.KindOutput, Index: 999999},
	} {
		code, id := tr.IndexCode(), recovery.DepositID("xlm", hash, tr)
		if !recovery.ValidIndexCode(code) || !recovery.ValidDepositID(id) || !recovery.ValidCaseID(id) {
			t.Errorf("%+v: %s (%s) refused", tr, code, id)
		}
	}
	if got := (recovery.Transfer{Kind: recovery.KindNative, Index: 2}).IndexCode(); got != "v2" {
		t.Errorf("native payment of operation 2: %s", got)
	}
	for _, code := range []string{"v0", "v01", "o01", "l", "x1", "V", "o1234567", "to-0123456789"} {
		if recovery.ValidIndexCode(code) || recovery.ValidDepositID("eth."+hash+"."+code) {
			t.Errorf("%s accepted", code)
		}
	}
	if !recovery.ValidCaseID("eth."+hash+".to-0123456789") || recovery.ValidDepositID("eth."+hash+".to-0123456789") {
		t.Error("a provisional id is a case id and not a deposit id")
	}
	for _, id := range []string{"eth.ab.v", "Eth." + hash + ".v", "eth." + hash + ".v.", "eth." + hash} {
		if recovery.ValidCaseID(id) {
			t.Errorf("%s accepted", id)
		}
	}
}
