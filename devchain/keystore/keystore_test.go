package keystore

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestSeedPersistsAndDerivationIsStable(t *testing.T) {
	dir := t.TempDir()
	ks, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a1, err := ks.EVMAddress(PurposeUser, UserIndex("alice"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, seedFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("seed file %v mode %v, want 0600", err, info.Mode())
	}
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := again.EVMAddress(PurposeUser, UserIndex("alice"))
	if a1 != a2 {
		t.Fatalf("the same seed gave %s then %s", a1, a2)
	}
	other, _ := Open(t.TempDir())
	if a3, _ := other.EVMAddress(PurposeUser, UserIndex("alice")); a3 == a1 {
		t.Fatal("two new keystores derived the same address")
	}
}

func TestKeyTreesAreSeparate(t *testing.T) {
	ks, err := FromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for name, k := range map[string]struct {
		coin    uint32
		purpose Purpose
		index   uint32
	}{
		"user evm":   {CoinEVM, PurposeUser, 0},
		"faucet evm": {CoinEVM, PurposeFaucet, 0},
		"sender evm": {CoinEVM, PurposeSender, 0},
		"user utxo":  {CoinUTXO, PurposeUser, 0},
		"user evm 1": {CoinEVM, PurposeUser, 1},
	} {
		key, err := ks.Key(k.coin, k.purpose, k.index)
		if err != nil {
			t.Fatal(err)
		}
		pub := string(key.PubKey().SerializeCompressed())
		if prev, dup := seen[pub]; dup {
			t.Fatalf("%s and %s share a key", name, prev)
		}
		seen[pub] = name
	}
}

func TestUserIndexIsStableAndNotHardened(t *testing.T) {
	alice := UserIndex("alice")
	if UserIndex("alice") != alice || alice == UserIndex("bob") {
		t.Fatal("user index is not a stable function of the user id")
	}
	for _, u := range []string{"", "alice", "a-very-long-user-id@example.com"} {
		if UserIndex(u) >= 1<<31 {
			t.Fatalf("index of %q is hardened", u)
		}
	}
}

func TestBadSeedFileIsReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, seedFile), []byte("not hex"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("a corrupt seed file was accepted")
	}
}

// The dev chains derive keys from several goroutines at once (seeding, the
// API's address book); every goroutine must get the same key for the same
// path. Run with -race to see the shared state.
func TestConcurrentDerivationGivesTheSameKeys(t *testing.T) {
	ks, err := FromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	want, err := FromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			got, err := ks.EVMAddress(PurposeUser, uint32(i))
			if err != nil {
				t.Error(err)
				return
			}
			if exp, _ := want.EVMAddress(PurposeUser, uint32(i)); got != exp {
				t.Errorf("index %d: %s, want %s", i, got, exp)
			}
		})
	}
	wg.Wait()
}

// Processes opening a new keystore at once (a worker and an API started
// together) all get the one seed that was made.
func TestConcurrentOpensShareOneSeed(t *testing.T) {
	dir := t.TempDir()
	addrs := make([]string, 10)
	var wg sync.WaitGroup
	for i := range addrs {
		wg.Go(func() {
			ks, err := Open(dir)
			if err != nil {
				t.Error(err)
				return
			}
			a, err := ks.EVMAddress(PurposeHot, 1)
			if err != nil {
				t.Error(err)
				return
			}
			addrs[i] = a.Hex()
		})
	}
	wg.Wait()
	for _, a := range addrs {
		if a != addrs[0] {
			t.Fatalf("opened at once, the keystore gave different keys: %v", addrs)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.new-*"))
	if len(left) != 0 {
		t.Fatalf("temporary seed files left: %v", left)
	}
}
