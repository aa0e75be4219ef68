package evmnode

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestAsm(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"PUSH1 0x00 DUP1 REVERT", "600080fd"},
		{"PUSH2 0x1 STOP", "61000100"},
		{"a: @a JUMP", "5b61000056"},
		{"@b STOP b: ; comment\n STOP", "610004005b00"},
	} {
		if got := common.Bytes2Hex(asm(tc.src)); got != tc.want {
			t.Errorf("asm(%q) = %s, want %s", tc.src, got, tc.want)
		}
	}
	for _, bad := range []string{"NOPE", "PUSH1", "PUSH1 0x0102", "@missing", "PUSH1 zz"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("asm(%q) did not panic", bad)
				}
			}()
			asm(bad)
		}()
	}
}
