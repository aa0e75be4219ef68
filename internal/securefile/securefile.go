// Package securefile writes secrets to disk so that a crash never leaves
// a half-written one and two processes starting together agree on one.
package securefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// CreateOnce writes data to path, readable by its owner only, unless the
// file exists: data goes to a temporary file in the same directory, is
// synced, and is linked into place, which only one process can do. It
// reports whether this call made the file; either way the file at path is
// whole. The directory is made 0700 if missing.
func CreateOnce(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, syncDir(dir)
}

// syncDir makes a new entry in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// PrivateDir makes dir (and its parents) if missing and leaves it
// readable by its owner only: it holds keys and tokens.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}
