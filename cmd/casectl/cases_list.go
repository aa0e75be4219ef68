package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/workflows"
)

// networkIDs are the default networks' ids, for completion.
func networkIDs() []string {
	var ids []string
	for _, n := range chains.DefaultNetworks() {
		ids = append(ids, n.ID)
	}
	return ids
}

type caseRow struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Category string    `json:"category"`
	Network  string    `json:"network"`
	Opened   time.Time `json:"opened"`
	Closed   bool      `json:"closed"`
	Band     string    `json:"amount_band"`
	Overdue  bool      `json:"overdue"`
}

func casesListCmd(g *globals) *cobra.Command {
	var status, network, category, band string
	var olderThan time.Duration
	var overdue bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List cases, newest first: a queue by status, network, category, amount band, age or overdue",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"status": status, "network": network, "category": category, "amount_band": band} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if overdue {
				q.Set("overdue", "true")
			}
			if olderThan > 0 {
				q.Set("older_than", olderThan.String())
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
				fmt.Fprintln(tw, "ID\tSTATUS\tCATEGORY\tNETWORK\tBAND\tOPENED\tOVERDUE")
				for _, c := range resp.Cases {
					late := ""
					if c.Overdue {
						late = "overdue"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Status, c.Category, dash(c.Network), dash(c.Band), c.Opened.Local().Format(time.DateTime), late)
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
	cmd.Flags().StringVar(&band, "amount-band", "", "only cases in this USD band: unpriced, under_10, 10_100, 100_1k, 1k_10k, over_10k")
	cmd.Flags().BoolVar(&overdue, "overdue", false, "only open cases past the time the policy gives the desk")
	cmd.Flags().DurationVar(&olderThan, "older-than", 0, "only cases opened longer ago than this (e.g. 48h)")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many cases (1-1000)")
	complete := func(flag string, values []string) {
		_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
	complete("status", recovery.Statuses())
	complete("category", append(recovery.Categories(), "unclassified", "regular_deposit"))
	complete("amount-band", workflows.AmountBands())
	complete("network", networkIDs())
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
