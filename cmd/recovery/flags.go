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
	configFile string
	dataDir    string
	apiAddr    string
	temporal   string
	namespace  string
	logLevel   string
	logFormat  string
	metrics    string
}

func (f *commonFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.configFile, "config", "", "YAML config file (env RECOVERY_CONFIG)")
	fl.StringVar(&f.dataDir, "data-dir", "", "data directory (default "+config.DefaultDataDir+", env RECOVERY_DATA_DIR)")
	fl.StringVar(&f.apiAddr, "api-addr", "", "API listen address (default "+config.DefaultAPIAddr+", env RECOVERY_API_ADDR)")
	fl.StringVar(&f.temporal, "temporal-address", "", "Temporal frontend host:port (default "+config.DefaultTemporalAddress+", env RECOVERY_TEMPORAL_ADDRESS)")
	fl.StringVar(&f.namespace, "namespace", "", "Temporal namespace (default "+config.DefaultNamespace+", env RECOVERY_NAMESPACE)")
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (env RECOVERY_LOG_LEVEL)")
	fl.StringVar(&f.logFormat, "log-format", "", "text or json (env RECOVERY_LOG_FORMAT)")
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
