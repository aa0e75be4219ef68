package btcdnode

import (
	"runtime/debug"
	"testing"
)

// The btcd an installed binary builds is the one its go.mod pinned, or what
// go.mod replaced it with.
func TestPinnedBTCDFollowsGoMod(t *testing.T) {
	dep := func(path, version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: replace}
	}
	for _, c := range []struct {
		name string
		deps []*debug.Module
		want btcdModule
		ok   bool
	}{
		{"pinned", []*debug.Module{dep("github.com/btcsuite/btcd/wire/v2", "v2.0.1", nil), dep(btcdTool, "v0.26.2", nil)},
			btcdModule{path: btcdTool, version: "v0.26.2"}, true},
		{"replaced by a fork", []*debug.Module{dep(btcdTool, "v0.26.2", dep("example.com/fork/btcd", "v0.26.3-fix", nil))},
			btcdModule{path: "example.com/fork/btcd", version: "v0.26.3-fix"}, true},
		{"replaced by a directory", []*debug.Module{dep(btcdTool, "v0.26.2", dep("../btcd", "", nil))},
			btcdModule{dir: "../btcd"}, true},
		{"without btcd", []*debug.Module{dep("github.com/btcsuite/btcd/wire/v2", "v2.0.1", nil)}, btcdModule{}, false},
	} {
		got, ok := pinnedBTCD(&debug.BuildInfo{Deps: c.deps})
		if got != c.want || ok != c.ok {
			t.Errorf("%s: pinnedBTCD = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if _, ok := pinnedBTCD(nil); ok {
		t.Error("pinnedBTCD(nil) found a btcd")
	}
}
