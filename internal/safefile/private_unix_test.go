//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestReadPrivateReadsTheFileItChecked: the file is checked on the
// descriptor it is read from, so a file put in its place after the path
// was checked is refused, not read.
func TestReadPrivateReadsTheFileItChecked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("api_url = \"https://gitlab.example.com\"\n"), 0o600)
	swap := filepath.Join(dir, "swap")
	os.WriteFile(swap, []byte("api_url = \"https://attacker.example\"\n"), 0o600)
	// Writable by others: anyone could have written what it holds.
	os.Chmod(swap, 0o666)
	t.Cleanup(func() { beforeOpen = nil })
	beforeOpen = func(p string) {
		if err := os.Rename(swap, p); err != nil {
			t.Error(err)
		}
	}
	data, err := ReadPrivate(path, 1<<10)
	var np *NotPrivateError
	if !errors.As(err, &np) || np.Path != path {
		t.Errorf("ReadPrivate of a file swapped after the check = %q, %v; want it refused", data, err)
	}
}

// A symlink put where a checked file was is not followed.
func TestReadPrivateFollowsNoSymlinkAfterTheCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("mine\n"), 0o600)
	other := filepath.Join(dir, "other.toml")
	os.WriteFile(other, []byte("other\n"), 0o600)
	t.Cleanup(func() { beforeOpen = nil })
	beforeOpen = func(p string) {
		os.Remove(p)
		if err := os.Symlink(other, p); err != nil {
			t.Error(err)
		}
	}
	if data, err := ReadPrivate(path, 1<<10); err == nil {
		t.Errorf("ReadPrivate through a symlink put there after the check = %q; want an error", data)
	}
}

func TestReadPrivateMissingFile(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{dir + "/missing", dir + "/missing/config.toml"} {
		if _, err := ReadPrivate(p, 5); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("ReadPrivate(%s) = %v, want not exist", p, err)
		}
	}
}

// ".." after a symlink goes up from where the symlink points, as the
// kernel resolves it, not from where the symlink is.
func TestReadPrivateResolvesDotDotAfterASymlink(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/real/sub", 0o700)
	os.WriteFile(dir+"/real/config.toml", []byte("real\n"), 0o600)
	os.WriteFile(dir+"/config.toml", []byte("beside the link\n"), 0o600)
	os.Symlink(dir+"/real/sub", dir+"/link")
	want, _ := os.ReadFile(dir + "/link/../config.toml")
	if got, err := ReadPrivate(dir+"/link/../config.toml", 1<<10); err != nil || string(got) != string(want) {
		t.Errorf("ReadPrivate = %q, %v; want %q, as open(2) reads", got, err, want)
	}
}
