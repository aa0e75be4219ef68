package btcdnode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

const btcdTool = "github.com/btcsuite/btcd"

// ErrNoBinary is wrapped by Start's error when no btcd could be found or
// built, so that tests can skip rather than fail on a machine without one.
var ErrNoBinary = errors.New("no btcd binary")

// resolveBinary turns Config.Binary into a command; see Config.Binary.
func resolveBinary(ctx context.Context, explicit []string) ([]string, error) {
	if len(explicit) > 0 {
		return explicit, nil
	}
	if env := strings.Fields(os.Getenv("RECOVERY_BTCD")); len(env) > 0 {
		return env, nil
	}
	if p, err := exec.LookPath("btcd"); err == nil {
		return []string{p}, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoBinary, err)
	}
	root, err := findToolModule(wd)
	if err != nil {
		return nil, fmt.Errorf("%w: no $RECOVERY_BTCD, no btcd on PATH, and %w", ErrNoBinary, err)
	}
	p, err := goToolPath(ctx, root)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err // out of time, not out of luck
		}
		return nil, fmt.Errorf("%w: %w", ErrNoBinary, err)
	}
	return []string{p}, nil
}

// findToolModule walks up from dir to the go.mod that declares btcd as a
// tool.
func findToolModule(dir string) (string, error) {
	for d := dir; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && declaresTool(data, btcdTool) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above %s has `tool %s`", dir, btcdTool)
		}
		d = parent
	}
}

// declaresTool reports whether a go.mod has a tool directive for path, in
// either the one-line or the block form.
func declaresTool(gomod []byte, path string) bool {
	inBlock := false
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case inBlock && f[0] == ")":
			inBlock = false
		case inBlock:
			if f[0] == path {
				return true
			}
		case f[0] == "tool" && len(f) >= 2 && f[1] == "(":
			inBlock = true
		case f[0] == "tool" && len(f) >= 2 && f[1] == path:
			return true
		}
	}
	return false
}

// toolPaths caches what `go tool -n btcd` printed, per module root: asking
// costs go's start-up and a build check at every node start otherwise.
var toolPaths sync.Map

// goToolPath builds btcd with the module's pinned version (the first time
// takes about a minute) and returns the cached executable's path.
//
// Running the executable directly rather than `go tool btcd` keeps btcd the
// direct child: signals reach it without a go process in between, and the
// parent death signal applies to it.
func goToolPath(ctx context.Context, root string) (string, error) {
	if p, ok := toolPaths.Load(root); ok {
		if _, err := os.Stat(p.(string)); err == nil {
			return p.(string), nil
		}
	}
	goBin, err := findGo()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, goBin, "tool", "-n", "btcd")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n btcd in %s: %w: %s", root, err, strings.TrimSpace(stderr.String()))
	}
	p := strings.TrimSpace(string(out))
	if p == "" || strings.ContainsAny(p, "\n") {
		return "", fmt.Errorf("go tool -n btcd in %s printed %q, not a path", root, p)
	}
	toolPaths.Store(root, p)
	return p, nil
}
