package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/devchain"
	"github.com/misdeposit/recovery/devchain/keystore"
	"github.com/misdeposit/recovery/internal/temporaldev"
	"github.com/misdeposit/recovery/ledger"
	"github.com/misdeposit/recovery/workflows"
)

func devCmd(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	var f commonFlags
	var uiPort int
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything on this machine: Temporal, Web UI, worker, API and local chains with demo deposits",
		Long: `Run the whole engine on one machine with embedded defaults.

Temporal runs in-process on a SQLite file under the data directory, with its
Web UI; the worker and the API run beside it. Unless the config file points
networks at nodes of their own, local chains start too (an EVM dev chain
standing for eth, a second one for bsc, btcd regtest for btc) with demo
mis-deposits on them. Everything survives a restart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.load(getenv)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("ui-port") {
				cfg.UIPort = uiPort
			}
			return runDev(cmd.Context(), cfg, stdout, newLogger(cfg, stderr))
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&uiPort, "ui-port", config.DefaultUIPort, "Temporal Web UI port; -1 disables it (env RECOVERY_UI_PORT)")
	return cmd
}

func runDev(ctx context.Context, cfg config.Config, stdout io.Writer, log *slog.Logger) (err error) {
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	// Take the API port first so that a port in use fails at once, not
	// after the chains and Temporal have started.
	l, err := listen(cfg.APIAddr)
	if err != nil {
		return err
	}
	defer l.Close()
	ks, err := keystore.Open(filepath.Join(dataDir, "keystore"))
	if err != nil {
		return err
	}

	var local *devchain.Chains
	if !cfg.ExternalNodes() {
		log.Info("starting local chains", "dir", filepath.Join(dataDir, "chains"))
		local, err = devchain.Start(ctx, devchain.Config{
			DataDir:     filepath.Join(dataDir, "chains"),
			Keystore:    ks,
			BlockPeriod: cfg.Dev.BlockPeriod,
			Logger:      log,
		})
		if err != nil {
			return fmt.Errorf("local chains: %w", err)
		}
		defer func() { err = errors.Join(err, local.Stop()) }()
		cfg.Networks = append(cfg.Networks, local.Networks()...)
	}
	reg, err := cfg.Registry()
	if err != nil {
		return err
	}
	cfg.DataDir = dataDir
	book, err := addressbook.Open(ctx, cfg.AddressBookPath())
	if err != nil {
		return err
	}
	defer book.Close()
	journal, err := ledger.Open(ctx, cfg.LedgerPath())
	if err != nil {
		return err
	}
	defer journal.Close()
	if local != nil {
		entries, err := local.AddressBook()
		if err != nil {
			return err
		}
		if err := book.Upsert(ctx, entries, time.Now()); err != nil {
			return fmt.Errorf("dev address book: %w", err)
		}
	}

	_, portText, err := net.SplitHostPort(cfg.TemporalAddress)
	if err != nil {
		return fmt.Errorf("temporal address %q: %w", cfg.TemporalAddress, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("temporal address %q: bad port", cfg.TemporalAddress)
	}
	uiPort := cfg.UIPort
	if uiPort < 0 {
		uiPort = 0
	}
	srv, err := temporaldev.Start(temporaldev.Options{
		DatabaseFile:     filepath.Join(dataDir, "temporal.db"),
		FrontendPort:     port,
		UIPort:           uiPort,
		Namespace:        cfg.Namespace,
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           log,
	})
	if err != nil {
		return err
	}
	defer srv.Stop()
	cfg.TemporalAddress = srv.FrontendAddress()

	c, err := dialTemporal(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := ensureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
		return err
	}

	lookups, quoting, err := buildLookups(ctx, reg, log)
	if err != nil {
		return err
	}
	scanner := chains.NewScanner(reg, lookups)
	px, err := prices(cfg, true)
	if err != nil {
		return err
	}
	w := newWorker(c, newActivities(c, cfg, reg, scanner, quoting, book, px))
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	if err := applyPolicyFile(ctx, c, cfg, reg, log); err != nil {
		return err
	}

	token, err := devStaffToken(dataDir)
	if err != nil {
		return err
	}
	cfg.StaffTokens = append(cfg.StaffTokens, config.StaffToken{Token: token, Person: "dev-admin", Roles: []string{recovery.RoleAdmin}})

	secret := cfg.UserTokenSecret
	if secret == "" {
		if secret, err = devSecret(dataDir, "user-token-secret", 32); err != nil {
			return err
		}
	}
	users, err := api.NewUserTokens([]byte(secret), nil)
	if err != nil {
		return err
	}

	timing := workflows.DefaultTiming()
	timing.NotFoundRechecks = cfg.Dev.Recheck
	timing.ConfirmationPoll = cfg.Dev.ConfirmationPoll
	deps := api.Deps{
		Temporal:    c,
		Namespace:   cfg.Namespace,
		Registry:    reg,
		Scanner:     scanner,
		AddressBook: book,
		Ledger:      journal,
		StaffTokens: staffTokens(cfg),
		Timing:      timing,
		Logger:      log,
		UserTokens:  users,
		// recovery dev stands in for the exchange's sign-in.
		DevUserTokens: true,
	}
	if local != nil {
		// A deposit address handed out in dev is in the address book, as
		// the exchange's own would be.
		deps.DepositAddress = func(userID, network string) (string, error) {
			e, err := local.AddressEntry(userID, network)
			if err != nil {
				return "", err
			}
			return e.Address, book.Upsert(context.Background(), []addressbook.Entry{e}, time.Now())
		}
		deps.Demo = func() any { return local.Demo() }
	}
	printBanner(stdout, l.Addr().String(), srv, dataDir, lookups, local)
	return serveHTTP(ctx, l, api.NewServer(deps))
}

// devStaffToken returns the dev admin token, creating it on first run.
// casectl reads the same file.
func devStaffToken(dataDir string) (string, error) {
	return devSecret(dataDir, "staff-token", 24)
}

// devSecret is a random hex secret of n bytes kept in a file of the data
// directory, made on first use.
func devSecret(dataDir, name string, n int) (string, error) {
	path := filepath.Join(dataDir, name)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	token := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return token, nil
}

func printBanner(out io.Writer, apiAddr string, srv *temporaldev.Server, dataDir string, lookups map[string]chains.Lookup, local *devchain.Chains) {
	host := apiAddr
	if h, p, err := net.SplitHostPort(apiAddr); err == nil && (h == "::" || h == "0.0.0.0" || h == "") {
		host = net.JoinHostPort("localhost", p)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Recovery engine (dev) is running.")
	fmt.Fprintf(tw, "  API and appeal form\thttp://%s/\n", host)
	fmt.Fprintf(tw, "  Health / metrics\thttp://%s/healthz  http://%s/metrics\n", host, host)
	fmt.Fprintf(tw, "  Temporal frontend\t%s\n", srv.FrontendAddress())
	if ui := srv.UIAddress(); ui != "" {
		fmt.Fprintf(tw, "  Temporal Web UI\thttp://%s/\n", ui)
	}
	fmt.Fprintf(tw, "  Data directory\t%s\n", dataDir)
	fmt.Fprintf(tw, "  Staff token\t%s\n", filepath.Join(dataDir, "staff-token"))
	fmt.Fprintf(tw, "  User tokens (dev)\tPOST http://%s/v1/dev/user-token {\"user_id\": \"alice\"}\n", host)
	if local != nil {
		for _, n := range local.Networks() {
			fmt.Fprintf(tw, "  Local chain %s\t%s\n", n.ID, redact(n.RPC[0]))
		}
		fmt.Fprintf(tw, "  Demo deposits\t%d (list them: go run ./cmd/casectl demo)\n", len(local.Demo()))
	}
	fmt.Fprintf(tw, "  Networks with a node\t%d\n", len(lookups))
	fmt.Fprintln(tw, "Press Ctrl-C to stop; cases survive a restart.")
	tw.Flush()
}

// redact hides credentials in a node URL.
func redact(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
			return u[:scheme+3] + "***@" + u[at+1:]
		}
	}
	return u
}
