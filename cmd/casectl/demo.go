package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func demoCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "List the demo mis-deposits on the local chains of recovery dev, ready to appeal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var resp struct {
				Deposits []struct {
					Name      string `json:"name"`
					Network   string `json:"network"`
					TxHash    string `json:"tx_hash"`
					ToAddress string `json:"to_address"`
					UserID    string `json:"user_id"`
					Amount    string `json:"amount"`
					Note      string `json:"note"`
				} `json:"deposits"`
			}
			raw, err := g.get(cmd.Context(), "/v1/demo", nil, &resp)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tNETWORK\tUSER\tTX HASH\tTO ADDRESS\tNOTE")
				for _, d := range resp.Deposits {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Network, d.UserID, d.TxHash, d.ToAddress, d.Note)
				}
				tw.Flush()
			})
		},
	}
}
