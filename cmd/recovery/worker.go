package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/internal/obs"
	"github.com/misdeposit/recovery/ledger"
)

// cluster is what `recovery worker` and `recovery api` share: the
// configuration, a connection to an external Temporal and the chain
// adapters.
type cluster struct {
	cfg      config.Config
	log      *slog.Logger
	reg      *chains.Registry
	temporal client.Client
	scanner  *chains.Scanner
	nodes    *nodes
}

func connect(ctx context.Context, f *commonFlags, getenv func(string) string, stderr io.Writer) (*cluster, error) {
	cfg, err := f.load(getenv)
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, stderr)
	// Refused before dialling, with every missing secret named at once.
	_, errActionKey := actionKeys(cfg)
	if err := errors.Join(errActionKey, needPayloadKey(cfg)); err != nil {
		return nil, err
	}
	reg, err := cfg.Registry()
	if err != nil {
		return nil, err
	}
	c, err := dialTemporal(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	lookups, quoting, err := buildLookups(ctx, reg, log)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &cluster{cfg: cfg, log: log, reg: reg, temporal: c, scanner: chains.NewScanner(reg, lookups), nodes: quoting}, nil
}

func workerCmd(getenv func(string) string, stderr io.Writer) *cobra.Command {
	var f commonFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the workflow worker against an external Temporal cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cl, err := connect(ctx, &f, getenv, stderr)
			if err != nil {
				return err
			}
			defer cl.temporal.Close()
			if _, err := ensureSearchAttributes(ctx, cl.temporal, cl.cfg.Namespace); err != nil {
				cl.log.Warn("search attributes not registered; queues may be incomplete", "err", err)
			}
			book, err := addressbook.Open(ctx, cl.cfg.AddressBookPath())
			if err != nil {
				return err
			}
			defer book.Close()
			px, err := prices(cl.cfg, false)
			if err != nil {
				return err
			}
			if px == nil {
				cl.log.Warn("no price file (RECOVERY_PRICE_FILE): deposits are unpriced, and policy rules that need a price park them")
			}
			journal, err := ledger.Open(ctx, cl.cfg.LedgerPath())
			if err != nil {
				return err
			}
			defer journal.Close()
			sg, err := openSigner(cl.cfg)
			if err != nil {
				return err
			}
			if sg == nil {
				cl.log.Warn("no signer (RECOVERY_KEYSTORE_DIR): approved recoveries wait in recovering until a worker with a signer takes them")
			}
			if cl.cfg.NotifyURL == "" {
				cl.log.Warn("no notify_url (RECOVERY_NOTIFY_URL): users are not notified, and the API refuses appeals that give a contact")
			}
			boundWorkflowCache(cl.cfg)
			w := newWorker(cl.temporal, newActivities(cl.temporal, cl.cfg, cl.reg, cl.scanner, cl.nodes, book, px, sg, journal), families(cl.cfg))
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			if err := applyPolicyFile(ctx, cl.temporal, cl.cfg, cl.reg, cl.log); err != nil {
				w.Stop()
				return err
			}
			cl.log.Info("worker running", "temporal", cl.cfg.TemporalAddress, "namespace", cl.cfg.Namespace, "networks", len(cl.scanner.Networks()), "task_queues", w.Queues())
			if addr := cl.cfg.MetricsAddr; addr != "" && addr != "off" {
				l, err := listen(addr)
				if err != nil {
					w.Stop()
					return fmt.Errorf("metrics address: %w", err)
				}
				cl.log.Info("worker metrics", "addr", l.Addr().String())
				go func() {
					if err := serveHTTP(ctx, l, workerMetrics()); err != nil {
						cl.log.Error("worker metrics stopped", "err", err)
					}
				}()
			}
			<-ctx.Done()
			w.Stop()
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

// workerMetrics serves the worker's metrics (chain nodes, case metrics)
// and a liveness answer.
func workerMetrics() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(obs.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	return mux
}
