package main

import (
	"bytes"
	"encoding/json"
	"errors"

	"io"
	"net/http"
	"net/url"

	"github.com/misdeposit/recovery"
	"github.com/spf13/cobra"
)

// act posts a staff action on a case and shows the case after it.
func (g *globals) act(cmd *cobra.Command, id, action string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	var c caseDetail
	raw, err := g.send(cmd.Context(), http.MethodPost, "/v1/cases/"+url.PathEscape(id)+"/"+action, nil, "application/json", bytes.NewReader(b), &c)
	if err != nil {
		return err
	}
	return g.emit(raw, func(w io.Writer) { printCase(w, &c) })
}

func casesAssignCmd(g *globals) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "assign CASE_ID PERSON",
		Short: `Give a case to a specialist ("" takes it back); roles specialist or admin`,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.act(cmd, args[0], "assign", map[string]string{"assignee": args[1], "note": note})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why")
	return cmd
}

func casesNoteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "note CASE_ID TEXT",
		Short: "Add a note to a case, for staff",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.act(cmd, args[0], "note", map[string]string{"note": args[1]})
		},
	}
}

func casesEscalateCmd(g *globals) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "escalate CASE_ID --note WHY",
		Short: "Flag a case for a lead's attention",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.act(cmd, args[0], "escalate", map[string]string{"note": note})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why the case is escalated (required)")
	_ = cmd.MarkFlagRequired("note")
	return cmd
}

func casesReclassifyCmd(g *globals) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:       "reclassify CASE_ID CATEGORY --note WHY",
		Short:     "Set a case's category by hand; the policy decides again",
		Args:      cobra.ExactArgs(2),
		ValidArgs: recovery.Categories(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.act(cmd, args[0], "reclassify", map[string]string{"category": args[1], "note": note})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why the category changes (required)")
	_ = cmd.MarkFlagRequired("note")
	return cmd
}

func casesSignoffCmd(g *globals) *cobra.Command {
	var team, note string
	var approve, refuse bool
	cmd := &cobra.Command{
		Use:   "signoff CASE_ID --team TEAM (--approve | --refuse --note WHY)",
		Short: "Sign off a recovery for your team, or refuse it",
		Long: "Sign off a recovery for a team: wallet, settlement or security. You must hold that\n" +
			"team's role; a team signs once, and one person signs for one team only.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if approve == refuse {
				return errors.New("give one of --approve or --refuse")
			}
			return g.act(cmd, args[0], "signoff", map[string]any{"team": team, "approve": approve, "note": note})
		},
	}
	cmd.Flags().StringVar(&team, "team", "", "wallet, settlement or security (required)")
	cmd.Flags().BoolVar(&approve, "approve", false, "approve the recovery")
	cmd.Flags().BoolVar(&refuse, "refuse", false, "refuse the recovery (say why with --note)")
	cmd.Flags().StringVar(&note, "note", "", "a note; required with --refuse")
	_ = cmd.MarkFlagRequired("team")
	_ = cmd.RegisterFlagCompletionFunc("team", cobra.FixedCompletions(teamNames(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// teamNames lists the teams that sign recoveries off, for completion.
func teamNames() []string {
	var names []string
	for _, t := range recovery.Teams() {
		names = append(names, string(t))
	}
	return names
}
