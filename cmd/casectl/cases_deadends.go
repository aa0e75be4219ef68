package main

import (
	"github.com/spf13/cobra"
)

// notedCmd is a case action whose body is a note: required (the reason)
// unless optional says otherwise.
func notedCmd(g *globals, action, use, short, noteHelp string, optional bool) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.act(cmd, args[0], action, map[string]string{"note": note})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", noteHelp)
	if !optional {
		_ = cmd.MarkFlagRequired("note")
	}
	return cmd
}

func casesRecheckCmd(g *globals) *cobra.Command {
	return notedCmd(g, "recheck", "recheck CASE_ID [--note WHY]",
		"Look the deposit up again (a hash not found after the last re-check, or too long unconfirmed); roles specialist or admin",
		"why, for the audit trail", true)
}

func casesCloseCmd(g *globals) *cobra.Command {
	return notedCmd(g, "close", "close CASE_ID --note WHY",
		"Close a case, saying why (the user reads it); not while its recovery is under way",
		"why the case is closed (required; the user reads it)", false)
}

func casesReopenCmd(g *globals) *cobra.Command {
	return notedCmd(g, "reopen", "reopen CASE_ID --note WHY",
		"Send a recovery a team refused back to the teams: every team signs again",
		"what changed since the refusal (required)", false)
}

func casesConfirmProofCmd(g *globals) *cobra.Command {
	return notedCmd(g, "confirm-proof", "confirm-proof CASE_ID --note WHAT",
		"Record your check of the claim where the chain names no sender to sign with (e.g. the source exchange's withdrawal record)",
		"what was checked (required)", false)
}

func casesReassignClaimantCmd(g *globals) *cobra.Command {
	var note, signature string
	cmd := &cobra.Command{
		Use:   "reassign-claimant CASE_ID USER_ID --note WHY [--signature SIG]",
		Short: "Give a case another account claimed first to the account that sent the deposit, before a quote is accepted",
		Long: `Give a case to another account, before a quote is accepted.

Where the chain names the address the deposit came from, the new account's
proof decides: its signature, by that address, of the case's proof message
for the new account (--signature). Otherwise the note records your check.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.act(cmd, args[0], "reassign-claimant", map[string]string{"user_id": args[1], "signature": signature, "note": note})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why the case changes hands (required)")
	cmd.Flags().StringVar(&signature, "signature", "", "the new account's signature of the case's proof message")
	_ = cmd.MarkFlagRequired("note")
	return cmd
}
