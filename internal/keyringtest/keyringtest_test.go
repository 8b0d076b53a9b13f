//go:build linux

package keyringtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// outside is the environment the test binary was started with, before Main
// applied the shared session.
var outside = os.Environ()

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestMainAppliesPrivateEnvironment(t *testing.T) {
	s := Require(t)
	for _, tc := range []struct{ name, want string }{
		{"HOME", filepath.Join(s.Dir, "home")},
		{"XDG_RUNTIME_DIR", filepath.Join(s.Dir, "run")},
		{"XDG_DATA_HOME", filepath.Join(s.Dir, "home", ".local", "share")},
		{"XDG_CONFIG_HOME", filepath.Join(s.Dir, "home", ".config")},
		{"DBUS_SESSION_BUS_ADDRESS", s.BusAddress},
	} {
		if got := os.Getenv(tc.name); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, got, tc.want)
		}
	}
	if !strings.HasPrefix(s.BusAddress, "unix:path="+filepath.Join(s.Dir, "run", "bus")) {
		t.Errorf("BusAddress = %q, want the socket in the session's XDG_RUNTIME_DIR", s.BusAddress)
	}
	// gnome-keyring keeps the login keyring under the private HOME, not the user's.
	if _, err := os.Stat(filepath.Join(s.Dir, "home", ".local", "share", "keyrings", "login.keyring")); err != nil {
		t.Errorf("login keyring not in the private HOME: %v", err)
	}
}

func TestSecretServiceIsReadyAndUnlocked(t *testing.T) {
	s := Require(t)
	conn := connect(t, s.BusAddress)
	if !hasOwner(t, conn, secretsName) {
		t.Fatalf("nobody owns %s after Start", secretsName)
	}
	locked, err := s.Locked()
	if err != nil {
		t.Fatal(err)
	}
	if locked {
		t.Error("Locked() = true after Start, want false")
	}
}

func TestLockAndUnlock(t *testing.T) {
	s := Require(t)
	if err := s.Lock(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Unlock() })
	if locked, err := s.Locked(); err != nil || !locked {
		t.Fatalf("after Lock: Locked() = %v, %v; want true, nil", locked, err)
	}
	if err := s.Unlock(); err != nil {
		t.Fatal(err)
	}
	if locked, err := s.Locked(); err != nil || locked {
		t.Fatalf("after Unlock: Locked() = %v, %v; want false, nil", locked, err)
	}
}

func TestFreezeBlocksCallsUntilThawed(t *testing.T) {
	s := Require(t)
	conn := connect(t, s.BusAddress)
	thaw, err := s.Freeze()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { thaw() })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = conn.Object(secretsName, loginCollection).
		CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, "org.freedesktop.Secret.Collection", "Locked").Err
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call to a frozen keyring: err = %v, want %v", err, context.DeadlineExceeded)
	}

	if err := thaw(); err != nil {
		t.Fatal(err)
	}
	if err := thaw(); err != nil {
		t.Errorf("second thaw: %v, want nil", err)
	}
	if _, err := s.Locked(); err != nil {
		t.Errorf("after thaw: %v", err)
	}
}

func TestStartBusOnlyHasNoSecretService(t *testing.T) {
	Require(t)
	s, err := StartBusOnly()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	if s.keyring != nil {
		t.Error("StartBusOnly started a keyring daemon")
	}

	conn := connect(t, s.BusAddress)
	if hasOwner(t, conn, secretsName) {
		t.Errorf("%s has an owner on a bus-only session", secretsName)
	}
	// Nothing may be activated to answer either (the bus has no service
	// directories).
	err = conn.Object(secretsName, servicePath).Call(serviceIface+".OpenSession", 0, "plain", dbus.MakeVariant("")).Err
	var de dbus.Error
	if !errors.As(err, &de) || de.Name != "org.freedesktop.DBus.Error.ServiceUnknown" {
		t.Errorf("OpenSession on a bus-only session: err = %v, want org.freedesktop.DBus.Error.ServiceUnknown", err)
	}
	for name, f := range map[string]func() error{"Lock": s.Lock, "Unlock": s.Unlock} {
		if err := f(); !errors.Is(err, errBusOnly) {
			t.Errorf("%s() = %v, want %v", name, err, errBusOnly)
		}
	}
	if _, err := s.Freeze(); !errors.Is(err, errBusOnly) {
		t.Errorf("Freeze() = %v, want %v", err, errBusOnly)
	}
}

func TestStopEndsExactlyItsProcessesAndRemovesDir(t *testing.T) {
	Require(t)
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{s.bus.cmd.Process.Pid, s.keyring.cmd.Process.Pid}
	// Stop must also end a frozen daemon.
	if _, err := s.Freeze(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop() = %v", err)
	}
	if d := time.Since(start); d > stopGrace {
		t.Errorf("Stop took %v; the daemons ignored SIGTERM", d)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still exists after Stop (kill 0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dir %s still exists after Stop (stat: %v)", s.Dir, err)
	}
	// The shared session is untouched.
	if locked, err := Require(t).Locked(); err != nil || locked {
		t.Errorf("shared session after another's Stop: Locked() = %v, %v", locked, err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop() = %v, want nil", err)
	}
}

func TestStopReportsDaemonThatDiedEarly(t *testing.T) {
	Require(t)
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	s.keyring.cmd.Process.Kill()
	<-s.keyring.done
	err = s.Stop()
	if err == nil || !strings.Contains(err.Error(), "gnome-keyring-daemon: exited before Stop") {
		t.Errorf("Stop() = %v, want an error about gnome-keyring-daemon exiting early", err)
	}
}

// go commands that tests run under Env use the same caches and settings
// as outside it, so that building the binary for end-to-end tests stays warm.
func TestEnvKeepsGoCachesAndSettings(t *testing.T) {
	s := Require(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	goEnv := func(env []string) string {
		cmd := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOTOOLCHAIN")
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go env: %v", err)
		}
		return string(out)
	}
	want := goEnv(outside)
	if got := goEnv(append(slices.Clone(outside), s.Env...)); got != want {
		t.Errorf("go env under Env:\n%s\nwant (outside):\n%s", got, want)
	}
}

func connect(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func hasOwner(t *testing.T, conn *dbus.Conn, name string) bool {
	t.Helper()
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&owned); err != nil {
		t.Fatal(err)
	}
	return owned
}

// Without the programs, Main isolates the tests all the same and Require
// skips them, unless GLPAT_REQUIRE_KEYRING=1 makes that a failure.
func TestMissingProgramsSkipOrFail(t *testing.T) {
	Require(t)
	for _, tc := range []struct {
		name     string
		require  string
		wantExit int
		wantOut  string
	}{
		{"skip", "", 0, "--- SKIP: TestSecretServiceIsReadyAndUnlocked"},
		{"fail under " + RequireEnv, "1", 1, "keyringtest: dbus-daemon or gnome-keyring-daemon is not installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSecretServiceIsReadyAndUnlocked$", "-test.v")
			cmd.Env = append(os.Environ(), "PATH="+t.TempDir(), RequireEnv+"="+tc.require,
				"GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
			out, err := cmd.CombinedOutput()
			exit := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if exit != tc.wantExit || !strings.Contains(string(out), tc.wantOut) {
				t.Errorf("exit %d, output:\n%s\nwant exit %d and output containing %q", exit, out, tc.wantExit, tc.wantOut)
			}
		})
	}
}

func TestIsolatedPointsAtNoBus(t *testing.T) {
	s, err := isolated()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	env := map[string]string{}
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if want := "unix:path=" + filepath.Join(s.Dir, "run", "bus"); env["DBUS_SESSION_BUS_ADDRESS"] != want {
		t.Errorf("DBUS_SESSION_BUS_ADDRESS = %q, want %q", env["DBUS_SESSION_BUS_ADDRESS"], want)
	}
	for _, name := range []string{"HOME", "XDG_RUNTIME_DIR"} {
		if fi, err := os.Stat(env[name]); err != nil || !fi.IsDir() || !strings.HasPrefix(env[name], s.Dir) {
			t.Errorf("%s = %q: want an existing directory in %s (stat: %v)", name, env[name], s.Dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "run", "bus")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the bus socket exists (stat: %v)", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dir remains after Stop (stat: %v)", err)
	}
}
