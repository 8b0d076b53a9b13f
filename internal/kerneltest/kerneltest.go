//go:build linux

// Package kerneltest puts processes of two uids in one session keyring, as
// `su` leaves them where PAM has no pam_keyinit, for the tests of who can
// read the helper's kernel keys. The tests run as root, which may start a
// process as any uid.
package kerneltest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Other is "another user": the uid (and gid) of nobody.
const Other = 65534

var seq atomic.Int64

// Session is an OS thread that has joined a session keyring of its own.
// What Run runs happens on that thread, and the processes it starts
// inherit the session keyring, whatever uid they run as. When the test
// ends the thread joins a new empty session keyring and goes back to the
// Go scheduler: it must not end, since the kernel sends a child's
// Pdeathsig when the thread that started it ends (keyringtest's daemons
// have one), and Go may have started any child from any thread.
type Session struct {
	do chan func()
}

// NewSession starts a Session for tb. It fails tb where the tests do not
// run as root, which they need to run a process as Other.
func NewSession(tb testing.TB) *Session {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Fatal("this test runs a process as another uid in the same session keyring, which needs root")
	}
	s := &Session{do: make(chan func())}
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		name := fmt.Sprintf("glpat-test-session-%d-%d", os.Getpid(), seq.Add(1))
		_, err := unix.KeyctlJoinSessionKeyring(name)
		started <- err
		if err != nil {
			runtime.UnlockOSThread()
			return
		}
		for f := range s.do {
			f()
		}
		// An anonymous one (no name: NULL), which nothing else can join.
		if _, _, errno := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_JOIN_SESSION_KEYRING, 0, 0); errno == 0 {
			runtime.UnlockOSThread()
		}
	}()
	if err := <-started; err != nil {
		tb.Fatalf("join a new session keyring: %v", err)
	}
	tb.Cleanup(func() { close(s.do) })
	return s
}

// Run runs f on the session's thread and waits for it. f must not call
// tb.Fatal (it runs on another goroutine); tb.Error is fine.
func (s *Session) Run(f func()) {
	done := make(chan struct{})
	s.do <- func() { defer close(done); f() }
	<-done
}

// Links returns the serials of the keys linked into the session keyring.
func (s *Session) Links() ([]int, error) {
	var ids []int
	var err error
	s.Run(func() { ids, err = readRing(unix.KEY_SPEC_SESSION_KEYRING) })
	return ids, err
}

// LinkPersistent links the user's persistent keyring into the session
// keyring, as `keyctl get_persistent @s` does, and returns its serial.
func (s *Session) LinkPersistent() (int, error) {
	var id int
	var err error
	s.Run(func() { id, err = unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, unix.KEY_SPEC_SESSION_KEYRING, 0, 0) })
	return id, err
}

// Keyctl runs keyctl(1) with args as uid in the session and returns its
// standard output. The error holds its standard error.
func (s *Session) Keyctl(uid int, args ...string) (string, error) {
	var out string
	var err error
	s.Run(func() {
		cmd := exec.Command("keyctl", args...)
		if uid != os.Geteuid() {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err = cmd.Run(); err != nil {
			err = fmt.Errorf("keyctl %s as uid %d: %w: %s", strings.Join(args, " "), uid, err, strings.TrimSpace(stderr.String()))
		}
		out = stdout.String()
	})
	return out, err
}

// ReadAs reads key id as uid (`keyctl pipe`), from the session, and
// returns the number of bytes read: never the payload, which is a secret.
func (s *Session) ReadAs(uid, id int) (int, error) {
	out, err := s.Keyctl(uid, "pipe", strconv.Itoa(id))
	return len(out), err
}

// Persistent returns the serial of the persistent keyring of the uid the
// tests run as, linked into the calling thread's keyring as the helper
// links it.
func Persistent() (int, error) {
	return onThread(func() (int, error) {
		return unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, unix.KEY_SPEC_THREAD_KEYRING, 0, 0)
	})
}

// Keys returns the serials of the "user" keys in the keyring named ring in
// the persistent keyring of the uid the tests run as.
func Keys(ring string) ([]int, error) {
	var keys []int
	_, err := onThread(func() (int, error) {
		p, err := unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, unix.KEY_SPEC_THREAD_KEYRING, 0, 0)
		if err != nil {
			return 0, fmt.Errorf("get persistent keyring: %w", err)
		}
		r, err := unix.KeyctlSearch(p, "keyring", ring, 0)
		if err != nil {
			return 0, fmt.Errorf("find keyring %s: %w", ring, err)
		}
		ids, err := readRing(r)
		if err != nil {
			return 0, fmt.Errorf("read keyring %s: %w", ring, err)
		}
		for _, id := range ids {
			if d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id); err == nil && strings.HasPrefix(d, "user;") {
				keys = append(keys, id)
			}
		}
		return 0, nil
	})
	return keys, err
}

// Describe returns the owner and permission mask of key id.
func Describe(id int) (uid int, perm uint32, err error) {
	d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		return 0, 0, err
	}
	f := strings.SplitN(d, ";", 5)
	if len(f) != 5 {
		return 0, 0, fmt.Errorf("describe %d: %q", id, d)
	}
	u, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, err
	}
	p, err := strconv.ParseUint(f[3], 16, 32)
	return u, uint32(p), err
}

// IsDenied reports whether err is keyctl(1) refused for want of rights.
func IsDenied(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Permission denied")
}

// onThread runs f locked to one OS thread, as the helper makes its keyctl
// calls: possession through the thread keyring holds for f's calls only if
// they all run on the thread that linked the persistent keyring there.
func onThread(f func() (int, error)) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return f()
}

// readRing returns the serials linked in keyring id.
func readRing(id int) ([]int, error) {
	buf := make([]byte, 4096)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil {
		return nil, err
	}
	if n > len(buf) {
		return nil, errors.New("keyring too large")
	}
	var ids []int
	for i := 0; i+4 <= n; i += 4 {
		ids = append(ids, int(int32(binary.NativeEndian.Uint32(buf[i:]))))
	}
	return ids, nil
}
