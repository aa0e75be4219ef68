package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/activities"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/api"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/devchain/keystore"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/internal/obs"
	"github.com/misdeposit/recovery/ledger"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/signer"
	"github.com/misdeposit/recovery/workflows"
	"github.com/misdeposit/recovery/workflows/policyclient"
)

func dialTemporal(ctx context.Context, cfg config.Config, log *slog.Logger) (client.Client, error) {
	keys, err := actionKeys(cfg)
	if err != nil {
		return nil, err
	}
	tlsConfig, err := temporalTLS(cfg)
	if err != nil {
		return nil, err
	}
	creds, err := temporalCredentials(cfg)
	if err != nil {
		return nil, err
	}
	codec, err := payloadCodec(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.Namespace,
		Logger:    sdklog.NewStructuredLogger(log.With("component", "temporal-client")),
		// The workflows' case metrics (time to quote, sign-off waits) go
		// to Prometheus; the SDK's own metrics are dropped.
		MetricsHandler:    obs.Handler{},
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: compressionFor(cfg.TemporalAddress), TLS: tlsConfig},
		Credentials:       creds,
		// Payloads (user ids, addresses, memos, contacts) are stored in
		// Temporal's history encrypted.
		DataConverter: dataConverter(codec),
		// Every update and start this client sends is stamped with the
		// action key, and every worker made from it refuses the unstamped.
		Interceptors: []interceptor.ClientInterceptor{keys.Interceptor()},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return c, nil
}

// compressionFor is how requests to the Temporal frontend at addr are
// compressed: not at all on this machine, where gzip costs CPU (4% of the
// engine's under a backlog) and saves no time, and with gzip, the SDK's
// default, across a network.
func compressionFor(addr string) client.GrpcCompression {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return &client.GrpcCompressionNone{}
	}
	return &client.GrpcCompressionGzip{}
}

// ensureSearchAttributes registers the engine's search attributes that the
// namespace does not have yet, so that a namespace created by an older
// version (or by an operator) gets the new ones at start. added says
// whether it registered any.
func ensureSearchAttributes(ctx context.Context, c client.Client, namespace string) (added bool, err error) {
	ops := c.OperatorService()
	have, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return false, fmt.Errorf("list search attributes: %w", err)
	}
	missing := workflows.SearchAttributes()
	for name := range have.GetCustomAttributes() {
		delete(missing, name)
	}
	if len(missing) == 0 {
		return false, nil
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return false, fmt.Errorf("add search attributes: %w", err)
	}
	return true, nil
}

// boundWorkflowCache sets how many cases the process's workers keep in
// memory between their steps (config workflow_cache). The SDK keeps one
// cache for every worker of a process and sizes it when the first worker
// starts, and an embedded Temporal server starts workers of its own, so
// this runs before Temporal does.
func boundWorkflowCache(cfg config.Config) {
	worker.SetStickyWorkflowCacheSize(cfg.WorkflowCache)
}

// engineWorker is a process's workers: one on the cases' task queue, and
// one on the task queue of each chain family the process sends for.
type engineWorker struct {
	workers []worker.Worker
	queues  []string
}

// Start starts every worker, or none.
func (e *engineWorker) Start() error {
	for i, w := range e.workers {
		if err := w.Start(); err != nil {
			for _, started := range e.workers[:i] {
				started.Stop()
			}
			return err
		}
	}
	return nil
}

// Queues names the task queues the workers serve.
func (e *engineWorker) Queues() []string { return e.queues }

// Stop stops every worker.
func (e *engineWorker) Stop() {
	for _, w := range e.workers {
		w.Stop()
	}
}

// newWorker is the workers of a process that serves the cases and sends
// the recovery transactions of the families given (config
// worker_families).
func newWorker(c client.Client, acts *activities.Activities, families []recovery.Family) *engineWorker {
	e := &engineWorker{workers: []worker.Worker{newCaseWorker(c, acts)}, queues: []string{workflows.TaskQueue}}
	for _, f := range families {
		q := workflows.FamilyTaskQueue(f)
		w := worker.New(c, q, worker.Options{})
		registerSendActivities(w, acts)
		e.workers = append(e.workers, w)
		e.queues = append(e.queues, q)
	}
	return e
}

// registerSendActivities registers the activities that send a recovery's
// transactions and follow them: on a family's task queue since
// familyQueueChange, on the cases' queue for cases started before it.
func registerSendActivities(w worker.Worker, acts *activities.Activities) {
	w.RegisterActivityWithOptions(acts.SendRecovery, activity.RegisterOptions{Name: workflows.SendRecoveryActivityName})
	w.RegisterActivityWithOptions(acts.CheckRecovery, activity.RegisterOptions{Name: workflows.CheckRecoveryActivityName})
	w.RegisterActivityWithOptions(acts.SendBatch, activity.RegisterOptions{Name: workflows.SendBatchActivityName})
}

func newCaseWorker(c client.Client, acts *activities.Activities) worker.Worker {
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.AppealWorkflow, workflow.RegisterOptions{Name: workflows.AppealWorkflowName})
	w.RegisterActivityWithOptions(acts.LookupDeposit, activity.RegisterOptions{Name: workflows.LookupActivityName})
	w.RegisterActivityWithOptions(acts.Diagnose, activity.RegisterOptions{Name: workflows.DiagnoseActivityName})
	w.RegisterActivityWithOptions(acts.QuoteFee, activity.RegisterOptions{Name: workflows.QuoteActivityName})
	w.RegisterActivityWithOptions(acts.Redecide, activity.RegisterOptions{Name: workflows.RedecideActivityName})
	w.RegisterWorkflowWithOptions(workflows.PolicyWorkflow, workflow.RegisterOptions{Name: workflows.PolicyWorkflowName})
	w.RegisterActivityWithOptions(acts.ResumeParked, activity.RegisterOptions{Name: workflows.ResumeActivityName})
	w.RegisterActivityWithOptions(acts.PlanRecovery, activity.RegisterOptions{Name: workflows.PlanRecoveryActivityName})
	registerSendActivities(w, acts)
	w.RegisterActivityWithOptions(acts.CreditRecovery, activity.RegisterOptions{Name: workflows.CreditActivityName})
	w.RegisterActivityWithOptions(acts.JoinCase, activity.RegisterOptions{Name: workflows.JoinActivityName})
	w.RegisterActivityWithOptions(acts.PostReturn, activity.RegisterOptions{Name: workflows.ReturnActivityName})
	w.RegisterWorkflowWithOptions(workflows.BatchWorkflow, workflow.RegisterOptions{Name: workflows.BatchWorkflowName})
	w.RegisterActivityWithOptions(acts.JoinBatch, activity.RegisterOptions{Name: workflows.JoinBatchActivityName})
	w.RegisterActivityWithOptions(acts.LockBatchMembers, activity.RegisterOptions{Name: workflows.LockBatchActivityName})
	w.RegisterActivityWithOptions(acts.PlanBatch, activity.RegisterOptions{Name: workflows.PlanBatchActivityName})
	w.RegisterActivityWithOptions(acts.NotifyBatch, activity.RegisterOptions{Name: workflows.NotifyBatchActivityName})
	w.RegisterActivityWithOptions(acts.NotifyUser, activity.RegisterOptions{Name: workflows.NotifyActivityName})
	return w
}

// newActivities wires the activities to the engine's parts: the chains
// through their node pools, the address book, prices, the signer and the
// ledger the recovery writes to.
func newActivities(c client.Client, cfg config.Config, reg *chains.Registry, scanner *chains.Scanner, quoting *nodes, book *addressbook.Store, px fees.Prices, sg signer.Signer, journal *ledger.Store) *activities.Activities {
	acts := &activities.Activities{
		Registry: reg, Scanner: scanner, AddressBook: book, Prices: px, Nodes: quoting, Send: quoting,
		Policies: policyclient.NewSource(c), Temporal: c, Namespace: cfg.Namespace,
	}
	// A nil pointer in an interface would not read as "none".
	if sg != nil {
		acts.Signer = sg
	}
	if journal != nil {
		acts.Ledger = journal
	}
	// Users are told of their case in the words of their timeline.
	acts.Texts = api.Message
	if cfg.NotifyURL != "" {
		acts.Notifier = &activities.Webhook{URL: cfg.NotifyURL, Secret: []byte(cfg.NotifySecret)}
	}
	return acts
}

// openSigner is the signer of the configured keystore, nil without one.
func openSigner(cfg config.Config) (signer.Signer, error) {
	if cfg.KeystoreDir == "" {
		return nil, nil
	}
	ks, err := keystore.Open(cfg.KeystoreDir)
	if err != nil {
		return nil, err
	}
	return signer.NewKeystore(ks), nil
}

// applyPolicyFile applies the configured policy file when its version is
// not the one in force. An invalid file stops the start: the policy in
// force stays, and the operator sees every problem.
func applyPolicyFile(ctx context.Context, c client.Client, cfg config.Config, reg *chains.Registry, log *slog.Logger) error {
	if cfg.PolicyFile == "" {
		return nil
	}
	doc, err := os.ReadFile(cfg.PolicyFile)
	if err != nil {
		return fmt.Errorf("policy file: %w", err)
	}
	res, err := policyclient.Apply(ctx, c, doc, "policy_file "+filepath.Base(cfg.PolicyFile), reg.Networks())
	var ve *policy.ValidationError
	if errors.As(err, &ve) {
		return fmt.Errorf("policy file %s is not applied:\n%s", cfg.PolicyFile, ve.Error())
	}
	if err != nil {
		return fmt.Errorf("policy file %s: %w", cfg.PolicyFile, err)
	}
	if res.Unchanged {
		log.Info("policy in force", "version", res.Applied.Version, "seq", res.Applied.Seq)
	} else {
		log.Info("policy applied", "version", res.Applied.Version, "seq", res.Applied.Seq, "resumes", len(res.Applied.Resumes))
	}
	return nil
}

// prices is the price source of the configuration: the price file when
// one is given, else the dev prices in dev and none in production.
func prices(cfg config.Config, dev bool) (fees.Prices, error) {
	switch {
	case cfg.PriceFile != "":
		return fees.LoadStaticPrices(cfg.PriceFile)
	case dev:
		return fees.DevPrices(), nil
	}
	return nil, nil
}

// families are the chain families whose transactions the process's
// worker sends (Validate has read worker_families).
func families(cfg config.Config) []recovery.Family {
	fs, _ := cfg.Families()
	return fs
}

// signInThrottle counts failed sign-ins per client, behind the
// configured trusted proxies (Validate has read them).
func signInThrottle(cfg config.Config) *api.SignInThrottle {
	proxies, _ := cfg.TrustedProxyPrefixes()
	return api.NewSignInThrottle(proxies...)
}

// staffTokens is the staff the configuration admits, by their tokens'
// hashes (Validate has checked each one).
func staffTokens(cfg config.Config) *api.StaffTokens {
	out := api.NewStaffTokens()
	for _, t := range cfg.StaffTokens {
		if sum, err := t.Sum(); err == nil {
			out.Add(sum, api.Staff{Person: t.Person, Roles: t.Roles})
		}
	}
	return out
}

// serveHTTP serves h on addr until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// A whole request is small (appeals, actions, an address book
		// import): a client that trickles one is cut off.
		ReadTimeout: 60 * time.Second,
		// Each handler's work is bounded by the API's request timeout;
		// this bounds the writing of the answer too.
		WriteTimeout:   api.DefaultRequestTimeout + 30*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(shutCtx)
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
			err = errors.Join(err, e)
		}
		return err
	}
}

// listenInternal takes the internal address for /metrics and /healthz,
// when one is configured; nil when not.
func listenInternal(cfg config.Config) (net.Listener, error) {
	if cfg.InternalAddr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", cfg.InternalAddr)
	if err != nil {
		return nil, fmt.Errorf("internal address %s: %w", cfg.InternalAddr, err)
	}
	return l, nil
}

// serveBoth serves the API on l and, when internal is not nil, the
// operations handler there, until ctx ends or either fails.
func serveBoth(ctx context.Context, l net.Listener, h http.Handler, internal net.Listener, ops http.Handler, log *slog.Logger) error {
	if internal == nil {
		return serveHTTP(ctx, l, h)
	}
	log.Info("health and metrics listening", "addr", internal.Addr().String())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- serveHTTP(ctx, internal, ops)
		cancel()
	}()
	err := serveHTTP(ctx, l, h)
	cancel()
	return errors.Join(err, <-errc)
}

func listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("API address %s: %w", addr, err)
	}
	return l, nil
}
