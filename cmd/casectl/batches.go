package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func batchesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "batches", Short: "The batches small deposits are recovered in"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the batches, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var resp struct {
				Batches []struct {
					ID      string    `json:"id"`
					Status  string    `json:"status"`
					Opened  time.Time `json:"opened"`
					Members int       `json:"members"`
				} `json:"batches"`
			}
			raw, err := g.get(cmd.Context(), "/v1/batches", nil, &resp)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tMEMBERS\tOPENED")
				for _, b := range resp.Batches {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", b.ID, b.Status, b.Members, b.Opened.Local().Format(time.DateTime))
				}
				tw.Flush()
			})
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show BATCH_ID",
		Short: "Show a batch: its members, the ones locked in when it closed, its transactions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b struct {
				ID       string    `json:"id"`
				Network  string    `json:"network"`
				Asset    string    `json:"asset"`
				Status   string    `json:"status"`
				ClosesAt time.Time `json:"closes_at"`
				Members  []struct {
					CaseID string `json:"case_id"`
					USD    string `json:"usd"`
				} `json:"members"`
				Locked       []string `json:"locked"`
				Transactions []struct {
					Hash          string `json:"hash"`
					Confirmations uint64 `json:"confirmations"`
					Confirmed     bool   `json:"confirmed"`
				} `json:"transactions"`
				Failure string `json:"failure"`
			}
			raw, err := g.get(cmd.Context(), "/v1/batches/"+url.PathEscape(args[0]), nil, &b)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				fmt.Fprintf(w, "Batch     %s\n", b.ID)
				fmt.Fprintf(w, "Network   %s %s\n", b.Network, b.Asset)
				fmt.Fprintf(w, "Status    %s (closes %s)\n", b.Status, b.ClosesAt.Local().Format(time.DateTime))
				locked := map[string]bool{}
				for _, id := range b.Locked {
					locked[id] = true
				}
				fmt.Fprintf(w, "Members   %d, %d locked in\n", len(b.Members), len(b.Locked))
				for _, m := range b.Members {
					mark := " "
					if locked[m.CaseID] {
						mark = "*"
					}
					fmt.Fprintf(w, "  %s %s  %s USD\n", mark, m.CaseID, m.USD)
				}
				for _, t := range b.Transactions {
					fmt.Fprintf(w, "Tx        %s, %d confirmations, confirmed %v\n", t.Hash, t.Confirmations, t.Confirmed)
				}
				if b.Failure != "" {
					fmt.Fprintf(w, "Failure   %s\n", b.Failure)
				}
			})
		},
	})
	return cmd
}
