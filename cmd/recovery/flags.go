package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/misdeposit/recovery/config"
)

// commonFlags are the flags every server command shares. A flag given on
// the command line wins over the environment and the config file.
type commonFlags struct {
	configFile            string
	dataDir               string
	apiAddr, internalAddr string
	temporal              string
	namespace             string
	logLevel              string
	logFormat             string
	metrics               string
	// The connection to Temporal.
	temporalTLSCert, temporalTLSKey, temporalTLSCA, temporalTLSServerName string
	temporalAPIKey, temporalAPIKeyFile                                    string
}

func (f *commonFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.configFile, "config", "", "YAML config file (env RECOVERY_CONFIG)")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory (default "+config.DefaultDataDir+", env RECOVERY_DATA_DIR)")
	fl.StringVar(&f.apiAddr, "api-addr", "", "API listen address (default "+config.DefaultAPIAddr+"; recovery dev: "+config.DefaultDevAPIAddr+"; env RECOVERY_API_ADDR)")
	fl.StringVar(&f.internalAddr, "internal-addr", "", "recovery api and dev: serve /metrics and /healthz here only, not on the API address (env RECOVERY_INTERNAL_ADDR)")
	fl.StringVar(&f.temporal, "temporal-address", "", "Temporal frontend host:port (default "+config.DefaultTemporalAddress+", env RECOVERY_TEMPORAL_ADDRESS)")
	fl.StringVar(&f.namespace, "namespace", "", "Temporal namespace (default "+config.DefaultNamespace+", env RECOVERY_NAMESPACE)")
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (env RECOVERY_LOG_LEVEL)")
	fl.StringVar(&f.logFormat, "log-format", "", "text or json (env RECOVERY_LOG_FORMAT)")
	fl.StringVar(&f.temporalTLSCert, "temporal-tls-cert", "", "client certificate (PEM) for mTLS to Temporal (env RECOVERY_TEMPORAL_TLS_CERT)")
	fl.StringVar(&f.temporalTLSKey, "temporal-tls-key", "", "key (PEM) of --temporal-tls-cert (env RECOVERY_TEMPORAL_TLS_KEY)")
	fl.StringVar(&f.temporalTLSCA, "temporal-tls-ca", "", "CA certificate (PEM) the Temporal frontend's certificate must chain to; turns TLS on (env RECOVERY_TEMPORAL_TLS_CA)")
	fl.StringVar(&f.temporalTLSServerName, "temporal-tls-server-name", "", "name the Temporal frontend's certificate must carry, when not its address's host (env RECOVERY_TEMPORAL_TLS_SERVER_NAME)")
	fl.StringVar(&f.temporalAPIKey, "temporal-api-key", "", "API key sent to Temporal, over TLS; prefer --temporal-api-key-file (env RECOVERY_TEMPORAL_API_KEY)")
	fl.StringVar(&f.temporalAPIKeyFile, "temporal-api-key-file", "", "file holding the API key sent to Temporal (env RECOVERY_TEMPORAL_API_KEY_FILE)")
	fl.StringVar(&f.metrics, "metrics-addr", "", "recovery worker: where it serves /metrics and /healthz (default "+config.DefaultMetricsAddr+", env RECOVERY_METRICS_ADDR; off disables)")
}

func (f *commonFlags) load(getenv func(string) string) (config.Config, error) {
	path := f.configFile
	if path == "" {
		path = getenv("RECOVERY_CONFIG")
	}
	cfg, err := config.Load(path, getenv)
	if err != nil {
		return cfg, err
	}
	for _, o := range []struct {
		flag string
		dst  *string
	}{
		{f.dataDir, &cfg.DataDir},
		{f.apiAddr, &cfg.APIAddr},
		{f.temporal, &cfg.TemporalAddress},
		{f.namespace, &cfg.Namespace},
		{f.logLevel, &cfg.LogLevel},
		{f.logFormat, &cfg.LogFormat},
		{f.metrics, &cfg.MetricsAddr},
		{f.internalAddr, &cfg.InternalAddr},
		{f.temporalTLSCert, &cfg.TemporalTLSCert},
		{f.temporalTLSKey, &cfg.TemporalTLSKey},
		{f.temporalTLSCA, &cfg.TemporalTLSCA},
		{f.temporalTLSServerName, &cfg.TemporalTLSServerName},
		{f.temporalAPIKey, &cfg.TemporalAPIKey},
		{f.temporalAPIKeyFile, &cfg.TemporalAPIKeyFile},
	} {
		if o.flag != "" {
			*o.dst = o.flag
		}
	}
	return cfg, cfg.Validate()
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config.Validate
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
