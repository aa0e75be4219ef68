package btcdnode

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDeclaresTool(t *testing.T) {
	for _, c := range []struct {
		gomod string
		want  bool
	}{
		{"module x\n\ntool github.com/btcsuite/btcd\n", true},
		{"module x\n\ntool (\n\tgithub.com/ethereum/go-ethereum/cmd/geth\n\tgithub.com/btcsuite/btcd // node\n)\n", true},
		{"module x\n\ntool github.com/btcsuite/btcd/cmd/btcctl\n", false},
		{"module x\n\nrequire github.com/btcsuite/btcd v0.26.2\n", false},
		{"module x\n\n// tool github.com/btcsuite/btcd\n", false},
	} {
		if got := declaresTool([]byte(c.gomod), btcdTool); got != c.want {
			t.Errorf("declaresTool(%q) = %v", c.gomod, got)
		}
	}
}

func TestFindToolModuleWalksUp(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// A nested module without the tool must not stop the walk.
	if err := os.WriteFile(filepath.Join(root, "a", "go.mod"), []byte("module a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module r\n\ntool github.com/btcsuite/btcd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := findToolModule(deep)
	if err != nil || got != root {
		t.Fatalf("findToolModule = %q, %v; want %q", got, err, root)
	}
	if _, err := findToolModule(t.TempDir()); err == nil {
		t.Fatal("findToolModule found a module where there is none")
	}
}

// A btcd that exits at once must give an error quoting what it printed.
func TestStartReportsEarlyExitWithOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := resolveBinary(ctx, nil)
	if errors.Is(err, ErrNoBinary) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(ctx, Config{DataDir: t.TempDir(), Binary: append(bin, "--nosuchflag")})
	if err == nil {
		t.Fatal("Start succeeded with an unknown flag")
	}
	if !strings.Contains(err.Error(), "exited before its RPC answered") || !strings.Contains(err.Error(), "nosuchflag") {
		t.Fatalf("error does not quote btcd's output: %v", err)
	}
}
