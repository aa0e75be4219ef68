package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// importCSV sends a CSV file to an import route (PUT) and says how many
// of what it stored.
func (g *globals) importCSV(cmd *cobra.Command, path, route, what string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var resp struct {
		Stored int `json:"stored"`
	}
	raw, err := g.send(cmd.Context(), http.MethodPut, route, nil, "text/csv", f, &resp)
	if err != nil {
		return err
	}
	return g.emit(raw, func(w io.Writer) { fmt.Fprintf(w, "imported %d %s\n", resp.Stored, what) })
}

func addressBookCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "addressbook", Short: "Import and look up the exchange's deposit addresses"}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import addresses from a CSV file with columns network,address,memo,user_id,status,pubkey_hash",
		Long: `Import addresses from a CSV file with a header row. network, address and
user_id are required; memo, status (active or retired) and pubkey_hash are
optional. The file is imported whole or not at all: every bad line is
reported and nothing is stored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.importCSV(cmd, args[0], "/v1/addressbook", "addresses")
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show ADDRESS",
		Short: "Show who an address belongs to, on every network",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var resp struct {
				Entries []struct {
					Network string `json:"network"`
					Address string `json:"address"`
					Memo    string `json:"memo"`
					UserID  string `json:"user_id"`
					Status  string `json:"status"`
				} `json:"entries"`
				Changes []struct {
					At      time.Time `json:"at"`
					Person  string    `json:"person"`
					Network string    `json:"network"`
					Memo    string    `json:"memo"`
					Before  string    `json:"before"`
					After   string    `json:"after"`
				} `json:"changes"`
			}
			raw, err := g.get(cmd.Context(), "/v1/addressbook", url.Values{"address": {args[0]}}, &resp)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				if len(resp.Entries) == 0 {
					fmt.Fprintln(w, "not an address of the exchange")
					return
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NETWORK\tADDRESS\tMEMO\tUSER\tSTATUS")
				for _, e := range resp.Entries {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Network, e.Address, dash(e.Memo), e.UserID, e.Status)
				}
				tw.Flush()
				if len(resp.Changes) == 0 {
					return
				}
				// Who gave the address to whom, and when: the book's audit trail.
				fmt.Fprintln(w, "\nChanges")
				tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AT\tBY\tNETWORK\tMEMO\tBEFORE\tAFTER")
				for _, c := range resp.Changes {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.At.UTC().Format(time.RFC3339), c.Person, c.Network, dash(c.Memo), dash(c.Before), c.After)
				}
				tw.Flush()
			})
		},
	})
	return cmd
}
