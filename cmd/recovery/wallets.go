package main

import (
	"context"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/signer"
)

// hotWallets lists the hot wallet of every network with nodes, from the
// signer's keys, and the balance its nodes tell.
type hotWallets struct {
	reg    *chains.Registry
	signer signer.Signer
	nodes  *nodes
}

var _ api.Wallets = (*hotWallets)(nil)

// Wallets implements api.Wallets. A balance a node cannot tell is left
// out with the reason; an address the signer cannot give fails the list.
func (h *hotWallets) Wallets(ctx context.Context) ([]api.Wallet, error) {
	var out []api.Wallet
	for _, n := range h.reg.Networks() {
		p, ok := h.nodes.pools[n.ID]
		if !ok || n.Family == recovery.FamilyMemo {
			// A memo network's shared hot address is the exchange's own
			// wallet, not a key of this signer.
			continue
		}
		addr, err := signer.Address(ctx, h.signer, signer.Key{Use: signer.UseHot, Family: n.Family, Owner: n.ID}, n)
		if err != nil {
			return nil, err
		}
		w := api.Wallet{Network: n.ID, Address: addr, Asset: n.NativeAsset, Decimals: n.Decimals}
		// A UTXO node without an address index cannot tell; the list says
		// why instead.
		if bal, err := p.Balance(ctx, addr); err != nil {
			w.BalanceError = recovery.ErrorMessage(err)
		} else {
			w.Balance = bal.String()
		}
		out = append(out, w)
	}
	return out, nil
}
