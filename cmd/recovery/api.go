package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/workflows"
)

func apiCmd(getenv func(string) string, stderr io.Writer) *cobra.Command {
	var f commonFlags
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Serve the appeal and staff API against an external Temporal cluster",
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
			lookups, err := buildLookups(ctx, reg, log)
			if err != nil {
				return err
			}
			book, err := addressbook.Open(ctx, cfg.AddressBookPath())
			if err != nil {
				return err
			}
			defer book.Close()
			l, err := listen(cfg.APIAddr)
			if err != nil {
				return err
			}
			h := api.NewServer(api.Deps{
				Temporal:    c,
				Namespace:   cfg.Namespace,
				Registry:    reg,
				Scanner:     chains.NewScanner(reg, lookups),
				AddressBook: book,
				StaffTokens: staffTokens(cfg),
				Timing:      workflows.DefaultTiming(),
				Logger:      log,
			})
			log.Info("API listening", "addr", l.Addr().String())
			return serveHTTP(ctx, l, h)
		},
	}
	f.register(cmd)
	return cmd
}
