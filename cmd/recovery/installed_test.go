package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInstalledBinaryDevStack runs `recovery dev` as a user who installed
// the binary does: built into a directory of its own, started from a
// working directory outside the source tree, with a minimal environment.
// Without btcd and without Go the stack starts without btc and says how to
// add it; with RECOVERY_BTCD the same data gets its btc chain and btc demo
// deposit; with only Go on PATH it builds btcd into the data directory once.
func TestInstalledBinaryDevStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts the whole engine three times")
	}
	recoveryBin := buildRecovery(t)
	tmp := t.TempDir()
	btcdBin := filepath.Join(tmp, "btcd")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", btcdBin, "github.com/btcsuite/btcd").CombinedOutput(); err != nil {
		t.Fatalf("go build btcd: %v\n%s", err, out)
	}
	t.Logf("btcd built in %s", time.Since(start).Round(100*time.Millisecond))

	emptyBin := filepath.Join(tmp, "emptybin")
	home := filepath.Join(tmp, "home")
	for _, d := range []string{emptyBin, home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing but PATH and HOME: no GOROOT, no Go on PATH, no btcd.
	bare := []string{"PATH=" + emptyBin, "HOME=" + home}
	data := filepath.Join(tmp, "data")

	t.Run("without btcd or Go", func(t *testing.T) {
		e := startInstalled(t, recoveryBin, data, bare)
		banner := e.output()
		if !regexp.MustCompile(`Local chain btc\s+not running, no btcd: put btcd on PATH, set RECOVERY_BTCD`).MatchString(banner) {
			t.Fatalf("the banner does not say how to add btc:\n%s", banner)
		}
		if strings.Contains(banner, "building btcd") {
			t.Fatalf("tried to build btcd without Go:\n%s", banner)
		}
		if got := e.lookups(t); got["btc"] || !got["eth"] || !got["bsc"] {
			t.Fatalf("networks with a node: %v; want eth and bsc, not btc", got)
		}
		demo := e.demo(t)
		if _, ok := demo["btc-deposit"]; ok {
			t.Fatal("a btc demo deposit is listed without a btc chain")
		}
		// EVM works: an eth demo deposit is found on its chain.
		d, ok := demo["small-deposit"]
		if !ok {
			t.Fatalf("no eth demo deposit: %v", demo)
		}
		e.lookUp(t, d, "eth")
		e.stop(t)
	})

	t.Run("with RECOVERY_BTCD", func(t *testing.T) {
		// The same data directory: btc joins it, with its demo deposit.
		e := startInstalled(t, recoveryBin, data, append(bare, "RECOVERY_BTCD="+btcdBin))
		if banner := e.output(); !regexp.MustCompile(`Local chain btc\s+http://\*\*\*@127\.0\.0\.1:\d+`).MatchString(banner) {
			t.Fatalf("the banner shows no btc chain:\n%s", banner)
		}
		if got := e.lookups(t); !got["btc"] || !got["eth"] {
			t.Fatalf("networks with a node: %v; want btc and eth", got)
		}
		d, ok := e.demo(t)["btc-deposit"]
		if !ok {
			t.Fatal("no btc demo deposit after btc started")
		}
		e.lookUp(t, d, "btc")
		e.stop(t)
	})

	t.Run("Go on PATH builds btcd once", func(t *testing.T) {
		goBin, err := exec.LookPath("go")
		if err != nil {
			t.Skip("no go on PATH")
		}
		// Go finds the module and build caches the test uses: a warm
		// build, as on a developer's machine.
		env := []string{"PATH=" + filepath.Dir(goBin), "HOME=" + home}
		out, err := exec.Command(goBin, "env", "GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOSUMDB", "GOTOOLCHAIN").Output()
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOSUMDB", "GOTOOLCHAIN"} {
			env = append(env, name+"="+strings.Split(string(out), "\n")[i])
		}
		data := filepath.Join(tmp, "data-go")
		e := startInstalled(t, recoveryBin, data, env)
		banner := e.output()
		if !strings.Contains(banner, "building btcd v0.26") || !regexp.MustCompile(`Local chain btc\s+http://`).MatchString(banner) {
			t.Fatalf("btcd was not built, or btc did not start:\n%s", banner)
		}
		if m := regexp.MustCompile(`btcd built.*took=(\S+)`).FindStringSubmatch(banner); m != nil {
			t.Logf("one-time btcd build took %s", m[1])
		}
		if _, err := os.Stat(filepath.Join(data, "bin", "btcd")); err != nil {
			t.Fatalf("btcd is not kept in the data directory: %v", err)
		}
		if got := e.lookups(t); !got["btc"] {
			t.Fatalf("networks with a node: %v; want btc", got)
		}
		e.stop(t)
	})
}

// installed is a `recovery dev` started as an installed binary.
type installed struct {
	*child
	api   string
	data  string
	token string
}

// startInstalled runs bin dev on data from a working directory outside the
// module, with env as its whole environment, and waits for its banner.
func startInstalled(t *testing.T, bin, data string, env []string) *installed {
	t.Helper()
	work := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "recovery.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &child{name: "recovery dev", logFile: logPath, exited: make(chan struct{}),
		cmd: exec.Command(bin, "dev", "--data-dir", data, "--api-addr", "127.0.0.1:0",
			"--temporal-address", "127.0.0.1:"+freePort(t), "--ui-port", "-1")}
	p.cmd.Dir, p.cmd.Env = work, env
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		out.Close()
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("recovery dev wrote, last lines:\n%s", logTail(logPath, 40))
		}
	})
	e := &installed{child: p, data: data}
	deadline := time.Now().Add(4 * time.Minute)
	for e.api == "" {
		if err := p.running(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("recovery dev did not start in time\n%s", logTail(logPath, 40))
		}
		time.Sleep(200 * time.Millisecond)
		if m := apiLine.FindStringSubmatch(e.output()); m != nil {
			e.api = m[1]
		}
	}
	t.Logf("recovery dev up in %s", time.Since(start).Round(100*time.Millisecond))
	e.token = staffToken(t, data)
	return e
}

func (e *installed) output() string {
	raw, _ := os.ReadFile(e.logFile)
	return string(raw)
}

// lookups is which networks the engine has a node for, as /v1/networks says.
func (e *installed) lookups(t *testing.T) map[string]bool {
	t.Helper()
	var nets struct {
		Networks []struct {
			ID     string `json:"id"`
			Lookup bool   `json:"lookup"`
		} `json:"networks"`
	}
	if code := call(t, "GET", e.api+"/v1/networks", "", nil, &nets); code != 200 {
		t.Fatalf("GET /v1/networks: %d", code)
	}
	got := map[string]bool{}
	for _, n := range nets.Networks {
		if n.Lookup {
			got[n.ID] = true
		}
	}
	return got
}

func (e *installed) demo(t *testing.T) map[string]demoDeposit {
	t.Helper()
	var demo struct{ Deposits []demoDeposit }
	if code := call(t, "GET", e.api+"/v1/demo", e.token, nil, &demo); code != 200 {
		t.Fatalf("GET /v1/demo: %d", code)
	}
	out := map[string]demoDeposit{}
	for _, d := range demo.Deposits {
		out[d.Name] = d
	}
	return out
}

// lookUp files an appeal for a demo deposit as its user and waits until the
// engine has found the deposit on network.
func (e *installed) lookUp(t *testing.T, d demoDeposit, network string) {
	t.Helper()
	var issued struct{ Token string }
	if code := call(t, "POST", e.api+"/v1/dev/user-token", "", map[string]any{"user_id": d.UserID}, &issued); code != 200 {
		t.Fatalf("dev user token: %d", code)
	}
	var created struct {
		AppealID string `json:"appeal_id"`
	}
	appeal := map[string]any{"tx_hash": d.TxHash, "to_address": d.ToAddress, "user_id": d.UserID}
	if code := call(t, "POST", e.api+"/v1/appeals", issued.Token, appeal, &created); code != 202 {
		t.Fatalf("appeal for %s: %d", d.Name, code)
	}
	st := waitFor(t, e.api, issued.Token, created.AppealID, "found on "+network, func(st appealStatus) bool {
		return st.Network == network && st.Deposit != nil
	})
	if st.Deposit.Amount != d.Amount {
		t.Fatalf("%s found for %s, the demo sent %s", d.Name, st.Deposit.Amount, d.Amount)
	}
}

// stop interrupts the engine as Ctrl-C does and expects a clean exit.
func (e *installed) stop(t *testing.T) {
	t.Helper()
	_ = e.cmd.Process.Signal(os.Interrupt)
	select {
	case <-e.exited:
		if e.err != nil {
			t.Fatalf("recovery dev exited with %v\n%s", e.err, logTail(e.logFile, 30))
		}
	case <-time.After(time.Minute):
		t.Fatalf("recovery dev did not stop within a minute of Ctrl-C\n%s", logTail(e.logFile, 30))
	}
}
