// Package temporaldev runs a Temporal server and its Web UI inside the
// recovery process, persisted in one SQLite file, for `recovery dev` and for
// end-to-end tests. Production runs against an external Temporal cluster.
package temporaldev

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const clusterName = "active"

// Options configures the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file; "" keeps everything in memory.
	DatabaseFile string
	// VisibilityFile, when set, keeps the visibility records (the index
	// that lists and counts workflows) in a SQLite file of their own, so
	// that their writes do not wait behind the histories' on the one
	// writer SQLite allows a file. "" keeps them in DatabaseFile.
	VisibilityFile string
	// IP to bind, usually 127.0.0.1.
	IP string
	// FrontendPort is the gRPC port clients and workers dial (7233).
	FrontendPort int
	// UIPort serves the Temporal Web UI; 0 disables it.
	UIPort int
	// UICodecEndpoint is the codec endpoint the Web UI decodes payloads
	// with ("" shows them as stored).
	UICodecEndpoint string
	Namespace       string
	// SearchAttributes are registered when the namespace is created. Add
	// ones introduced later at run time with the operator service.
	SearchAttributes map[string]enumspb.IndexedValueType
	// LogLevel of the server's own logs ("error" hides the shutdown noise).
	LogLevel string
	Logger   *slog.Logger
}

// Server is a running embedded Temporal.
type Server struct {
	server   temporal.Server
	dyn      *dynamicConfig
	ui       *uiserver.Server
	frontend string
	uiAddr   string
}

// Start starts Temporal and, when asked, its Web UI. It returns once the
// frontend accepts connections.
func Start(o Options) (*Server, error) {
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.LogLevel == "" {
		o.LogLevel = "error"
	}
	if o.FrontendPort == 0 {
		p, err := FreePort(o.IP)
		if err != nil {
			return nil, err
		}
		o.FrontendPort = p
	}
	frontend := net.JoinHostPort(o.IP, strconv.Itoa(o.FrontendPort))
	if err := portFree(frontend); err != nil {
		return nil, err
	}

	sqlConf, err := o.sqlConfig()
	if err != nil {
		return nil, err
	}
	visConf := sqlConf
	if o.VisibilityFile != "" && o.DatabaseFile != "" {
		if visConf, err = fileConfig(o.VisibilityFile); err != nil {
			return nil, err
		}
	}
	// The server's internal ports are picked free just before it binds
	// them; another process may take one in between. Then the server is
	// started again on other ports (the frontend's is the caller's).
	var srv temporal.Server
	var dyn *dynamicConfig
	for attempt := 1; ; attempt++ {
		srv, dyn, err = o.startServer(sqlConf, visConf)
		if err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") || portFree(frontend) != nil {
			return nil, err
		}
	}
	s := &Server{server: srv, dyn: dyn, frontend: frontend}

	if o.UIPort != 0 {
		s.uiAddr = net.JoinHostPort(o.IP, strconv.Itoa(o.UIPort))
		if err := portFree(s.uiAddr); err != nil {
			srv.Stop()
			return nil, err
		}
		s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                o.IP,
			Port:                o.UIPort,
			TemporalGRPCAddress: frontend,
			EnableUI:            true,
			CORS:                uiconfig.CORS{CookieInsecure: true},
			Codec:               uiconfig.Codec{Endpoint: o.UICodecEndpoint},
			HideLogs:            true,
			DisableNewsFetch:    true,
		}))
		// Start blocks until Stop; a failure after a successful port check is
		// logged rather than fatal because Temporal itself keeps working.
		go func() {
			if err := s.ui.Start(); err != nil && o.Logger != nil {
				o.Logger.Error("temporal web ui stopped", "err", err)
			}
		}()
	}
	return s, nil
}

// FrontendAddress is host:port of the gRPC frontend.
func (s *Server) FrontendAddress() string { return s.frontend }

// UIAddress is host:port of the Web UI, "" when disabled.
func (s *Server) UIAddress() string { return s.uiAddr }

// SearchAttributesAdded tells the server that search attributes were just
// added: its services re-read them on every use for the next
// searchAttributesRefresh, by when their caches hold them, instead of
// refusing them until then.
func (s *Server) SearchAttributesAdded() {
	s.dyn.refreshUntil.Store(time.Now().Add(searchAttributesRefresh).UnixNano())
}

// searchAttributesRefresh covers the minute after which the server's
// services refresh their caches of the search attributes.
const searchAttributesRefresh = 70 * time.Second

// dynamicConfig is the server's fixed settings, with one exception:
// search attributes are read from the store on every use only for a while
// after new ones were added. Always on, every start and every upsert of a
// case's search attributes read them through the one SQLite connection:
// a backlog was then decided at 120 cases/s rather than 150, and ever
// slower as the store grew.
type dynamicConfig struct {
	dynamicconfig.StaticClient
	refreshUntil atomic.Int64
}

func (d *dynamicConfig) GetValue(key dynamicconfig.Key) []dynamicconfig.ConstrainedValue {
	if key == dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key() {
		return []dynamicconfig.ConstrainedValue{{Value: time.Now().UnixNano() < d.refreshUntil.Load()}}
	}
	return d.StaticClient.GetValue(key)
}

// Stop stops the UI and the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	s.server.Stop()
}

func (o Options) sqlConfig() (*config.SQL, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName}
	if o.DatabaseFile == "" {
		// The SQLite plugin creates the schema of an in-memory database
		// itself.
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = fmt.Sprintf("recovery-%d", time.Now().UnixNano())
	} else {
		var err error
		if conf, err = fileConfig(o.DatabaseFile); err != nil {
			return nil, err
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, o.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("temporal namespace: %w", err)
	}
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("temporal namespace: %w", err)
	}
	return conf, nil
}

// fileConfig is the configuration of a SQLite file, with Temporal's
// schema created in it when the file is new.
func fileConfig(path string) (*config.SQL, error) {
	// Keys other than the driver's own become pragmas: WAL lets the
	// visibility readers run beside the writer.
	conf := &config.SQL{PluginName: sqliteplugin.PluginName, DatabaseName: path, ConnectAttributes: map[string]string{
		"mode":         "rwc",
		"journal_mode": "wal",
		"synchronous":  "normal",
		"busy_timeout": "5000",
		// A case's step rewrites the same pages of a few indexes: a page
		// cache of 64 MiB keeps them read, and checkpointing the
		// write-ahead log every 16k pages instead of 1k copies each page
		// into the file once for many steps, not once for each.
		"cache_size":         "-65536",
		"wal_autocheckpoint": "16384",
	}}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("temporal database dir: %w", err)
		}
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("temporal schema: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("temporal database: %w", err)
	}
	return conf, nil
}

func (o Options) serverConfig(sqlConf, visConf *config.SQL) (*config.Config, error) {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = o.IP
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite-visibility"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}, "sqlite-visibility": {SQL: visConf}}
	httpPort, err := FreePort(o.IP)
	if err != nil {
		return nil, err
	}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             net.JoinHostPort(o.IP, strconv.Itoa(o.FrontendPort)),
				HTTPAddress:            net.JoinHostPort(o.IP, strconv.Itoa(httpPort)),
				ClusterID:              "recovery-dev",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = o.IP
		if name == "frontend" {
			svc.RPC.GRPCPort = o.FrontendPort
			svc.RPC.HTTPPort = httpPort
		} else {
			p, err := FreePort(o.IP)
			if err != nil {
				return nil, err
			}
			svc.RPC.GRPCPort = p
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = net.JoinHostPort(o.IP, strconv.Itoa(o.FrontendPort))
	return &conf, nil
}

// FreePort asks the kernel for a free TCP port on ip.
func FreePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree fails with a clear message when addr is taken, which is usually
// another `recovery dev` or a Temporal CLI dev server already running.
func portFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s is already in use (is another recovery dev or temporal server running?): %w", addr, err)
	}
	return l.Close()
}

// startServer builds and starts the Temporal server on fresh internal
// ports.
func (o Options) startServer(sqlConf, visConf *config.SQL) (temporal.Server, *dynamicConfig, error) {
	conf, err := o.serverConfig(sqlConf, visConf)
	if err != nil {
		return nil, nil, err
	}
	logger := tlog.NewZapLogger(tlog.BuildZapLogger(tlog.Config{Level: o.LogLevel, Format: "console"}))
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, svc := range []primitives.ServiceName{primitives.FrontendService, primitives.MatchingService, primitives.HistoryService, primitives.WorkerService} {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(o.IP, strconv.Itoa(conf.Services[string(svc)].RPC.GRPCPort)))
	}
	dyn := &dynamicConfig{StaticClient: dynamicconfig.StaticClient{
		dynamicconfig.FrontendPersistenceMaxQPS.Key():                    10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():                     45000,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// Workflows' mutable states kept in memory: an open case that waits
		// for days need not be, and each costs tens of KiB.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 2048,
		// One partition per task queue. Four (the default) spread a
		// backlog over partitions that a handful of pollers reach only by
		// forwarding, and a backlog of first steps was then taken at 50
		// cases/s with three quarters of the CPU idle; in one partition it
		// is taken at 110/s. A single server gains nothing from more.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
	}}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, nil, fmt.Errorf("temporal server start: %w", err)
	}
	return srv, dyn, nil
}
