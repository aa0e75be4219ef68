package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/misdeposit/recovery/config"
	"github.com/misdeposit/recovery/internal/vouch"
	"github.com/misdeposit/recovery/workflows"
)

// actionKeys are the keys the engine's client stamps its updates and
// starts with and its workers check them with (config action_key).
func actionKeys(cfg config.Config) (*vouch.Keys, error) {
	if cfg.ActionKey == "" {
		return nil, errors.New("action_key is required: the key the API and the workers vouch for every action on a case with, the same in both, at least 32 characters (RECOVERY_ACTION_KEY)")
	}
	var previous []vouch.Key
	for _, k := range cfg.PreviousActionKeys {
		previous = append(previous, vouch.Key{ID: k.ID, Secret: []byte(k.Key)})
	}
	keys, err := vouch.NewKeys(vouch.Key{ID: cfg.ActionKeyID, Secret: []byte(cfg.ActionKey)}, previous,
		// The engine starts these with update-with-start only.
		workflows.BatchWorkflowName, workflows.PolicyWorkflowName)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return keys, nil
}

// temporalTLS is the TLS of the connection to Temporal, nil for plain
// gRPC: on with any of the TLS settings or an API key (which must never
// travel in the clear).
func temporalTLS(cfg config.Config) (*tls.Config, error) {
	if cfg.TemporalTLSCert == "" && cfg.TemporalTLSCA == "" && cfg.TemporalTLSServerName == "" && cfg.TemporalAPIKey == "" && cfg.TemporalAPIKeyFile == "" {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TemporalTLSServerName}
	if cfg.TemporalTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TemporalTLSCert, cfg.TemporalTLSKey)
		if err != nil {
			return nil, fmt.Errorf("temporal_tls_cert/temporal_tls_key: %w", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	if cfg.TemporalTLSCA != "" {
		pem, err := os.ReadFile(cfg.TemporalTLSCA)
		if err != nil {
			return nil, fmt.Errorf("temporal_tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("temporal_tls_ca: %s holds no PEM certificate", cfg.TemporalTLSCA)
		}
		t.RootCAs = pool
	}
	return t, nil
}

// temporalCredentials are the API key sent to Temporal, nil without one.
func temporalCredentials(cfg config.Config) (client.Credentials, error) {
	key := cfg.TemporalAPIKey
	if cfg.TemporalAPIKeyFile != "" {
		b, err := os.ReadFile(cfg.TemporalAPIKeyFile)
		if err != nil {
			return nil, fmt.Errorf("temporal_api_key_file: %w", err)
		}
		if key = strings.TrimSpace(string(b)); key == "" {
			return nil, fmt.Errorf("temporal_api_key_file: %s is empty", cfg.TemporalAPIKeyFile)
		}
	}
	if key == "" {
		return nil, nil
	}
	return client.NewAPIKeyStaticCredentials(key), nil
}
