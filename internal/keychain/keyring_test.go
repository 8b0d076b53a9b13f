//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

// Package tests against a real gnome-keyring on a private bus, started by
// TestMain through keyringtest.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
)

// account returns an account name that no other test uses.
func account(t testing.TB) string { return t.Name() }

func mustGet(t *testing.T, k *Keychain, acct, want string) {
	t.Helper()
	got, err := k.Get(context.Background(), acct)
	if err != nil {
		t.Fatalf("Get(%q): %v", acct, err)
	}
	if got != want {
		t.Fatalf("Get(%q) = %d bytes %.20q…, want %d bytes %.20q…", acct, len(got), got, len(want), want)
	}
}

func TestSetGetOverwriteDelete(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	k := New(testService)
	acct := account(t)

	if err := k.Set(ctx, acct, "first-value"); err != nil {
		t.Fatal(err)
	}
	mustGet(t, k, acct, "first-value")
	if err := k.Set(ctx, acct, "second-value"); err != nil {
		t.Fatal(err)
	}
	mustGet(t, k, acct, "second-value")

	if err := k.Delete(ctx, acct); err != nil {
		t.Fatal(err)
	}
	_, err := k.Get(ctx, acct)
	if got := kinds(err); !slices.Equal(got, []string{"ErrNotFound"}) {
		t.Fatalf("Get after Delete: err = %v, is %v; want [ErrNotFound]", err, got)
	}
	if err.Error() != "keychain: get: not found" {
		t.Errorf("Get after Delete: err = %q, want %q", err, "keychain: get: not found")
	}
	err = k.Delete(ctx, acct)
	if got := kinds(err); !slices.Equal(got, []string{"ErrNotFound"}) {
		t.Errorf("second Delete: err = %v, is %v; want [ErrNotFound]", err, got)
	}
}

// Items are told apart by service and account; go-keyring reads what other
// Secret Service clients wrote under the same attributes.
func TestItemsAreKeptApart(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	a, b := New(testService), New(testService+"-other")
	acct := account(t)
	t.Cleanup(func() { a.Delete(ctx, acct); a.Delete(ctx, acct+"-2"); b.Delete(ctx, acct) })

	for _, set := range []struct {
		k          *Keychain
		acct, secr string
	}{{a, acct, "value-a"}, {a, acct + "-2", "value-a2"}, {b, acct, "value-b"}} {
		if err := set.k.Set(ctx, set.acct, set.secr); err != nil {
			t.Fatal(err)
		}
	}
	mustGet(t, a, acct, "value-a")
	mustGet(t, a, acct+"-2", "value-a2")
	mustGet(t, b, acct, "value-b")
	if got, err := keyring.Get(testService, acct); err != nil || got != "value-a" {
		t.Errorf("go-keyring Get = %q, %v; want %q", got, err, "value-a")
	}
}

func TestSecretsRoundTrip(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	k := New(testService)
	for _, tc := range []struct{ name, secret string }{
		{"empty", ""},
		{"one byte", "x"},
		{"unicode", "pâsswörd-ключ-🔑"},
		{"spaces and newlines", " a b \n c\t"},
		{"2 KB", strings.Repeat("0123456789abcdef", 128)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := account(t)
			t.Cleanup(func() { k.Delete(ctx, acct) })
			if err := k.Set(ctx, acct, tc.secret); err != nil {
				t.Fatal(err)
			}
			mustGet(t, k, acct, tc.secret)
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	k := New(testService)
	shared := account(t) + "-shared"
	if err := k.Set(ctx, shared, "shared-value"); err != nil {
		t.Fatal(err)
	}
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*3)
	for i := range workers {
		wg.Go(func() {
			acct := fmt.Sprintf("%s-%d", account(t), i)
			want := fmt.Sprintf("value-%d", i)
			if err := k.Set(ctx, acct, want); err != nil {
				errs <- err
				return
			}
			if got, err := k.Get(ctx, acct); err != nil || got != want {
				errs <- fmt.Errorf("Get(%q) = %q, %v; want %q", acct, got, err, want)
			}
			if got, err := k.Get(ctx, shared); err != nil || got != "shared-value" {
				errs <- fmt.Errorf("Get(%q) = %q, %v; want %q", shared, got, err, "shared-value")
			}
			if err := k.Delete(ctx, acct); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	k.Delete(ctx, shared)
}

// A locked keyring is reported as locked, never as "no credential", and
// neither Set nor Delete changes anything while it is locked.
func TestLockedKeyring(t *testing.T) {
	s := keyringtest.Require(t)
	ctx := context.Background()
	k := New(testService)
	acct := account(t)
	if err := k.Set(ctx, acct, "kept-value"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Delete(ctx, acct) })
	if err := s.Lock(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Unlock(); err != nil {
			t.Error(err)
		}
	})

	const newSecret = "must-not-be-written"
	const wantPrefix = "keychain: %s: secret storage is locked: failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"
	for _, tc := range []struct {
		op   string
		call func() error
	}{
		{"get", func() error { _, err := k.Get(ctx, acct); return err }},
		{"set", func() error { return k.Set(ctx, acct, newSecret) }},
		{"delete", func() error { return k.Delete(ctx, acct) }},
		{"get", func() error { _, err := k.Get(ctx, account(t)+"-missing"); return err }},
	} {
		err := tc.call()
		if got := kinds(err); !slices.Equal(got, []string{"ErrLocked"}) {
			t.Errorf("%s on a locked keyring: err = %v, is %v; want [ErrLocked]", tc.op, err, got)
			continue
		}
		if want := fmt.Sprintf(wantPrefix, tc.op); err.Error() != want {
			t.Errorf("%s on a locked keyring: err = %q, want %q", tc.op, err, want)
		}
	}

	if err := s.Unlock(); err != nil {
		t.Fatal(err)
	}
	mustGet(t, k, acct, "kept-value")
}

// A keyring that never answers (here: stopped with SIGSTOP, as if an unlock
// prompt were waiting) makes every call fail at its deadline, saying so.
func TestTimeout(t *testing.T) {
	s := keyringtest.Require(t)
	acct := account(t)
	k := New(testService)
	if err := k.Set(context.Background(), acct, "before-freeze"); err != nil {
		t.Fatal(err)
	}
	thaw, err := s.Freeze()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { thaw() })

	const newSecret = "written-while-frozen"
	short := &Keychain{Service: testService, Timeout: 50 * time.Millisecond}
	for _, tc := range []struct {
		name    string
		call    func() error
		wantMsg string
	}{
		{"get with context deadline", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := k.Get(ctx, acct)
			return err
		}, "keychain: get: no answer after 100ms (is an unlock prompt waiting?)"},
		{"set with Timeout", func() error {
			return short.Set(context.Background(), acct+"-set", newSecret)
		}, "keychain: set: no answer after 50ms (is an unlock prompt waiting?)"},
		{"delete with Timeout", func() error {
			return short.Delete(context.Background(), acct+"-delete")
		}, "keychain: delete: no answer after 50ms (is an unlock prompt waiting?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.call()
			took := time.Since(start)
			if got := kinds(err); !slices.Equal(got, []string{"ErrTimeout"}) {
				t.Fatalf("err = %v, is %v; want [ErrTimeout]", err, got)
			}
			// The context's deadline is measured a moment after it was
			// set; on a loaded machine the figure may be a little short.
			if !sameTimeoutMessage(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want %q", err, tc.wantMsg)
			}
			if took > time.Second {
				t.Errorf("call returned after %v, want about its deadline", took)
			}
		})
	}

	if err := thaw(); err != nil {
		t.Fatal(err)
	}
	// The keyring works again. (The abandoned calls may complete after the
	// thaw; they are on other accounts.)
	mustGet(t, k, acct, "before-freeze")
	t.Cleanup(func() {
		for _, a := range []string{acct, acct + "-set", acct + "-delete"} {
			k.Delete(context.Background(), a)
		}
	})
}

// childResult is what a child process reports about one keychain call.
type childResult struct {
	Err       string   `json:"err"`
	Kinds     []string `json:"kinds"`
	ValueOK   bool     `json:"value_ok"`   // the secret read equals GLPAT_KEYCHAIN_TEST_WANT
	BusAfter  string   `json:"bus_after"`  // DBUS_SESSION_BUS_ADDRESS after the call
	SecretLog bool     `json:"secret_log"` // the error message contains the secret
}

const childSecret = "child-secret-value"

// TestChildProcess is not a test of its own: runChild runs the test binary
// with it to call the keychain from a fresh process, whose godbus has not
// connected to any bus yet, in an environment made for the case.
func TestChildProcess(t *testing.T) {
	op := os.Getenv(childEnv)
	if op == "" {
		return // the body of other tests' child processes; nothing to do here
	}
	if dir := os.Getenv("GLPAT_KEYCHAIN_TEST_RUN_USER_DIR"); dir != "" {
		runUserDir = dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	k := New(testService)
	var r childResult
	var err error
	switch op {
	case "get":
		var got string
		got, err = k.Get(ctx, "child")
		r.ValueOK = err == nil && got == os.Getenv("GLPAT_KEYCHAIN_TEST_WANT")
	case "set":
		err = k.Set(ctx, "child", childSecret)
	case "go-keyring-get": // go-keyring alone, as a control
		_, err = keyring.Get(testService, "child")
	case "go-keyring-get-classified": // go-keyring's answer, told as Get tells its own
		var got string
		got, err = keyring.Get(testService, "child")
		if err != nil {
			err = classify("get", err)
		}
		r.ValueOK = err == nil && got == os.Getenv("GLPAT_KEYCHAIN_TEST_WANT")
	default:
		t.Fatalf("unknown child operation %q", op)
	}
	if err != nil {
		r.Err, r.Kinds, r.SecretLog = err.Error(), kinds(err), strings.Contains(err.Error(), childSecret)
	}
	r.BusAfter = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	out, _ := json.Marshal(r)
	fmt.Printf("child-result: %s\n", out)
}

// runChild runs op in a child process whose environment is this one's with
// the variables in unset removed and those in set added.
func runChild(t *testing.T, op string, unset []string, set ...string) childResult {
	t.Helper()
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(unset, name)
	})
	// A race-enabled binary sleeps a second at exit unless told not to.
	env = append(env, childEnv+"="+op, "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(env, set...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", op, err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if js, ok := strings.CutPrefix(sc.Text(), "child-result: "); ok {
			var r childResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("child %s printed no result:\n%s", op, out)
	return childResult{}
}

// fakeDBusLaunch puts a dbus-launch first in a PATH that, when run, leaves
// a marker file, and returns that PATH and the marker's path.
func fakeDBusLaunch(t *testing.T) (path, marker string) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	marker = filepath.Join(dir, "dbus-launch-ran")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n: > '" + marker + "'\nexit 1\n" // no PATH to find touch in
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return bin, marker
}

func TestNoSessionBus(t *testing.T) {
	keyringtest.Require(t)
	empty := t.TempDir()
	uid := strconv.Itoa(os.Getuid())
	noBus := []string{"ErrUnavailable", "ErrNoSessionBus"}

	t.Run("address names a missing socket", func(t *testing.T) {
		gone := filepath.Join(empty, "gone", "bus")
		start := time.Now()
		r := runChild(t, "set", nil, "DBUS_SESSION_BUS_ADDRESS=unix:path="+gone)
		if !slices.Equal(r.Kinds, noBus) {
			t.Errorf("err = %q, is %v; want %v", r.Err, r.Kinds, noBus)
		}
		want := "keychain: set: no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS names " + gone + ", which does not exist"
		if r.Err != want {
			t.Errorf("err = %q, want %q", r.Err, want)
		}
		if r.SecretLog {
			t.Error("the error message contains the secret")
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("took %v", took)
		}
	})

	t.Run("stale socket nobody listens on", func(t *testing.T) {
		sock := filepath.Join(empty, "stale")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
		r := runChild(t, "get", nil, "DBUS_SESSION_BUS_ADDRESS=unix:path="+sock)
		if !slices.Equal(r.Kinds, noBus) {
			t.Errorf("err = %q, is %v; want %v", r.Err, r.Kinds, noBus)
		}
		want := "keychain: get: no D-Bus session bus: dial unix " + sock + ": connect: connection refused"
		if r.Err != want {
			t.Errorf("err = %q, want %q", r.Err, want)
		}
	})

	// With no address and no socket, godbus would exec dbus-launch; we
	// must say "no bus" without ever letting it.
	for _, addr := range []string{"", "autolaunch:"} {
		t.Run(fmt.Sprintf("address %q never runs dbus-launch", addr), func(t *testing.T) {
			path, marker := fakeDBusLaunch(t)
			r := runChild(t, "get", []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "PATH"},
				"DBUS_SESSION_BUS_ADDRESS="+addr, "PATH="+path, "GLPAT_KEYCHAIN_TEST_RUN_USER_DIR="+empty)
			if !slices.Equal(r.Kinds, noBus) {
				t.Errorf("err = %q, is %v; want %v", r.Err, r.Kinds, noBus)
			}
			what := "unset"
			if addr != "" {
				what = strconv.Quote(addr)
			}
			want := "keychain: get: no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is " + what + " and " + filepath.Join(empty, uid, "bus") + " does not exist"
			if r.Err != want {
				t.Errorf("err = %q, want %q", r.Err, want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("dbus-launch was run")
			}
		})
	}

	// The control: go-keyring alone, in the same environment, does run
	// dbus-launch, so the test above can see it. godbus looks only at the
	// real /run/user/<uid>/bus, so this needs a machine without it.
	t.Run("control: go-keyring alone runs dbus-launch", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join("/run/user", uid, "bus")); err == nil {
			t.Skip("/run/user/" + uid + "/bus exists here, so godbus would not launch a bus")
		}
		path, marker := fakeDBusLaunch(t)
		r := runChild(t, "go-keyring-get", []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "PATH"}, "PATH="+path)
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("go-keyring did not run the fake dbus-launch (err %q); the test above proves nothing", r.Err)
		}
	})
}

// With DBUS_SESSION_BUS_ADDRESS unset, the bus in XDG_RUNTIME_DIR, else in
// /run/user/<uid>, is found and used.
func TestFindsSessionBus(t *testing.T) {
	s := keyringtest.Require(t)
	k := New(testService)
	if err := k.Set(context.Background(), "child", "found-value"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Delete(context.Background(), "child") })
	socket := filepath.Join(s.Dir, "run", "bus")

	runUser := t.TempDir()
	if err := os.Mkdir(filepath.Join(runUser, strconv.Itoa(os.Getuid())), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(socket, filepath.Join(runUser, strconv.Itoa(os.Getuid()), "bus")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		set     []string
		wantBus string
	}{
		{"in XDG_RUNTIME_DIR", []string{"XDG_RUNTIME_DIR=" + filepath.Join(s.Dir, "run")}, "unix:path=" + socket},
		{"in /run/user/<uid>", []string{"GLPAT_KEYCHAIN_TEST_RUN_USER_DIR=" + runUser},
			"unix:path=" + filepath.Join(runUser, strconv.Itoa(os.Getuid()), "bus")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runChild(t, "get", []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"},
				append(tc.set, "GLPAT_KEYCHAIN_TEST_WANT=found-value")...)
			if r.Err != "" || !r.ValueOK {
				t.Errorf("Get = err %q, value ok %v; want the stored value", r.Err, r.ValueOK)
			}
			if r.BusAfter != tc.wantBus {
				t.Errorf("DBUS_SESSION_BUS_ADDRESS after the call = %q, want %q", r.BusAfter, tc.wantBus)
			}
		})
	}
}

func TestNoSecretService(t *testing.T) {
	keyringtest.Require(t)
	bus, err := keyringtest.StartBusOnly()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Stop() })
	want := []string{"ErrUnavailable", "ErrNoSecretService"}
	for _, op := range []string{"get", "set"} {
		t.Run(op, func(t *testing.T) {
			r := runChild(t, op, nil, bus.Env...)
			if !slices.Equal(r.Kinds, want) {
				t.Errorf("err = %q, is %v; want %v", r.Err, r.Kinds, want)
			}
			wantMsg := "keychain: " + op + ": no Secret Service (org.freedesktop.secrets) on the D-Bus session bus"
			if r.Err != wantMsg {
				t.Errorf("err = %q, want %q", r.Err, wantMsg)
			}
			if r.SecretLog {
				t.Error("the error message contains the secret")
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	keyringtest.Require(b)
	ctx := context.Background()
	k := New(testService)
	if err := k.Set(ctx, "bench", "bench-value"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Delete(ctx, "bench") })
	for b.Loop() {
		if _, err := k.Get(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoKeyringGet is the same Get through go-keyring alone, the way
// Get worked before it made its own D-Bus calls (see lookup). go-keyring
// keeps one connection for the process; Get dials anew every time.
func BenchmarkGoKeyringGet(b *testing.B) {
	keyringtest.Require(b)
	if err := keyring.Set(testService, "bench-raw", "bench-value"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { keyring.Delete(testService, "bench-raw") })
	for b.Loop() {
		if _, err := keyring.Get(testService, "bench-raw"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallOverhead is what Keychain adds to every go-keyring call:
// the bus check (one stat) and running the call under a deadline.
func BenchmarkCallOverhead(b *testing.B) {
	keyringtest.Require(b)
	k := New(testService)
	ctx := context.Background()
	noop := func() (string, error) { return "", nil }
	for b.Loop() {
		if _, err := k.call(ctx, "get", noop); err != nil {
			b.Fatal(err)
		}
	}
}

// sameTimeoutMessage reports whether got is want ("…no answer after D…")
// with a wait of at most D, and more than three quarters of it.
func sameTimeoutMessage(got, want string) bool {
	re := regexp.MustCompile(`after ([0-9.]+[µm]?s) `)
	g, w := re.FindStringSubmatch(got), re.FindStringSubmatch(want)
	if g == nil || w == nil || re.ReplaceAllString(got, "after D ") != re.ReplaceAllString(want, "after D ") {
		return false
	}
	gd, err1 := time.ParseDuration(g[1])
	wd, err2 := time.ParseDuration(w[1])
	return err1 == nil && err2 == nil && gd <= wd && gd > wd*3/4
}
