package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// migrateWorld stores two credentials in the keyring of a world whose
// config names the keyring.
func migrateWorld(t *testing.T, host string) *world {
	t.Helper()
	w := backendWorld(t, "keyring")
	for _, u := range []string{"u", "v"} {
		if _, errOut, err := w.run("protocol=https\nhost="+host+"\nusername="+u+"\npassword=pw-"+u+"\n", binPath, "store"); err != nil {
			t.Fatalf("store: %v %s", err, errOut)
		}
	}
	t.Cleanup(func() {
		w.run("protocol=https\nhost="+host+"\n", binPath, "erase")
	})
	return w
}

// servesBoth checks that get serves both credentials of host and that
// the keychain no longer holds them (when it has moved out of it).
func servesBoth(t *testing.T, w *world, host, stage string, movedOut bool) {
	t.Helper()
	for _, u := range []string{"u", "v"} {
		out, errOut, _ := w.run("protocol=https\nhost="+host+"\nusername="+u+"\n", binPath, "get")
		if out != "username="+u+"\npassword=pw-"+u+"\n" || errOut != "" {
			t.Errorf("%s: get %s = %q, stderr %q", stage, u, out, errOut)
		}
		if movedOut {
			if _, err := keychain.New(keychainService).Get(context.Background(), "https://"+u+"@"+host); !errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("%s: the keychain still holds %s's secret (%v)", stage, u, err)
			}
		}
	}
}

func backendIn(t *testing.T, w *world) string {
	b, _ := os.ReadFile(filepath.Join(w.dir, "config.toml"))
	return string(b)
}

// TestOnePathToEncryptedFile: with the keyring configured, init works and
// points at migrate, and migrate moves everything.
func TestOnePathToEncryptedFile(t *testing.T) {
	const host = "onepath.example"
	w := migrateWorld(t, host)
	if _, errOut, err := w.run("", binPath, "migrate", "--to", "encrypted-file"); err == nil || !strings.Contains(errOut, "run git-credential-glpat init first, then git-credential-glpat migrate --to encrypted-file") {
		t.Errorf("migrate before init: %v %q", err, errOut)
	}
	out, errOut, err := w.run("pass phrase\npass phrase\n", binPath, "init", "--passphrase-stdin")
	if err != nil || !strings.Contains(errOut, "migrate --to encrypted-file") {
		t.Fatalf("init with the keyring configured: %v %q %q", err, out, errOut)
	}
	servesBoth(t, w, host, "after init", false)
	if out, errOut, err := w.run("", binPath, "migrate", "--to", "encrypted-file"); err != nil || !strings.Contains(out, "moved 2 credentials from") {
		t.Fatalf("migrate: %v %q %q", err, out, errOut)
	}
	if !strings.Contains(backendIn(t, w), `backend = "encrypted-file"`) {
		t.Errorf("config after migrate: %s", backendIn(t, w))
	}
	servesBoth(t, w, host, "in the encrypted file", true)
	if out, _, err := w.run("", binPath, "migrate", "--to", "encrypted-file"); err != nil || !strings.Contains(out, "already") {
		t.Errorf("migrate again: %v %q", err, out)
	}
	if _, errOut, err := w.run("", binPath, "migrate", "--to", "keyring"); err != nil {
		t.Fatalf("migrate back: %v %q", err, errOut)
	}
	servesBoth(t, w, host, "back in the keyring", false)
}

// TestMigrateAfterSwitchingByHand: the config already names the new
// backend; migrate --to it moves what the index says is elsewhere.
func TestMigrateAfterSwitchingByHand(t *testing.T) {
	const host = "byhand.example"
	w := migrateWorld(t, host)
	os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte("backend = \"kernel\"\n"), 0o600)
	_, errOut, _ := w.run("protocol=https\nhost="+host+"\n", binPath, "get")
	if !strings.Contains(errOut, "migrate --to kernel") {
		t.Fatalf("get does not say what to run: %q", errOut)
	}
	if out, errOut, err := w.run("", binPath, "migrate", "--to", "kernel"); err != nil || !strings.Contains(out, "moved 2 credentials from") {
		t.Fatalf("migrate --to kernel with the config naming kernel: %v %q %q", err, out, errOut)
	}
	servesBoth(t, w, host, "moved", true)
}

// TestKilledMigrateFinishesOnRerun: migrate killed right after switching
// the config, or right after emptying the old backend, is finished by
// running it again: nothing lost, nothing left behind.
func TestKilledMigrateFinishesOnRerun(t *testing.T) {
	for i, point := range []string{"migrate-after-switch", "migrate-after-remove"} {
		host := []string{"killed1.example", "killed2.example"}[i]
		t.Run(point, func(t *testing.T) {
			w := migrateWorld(t, host)
			killed := append([]string(nil), w.env...)
			w.env = append(w.env, "GLPAT_TEST_KILL_AT="+point)
			if _, _, err := w.run("", binPath, "migrate", "--to", "kernel"); err == nil {
				t.Fatalf("migrate was not killed at %s", point)
			}
			w.env = killed
			if out, errOut, err := w.run("", binPath, "migrate", "--to", "kernel"); err != nil {
				t.Fatalf("rerun: %v %q %q", err, out, errOut)
			}
			servesBoth(t, w, host, "after the rerun", true)
			if js, _, _ := w.run("", binPath, "status", "--offline", "--json"); strings.Contains(js, "elsewhere") {
				t.Errorf("status after the rerun:\n%s", js)
			}
		})
	}
}

// TestMigrateKeepsASymlinkedConfig: a config linked from a dotfiles
// repository stays a link; the file it points to says the new backend.
func TestMigrateKeepsASymlinkedConfig(t *testing.T) {
	const host = "symlink.example"
	w := migrateWorld(t, host)
	cfg := filepath.Join(w.dir, "config.toml")
	dots := filepath.Join(w.dir, "dotfiles")
	os.Mkdir(dots, 0o700)
	real := filepath.Join(dots, "config.toml")
	os.Rename(cfg, real)
	os.Symlink(real, cfg)
	if out, errOut, err := w.run("", binPath, "migrate", "--to", "kernel"); err != nil {
		t.Fatalf("migrate: %v %q %q", err, out, errOut)
	}
	if fi, err := os.Lstat(cfg); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the config is no longer a symlink: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), `backend = "kernel"`) {
		t.Errorf("the linked file says: %s", b)
	}
	servesBoth(t, w, host, "moved", true)
}
