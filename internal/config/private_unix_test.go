//go:build unix

package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestLoadRefusesWritableFile(t *testing.T) {
	path := writeConfig(t, "")
	for _, mode := range []os.FileMode{0o646, 0o664} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		want := fmt.Sprintf("config: %s: is writable by group or others (mode %04o); run chmod go-w %s", path, mode, path)
		if err == nil || err.Error() != want {
			t.Errorf("Load(mode %04o) = %v, want %s", mode, err, want)
		}
		if err := CheckPrivate(t.TempDir(), path); err == nil || !strings.Contains(err.Error(), "chmod go-w "+path) {
			t.Errorf("CheckPrivate(config mode %04o) = %v", mode, err)
		}
	}
}

func TestCheckPrivate(t *testing.T) {
	dir := t.TempDir()
	state := dir + "/state"
	os.Mkdir(state, 0o700)
	cfg := dir + "/config.toml"
	os.WriteFile(cfg, nil, 0o600)
	if err := CheckPrivate(state, cfg); err != nil {
		t.Fatalf("private files: %v", err)
	}
	if err := CheckPrivate(dir+"/missing", dir+"/missing.toml"); err != nil {
		t.Fatalf("missing files: %v", err)
	}
	os.Chmod(state, 0o770)
	if err := CheckPrivate(state, cfg); err == nil || !strings.Contains(err.Error(), "chmod go-w "+state) {
		t.Errorf("group-writable state dir: %v", err)
	}
	os.Chmod(state, 0o700)
	os.Chmod(dir, 0o777)
	if err := CheckPrivate(state, cfg); err == nil || !strings.Contains(err.Error(), "chmod go-w "+dir) {
		t.Errorf("config in a world-writable directory: %v", err)
	}
	os.Chmod(dir, os.ModeSticky|0o777) // like /tmp
	if err := CheckPrivate(state, cfg); err != nil {
		t.Errorf("config in a sticky directory: %v", err)
	}
	os.Chmod(dir, 0o700)
	if os.Getuid() == 0 {
		os.Chown(cfg, 65534, 65534)
		if err := CheckPrivate(state, cfg); err == nil || !strings.Contains(err.Error(), "chown 0 "+cfg) {
			t.Errorf("config of another user: %v", err)
		}
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

// TestCheckPrivateFollowsASymlinkedConfig: a config that is a symlink (a
// dotfiles checkout, say) is as safe as the directory its target is in:
// whoever may write there may replace the file the link points to.
func TestCheckPrivateFollowsASymlinkedConfig(t *testing.T) {
	dir := t.TempDir()
	state := dir + "/state"
	os.Mkdir(state, 0o700)
	shared := dir + "/shared"
	os.Mkdir(shared, 0o700)
	os.WriteFile(shared+"/config.toml", nil, 0o600)
	home := dir + "/home"
	os.Mkdir(home, 0o700)
	cfg := home + "/config.toml"
	if err := os.Symlink(shared+"/config.toml", cfg); err != nil {
		t.Fatal(err)
	}
	if err := CheckPrivate(state, cfg); err != nil {
		t.Fatalf("a symlink to a private file: %v", err)
	}
	os.Chmod(shared, 0o777)
	if err := CheckPrivate(state, cfg); err == nil || !strings.Contains(err.Error(), "chmod go-w "+shared) {
		t.Errorf("a symlink into a world-writable directory: %v", err)
	}
}
