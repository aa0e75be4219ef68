package evm

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

var _ chains.TokenReader = (*Client)(nil)

// decimalsSelector is the selector of ERC-20 decimals().
const decimalsSelector = "0x313ce567"

// maxTokenDecimals bounds what TokenDecimals accepts: no real token has
// more, and amounts with more digits are not something to quote.
const maxTokenDecimals = 36

// TokenDecimals reads decimals() of the ERC-20 contract at the latest
// block. A contract that does not answer it as a token does (no code,
// a revert, an answer that is not one word, or more than 36) is EInvalid;
// a node that does not answer is EUnavailable.
func (c *Client) TokenDecimals(ctx context.Context, contract string) (int32, error) {
	if !common.IsHexAddress(contract) {
		return 0, recovery.FieldError("token", "is not an EVM contract address")
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var out hexutil.Bytes
	call := map[string]string{"to": common.HexToAddress(contract).Hex(), "data": decimalsSelector}
	if err := c.rc.CallContext(ctx, &out, "eth_call", call, "latest"); err != nil {
		if refused(err) {
			return 0, recovery.Errorf(recovery.EInvalid, "token %s on %s refuses decimals(): %v", contract, c.network.ID, err)
		}
		return 0, unavailable(c.network, "eth_call decimals()", err)
	}
	if len(out) != 32 {
		return 0, recovery.Errorf(recovery.EInvalid, "token %s on %s does not answer decimals() as an ERC-20 token", contract, c.network.ID)
	}
	d := new(big.Int).SetBytes(out)
	if d.Cmp(big.NewInt(maxTokenDecimals)) > 0 {
		return 0, recovery.Errorf(recovery.EInvalid, "token %s on %s claims %s decimals", contract, c.network.ID, d)
	}
	return int32(d.Int64()), nil
}
