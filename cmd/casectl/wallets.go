package main

import (
	"fmt"
	"io"
	"math/big"
	"text/tabwriter"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
)

func walletsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "wallets",
		Short: "List each network's hot wallet (where recovered coins go and recovery gas comes from) and its balance",
		Long: `List each network's hot wallet and its balance.

Recovered coins are swept to these addresses, and the gas of a token
recovery is paid from them: the operator keeps them funded. Needs the
wallet, settlement or admin role.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var resp struct {
				Wallets []struct {
					Network      string `json:"network"`
					Address      string `json:"address"`
					Asset        string `json:"asset"`
					Balance      string `json:"balance"`
					Decimals     int32  `json:"decimals"`
					BalanceError string `json:"balance_error"`
				} `json:"wallets"`
			}
			raw, err := g.get(cmd.Context(), "/v1/wallets", nil, &resp)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NETWORK\tADDRESS\tBALANCE")
				for _, wl := range resp.Wallets {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", wl.Network, wl.Address, balanceText(wl.Balance, wl.Decimals, wl.Asset, wl.BalanceError))
				}
				tw.Flush()
			})
		},
	}
}

// balanceText writes a balance in base units as whole units of its asset,
// or why it is unknown.
func balanceText(base string, decimals int32, asset, why string) string {
	n, ok := new(big.Int).SetString(base, 10)
	if !ok {
		if why == "" {
			why = "unknown"
		}
		return "? (" + why + ")"
	}
	return decimal.NewFromBigInt(n, -decimals).String() + " " + asset
}
