package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

type caseRow struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Category string    `json:"category"`
	Network  string    `json:"network"`
	Opened   time.Time `json:"opened"`
	Closed   bool      `json:"closed"`
}

func casesListCmd(g *globals) *cobra.Command {
	var status, network, category string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cases, newest first, filtered by status, network or category",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"status": status, "network": network, "category": category} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if limit > 0 {
				q.Set("limit", fmt.Sprint(limit))
			}
			var resp struct {
				Cases []caseRow `json:"cases"`
			}
			raw, err := g.get(cmd.Context(), "/v1/cases", q, &resp)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tCATEGORY\tNETWORK\tOPENED")
				for _, c := range resp.Cases {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Status, c.Category, dash(c.Network), c.Opened.Local().Format(time.DateTime))
				}
				tw.Flush()
				if len(resp.Cases) == 0 {
					fmt.Fprintln(w, "no cases match")
				}
			})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only cases with this status")
	cmd.Flags().StringVar(&network, "network", "", "only cases on this network")
	cmd.Flags().StringVar(&category, "category", "", "only cases of this category")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many cases (1-1000)")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
