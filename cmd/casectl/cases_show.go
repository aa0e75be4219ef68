package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
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
	Explanation string `json:"explanation"`
	Evidence    []struct {
		Fact  string `json:"fact"`
		Value string `json:"value"`
	} `json:"evidence"`
	OwnerMismatch  bool `json:"owner_mismatch"`
	PolicyDecision *struct {
		Action        string   `json:"action"`
		PolicyVersion string   `json:"policy_version"`
		Reasons       []string `json:"reasons"`
		Signoffs      []string `json:"signoffs"`
		Batch         bool     `json:"batch"`
	} `json:"policy_decision"`
	USD         string `json:"usd"`
	PriceSource string `json:"price_source"`
	Quote       *struct {
		ID       string `json:"id"`
		Asset    string `json:"asset"`
		Deposit  string `json:"deposit"` // whole units
		Fee      string `json:"fee"`
		FeeUSD   string `json:"fee_usd"`
		Net      string `json:"net"`
		Expired  bool   `json:"expired"`
		Accepted bool   `json:"accepted"`
		Advice   struct {
			Action  string   `json:"action"`
			Reasons []string `json:"reasons"`
		} `json:"advice"`
	} `json:"quote"`
	Assignee  string `json:"assignee"`
	Escalated bool   `json:"escalated"`
	Signoffs  []struct {
		Team    string    `json:"team"`
		Person  string    `json:"person"`
		Approve bool      `json:"approve"`
		At      time.Time `json:"at"`
		Note    string    `json:"note"`
	} `json:"signoffs"`
	Audit []struct {
		At     time.Time `json:"at"`
		Person string    `json:"person"`
		Action string    `json:"action"`
		Before string    `json:"before"`
		After  string    `json:"after"`
		Note   string    `json:"note"`
	} `json:"audit"`
	Recovery *struct {
		Method       string `json:"method"`
		Outcome      string `json:"outcome"`
		ReturnTo     string `json:"return_to"`
		Transactions []struct {
			Network       string `json:"network"`
			TxHash        string `json:"tx_hash"`
			Confirmations uint64 `json:"confirmations"`
			Required      uint64 `json:"required_confirmations"`
			Confirmed     bool   `json:"confirmed"`
		} `json:"transactions"`
		Failure string `json:"failure"`
	} `json:"recovery"`
	Credit *struct {
		Asset        string    `json:"asset"`
		Net          string    `json:"net"`
		Fee          string    `json:"fee"`
		TxHash       string    `json:"tx_hash"`
		At           time.Time `json:"at"`
		ReturnedTo   string    `json:"returned_to"`
		ReturnTxHash string    `json:"return_tx_hash"`
	} `json:"credit"`
	Scanned  []string `json:"scanned"`
	Timeline []struct {
		At      time.Time `json:"at"`
		Message string    `json:"message"`
	} `json:"timeline"`

	// units are the deposit's, for the table: not in the API's answer.
	units assetUnits
}

func casesShowCmd(g *globals) *cobra.Command {
	var watch time.Duration
	cmd := &cobra.Command{
		Use:   "show CASE_ID",
		Short: "Show a case: chain facts, diagnosis and evidence, decision, quote and timeline",
		Long: "Show a case. With --watch the case is fetched again at that interval and shown\n" +
			"again whenever it changes, until Ctrl-C or until the case is closed.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/v1/cases/" + url.PathEscape(args[0])
			if watch <= 0 {
				var c caseDetail
				raw, err := g.get(cmd.Context(), path, nil, &c)
				if err != nil {
					return err
				}
				return g.emit(raw, func(w io.Writer) {
					c.units = g.depositUnits(cmd.Context(), &c)
					printCase(w, &c)
				})
			}
			return watchCase(cmd.Context(), g, path, watch)
		},
	}
	cmd.Flags().DurationVar(&watch, "watch", 0, "fetch the case again at this interval (e.g. 2s) and show it when it changes")
	return cmd
}

// watchCase shows the case each time it changes until ctx ends or the
// case closes.
func watchCase(ctx context.Context, g *globals, path string, every time.Duration) error {
	if every < 500*time.Millisecond {
		every = 500 * time.Millisecond
	}
	var last []byte
	var units *assetUnits
	for {
		var c caseDetail
		raw, err := g.get(ctx, path, nil, &c)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		case !bytes.Equal(raw, last):
			if last != nil && g.output != "json" {
				fmt.Fprintln(g.stdout, strings.Repeat("─", 60))
			}
			err := g.emit(raw, func(w io.Writer) {
				if units == nil || !units.Known {
					u := g.depositUnits(ctx, &c)
					units = &u
				}
				c.units = *units
				printCase(w, &c)
			})
			if err != nil {
				return err
			}
			last = raw
		}
		if c.Closed {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

func printCase(w io.Writer, c *caseDetail) {
	fmt.Fprintf(w, "Case      %s\n", c.AppealID)
	fmt.Fprintf(w, "Status    %s\n", c.Status)
	fmt.Fprintf(w, "Category  %s\n", c.Category)
	fmt.Fprintf(w, "Network   %s\n", dash(c.Network))
	fmt.Fprintf(w, "Tx hash   %s\n", c.TxHash)
	if c.Chain != nil {
		fmt.Fprintf(w, "On chain  %s, block %d, %d/%d confirmations\n", c.Chain.Status, c.Chain.Block, c.Chain.Confirmations, c.Chain.Required)
	}
	if d := c.Deposit; d != nil {
		amount := c.units.baseToWhole(d.Amount)
		if q := c.Quote; !c.units.Known && q != nil && q.Deposit != "" {
			amount = grouped(q.Deposit) + " " + q.Asset // an unlisted token's decimals, read by its quote
		}
		token := ""
		if d.Token != "" && !strings.EqualFold(c.units.Asset, d.Token) {
			token = " (token " + d.Token + ")"
		}
		fmt.Fprintf(w, "Deposit   %s%s to %s (%s)\n", amount, token, d.To, d.Kind)
	}
	if c.USD != "" {
		fmt.Fprintf(w, "Value     %s USD (%s)\n", grouped(c.USD), c.PriceSource)
	}
	if c.Explanation != "" {
		fmt.Fprintf(w, "Diagnosis %s\n", c.Explanation)
	}
	if len(c.Evidence) > 0 {
		fmt.Fprintln(w, "Evidence  (amounts in base units, as the chain records them)")
		for _, e := range c.Evidence {
			fmt.Fprintf(w, "  %-16s %s\n", e.Fact, e.Value)
		}
	}
	if c.OwnerMismatch {
		fmt.Fprintln(w, "Warning   the claimant is not the owner of the address: proof of sending is required")
	}
	if d := c.PolicyDecision; d != nil {
		fmt.Fprintf(w, "Decision  %s under policy %s", d.Action, d.PolicyVersion)
		if d.Batch {
			fmt.Fprint(w, ", in the next batch")
		}
		if len(d.Signoffs) > 0 {
			fmt.Fprintf(w, "; sign-offs: %s", strings.Join(d.Signoffs, ", "))
		}
		fmt.Fprintln(w)
		for _, r := range d.Reasons {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if q := c.Quote; q != nil {
		state := "on offer"
		switch {
		case q.Accepted:
			state = "accepted"
		case q.Expired:
			state = "expired"
		}
		fmt.Fprintf(w, "Quote     %s: fee %s %s (%s USD), net %s %s, %s; advice %s", q.ID, grouped(q.Fee), q.Asset, grouped(q.FeeUSD), grouped(q.Net), q.Asset, state, q.Advice.Action)
		if len(q.Advice.Reasons) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(q.Advice.Reasons, ", "))
		}
		fmt.Fprintln(w)
	}
	if c.Assignee != "" {
		fmt.Fprintf(w, "Assignee  %s\n", c.Assignee)
	}
	if c.Escalated {
		fmt.Fprintln(w, "Escalated yes")
	}
	for _, so := range c.Signoffs {
		answer := "approved"
		if !so.Approve {
			answer = "refused"
		}
		fmt.Fprintf(w, "Sign-off  %s %s by %s at %s %s\n", so.Team, answer, so.Person, so.At.Local().Format(time.DateTime), so.Note)
	}
	printRecovery(w, c)
	if len(c.Audit) > 0 {
		fmt.Fprintln(w, "Audit")
		for _, a := range c.Audit {
			change := ""
			if a.Before != "" || a.After != "" {
				change = fmt.Sprintf(" %q -> %q", a.Before, a.After)
			}
			fmt.Fprintf(w, "  %s  %s %s%s %s\n", a.At.Local().Format(time.DateTime), a.Person, a.Action, change, a.Note)
		}
	}
	fmt.Fprintln(w, "Timeline")
	for _, e := range c.Timeline {
		fmt.Fprintf(w, "  %s  %s\n", e.At.Local().Format(time.DateTime), e.Message)
	}
}

// printRecovery shows the recovery on chain and the credit.
func printRecovery(w io.Writer, c *caseDetail) {
	r := c.Recovery
	if r == nil {
		return
	}
	fmt.Fprintf(w, "Recovery  %s", dash(r.Method))
	if r.Outcome == "return" {
		fmt.Fprintf(w, ", then back to %s", r.ReturnTo)
	}
	fmt.Fprintln(w)
	for _, t := range r.Transactions {
		state := "confirming"
		if t.Confirmed {
			state = "confirmed"
		}
		fmt.Fprintf(w, "  %s %s, %d/%d confirmations, %s\n", t.Network, t.TxHash, t.Confirmations, t.Required, state)
	}
	if r.Failure != "" {
		fmt.Fprintf(w, "  failed: %s\n", r.Failure)
	}
	if cr := c.Credit; cr != nil {
		fmt.Fprintf(w, "Credited  %s %s net (fee %s %s) at %s\n", grouped(cr.Net), cr.Asset, grouped(cr.Fee), cr.Asset, cr.At.Local().Format(time.DateTime))
		if cr.ReturnedTo != "" {
			fmt.Fprintf(w, "Returned  %s %s to %s by %s\n", grouped(cr.Net), cr.Asset, cr.ReturnedTo, cr.ReturnTxHash)
		}
	}
}
