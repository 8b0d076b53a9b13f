package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
)

func TestMain(m *testing.M) { os.Exit(keyringtest.Main(m)) }

// TestCheckSecretsRealKeyring probes the real keychain wrapper against a
// private gnome-keyring: working, locked, no Secret Service, no bus.
func TestCheckSecretsRealKeyring(t *testing.T) {
	s := keyringtest.Require(t)
	env := func() *Env {
		return Env{
			Secrets:  keychain.New("git-credential-glpat-doctor-test"),
			GOOS:     "linux",
			Getenv:   func(k string) string { return map[string]string{"DISPLAY": ":0"}[k] },
			ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
		}.withDefaults()
	}

	t.Run("working", func(t *testing.T) {
		c := checkSecrets(context.Background(), env(), "")
		if c.Status != StatusOK || c.Fix != "" {
			t.Errorf("got %q %q (fix %q), want ok", c.Status, c.Detail, c.Fix)
		}
	})

	t.Run("locked", func(t *testing.T) {
		if err := s.Lock(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := s.Unlock(); err != nil {
				t.Error(err)
			}
		}()
		c := checkSecrets(context.Background(), env(), "")
		if c.Status != StatusFail || !strings.Contains(c.Detail, "locked") || !strings.Contains(c.Fix, "Seahorse") {
			t.Errorf("got %q %q (fix %q), want fail saying locked, with the desktop fix", c.Status, c.Detail, c.Fix)
		}
	})

	t.Run("no secret service", func(t *testing.T) {
		bus, err := keyringtest.StartBusOnly()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bus.Stop() })
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.BusAddress)
		c := checkSecrets(context.Background(), env(), "")
		if c.Status != StatusFail || !strings.Contains(c.Detail, "no Secret Service") || !strings.Contains(c.Fix, "gnome-keyring") {
			t.Errorf("got %q %q (fix %q), want fail saying no Secret Service", c.Status, c.Detail, c.Fix)
		}
	})

	t.Run("no bus", func(t *testing.T) {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "bus"))
		c := checkSecrets(context.Background(), env(), "")
		if c.Status != StatusFail || !strings.Contains(c.Detail, "no D-Bus session bus") || !strings.Contains(c.Fix, "dbus-run-session") {
			t.Errorf("got %q %q (fix %q), want fail saying no session bus", c.Status, c.Detail, c.Fix)
		}
	})
}
