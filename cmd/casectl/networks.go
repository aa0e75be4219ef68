package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func networksCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "networks",
		Short: "List the networks, how each is recoverable and which of the engine's nodes answer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var resp struct {
				Networks []struct {
					ID            string `json:"id"`
					Name          string `json:"name"`
					Family        string `json:"family"`
					ChainID       uint64 `json:"chain_id"`
					Tier          string `json:"tier"`
					Confirmations uint64 `json:"confirmations"`
					NativeAsset   string `json:"native_asset"`
					Lookup        bool   `json:"lookup"`
					Nodes         []struct {
						Name      string `json:"name"`
						State     string `json:"state"`
						LastError string `json:"last_error"`
					} `json:"nodes"`
				} `json:"networks"`
			}
			raw, err := g.get(cmd.Context(), "/v1/networks", nil, &resp)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tFAMILY\tCHAIN ID\tTIER\tCONFIRMATIONS\tASSET\tNODES")
				for _, n := range resp.Networks {
					chainID := "-"
					if n.ChainID != 0 {
						chainID = fmt.Sprint(n.ChainID)
					}
					node := "none"
					if n.Lookup {
						node = "connected"
					}
					if len(n.Nodes) > 0 {
						var states []string
						for _, nd := range n.Nodes {
							states = append(states, nd.Name+" "+nd.State)
						}
						node = strings.Join(states, ", ")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", n.ID, n.Name, n.Family, chainID, n.Tier, n.Confirmations, n.NativeAsset, node)
				}
				tw.Flush()
			})
		},
	}
}
