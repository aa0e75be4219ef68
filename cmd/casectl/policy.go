package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/policy"
)

func policyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Work with recovery policy files"}
	cmd.AddCommand(policyValidateCmd(g))
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
