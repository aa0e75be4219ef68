package main

import (
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

type caseDetail struct {
	AppealID string `json:"appeal_id"`
	Status   string `json:"status"`
	Category string `json:"category"`
	Network  string `json:"network"`
	TxHash   string `json:"tx_hash"`
	Closed   bool   `json:"closed"`
	Deposit  *struct {
		Kind   string `json:"kind"`
		To     string `json:"to"`
		Token  string `json:"token"`
		Amount string `json:"amount"`
		Asset  string `json:"asset"`
	} `json:"deposit"`
	Chain *struct {
		Status        string `json:"status"`
		Block         uint64 `json:"block"`
		Confirmations uint64 `json:"confirmations"`
		Required      uint64 `json:"required_confirmations"`
	} `json:"chain"`
	Scanned  []string `json:"scanned"`
	Timeline []struct {
		At      time.Time `json:"at"`
		Message string    `json:"message"`
	} `json:"timeline"`
}

func casesShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show CASE_ID",
		Short: "Show a case: chain facts, deposit and timeline",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var c caseDetail
			raw, err := g.get(cmd.Context(), "/v1/cases/"+url.PathEscape(args[0]), nil, &c)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				fmt.Fprintf(w, "Case      %s\n", c.AppealID)
				fmt.Fprintf(w, "Status    %s\n", c.Status)
				fmt.Fprintf(w, "Category  %s\n", c.Category)
				fmt.Fprintf(w, "Network   %s\n", dash(c.Network))
				fmt.Fprintf(w, "Tx hash   %s\n", c.TxHash)
				if c.Chain != nil {
					fmt.Fprintf(w, "On chain  %s, block %d, %d/%d confirmations\n", c.Chain.Status, c.Chain.Block, c.Chain.Confirmations, c.Chain.Required)
				}
				if d := c.Deposit; d != nil {
					asset := d.Asset
					if d.Token != "" {
						asset = "token " + d.Token
					}
					fmt.Fprintf(w, "Deposit   %s base units of %s to %s (%s)\n", d.Amount, asset, d.To, d.Kind)
				}
				fmt.Fprintln(w, "Timeline")
				for _, e := range c.Timeline {
					fmt.Fprintf(w, "  %s  %s\n", e.At.Local().Format(time.DateTime), e.Message)
				}
			})
		},
	}
}
