// Command recovery runs the mis-deposit recovery engine.
//
//	recovery dev      everything on one machine: Temporal, Web UI, worker, API, local chains
//	recovery worker   the workflow worker, against an external Temporal
//	recovery api      the HTTP API, against an external Temporal
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "recovery:", err)
		os.Exit(1)
	}
}

// run is main without the process: tests call it to run the engine
// in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	root := &cobra.Command{
		Use:           "recovery",
		Short:         "Mis-deposit recovery engine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(devCmd(getenv, stdout, stderr), workerCmd(getenv, stderr), apiCmd(getenv, stderr), benchCmd(getenv, stdout, stderr))
	return root.ExecuteContext(ctx)
}
