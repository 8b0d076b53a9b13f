// Package keyringtest runs a private D-Bus session bus and gnome-keyring for tests, so that no test touches the user's own keyring, HOME or bus.
//
// A test binary starts one Session from TestMain and shares it:
//
//	func TestMain(m *testing.M) { os.Exit(keyringtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		kr := keyringtest.Require(t) // skips when gnome-keyring is not installed
//		...                          // go-keyring now talks to kr's private keyring
//		cmd.Env = append(os.Environ(), kr.Env...) // and so do programs the test runs
//	}
//
// Start-up takes about 50 ms and stopping about 10 ms. It needs dbus-daemon
// and gnome-keyring-daemon (Debian: apt-get install --no-install-recommends
// dbus-daemon gnome-keyring); CI sets GLPAT_REQUIRE_KEYRING=1 so that their
// absence fails the tests instead of skipping them.
package keyringtest

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
)

// ErrNotInstalled means dbus-daemon or gnome-keyring-daemon is not in PATH
// (or this is not Linux). Start's error wraps it.
var ErrNotInstalled = errors.New("keyringtest: dbus-daemon or gnome-keyring-daemon is not installed")

// Password is the login keyring's password in every Session. It protects
// nothing: the keyring lives in a temporary directory and holds test data.
const Password = "keyringtest"

// Timeouts of starting and stopping. Start-up normally takes 50 ms; the
// generous limit is for a loaded CI machine.
const (
	startTimeout = 15 * time.Second
	stopGrace    = 2 * time.Second
)

// Session is a private dbus-daemon, and (unless made by StartBusOnly) a
// gnome-keyring-daemon serving the Secret Service on it with an unlocked
// login collection. Its files live in Dir, which Stop removes.
type Session struct {
	// Dir is the session's temporary directory: Dir/home is HOME and
	// Dir/run is XDG_RUNTIME_DIR; the bus socket is Dir/run/bus.
	Dir string
	// BusAddress is the D-Bus address of the session bus.
	BusAddress string
	// Env holds the NAME=value pairs that point a process at this session:
	// DBUS_SESSION_BUS_ADDRESS, HOME, XDG_RUNTIME_DIR, and XDG_CONFIG_HOME,
	// XDG_DATA_HOME, XDG_STATE_HOME and XDG_CACHE_HOME under the private
	// HOME. It also pins GOCACHE, GOMODCACHE, GOPATH and GOENV to their
	// values outside, so that go commands run under Env stay warm and keep
	// their settings (Go telemetry is off under the private HOME). Append
	// it to os.Environ() for a child process (later entries win), or call
	// Apply for this process.
	Env []string

	bus, keyring *daemon
	conn         *dbus.Conn // private connection, for Lock, Unlock and the start-up wait

	stopOnce sync.Once
	stopErr  error
}

// daemon is a process that Session started, with its exit status once
// it has ended.
type daemon struct {
	name string
	cmd  *exec.Cmd
	log  string        // file that holds its stdout and stderr
	done chan struct{} // closed when it has exited
	err  error         // Wait's result, valid once done is closed
}

// Start starts a session bus and gnome-keyring-daemon with an unlocked login
// collection, and returns once the Secret Service answers on the bus. The
// caller must Stop it. When the programs are missing, the error wraps
// ErrNotInstalled.
func Start() (*Session, error) { return start(true) }

// StartBusOnly starts a session bus on which nothing provides the Secret
// Service (and nothing can be activated to), for tests of that failure.
// Lock, Unlock and Freeze return an error on such a Session.
func StartBusOnly() (*Session, error) { return start(false) }

func start(withKeyring bool) (s *Session, err error) {
	if err := available(withKeyring); err != nil {
		return nil, err
	}
	dir, home, run, err := makeDir()
	if err != nil {
		return nil, err
	}
	s = &Session{Dir: dir}
	defer func() {
		if err != nil {
			s.Stop()
			s = nil
		}
	}()
	env := privateEnv(home, run)

	if err := s.startBus(filepath.Join(run, "bus"), env); err != nil {
		return s, err
	}
	env = append(env, "DBUS_SESSION_BUS_ADDRESS="+s.BusAddress)
	s.Env = append(env, goEnv()...)

	if s.conn, err = dbus.Connect(s.BusAddress); err != nil {
		return s, fmt.Errorf("keyringtest: connect to %s: %w", s.BusAddress, err)
	}
	if withKeyring {
		if err := s.startKeyring(env); err != nil {
			return s, err
		}
	}
	return s, nil
}

// startBus runs a dbus-daemon that listens on socket and whose
// configuration has no <servicedir>, so that nothing is activated on it: a
// call to org.freedesktop.secrets before gnome-keyring owns the name must
// fail, not start a second keyring daemon.
func (s *Session) startBus(socket string, env []string) error {
	conf := filepath.Join(s.Dir, "bus.conf")
	var path bytes.Buffer
	if err := xml.EscapeText(&path, []byte(socket)); err != nil {
		return fmt.Errorf("keyringtest: %w", err)
	}
	// Like /usr/share/dbus-1/session.conf, less service directories and
	// included files.
	config := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=` + path.String() + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		return fmt.Errorf("keyringtest: %w", err)
	}

	// dbus-daemon prints its address once it listens: reading that line is
	// the readiness check.
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("keyringtest: %w", err)
	}
	defer r.Close()
	s.bus, err = s.run("dbus-daemon", env, nil, w,
		"--config-file="+conf, "--nofork", "--print-address=1")
	w.Close()
	if err != nil {
		return err
	}
	if err := r.SetReadDeadline(time.Now().Add(startTimeout)); err != nil {
		return fmt.Errorf("keyringtest: %w", err)
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return s.bus.failed(fmt.Errorf("no address printed: %w", err))
	}
	s.BusAddress = strings.TrimSpace(line)
	return nil
}

// startKeyring runs gnome-keyring-daemon with only the Secret Service
// component and waits until it owns its name and the login collection is
// unlocked.
func (s *Session) startKeyring(env []string) error {
	// --unlock reads the login password from stdin, until EOF. It must not
	// be empty: with an empty one the daemon tries to prompt, and creates no
	// login keyring.
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("keyringtest: %w", err)
	}
	_, err = io.WriteString(w, Password) // fits in the pipe's buffer
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("keyringtest: %w", err)
	}
	s.keyring, err = s.run("gnome-keyring-daemon", env, r, nil,
		"--foreground", "--unlock", "--components=secrets")
	r.Close()
	if err != nil {
		return err
	}

	deadline := time.Now().Add(startTimeout)
	for {
		err := s.loginReady()
		if err == nil {
			return nil
		}
		select {
		case <-s.keyring.done:
			return s.keyring.failed(errors.New("exited during start-up"))
		default:
		}
		if time.Now().After(deadline) {
			return s.keyring.failed(fmt.Errorf("not ready after %v: %w", startTimeout, err))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// run starts one of the session's daemons with exactly env (not this
// process's environment, so that nothing of the user's session leaks in),
// its output going to a log file in Dir unless stdout is given.
func (s *Session) run(name string, env []string, stdin, stdout *os.File, args ...string) (*daemon, error) {
	d := &daemon{name: name, log: filepath.Join(s.Dir, name+".log"), done: make(chan struct{})}
	logf, err := os.OpenFile(d.log, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keyringtest: %w", err)
	}
	defer logf.Close()
	if stdout == nil {
		stdout = logf
	}
	d.cmd = exec.Command(name, args...)
	d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}, env...)
	d.cmd.Dir = s.Dir
	d.cmd.Stdin = stdin // nil: /dev/null
	d.cmd.Stdout = stdout
	d.cmd.Stderr = logf
	d.cmd.SysProcAttr = sysProcAttr()
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("keyringtest: %w", err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// failed returns an error about d that quotes the end of its log.
func (d *daemon) failed(err error) error {
	out, _ := os.ReadFile(d.log)
	const max = 2000
	if len(out) > max {
		out = out[len(out)-max:]
	}
	msg := fmt.Sprintf("keyringtest: %s: %v", d.name, err)
	if text := strings.TrimSpace(string(out)); text != "" {
		msg += "; its output:\n" + text
	}
	return errors.New(msg)
}

// stop ends d (SIGTERM, then SIGKILL after a grace period) and waits for it.
// An exit caused by our own signal is not an error.
func (d *daemon) stop() error {
	if d == nil {
		return nil
	}
	select {
	case <-d.done:
		return d.exitError()
	default:
	}
	resume(d.cmd.Process) // a stopped process would not act on SIGTERM
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(stopGrace):
	}
	_ = d.cmd.Process.Kill()
	<-d.done
	return fmt.Errorf("keyringtest: %s (pid %d) ignored SIGTERM for %v and was killed", d.name, d.cmd.Process.Pid, stopGrace)
}

// exitError reports a daemon that had exited before Stop asked it to.
func (d *daemon) exitError() error {
	return d.failed(fmt.Errorf("exited before Stop (%v)", d.err))
}

// Stop ends the session's processes, exactly those Start started, and
// removes Dir. It is safe to call more than once; later calls return the
// first one's result.
func (s *Session) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.conn != nil {
			s.conn.Close()
		}
		// The keyring first: without its bus it would exit on its own, but
		// only after noticing.
		errs = append(errs, s.keyring.stop(), s.bus.stop())
		if s.Dir != "" {
			errs = append(errs, os.RemoveAll(s.Dir))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// Apply sets the session's Env in this process's environment, so that
// go-keyring (and every process started without an explicit Env) uses it.
// It is meant for TestMain, as Main does; inside a test, prefer
// t.Setenv for each entry of Env.
func (s *Session) Apply() {
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
}

// makeDir creates a session's directory with its HOME and XDG_RUNTIME_DIR.
func makeDir() (dir, home, run string, err error) {
	// A short path: a unix socket path must stay under 108 bytes, and
	// $TMPDIR can be long (macOS) or shared with the user's own sockets.
	dir, err = os.MkdirTemp("/tmp", "gk")
	if err != nil {
		return "", "", "", fmt.Errorf("keyringtest: %w", err)
	}
	home, run = filepath.Join(dir, "home"), filepath.Join(dir, "run")
	// Go telemetry off for go commands run under Env: its mode lives in
	// the config directory under HOME, and in the default mode a go command
	// leaves a background process that writes there after Stop removed Dir.
	telemetry := filepath.Join(home, ".config", "go", "telemetry")
	for _, d := range []string{run, telemetry} {
		if err = os.MkdirAll(d, 0o700); err != nil {
			break
		}
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(telemetry, "mode"), []byte("off"), 0o600)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", "", "", fmt.Errorf("keyringtest: %w", err)
	}
	return dir, home, run, nil
}

// privateEnv returns the variables that give a process home as HOME and
// run as XDG_RUNTIME_DIR, with the XDG base directories under home: were
// one of them left as the user has it, gnome-keyring would keep its keyrings
// in the user's XDG_DATA_HOME.
func privateEnv(home, run string) []string {
	return []string{
		"HOME=" + home,
		"XDG_RUNTIME_DIR=" + run,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
	}
}

// goEnv pins the go command's caches and settings to where they are now,
// since they default to places under HOME, which Env moves.
func goEnv() []string {
	home, _ := os.UserHomeDir()
	get := func(key string, def func() string) string {
		if v := os.Getenv(key); v != "" {
			return v
		}
		return def()
	}
	gopath := get("GOPATH", func() string { return filepath.Join(home, "go") })
	var env []string
	add := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	add("GOPATH", gopath)
	add("GOMODCACHE", get("GOMODCACHE", func() string {
		return filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
	}))
	add("GOCACHE", get("GOCACHE", func() string {
		dir, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(dir, "go-build")
	}))
	add("GOENV", get("GOENV", func() string {
		dir, err := os.UserConfigDir()
		if err != nil {
			return ""
		}
		return filepath.Join(dir, "go", "env")
	}))
	return env
}

// available reports whether the programs a session needs are installed.
func available(withKeyring bool) error {
	if !supported {
		return fmt.Errorf("%w (the private session bus needs Linux)", ErrNotInstalled)
	}
	progs := []string{"dbus-daemon"}
	if withKeyring {
		progs = append(progs, "gnome-keyring-daemon")
	}
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%w: %w", ErrNotInstalled, err)
		}
	}
	return nil
}
