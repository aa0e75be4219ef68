package securefile

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Processes that start together each offer a secret; one wins and every
// one of them reads the same whole file, private to its owner.
func TestOneSecretWinsAndIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "staff-token")
	var wg sync.WaitGroup
	made := make([]bool, 8)
	for i := range made {
		wg.Go(func() {
			ok, err := CreateOnce(path, []byte{byte('a' + i), '\n'})
			if err != nil {
				t.Error(err)
			}
			made[i] = ok
		})
	}
	wg.Wait()
	winners := 0
	for _, ok := range made {
		if ok {
			winners++
		}
	}
	if winners != 1 {
		t.Fatalf("%d writers made the file; want 1", winners)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) != 2 || b[1] != '\n' {
		t.Fatalf("the secret is %q (%v)", b, err)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s is %v: others may read it", p, fi.Mode().Perm())
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// A data directory made readable by others is closed to them again.
func TestPrivateDirClosesAnOpenDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := PrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory %v (%v); want 0700", fi.Mode().Perm(), err)
	}
}
