package btcdnode

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// Binary finds btcd as Start does when Config.Binary is nil ($RECOVERY_BTCD,
// btcd on PATH, the source tree's `go tool btcd`) and, for a binary running
// outside its source tree, falls back to a btcd in binDir: one built there
// before, else one it builds there now with `go install` at the btcd version
// this program was built with, so the node speaks what its client expects.
// The build takes about a minute, once. binDir "" skips that fallback.
//
// The error wraps ErrNoBinary when there is no btcd and none can be built
// (no Go, no network, no btcd version in this program's build info).
func Binary(ctx context.Context, binDir string, log *slog.Logger) ([]string, error) {
	bin, err := resolveBinary(ctx, nil)
	if err == nil || !errors.Is(err, ErrNoBinary) || binDir == "" {
		return bin, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p, buildErr := buildInto(ctx, binDir, log)
	if buildErr != nil {
		if ctx.Err() != nil {
			return nil, buildErr
		}
		return nil, fmt.Errorf("%w; %w", err, buildErr)
	}
	return []string{p}, nil
}

// btcdModule is the btcd module this program was built with: what
// `go install` must build to match go.mod.
type btcdModule struct {
	path    string // module path to install from (a replacement's, if any)
	version string
	dir     string // a replacement by a local directory: build there
}

// pinnedBTCD reads the btcd module from build info; ok is false when the
// program was built without it (a test binary of another package).
func pinnedBTCD(info *debug.BuildInfo) (m btcdModule, ok bool) {
	if info == nil {
		return m, false
	}
	for _, d := range info.Deps {
		if d.Path != btcdTool {
			continue
		}
		m = btcdModule{path: d.Path, version: d.Version}
		if r := d.Replace; r != nil {
			if r.Version == "" {
				m = btcdModule{dir: r.Path}
			} else {
				m = btcdModule{path: r.Path, version: r.Version}
			}
		}
		return m, m.version != "" || m.dir != ""
	}
	return m, false
}

func (m btcdModule) String() string {
	if m.dir != "" {
		return "btcd from " + m.dir
	}
	return "btcd " + m.version
}

// buildInto returns binDir/btcd when it was built from the pinned version,
// else builds it there.
func buildInto(ctx context.Context, binDir string, log *slog.Logger) (string, error) {
	info, _ := debug.ReadBuildInfo()
	want, ok := pinnedBTCD(info)
	if !ok {
		return "", errors.New("this program was built without btcd, so there is no version of it to build")
	}
	target := filepath.Join(binDir, "btcd")
	goBin, goErr := findGo()
	if have, err := buildinfo.ReadFile(target); err == nil {
		switch {
		case want.dir == "" && have.Main.Version == want.version:
			return target, nil
		case goErr != nil:
			// Better an older btcd than none.
			log.Warn("using a btcd built for another version of recovery", "path", target, "built", have.Main.Version, "want", want.String())
			return target, nil
		}
	}
	if goErr != nil {
		return "", fmt.Errorf("no %s in %s and %w", want, binDir, goErr)
	}
	if err := os.MkdirAll(binDir, 0o700); err != nil {
		return "", err
	}

	args := []string{"install", want.path + "@" + want.version}
	if want.dir != "" {
		args = []string{"install", "."}
	}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = binDir
	if want.dir != "" {
		cmd.Dir = want.dir
	}
	cmd.Env = append(os.Environ(), "GOBIN="+binDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	log.Info(fmt.Sprintf("building %s for the local btc chain, about a minute, once", want), "into", binDir)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("building %s: %w", want, ctx.Err())
		}
		return "", fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, lastLines(out.String(), 5))
	}
	if _, err := os.Stat(target); err != nil {
		return "", fmt.Errorf("go %s left no btcd in %s", strings.Join(args, " "), binDir)
	}
	log.Info("btcd built", "path", target, "took", time.Since(start).Round(time.Second))
	return target, nil
}

// findGo is the go command: on PATH, else in $GOROOT.
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		p := filepath.Join(goroot, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("go is not on PATH to build btcd with")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
