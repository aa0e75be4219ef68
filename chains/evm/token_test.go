package evm_test

import (
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/internal/nodetest"
)

func TestTokenDecimals(t *testing.T) {
	c := dial(t, shared.URL())
	ctx := nodetest.Context(t)
	d, err := c.TokenDecimals(ctx, deployToken(t).Hex())
	if err != nil || d != 18 {
		t.Fatalf("decimals of the fixture token: %d, %v; want 18", d, err)
	}
	for name, addr := range map[string]string{
		"a contract that reverts": deployReverter(t).Hex(),
		"an account with no code": newAddress(t).Hex(),
		"not an address":          "0x1234",
	} {
		if _, err := c.TokenDecimals(ctx, addr); recovery.ErrorCode(err) != recovery.EInvalid {
			t.Errorf("%s: %v, want an EInvalid refusal", name, err)
		}
	}
}

func TestTokenDecimalsNodeDown(t *testing.T) {
	n, _ := nodetest.EVM(t, evmnode.Config{ChainID: devNetwork.ChainID})
	c := dial(t, n.URL())
	token := deployToken(t).Hex()
	n.Close()
	if _, err := c.TokenDecimals(nodetest.Context(t), token); recovery.ErrorCode(err) != recovery.EUnavailable {
		t.Fatalf("node down: %v, want EUnavailable", err)
	}
}
