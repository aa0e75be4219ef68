//go:build linux

package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// pg is the cluster of this test binary.
var pg struct {
	once   sync.Once
	skip   string // why there is no PostgreSQL to start
	err    error  // why it did not start
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	admin  *sql.DB
	dbs    atomic.Int64
}

// Database returns the URL of a new, empty database, skipping the test
// where PostgreSQL is not installed (failing it when CI is set).
func Database(t *testing.T) string {
	t.Helper()
	pg.once.Do(func() {
		if pg.err = start(); pg.err != nil {
			stop()
		}
	})
	switch {
	case pg.skip != "" && os.Getenv("CI") != "":
		// .ci/run installs PostgreSQL; a skip there would hide that it
		// did not.
		t.Fatal(pg.skip)
	case pg.skip != "":
		t.Skip(pg.skip)
	case pg.err != nil:
		t.Fatal(pg.err)
	}
	name := fmt.Sprintf("test_%d", pg.dbs.Add(1))
	if _, err := pg.admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return databaseURL(name)
}

func databaseURL(database string) string {
	return "postgres://postgres@/" + database + "?sslmode=disable&port=5432&host=" + url.QueryEscape(pg.dir)
}

func start() error {
	initdb, server, major := findPostgres()
	if initdb == "" {
		pg.skip = "PostgreSQL is not installed (no initdb and postgres on PATH or in /usr/lib/postgresql/*/bin); .ci/run installs it"
		return nil
	}
	cred, err := unprivileged()
	if err != nil {
		return err
	}
	if pg.dir, err = os.MkdirTemp("", binaryName()+"-pg-"); err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chown(pg.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(pg.dir, "data")
	args := []string{"-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"}
	if major >= 15 {
		// A locale whose collation is not byte order, as on most
		// production servers, so that the tests see what the schema's
		// COLLATE "C" is for.
		args = append(args, "--locale-provider=icu", "--icu-locale=en-US")
	}
	cmd := exec.Command(initdb, args...)
	cmd.Dir = pg.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}

	logPath := filepath.Join(pg.dir, "postgres.log")
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	pg.cmd = exec.Command(server, "-D", data, "-p", "5432", "-k", pg.dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	pg.cmd.Dir = pg.dir
	pg.cmd.Stdout, pg.cmd.Stderr = log, log
	// SIGINT is PostgreSQL's fast shutdown, sent by the kernel should the
	// test binary die before Main stops the server.
	pg.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT}
	if err := pg.cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	pg.exited = make(chan struct{})
	go func() { pg.cmd.Wait(); close(pg.exited) }()

	if pg.admin, err = sql.Open("pgx", databaseURL("postgres")); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err := pg.admin.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-pg.exited:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited: %s\n%s", pg.cmd.ProcessState, out)
		case <-ctx.Done():
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within 30s: %w\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop shuts the cluster down and removes it.
func stop() {
	if pg.admin != nil {
		pg.admin.Close()
	}
	if pg.exited != nil {
		pg.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-pg.exited:
		case <-time.After(30 * time.Second):
			pg.cmd.Process.Kill()
			<-pg.exited
		}
	}
	if pg.dir != "" {
		os.RemoveAll(pg.dir)
	}
}

// findPostgres finds initdb and postgres on PATH or, where Debian's
// packages put them, in the newest /usr/lib/postgresql/<major>/bin, and
// the server's major version. It returns "" when there is no PostgreSQL.
func findPostgres() (initdb, server string, major int) {
	dirs := []string{""}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(found, func(a, b string) int { return versionOf(b) - versionOf(a) })
	dirs = append(dirs, found...)
	for _, dir := range dirs {
		// filepath.Join("", name) is the bare name, looked up on PATH.
		initdb, err1 := exec.LookPath(filepath.Join(dir, "initdb"))
		server, err2 := exec.LookPath(filepath.Join(dir, "postgres"))
		if err1 != nil || err2 != nil {
			continue
		}
		out, err := exec.Command(server, "--version").Output()
		if err != nil {
			continue
		}
		m := majorVersion.FindSubmatch(out)
		if m == nil {
			continue
		}
		major, _ := strconv.Atoi(string(m[1]))
		return initdb, server, major
	}
	return "", "", 0
}

// majorVersion finds 15 in "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)".
var majorVersion = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

func versionOf(binDir string) int {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return int(v * 10)
}

// unprivileged is who runs PostgreSQL, which refuses to run as root: the
// postgres user that Debian's package creates, or nobody. It is nil when
// the tests are not root, and PostgreSQL runs as the test's own user.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("user %s: %w", name, err)
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("PostgreSQL will not run as root, and there is neither a postgres nor a nobody user to run it as")
}

// binaryName names the cluster's directory after the test binary, as in
// "addressbook" for addressbook.test, so that a cluster left behind says
// whose it was.
func binaryName() string {
	return strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
}
