//go:build unix

package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestLoadRefusesWorldWritableFile(t *testing.T) {
	path := writeConfig(t, "")
	if err := os.Chmod(path, 0o646); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := "config: " + path + ": file is writable by every user (mode 0646); run: chmod o-w " + path
	if err == nil || err.Error() != want {
		t.Errorf("Load(world-writable) = %v, want %s", err, want)
	}
	// Group-writable is common with per-user groups and is allowed.
	if err := os.Chmod(path, 0o664); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("Load(group-writable) = %v, want success", err)
	}
}

func TestEnsurePrivateDir(t *testing.T) {
	t.Run("creates 0700 with parents", func(t *testing.T) {
		dir := t.TempDir() + "/a/b/state"
		if err := EnsurePrivateDir(dir); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("mode = %04o, want 0700", got)
		}
	})
	t.Run("tightens an existing loose dir", func(t *testing.T) {
		dir := t.TempDir() + "/state"
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := EnsurePrivateDir(dir); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(dir)
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("mode = %04o, want 0700", got)
		}
	})
	t.Run("a file is not a dir", func(t *testing.T) {
		path := writeConfig(t, "")
		err := EnsurePrivateDir(path)
		if err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("EnsurePrivateDir(file) = %v, want not a directory", err)
		}
	})
	t.Run("someone else's dir", func(t *testing.T) {
		dir, owner := "/", 0
		if os.Geteuid() == 0 {
			// Root owns "/"; give a fresh dir to another user instead.
			dir, owner = t.TempDir()+"/theirs", 4242
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(dir, owner, owner); err != nil {
				t.Skip(err)
			}
		}
		err := EnsurePrivateDir(dir)
		if want := fmt.Sprintf("belongs to uid %d, not to you", owner); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("EnsurePrivateDir(%s) = %v, want %q", dir, err, want)
		}
	})
}
