package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/misdeposit/recovery/config"
)

// testCA issues certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate for name and its key, as PEM.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// frontend answers the call a Temporal client makes when it connects,
// and keeps the API keys it was sent.
type frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu   sync.Mutex
	auth []string
}

func (f *frontend) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.auth = append(f.auth, md.Get("authorization")...)
	f.mu.Unlock()
	return &workflowservice.GetSystemInfoResponse{ServerVersion: "test"}, nil
}

// A Temporal frontend that requires mTLS takes the engine's client with
// the certificate it was configured with, over TLS checked against the
// configured CA and name, with the API key; without a client
// certificate, with one of another CA, or without the CA that signed the
// frontend's, the connection is refused.
func TestTemporalConnectionUsesMutualTLS(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, stranger := newTestCA(t), newTestCA(t)
	srvCert, srvKey := ca.issue(t, "temporal.internal", x509.ExtKeyUsageServerAuth)
	serverPair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AddCert(ca.cert)
	fe := &frontend{}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverPair}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})))
	workflowservice.RegisterWorkflowServiceServer(gs, fe)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(l)
	defer gs.Stop()

	cert, key := ca.issue(t, "recovery-worker", x509.ExtKeyUsageClientAuth)
	otherCert, otherKey := stranger.issue(t, "recovery-worker", x509.ExtKeyUsageClientAuth)
	base := config.Default()
	base.TemporalAddress = l.Addr().String()
	base.ActionKey = "tls-test-action-key-0123456789abcdef"
	base.TemporalTLSCA = write("ca.pem", ca.pem)
	base.TemporalTLSServerName = "temporal.internal"
	base.TemporalAPIKeyFile = write("api-key", []byte("the-api-key\n"))

	dial := func(cfg config.Config) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := dialTemporal(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil {
			c.Close()
		}
		return err
	}
	good := base
	good.TemporalTLSCert, good.TemporalTLSKey = write("client.pem", cert), write("client-key.pem", key)
	if err := dial(good); err != nil {
		t.Fatalf("the configured client certificate is refused: %v", err)
	}
	fe.mu.Lock()
	auth := strings.Join(fe.auth, ",")
	fe.mu.Unlock()
	if auth != "Bearer the-api-key" {
		t.Errorf("the frontend got the API key %q, want the file's", auth)
	}

	foreign := base
	foreign.TemporalTLSCert, foreign.TemporalTLSKey = write("other.pem", otherCert), write("other-key.pem", otherKey)
	noCA := good
	noCA.TemporalTLSCA = ""
	for name, cfg := range map[string]config.Config{
		"no client certificate":         base,
		"a certificate of another CA":   foreign,
		"the frontend's CA not trusted": noCA,
	} {
		if err := dial(cfg); err == nil {
			t.Errorf("%s: connected to a frontend that requires mTLS", name)
		}
	}
}

// recovery api and recovery worker refuse to start without the action
// key, and say which setting is missing.
func TestAPIAndWorkerNeedTheActionKey(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "recovery.yaml")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+t.TempDir()+"\nuser_token_secret: action-key-test-user-token-secret-0123\nlog_level: error\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	for _, cmd := range []string{"api", "worker"} {
		err := run(context.Background(), []string{cmd, "--config", cfgPath, "--temporal-address", "127.0.0.1:1"}, noEnv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "RECOVERY_ACTION_KEY") {
			t.Errorf("recovery %s without an action key: %v, want a refusal naming RECOVERY_ACTION_KEY", cmd, err)
		}
	}
}

// recovery api and recovery worker refuse to start without a payload key,
// which would leave the users' personal data in plain text in Temporal's
// history, and say how to set one and make one; a key that is not 32
// bytes of base64 is refused too.
func TestAPIAndWorkerNeedThePayloadKey(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "recovery.yaml")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+t.TempDir()+"\nuser_token_secret: payload-key-test-user-token-secret-01\naction_key: payload-key-test-action-key-0123456789\nlog_level: error\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key string
		want      []string
	}{
		{"without a payload key", "", []string{"RECOVERY_PAYLOAD_KEY", "payload_keys", "openssl rand -base64 32"}},
		{"with a 16-byte key", "MDEyMzQ1Njc4OWFiY2RlZg==", []string{"16 bytes, want 32", "openssl rand -base64 32"}},
		{"with a key not in base64", "not base64!", []string{"not base64", "openssl rand -base64 32"}},
	} {
		env := func(k string) string {
			if k == "RECOVERY_PAYLOAD_KEY" {
				return tc.key
			}
			return ""
		}
		for _, cmd := range []string{"api", "worker"} {
			err := run(context.Background(), []string{cmd, "--config", cfgPath, "--temporal-address", "127.0.0.1:1"}, env, io.Discard, io.Discard)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("recovery %s %s: %v, want a refusal saying %q", cmd, tc.name, err, w)
				}
			}
		}
	}
}
