package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery/ledger"
)

func reportsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "reports", Short: "Finance reports from the ledger"}
	var from, to, groupBy, format string
	fees := &cobra.Command{
		Use:   "fees",
		Short: "Fees charged and refunded, network costs, net, recovered value, counts and median time to recovery",
		Long: "The fee report of a period [--from, --to), grouped by network, category or month, from the ledger.\n" +
			"Table output by default, -o json for scripts; --format csv, json or html prints the file as the\n" +
			"engine renders it (redirect it to a file). Roles finance or admin.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"from": from, "to": to, "group_by": groupBy} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if format == "csv" || format == "json" || format == "html" {
				q.Set("format", format)
				raw, err := g.get(cmd.Context(), "/v1/reports/fees", q, nil)
				if err != nil {
					return err
				}
				_, err = g.stdout.Write(raw)
				return err
			}
			if format != "" && format != "table" {
				return fmt.Errorf("--format is table, csv, json or html, not %q", format)
			}
			var rep ledger.Report
			raw, err := g.get(cmd.Context(), "/v1/reports/fees", q, &rep)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				fmt.Fprintf(w, "Fees %s to %s, by %s (USD)\n", rep.From.Format(time.DateOnly), rep.To.Format(time.DateOnly), rep.GroupBy)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "GROUP\tCASES\tREFUNDS\tRECOVERED\tFEES\tREFUNDED\tNETWORK COST\tNET\tCREDITED\tMEDIAN TIME\t")
				for _, r := range append(rep.Rows, rep.Total) {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Group, r.Cases, r.Refunds, r.RecoveredUSD.StringFixed(2), r.FeesChargedUSD.StringFixed(2),
						r.FeesRefundedUSD.StringFixed(2), r.NetworkCostUSD.StringFixed(2), r.NetUSD.StringFixed(2), r.CreditedUSD.StringFixed(2), r.MedianTimeToRecovery)
				}
				tw.Flush()
			})
		},
	}
	fees.Flags().StringVar(&from, "from", "", "first day (2026-11-01) or time (RFC 3339); default: the first of this month")
	fees.Flags().StringVar(&to, "to", "", "end of the period, not included; default: now")
	fees.Flags().StringVar(&groupBy, "group-by", "network", "network, category or month")
	fees.Flags().StringVar(&format, "format", "table", "table, csv, json or html")
	_ = fees.RegisterFlagCompletionFunc("group-by", cobra.FixedCompletions([]string{"network", "category", "month"}, cobra.ShellCompDirectiveNoFileComp))
	_ = fees.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "csv", "json", "html"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(fees)
	return cmd
}
