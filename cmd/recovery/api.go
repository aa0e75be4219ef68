package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/ledger"
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
			cl, err := connect(ctx, &f, getenv, stderr)
			if err != nil {
				return err
			}
			defer cl.temporal.Close()
			if err := cl.cfg.StaffTokensReady(); err != nil {
				return err
			}
			if cl.cfg.UserTokenSecret == "" {
				return errors.New("user_token_secret is required: the secret user tokens are signed with, at least 32 characters (RECOVERY_USER_TOKEN_SECRET)")
			}
			users, err := api.NewUserTokens([]byte(cl.cfg.UserTokenSecret), nil)
			if err != nil {
				return err
			}
			book, err := addressbook.Open(ctx, cl.cfg.AddressBookPath())
			if err != nil {
				return err
			}
			defer book.Close()
			journal, err := ledger.Open(ctx, cl.cfg.LedgerPath())
			if err != nil {
				return err
			}
			defer journal.Close()
			l, err := listen(cl.cfg.ListenAddr(false))
			if err != nil {
				return err
			}
			internal, err := listenInternal(cl.cfg)
			if err != nil {
				return err
			}
			sg, err := openSigner(cl.cfg)
			if err != nil {
				return err
			}
			var wallets api.Wallets
			if sg != nil {
				wallets = &hotWallets{reg: cl.reg, signer: sg, nodes: cl.nodes}
			}
			staff, signIns := staffTokens(cl.cfg), signInThrottle(cl.cfg)
			h, ops := api.NewHandlers(api.Deps{
				HotWallets:  wallets,
				Temporal:    cl.temporal,
				Namespace:   cl.cfg.Namespace,
				Registry:    cl.reg,
				Scanner:     cl.scanner,
				AddressBook: book,
				Ledger:      journal,
				Staff:       staff,
				SignIns:     signIns,
				Timing:      workflows.DefaultTiming(),
				Logger:      cl.log,
				UserTokens:  users,
				// The workers notify users only with notify_url.
				Notifications: cl.cfg.NotifyURL != "",
			}, internal != nil)
			codec, err := payloadCodec(cl.cfg)
			if err != nil {
				return err
			}
			h = withCodecEndpoint(h, staff, signIns, codec, cl.cfg.WebUIOrigin)
			cl.log.Info("API listening", "addr", l.Addr().String())
			return serveBoth(ctx, l, h, internal, ops, cl.log)
		},
	}
	f.register(cmd)
	return cmd
}
