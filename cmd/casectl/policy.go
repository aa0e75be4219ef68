package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/policy"
)

func policyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Work with recovery policy files"}
	cmd.AddCommand(policyValidateCmd(g), policyApplyCmd(g), policyShowCmd(g))
	return cmd
}

// appliedPolicy is one applied policy as the engine reports it.
type appliedPolicy struct {
	Seq       int64     `json:"seq"`
	Version   string    `json:"version"`
	AppliedAt time.Time `json:"applied_at"`
	AppliedBy string    `json:"applied_by"`
	Resumes   []struct {
		Network  string `json:"network"`
		Category string `json:"category"`
	} `json:"resumes"`
	Resumed *int `json:"resumed"`
}

func policyApplyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "apply FILE",
		Short: "Apply a policy file (YAML or JSON); parked cases it supports resume by themselves",
		Long: "Send a policy file to the engine, which validates it against its networks and applies it.\n" +
			"An invalid policy is never applied: every problem is printed as `path: message`.\n" +
			"Cases parked for a network or category the new policy makes recoverable resume by themselves;\n" +
			"`casectl policy show` tells how many once they have been told.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var res struct {
				Applied   appliedPolicy `json:"applied"`
				Unchanged bool          `json:"unchanged"`
			}
			raw, err := g.send(cmd.Context(), http.MethodPut, "/v1/policy", nil, "application/yaml", bytes.NewReader(doc), &res)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				if res.Unchanged {
					fmt.Fprintf(w, "policy %s is already in force (#%d); nothing changed\n", res.Applied.Version, res.Applied.Seq)
					return
				}
				fmt.Fprintf(w, "applied policy %s (#%d)\n", res.Applied.Version, res.Applied.Seq)
				if len(res.Applied.Resumes) == 0 {
					fmt.Fprintln(w, "it makes nothing newly recoverable: no parked case resumes")
					return
				}
				fmt.Fprintln(w, "parked cases resume for:")
				for _, r := range res.Applied.Resumes {
					fmt.Fprintf(w, "  %s %s\n", r.Network, r.Category)
				}
			})
		},
	}
}

func policyShowCmd(g *globals) *cobra.Command {
	var document bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the policy in force and the policies applied before it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res struct {
				Current  appliedPolicy   `json:"current"`
				Document string          `json:"document"`
				History  []appliedPolicy `json:"history"`
			}
			raw, err := g.get(cmd.Context(), "/v1/policy", nil, &res)
			if err != nil {
				return err
			}
			return g.emit(raw, func(w io.Writer) {
				if document {
					fmt.Fprint(w, res.Document)
					return
				}
				fmt.Fprintf(w, "in force: %s (#%d, %s)\n", res.Current.Version, res.Current.Seq, res.Current.AppliedBy)
				if len(res.History) == 0 {
					return
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SEQ\tVERSION\tAPPLIED\tBY\tRESUMES\tRESUMED")
				for _, h := range res.History {
					resumed := "running"
					if h.Resumed != nil {
						resumed = strconv.Itoa(*h.Resumed)
					}
					if len(h.Resumes) == 0 {
						resumed = "-"
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", h.Seq, h.Version, h.AppliedAt.Format(time.RFC3339), h.AppliedBy, len(h.Resumes), resumed)
				}
				tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&document, "document", false, "print the policy document in force instead")
	return cmd
}

// policyValidation is the -o json answer of policy validate.
type policyValidation struct {
	Valid    bool             `json:"valid"`
	File     string           `json:"file"`
	Version  string           `json:"version,omitempty"`
	Networks int              `json:"networks"`
	Rules    int              `json:"rules"`
	Problems []policy.Problem `json:"problems"`
}

func policyValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a policy file (YAML or JSON) against the default networks; no engine needed",
		Long: "Check a policy file (YAML or JSON) against the default networks, locally: the engine is not called.\n" +
			"Prints every problem as `path: message` and exits non-zero when there is any.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			res := policyValidation{File: file, Problems: []policy.Problem{}}
			p, err := policy.Load(file)
			if err == nil {
				res.Version, res.Networks, res.Rules = p.Version, len(p.Networks), p.RuleCount()
				err = p.Validate(chains.DefaultNetworks())
			}
			var ve *policy.ValidationError
			switch {
			case err == nil:
				res.Valid = true
			case errors.As(err, &ve):
				res.Problems = ve.Problems
			default:
				return err // unreadable file: nothing was validated
			}

			if g.output == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else if res.Valid {
				fmt.Fprintf(g.stdout, "ok: policy %s, %d networks, %d rules\n", res.Version, res.Networks, res.Rules)
			} else {
				for _, pr := range res.Problems {
					fmt.Fprintln(g.stdout, pr.String())
				}
			}
			if !res.Valid {
				return fmt.Errorf("%s is not a valid policy: %d problem(s)", file, len(res.Problems))
			}
			return nil
		},
	}
}
