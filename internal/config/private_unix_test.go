//go:build unix

package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
)

func TestLoadRefusesWritableFile(t *testing.T) {
	path := writeConfig(t, "")
	for _, mode := range []os.FileMode{0o646, 0o664} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("config: %s: is writable by group or others (mode %04o); run chmod go-w %s", path, mode, path)
		if _, err := Load(path); err == nil || err.Error() != want {
			t.Errorf("Load(mode %04o) = %v, want %s", mode, err, want)
		}
		if _, err := MayNameBackend(path); err == nil || err.Error() != want {
			t.Errorf("MayNameBackend(mode %04o) = %v, want %s", mode, err, want)
		}
	}
}

func TestCheckStateDir(t *testing.T) {
	state := t.TempDir() + "/state"
	if err := CheckStateDir(state); err != nil {
		t.Fatalf("missing state dir: %v", err)
	}
	os.Mkdir(state, 0o700)
	if err := CheckStateDir(state); err != nil {
		t.Fatalf("private state dir: %v", err)
	}
	os.Chmod(state, 0o770)
	var np *safefile.NotPrivateError
	if err := CheckStateDir(state); !errors.As(err, &np) || !strings.Contains(err.Error(), "chmod go-w "+state) {
		t.Errorf("group-writable state dir: %v", err)
	}
	os.Chmod(state, os.ModeSticky|0o777)
	if err := CheckStateDir(state); err == nil || !strings.Contains(err.Error(), "chmod go-w "+state) {
		t.Errorf("sticky world-writable state dir (others could add files): %v", err)
	}
	os.Chmod(state, 0o700)
	if os.Getuid() == 0 {
		os.Chown(state, 65534, 65534)
		if err := CheckStateDir(state); err == nil || !strings.Contains(err.Error(), "chown 0 "+state) {
			t.Errorf("state dir of another user: %v", err)
		}
	}
}

// TestLoadChecksEveryStepToTheConfig: whoever may change a directory or a
// symlink on the way to the config file, or the file, decides where tokens
// are sent, so Load (and MayNameBackend, which every command runs) refuses
// the config in one line naming what to fix. A sticky world-writable
// directory (/tmp) is fine when the entry in it is the user's or root's,
// since only its owner may remove or rename it.
func TestLoadChecksEveryStepToTheConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test gives files to another uid, which needs root")
	}
	const other = 65534
	for _, tc := range []struct {
		name string
		// setup makes the world under dir and returns the config path
		// and the path the refusal must name (empty: no refusal).
		setup func(dir string) (cfg, bad string)
		fix   string
	}{
		{"private", func(dir string) (string, string) {
			return mkConfig(t, dir+"/home/.config/config.toml"), ""
		}, ""},
		{"directory writable by others", func(dir string) (string, string) {
			cfg := mkConfig(t, dir+"/home/.config/config.toml")
			os.Chmod(dir+"/home", 0o777)
			return cfg, dir + "/home"
		}, "chmod go-w %s"},
		{"directory of another user", func(dir string) (string, string) {
			cfg := mkConfig(t, dir+"/home/.config/config.toml")
			os.Chown(dir+"/home", other, other)
			return cfg, dir + "/home"
		}, "chown 0 %s"},
		{"sticky world-writable directory, entry of the user", func(dir string) (string, string) {
			cfg := mkConfig(t, dir+"/tmp/mine/config.toml")
			os.Chmod(dir+"/tmp", os.ModeSticky|0o777)
			return cfg, ""
		}, ""},
		{"sticky world-writable directory, entry of another user", func(dir string) (string, string) {
			cfg := mkConfig(t, dir+"/tmp/theirs/config.toml")
			os.Chmod(dir+"/tmp", os.ModeSticky|0o777)
			os.Chown(dir+"/tmp/theirs", other, other)
			return cfg, dir + "/tmp/theirs"
		}, "chown 0 %s"},
		{"symlinked directory of another user in the middle", func(dir string) (string, string) {
			mkConfig(t, dir+"/real/config.toml")
			os.Mkdir(dir+"/home", 0o700)
			os.Symlink(dir+"/real", dir+"/home/dots")
			os.Lchown(dir+"/home/dots", other, other)
			return dir + "/home/dots/config.toml", dir + "/home/dots"
		}, "chown -h 0 %s"},
		{"relative symlink of the user through a private directory", func(dir string) (string, string) {
			mkConfig(t, dir+"/real/sub/config.toml")
			os.Mkdir(dir+"/home", 0o700)
			os.Symlink("../real/sub/../sub", dir+"/home/dots")
			return dir + "/home/dots/config.toml", ""
		}, ""},
		{"symlink into a directory writable by others", func(dir string) (string, string) {
			mkConfig(t, dir+"/shared/config.toml")
			os.Chmod(dir+"/shared", 0o777)
			os.Mkdir(dir+"/home", 0o700)
			os.Symlink(dir+"/shared/config.toml", dir+"/home/config.toml")
			return dir + "/home/config.toml", dir + "/shared"
		}, "chmod go-w %s"},
		{"symlink to a file of another user", func(dir string) (string, string) {
			mkConfig(t, dir+"/real/config.toml")
			os.Chown(dir+"/real/config.toml", other, other)
			os.Mkdir(dir+"/home", 0o700)
			os.Symlink(dir+"/real/config.toml", dir+"/home/config.toml")
			return dir + "/home/config.toml", dir + "/real/config.toml"
		}, "chown 0 %s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, bad := tc.setup(t.TempDir())
			_, loadErr := Load(cfg)
			_, nameErr := MayNameBackend(cfg)
			for fn, err := range map[string]error{"Load": loadErr, "MayNameBackend": nameErr} {
				if bad == "" {
					if err != nil {
						t.Errorf("%s: %v", fn, err)
					}
					continue
				}
				var np *safefile.NotPrivateError
				fix := fmt.Sprintf(tc.fix, bad)
				if !errors.As(err, &np) || np.Path != bad || !strings.Contains(err.Error(), fix) || !strings.HasPrefix(err.Error(), "config: "+cfg+": ") {
					t.Errorf("%s = %v; want a refusal of %s naming %q", fn, err, bad, fix)
				}
			}
		})
	}
}

// mkConfig writes an empty config at path, its missing directories 0700.
func mkConfig(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("lifetime = \"90d\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
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
