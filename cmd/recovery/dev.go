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
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/activities"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/devchain"
	"github.com/misdeposit/recovery/devchain/keystore"
	"github.com/misdeposit/recovery/internal/securefile"
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
	if err := cfg.StaffTokensReady(); err != nil {
		return err
	}
	dataDir, err := makeDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	// Take the API port first so that a port in use fails at once, not
	// after the chains and Temporal have started.
	l, err := listen(cfg.ListenAddr(true))
	if err != nil {
		return err
	}
	defer l.Close()
	internal, err := listenInternal(cfg)
	if err != nil {
		return err
	}

	// The dev keystore: the users' deposit keys (their dev addresses, on
	// local chains or the operator's nodes alike) and the hot wallets'.
	if cfg.KeystoreDir == "" {
		cfg.KeystoreDir = filepath.Join(dataDir, "keystore")
	}
	ks, err := keystore.Open(cfg.KeystoreDir)
	if err != nil {
		return err
	}
	local, err := startLocalChains(ctx, cfg, ks, dataDir, log)
	if err != nil {
		return err
	}
	if local != nil {
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
	if err := addLocalAddresses(ctx, book, local); err != nil {
		return err
	}

	boundWorkflowCache(cfg)
	// Payloads are encrypted with a key kept in the data directory; the
	// Web UI decodes them through a codec endpoint of its own.
	if err := devPayloadKey(&cfg, dataDir); err != nil {
		return err
	}
	codec, err := payloadCodec(cfg)
	if err != nil {
		return err
	}
	uiCodec := ""
	if cfg.UIPort > 0 {
		if uiCodec, err = serveDevCodec(ctx, codec, cfg.UIPort); err != nil {
			return err
		}
	}
	srv, err := startTemporal(cfg, uiCodec, log)
	if err != nil {
		return err
	}
	defer srv.Stop()
	cfg.TemporalAddress = srv.FrontendAddress()
	if cfg.ActionKey == "" {
		// The API and the worker share the process, and a key kept in the
		// data directory.
		if cfg.ActionKey, err = devSecret(dataDir, "action-key", 32); err != nil {
			return err
		}
	}
	c, err := dialTemporal(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer c.Close()
	if added, err := ensureSearchAttributes(ctx, c, cfg.Namespace); err != nil {
		return err
	} else if added {
		srv.SearchAttributesAdded()
	}

	lookups, quoting, err := buildLookups(ctx, reg, log)
	if err != nil {
		return err
	}
	scanner := chains.NewScanner(reg, lookups)
	w, err := startWorker(c, cfg, reg, scanner, quoting, book, journal)
	if err != nil {
		return err
	}
	defer w.Stop()
	if err := applyPolicyFile(ctx, c, cfg, reg, log); err != nil {
		return err
	}

	deps, err := devAPIDeps(cfg, c, reg, scanner, book, journal, local, ks, log)
	if err != nil {
		return err
	}
	if sg, err := openSigner(cfg); err != nil {
		return err
	} else if sg != nil {
		deps.HotWallets = &hotWallets{reg: reg, signer: sg, nodes: quoting}
	}
	opsAddr := l.Addr().String()
	if internal != nil {
		opsAddr = internal.Addr().String()
	}
	printBanner(stdout, l.Addr().String(), opsAddr, srv, dataDir, lookups, local)
	uiOrigin := ""
	if ui := srv.UIAddress(); ui != "" {
		uiOrigin = "http://" + ui
	}
	h, ops := api.NewHandlers(deps, internal != nil)
	return serveBoth(ctx, l, withCodecEndpoint(h, deps.Staff, deps.SignIns, codec, uiOrigin), internal, ops, log)
}

// makeDataDir makes the data directory and returns its absolute path.
func makeDataDir(dir string) (string, error) {
	dataDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	// It holds keys, tokens and users' cases: its owner's only.
	if err := securefile.PrivateDir(dataDir); err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	return dataDir, nil
}

// startLocalChains starts the local chains with their demo deposits,
// unless the config points the networks at nodes of their own: then it
// returns nil.
func startLocalChains(ctx context.Context, cfg config.Config, ks *keystore.Keystore, dataDir string, log *slog.Logger) (*devchain.Chains, error) {
	if cfg.ExternalNodes() {
		return nil, nil
	}
	log.Info("starting local chains", "dir", filepath.Join(dataDir, "chains"))
	local, err := devchain.Start(ctx, devchain.Config{
		DataDir:     filepath.Join(dataDir, "chains"),
		Keystore:    ks,
		BlockPeriod: cfg.Dev.BlockPeriod,
		Logger:      log,
		// An installed binary builds btcd here when it finds none.
		BinDir: filepath.Join(dataDir, "bin"),
	})
	if err != nil {
		return nil, fmt.Errorf("local chains: %w", err)
	}
	return local, nil
}

// addLocalAddresses puts the local chains' deposit addresses in the
// address book, as the exchange's own would be; nothing without local
// chains.
func addLocalAddresses(ctx context.Context, book *addressbook.Store, local *devchain.Chains) error {
	if local == nil {
		return nil
	}
	entries, err := local.AddressBook()
	if err != nil {
		return err
	}
	if err := book.Upsert(ctx, entries, time.Now(), "recovery dev"); err != nil {
		return fmt.Errorf("dev address book: %w", err)
	}
	return nil
}

// startTemporal starts the embedded Temporal, with its Web UI unless the
// UI port is negative, on the port of cfg.TemporalAddress and its data in
// the data directory.
func startTemporal(cfg config.Config, codecEndpoint string, log *slog.Logger) (*temporaldev.Server, error) {
	_, portText, err := net.SplitHostPort(cfg.TemporalAddress)
	if err != nil {
		return nil, fmt.Errorf("temporal address %q: %w", cfg.TemporalAddress, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("temporal address %q: bad port", cfg.TemporalAddress)
	}
	uiPort := cfg.UIPort
	if uiPort < 0 {
		uiPort = 0
	}
	db, vis := filepath.Join(cfg.DataDir, "temporal.db"), filepath.Join(cfg.DataDir, "temporal-visibility.db")
	if !fileExists(vis) && fileExists(db) {
		// A data directory from before the visibility records had a file
		// of their own keeps them where they are: its queues list its
		// open cases from there.
		vis = ""
	}
	return temporaldev.Start(temporaldev.Options{
		DatabaseFile:     db,
		VisibilityFile:   vis,
		FrontendPort:     port,
		UIPort:           uiPort,
		UICodecEndpoint:  codecEndpoint,
		Namespace:        cfg.Namespace,
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           log,
	})
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// startWorker starts the worker with the dev prices and the dev keystore's
// signer.
func startWorker(c client.Client, cfg config.Config, reg *chains.Registry, scanner *chains.Scanner, quoting *nodes, book *addressbook.Store, journal *ledger.Store) (*engineWorker, error) {
	px, err := prices(cfg, true)
	if err != nil {
		return nil, err
	}
	sg, err := openSigner(cfg)
	if err != nil {
		return nil, err
	}
	acts := newActivities(c, cfg, reg, scanner, quoting, book, px, sg, journal)
	if acts.Notifier == nil {
		// Without notify_url the users' notifications go to an outbox a
		// developer can tail.
		acts.Notifier = &activities.Outbox{Path: filepath.Join(cfg.DataDir, "notifications.jsonl")}
	}
	w := newWorker(c, acts, families(cfg))
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return w, nil
}

// devAPIDeps is what the API serves in dev: the dev admin's staff token
// besides the configured ones, users' tokens the API itself issues, the dev
// timing and, with local chains, deposit addresses and the demo deposits.
func devAPIDeps(cfg config.Config, c client.Client, reg *chains.Registry, scanner *chains.Scanner, book *addressbook.Store, journal *ledger.Store, local *devchain.Chains, ks *keystore.Keystore, log *slog.Logger) (api.Deps, error) {
	token, err := devStaffToken(cfg.DataDir)
	if err != nil {
		return api.Deps{}, err
	}
	cfg.StaffTokens = append(cfg.StaffTokens, config.StaffToken{Token: token, Person: "dev-admin", Roles: []string{recovery.RoleAdmin}})
	// One person per sign-off team, so that a dev case can be signed off
	// (the admin signs for no team).
	for _, team := range recovery.Teams() {
		token, err := devTeamToken(cfg.DataDir, team)
		if err != nil {
			return api.Deps{}, err
		}
		cfg.StaffTokens = append(cfg.StaffTokens, config.StaffToken{Token: token, Person: "dev-" + string(team), Roles: []string{string(team)}})
	}
	users, err := devUserTokens(cfg)
	if err != nil {
		return api.Deps{}, err
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
		Staff:       staffTokens(cfg),
		SignIns:     signInThrottle(cfg),
		Timing:      timing,
		Logger:      log,
		UserTokens:  users,
		// recovery dev stands in for the exchange's sign-in.
		DevUserTokens: true,
		// Its worker notifies users, to notify_url or to its outbox.
		Notifications: true,
	}
	// A deposit address handed out in dev comes from the dev keystore, on
	// the local chains or on the operator's nodes, and goes into the
	// address book, as the exchange's own would.
	deps.DepositAddress = func(userID, network string) (string, error) {
		n, ok := reg.Get(network)
		if !ok {
			return "", recovery.FieldError("network", "%q is not a configured network", network)
		}
		e, err := devchain.AddressEntry(ks, userID, n)
		if err != nil {
			return "", err
		}
		return e.Address, book.Upsert(context.Background(), []addressbook.Entry{e}, time.Now(), "recovery dev")
	}
	if local != nil {
		deps.Demo = func() any { return local.Demo() }
	}
	return deps, nil
}

// devUserTokens signs users' tokens with the configured secret, or with one
// kept in the data directory.
func devUserTokens(cfg config.Config) (*api.UserTokens, error) {
	secret := cfg.UserTokenSecret
	if secret == "" {
		var err error
		if secret, err = devSecret(cfg.DataDir, "user-token-secret", 32); err != nil {
			return nil, err
		}
	}
	return api.NewUserTokens([]byte(secret), nil)
}

// devStaffToken returns the dev admin token, creating it on first run.
// casectl reads the same file.
func devStaffToken(dataDir string) (string, error) {
	return devSecret(dataDir, "staff-token", 24)
}

// devTeamToken returns the token of the dev person signing for team,
// creating it on first run; casectl --as TEAM reads the same file.
func devTeamToken(dataDir string, team recovery.Team) (string, error) {
	return devSecret(dataDir, "staff-token-"+string(team), 24)
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
	made, err := securefile.CreateOnce(path, []byte(token+"\n"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if !made { // another process starting on this data dir made it first
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return token, nil
}

func printBanner(out io.Writer, apiAddr, opsAddr string, srv *temporaldev.Server, dataDir string, lookups map[string]chains.Lookup, local *devchain.Chains) {
	hostOf := func(addr string) string {
		if h, p, err := net.SplitHostPort(addr); err == nil && (h == "::" || h == "0.0.0.0" || h == "") {
			return net.JoinHostPort("localhost", p)
		}
		return addr
	}
	host, ops := hostOf(apiAddr), hostOf(opsAddr)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Recovery engine (dev) is running.")
	fmt.Fprintf(tw, "  API and appeal form\thttp://%s/\n", host)
	fmt.Fprintf(tw, "  Health / metrics\thttp://%s/healthz  http://%s/metrics\n", ops, ops)
	fmt.Fprintf(tw, "  Temporal frontend\t%s\n", srv.FrontendAddress())
	if ui := srv.UIAddress(); ui != "" {
		fmt.Fprintf(tw, "  Temporal Web UI\thttp://%s/\n", ui)
	}
	fmt.Fprintf(tw, "  Data directory\t%s\n", dataDir)
	fmt.Fprintf(tw, "  Staff token\t%s\n", filepath.Join(dataDir, "staff-token"))
	fmt.Fprintf(tw, "  Team tokens\t%s (casectl --as wallet|settlement|security)\n", filepath.Join(dataDir, "staff-token-<team>"))
	fmt.Fprintf(tw, "  User tokens (dev)\tPOST http://%s/v1/dev/user-token {\"user_id\": \"alice\"}\n", host)
	if local != nil {
		for _, n := range local.Networks() {
			fmt.Fprintf(tw, "  Local chain %s\t%s\n", n.ID, redact(n.RPC[0]))
		}
		if local.BTCUnavailable() != nil {
			fmt.Fprintln(tw, "  Local chain btc\tnot running, no btcd: put btcd on PATH, set RECOVERY_BTCD=/path/to/btcd, have Go on PATH to build it once, or point btc at a node of yours in the config file (then no local chains start)")
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
