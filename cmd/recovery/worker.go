package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery/activities"
	"github.com/misdeposit/recovery/chains"
)

func workerCmd(getenv func(string) string, stderr io.Writer) *cobra.Command {
	var f commonFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the workflow worker against an external Temporal cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := f.load(getenv)
			if err != nil {
				return err
			}
			log := newLogger(cfg, stderr)
			reg, err := cfg.Registry()
			if err != nil {
				return err
			}
			c, err := dialTemporal(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := ensureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
				log.Warn("search attributes not registered; queues may be incomplete", "err", err)
			}
			lookups, err := buildLookups(ctx, reg, log)
			if err != nil {
				return err
			}
			w := newWorker(c, &activities.Activities{Registry: reg, Scanner: chains.NewScanner(reg, lookups)})
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			log.Info("worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.Namespace, "networks", len(lookups))
			<-ctx.Done()
			w.Stop()
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
