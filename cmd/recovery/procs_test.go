package main

import (
	"bufio"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildRecovery builds this command into a directory of the test's own
// and returns the binary's path. The build shares the test's environment
// (GOFLAGS, GOTOOLCHAIN) and its build cache, so after the test binary's
// own build it mostly links; without the symbol table and DWARF (-s -w)
// the link takes half as long, and a panic still names its functions and
// lines.
func buildRecovery(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "recovery")
	start := time.Now()
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("recovery built in %s", time.Since(start).Round(100*time.Millisecond))
	return bin
}

// child is a recovery command running as an OS process of its own.
type child struct {
	name    string
	cmd     *exec.Cmd
	logFile string // the file its output goes to
	exited  chan struct{}
	err     error // how it exited, once exited is closed
}

// startChild runs bin with args in a process group of its own, its output
// in a file. When the test ends the group is killed; a test that failed
// shows the tail of what the process wrote.
func startChild(t *testing.T, name, bin string, args ...string) *child {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &child{name: name, cmd: exec.Command(bin, args...), logFile: logPath, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	// The engine's settings come from the config file and flags the test
	// gives, never from the environment the test runs in.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RECOVERY_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s (pid %d) wrote, last lines:\n%s", name, p.cmd.Process.Pid, logTail(logPath, 30))
		}
	})
	return p
}

// kill ends the process and anything it started at once (SIGKILL to its
// group), as a machine that dies does, and waits until it is gone.
func (p *child) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// running reports an error if the process has exited.
func (p *child) running() error {
	select {
	case <-p.exited:
		return errors.New(p.name + " exited: " + exitStatus(p.err) + "\n" + logTail(p.logFile, 30))
	default:
		return nil
	}
}

func exitStatus(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// waitHealthy waits until url answers 200, or fails the test when the
// process exits or a minute passes.
func (p *child) waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if err := p.running(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s within a minute\n%s", p.name, url, logTail(p.logFile, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logTail is the last n lines of the file at path.
func logTail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// promSum is the sum of the series of a Prometheus metric served at url
// whose labels contain every one of match.
func promSum(url, name string, match ...string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, m := range match {
			if !strings.Contains(line, m) {
				continue lines
			}
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				sum += v
			}
		}
	}
	return sum, sc.Err()
}

// cpu is the CPU time the process has used, to the end when it is gone.
func (p *child) cpu() time.Duration {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	default:
		return cpuTime(p.cmd.Process.Pid)
	}
}

// cpuTime is the CPU time (user and system) process pid has used, read
// from /proc in clock ticks of 10 ms; 0 when there is no such process.
func cpuTime(pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is the first, utime the 12th, stime the 13th.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(fields[11], 10, 64)
	sys, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(user+sys) * 10 * time.Millisecond
}
