package utxo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

var _ chains.BalanceReader = (*Client)(nil)

// balancePage is how many of an address's transactions one request reads;
// maxBalanceTxs bounds how many a balance reads in all.
const (
	balancePage   = 500
	maxBalanceTxs = 20_000
)

// Balance implements chains.BalanceReader: the sum, in satoshis, of the
// address's outputs the node still has unspent. It needs a node that keeps
// an address index (btcd --addrindex); any other answers recovery.EInvalid
// saying so, as does an address of another chain. An address with more than
// maxBalanceTxs transactions is refused rather than under-counted.
func (c *Client) Balance(ctx context.Context, address string) (*big.Int, error) {
	if c.paramsErr != nil {
		return nil, c.paramsErr
	}
	info, err := DecodeAddress(c.params, address)
	if err != nil {
		return nil, err
	}
	script, err := info.Script()
	if err != nil {
		return nil, recovery.FieldError("address", "%s: %v", address, err)
	}
	total := new(big.Int)
	// An answer that lists a transaction twice must not count its
	// outputs twice.
	counted := map[wire.OutPoint]bool{}
	for skip := 0; ; skip += balancePage {
		if skip >= maxBalanceTxs {
			return nil, recovery.Errorf(recovery.EInvalid, "%s has more than %d transactions: its balance is not read from the node", address, maxBalanceTxs)
		}
		txs, err := c.rpc.SearchRawTransactions(ctx, address, skip, balancePage)
		if err != nil {
			var rerr *btcjson.RPCError
			switch {
			case errors.As(err, &rerr) && rerr.Code == btcjson.ErrRPCNoTxInfo:
				return total, nil // no (more) transactions
			case errors.As(err, &rerr) && rerr.Code == btcjson.ErrRPCMisc:
				return nil, recovery.Errorf(recovery.EInvalid, "the %s node keeps no address index (btcd --addrindex): it cannot tell an address's balance", c.network.ID)
			}
			return nil, c.unavailable("searchrawtransactions", err)
		}
		for _, tx := range txs {
			h := tx.TxHash()
			for i, out := range tx.TxOut {
				op := wire.OutPoint{Hash: h, Index: uint32(i)}
				if !bytes.Equal(out.PkScript, script) || counted[op] {
					continue
				}
				if out.Value < 0 {
					return nil, c.unavailable("searchrawtransactions", fmt.Errorf("output %s of %d satoshis", op, out.Value))
				}
				counted[op] = true
				res, err := c.rpc.GetTxOut(ctx, &h, uint32(i), true)
				if err != nil {
					return nil, c.unavailable(fmt.Sprintf("gettxout %s:%d", h, i), err)
				}
				if res != nil {
					total.Add(total, big.NewInt(out.Value))
				}
			}
		}
		if len(txs) < balancePage {
			return total, nil
		}
	}
}
