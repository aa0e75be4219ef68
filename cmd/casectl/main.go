// Command casectl is the case CLI of recovery specialists. It talks to the
// staff API of a running engine.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "casectl:", err)
		os.Exit(1)
	}
}

// globals are the flags every verb shares.
type globals struct {
	api    string
	token  string
	as     string // a dev sign-off team to act as
	output string
	getenv func(string) string
	stdout io.Writer
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	g := &globals{getenv: getenv, stdout: stdout}
	root := &cobra.Command{
		Use:           "casectl",
		Short:         "Work mis-deposit recovery cases",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if g.output != "table" && g.output != "json" {
				return fmt.Errorf("-o must be table or json, not %q", g.output)
			}
			return nil
		},
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.api, "api", "", "engine API base URL (env CASECTL_API, default http://127.0.0.1:8080)")
	pf.StringVar(&g.token, "token", "", "staff bearer token (env CASECTL_TOKEN, default: the token recovery dev wrote to .recovery/staff-token)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	pf.StringVar(&g.as, "as", "", "in dev, act as the person of a sign-off team: wallet, settlement or security (reads .recovery/staff-token-TEAM)")
	_ = root.RegisterFlagCompletionFunc("as", cobra.FixedCompletions(teamNames(), cobra.ShellCompDirectiveNoFileComp))

	cases := &cobra.Command{Use: "cases", Short: "List, inspect and work cases"}
	cases.AddCommand(casesListCmd(g), casesShowCmd(g), casesAssignCmd(g), casesNoteCmd(g), casesEscalateCmd(g), casesReclassifyCmd(g), casesSignoffCmd(g),
		casesRecheckCmd(g), casesCloseCmd(g), casesReopenCmd(g), casesConfirmProofCmd(g), casesReassignClaimantCmd(g))
	root.AddCommand(cases, networksCmd(g), demoCmd(g), addressBookCmd(g), policyCmd(g), reportsCmd(g), walletsCmd(g))
	root.AddCommand(creditsCmd(g), batchesCmd(g))
	return root.ExecuteContext(ctx)
}
