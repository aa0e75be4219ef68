package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/misdeposit/recovery/config"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       string            `yaml:"build"`
		Command     []string          `yaml:"command"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
	} `yaml:"services"`
}

// TestComposeMatchesTheCode checks docker-compose.yml against the code's
// defaults and commands, since no Docker engine runs the file here.
func TestComposeMatchesTheCode(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"postgresql", "temporal", "temporal-ui", "recovery-worker", "recovery-api"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
	_, apiPort, _ := net.SplitHostPort(config.DefaultAPIAddr)
	publishes := func(service string, port int) {
		t.Helper()
		for _, p := range c.Services[service].Ports {
			if strings.HasPrefix(p, strconv.Itoa(port)+":") {
				return
			}
		}
		t.Errorf("%s does not publish port %d (ports %v)", service, port, c.Services[service].Ports)
	}
	port, _ := strconv.Atoi(apiPort)
	publishes("recovery-api", port)
	// Whoever reaches Temporal or its Web UI reads every case and can
	// act on it: only the API is published.
	for name, s := range c.Services {
		if name != "recovery-api" && len(s.Ports) > 0 {
			t.Errorf("%s publishes %v; only the API may be reachable from outside the stack", name, s.Ports)
		}
	}
	// The override that shows the UI publishes it on the loopback only.
	var ui composeFile
	if raw, err := os.ReadFile("../../docker-compose.ui.yml"); err != nil {
		t.Error(err)
	} else if err := yaml.Unmarshal(raw, &ui); err != nil {
		t.Errorf("docker-compose.ui.yml: %v", err)
	}
	for name, s := range ui.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("docker-compose.ui.yml publishes %s on %q, not on the loopback only", name, p)
			}
		}
	}
	if got := ui.Services["temporal-ui"].Ports; len(got) != 1 || got[0] != "127.0.0.1:"+strconv.Itoa(config.DefaultUIPort)+":8080" {
		t.Errorf("docker-compose.ui.yml publishes the UI as %v", got)
	}

	for _, name := range []string{"recovery-worker", "recovery-api"} {
		s := c.Services[name]
		if s.Build != "." {
			t.Errorf("%s is not built from the repository's Dockerfile", name)
		}
		if !strings.HasSuffix(s.Environment["RECOVERY_TEMPORAL_ADDRESS"], ":"+strconv.Itoa(config.DefaultTemporalPort)) {
			t.Errorf("%s points at Temporal %q", name, s.Environment["RECOVERY_TEMPORAL_ADDRESS"])
		}
		// The command must be one the binary accepts, flags included.
		args := append(append([]string{}, s.Command...), "--help")
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
			t.Errorf("%s command %v is not a recovery command: %v", name, s.Command, err)
		}
		// The config file it mounts must load.
		for i, a := range s.Command {
			if a == "--config" && i+1 < len(s.Command) {
				local := strings.Replace(s.Command[i+1], "/etc/recovery", "../../deploy", 1)
				if _, err := config.Load(local, func(string) string { return "" }); err != nil {
					t.Errorf("%s config: %v", name, err)
				}
			}
		}
	}
	// What the worker writes the API reads: the address book, the ledger,
	// the keys behind the hot wallets.
	for _, v := range []string{"RECOVERY_ADDRESS_BOOK", "RECOVERY_LEDGER", "RECOVERY_KEYSTORE_DIR"} {
		w, a := c.Services["recovery-worker"].Environment[v], c.Services["recovery-api"].Environment[v]
		if w == "" || w != a {
			t.Errorf("%s: the worker has %q, the API %q; they must share it", v, w, a)
		}
	}
	if !strings.HasSuffix(c.Services["recovery-api"].Environment["RECOVERY_API_ADDR"], ":"+apiPort) {
		t.Errorf("recovery-api listens on %q, not the default port %s", c.Services["recovery-api"].Environment["RECOVERY_API_ADDR"], apiPort)
	}
	if !strings.Contains(c.Services["recovery-api"].Environment["RECOVERY_USER_TOKEN_SECRET"], "RECOVERY_USER_TOKEN_SECRET") {
		t.Error("recovery-api is not given the user token secret, which it needs to start")
	}
	// Both vouch for actions with the same action key, which must be set.
	w, a := c.Services["recovery-worker"].Environment["RECOVERY_ACTION_KEY"], c.Services["recovery-api"].Environment["RECOVERY_ACTION_KEY"]
	if !strings.HasPrefix(w, "${RECOVERY_ACTION_KEY:?") || w != a {
		t.Errorf("RECOVERY_ACTION_KEY: the worker has %q, the API %q; both need the same required variable", w, a)
	}
	// Every recovery api and recovery worker is given the same payload
	// key, or refuses to start; and the check sees a service left without.
	for _, e := range composePayloadKeys(c) {
		t.Error(e)
	}
	unkeyed := c
	unkeyed.Services = maps.Clone(c.Services)
	worker := unkeyed.Services["recovery-worker"]
	worker.Environment = maps.Clone(worker.Environment)
	delete(worker.Environment, "RECOVERY_PAYLOAD_KEY")
	unkeyed.Services["recovery-worker"] = worker
	if errs := composePayloadKeys(unkeyed); len(errs) == 0 {
		t.Error("a worker without RECOVERY_PAYLOAD_KEY passes the payload key check")
	}
	if ui := c.Services["temporal-ui"].Environment["TEMPORAL_ADDRESS"]; !strings.HasSuffix(ui, ":"+strconv.Itoa(config.DefaultTemporalPort)) {
		t.Errorf("temporal-ui points at %q", ui)
	}
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil || !strings.Contains(string(dockerfile), "./cmd/recovery") {
		t.Errorf("Dockerfile does not build ./cmd/recovery: %v", err)
	}
}

// composePayloadKeys says which services of c that run recovery api or
// recovery worker would start without a payload key, or with a key other
// than the others', when the operator's .env sets the variables the file
// requires: the configuration each one loads from its environment and the
// config file it mounts is checked as the commands check it.
func composePayloadKeys(c composeFile) []string {
	var errs []string
	required := map[string]string{} // the .env: a value for each required variable
	var keys []config.PayloadKey
	keyedBy := ""
	for _, name := range slices.Sorted(maps.Keys(c.Services)) {
		s := c.Services[name]
		if len(s.Command) == 0 || (s.Command[0] != "api" && s.Command[0] != "worker") {
			continue
		}
		cfgPath := ""
		for i, a := range s.Command {
			if a == "--config" && i+1 < len(s.Command) {
				cfgPath = strings.Replace(s.Command[i+1], "/etc/recovery", "../../deploy", 1)
			}
		}
		cfg, err := config.Load(cfgPath, composeEnv(s.Environment, required))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if err := needPayloadKey(cfg); err != nil {
			errs = append(errs, fmt.Sprintf("%s is given no payload key: %v", name, err))
			continue
		}
		if _, err := payloadCodec(cfg); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if keyedBy == "" {
			keys, keyedBy = cfg.PayloadKeys, name
		} else if !slices.Equal(keys, cfg.PayloadKeys) {
			errs = append(errs, fmt.Sprintf("%s and %s are given different payload keys: one cannot read the other's cases", keyedBy, name))
		}
	}
	return errs
}

// composeVar is a variable reference in a compose file: ${NAME},
// ${NAME:?message}, ${NAME:-default} and their forms without the colon.
var composeVar = regexp.MustCompile(`\$\{(\w+)(?::?([?-])([^}]*))?\}`)

// composeEnv is a service's environment as compose hands it over when the
// operator's .env sets exactly the variables the file requires: those get
// their value in required (made there, 32 random bytes in base64, when
// missing), a variable with a default its default, any other one nothing.
func composeEnv(env, required map[string]string) func(string) string {
	return func(key string) string {
		return composeVar.ReplaceAllStringFunc(env[key], func(ref string) string {
			m := composeVar.FindStringSubmatch(ref)
			switch m[2] {
			case "?":
				if _, ok := required[m[1]]; !ok {
					b := make([]byte, 32)
					rand.Read(b)
					required[m[1]] = base64.StdEncoding.EncodeToString(b)
				}
				return required[m[1]]
			case "-":
				return m[3]
			}
			return ""
		})
	}
}
