package keyringtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv names the environment variable that, set to 1, turns the
// skips of missing programs into failures. CI sets it: a test that skips
// there proves nothing.
const RequireEnv = "GLPAT_REQUIRE_KEYRING"

var (
	shared   *Session // started by Main
	startErr error    // why Main has no session
	mainRan  bool
)

// Main is for TestMain: it starts a Session, applies its Env to this
// process, runs the tests, stops the session and returns the exit code
// for os.Exit. Tests get the session from Require.
//
// When the programs are missing, Main still points HOME, the XDG
// directories and DBUS_SESSION_BUS_ADDRESS at an empty temporary directory,
// so that no test reaches the user's own keyring, and Require skips (or
// fails, under GLPAT_REQUIRE_KEYRING=1). A session that fails to start for
// any other reason fails the whole run.
func Main(m *testing.M) int {
	mainRan = true
	s, err := Start()
	switch {
	case err == nil:
		shared = s
	case errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1":
		startErr = err
		if s, err = isolated(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	default:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s.Apply()
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// isolated returns a Session with a directory and an Env like Start's but
// no processes: its bus address names a socket that does not exist.
func isolated() (*Session, error) {
	dir, home, run, err := makeDir()
	if err != nil {
		return nil, err
	}
	bus := "unix:path=" + filepath.Join(run, "bus")
	env := append(privateEnv(home, run), "DBUS_SESSION_BUS_ADDRESS="+bus)
	s := &Session{Dir: dir, BusAddress: bus, Env: append(env, goEnv()...)}
	return s, nil
}

// Require returns the Session that Main started for this test binary. When
// the programs are missing it skips tb, or fails it under
// GLPAT_REQUIRE_KEYRING=1. It fails tb when TestMain did not call Main.
func Require(tb testing.TB) *Session {
	tb.Helper()
	switch {
	case shared != nil:
		return shared
	case !mainRan:
		tb.Fatal("keyringtest: Require needs TestMain to call keyringtest.Main")
	case os.Getenv(RequireEnv) == "1":
		tb.Fatalf("%v (and %s=1)", startErr, RequireEnv)
	default:
		tb.Skipf("%v (set %s=1 to fail instead)", startErr, RequireEnv)
	}
	return nil
}
