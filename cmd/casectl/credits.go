package main

import (
	"github.com/spf13/cobra"
)

func creditsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "credits", Short: "Import the deposits the exchange has credited"}
	cmd.AddCommand(&cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import credited deposits from a CSV file with columns network,tx_hash,index,user_id,amount,credited_at",
		Long: `Import the deposits the exchange has credited from a CSV file with a header
row and the columns network, tx_hash, index (v, v<n>, o<n>, l<n> or c<n>, as
in case ids: v<n> is a native payment in operation or message n of an xlm or
atom transaction that paid several addresses), user_id, amount (a whole number of base units) and credited_at
(an RFC 3339 time or a date). An appeal for a deposit found there closes as
already_credited and shows the credit.

The file is imported whole or not at all: every bad line is reported and
nothing is stored, and so is a deposit already credited to another user or
amount. Importing the same file again changes nothing. Needs the settlement
or admin role (in dev: --as settlement).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.importCSV(cmd, args[0], "/v1/credits", "credits")
		},
	})
	return cmd
}
