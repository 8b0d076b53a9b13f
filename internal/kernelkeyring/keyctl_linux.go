package kernelkeyring

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// realSyscalls is keyctl(2) and add_key(2).
type realSyscalls struct{}

func (realSyscalls) getPersistent() (int, error) {
	// Linked into the calling thread's keyring, which nothing else can
	// reach: it is not shared with other threads, is dropped at fork and
	// exec, and dies with the thread (see Keyring, "Possession").
	id, err := unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, unix.KEY_SPEC_THREAD_KEYRING, 0, 0)
	return id, os.NewSyscallError("keyctl KEYCTL_GET_PERSISTENT", err)
}

func (realSyscalls) unlinkFromSessions(id int) {
	// Not linked is the usual answer (ENOENT); any other failure leaves a
	// link that possessor rights of 0 make harmless to our keys.
	unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_SESSION_KEYRING, 0, 0)
	unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_SESSION_KEYRING, 0, 0)
}

func (realSyscalls) userKeyring() (int, error) {
	id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true)
	return id, os.NewSyscallError("keyctl KEYCTL_GET_KEYRING_ID @u", err)
}

func (realSyscalls) search(ring int, typ, desc string) (int, error) {
	id, err := unix.KeyctlSearch(ring, typ, desc, 0)
	return id, os.NewSyscallError("keyctl KEYCTL_SEARCH", err)
}

func (realSyscalls) add(typ, desc string, payload []byte, ring int) (int, error) {
	id, err := unix.AddKey(typ, desc, payload, ring)
	return id, os.NewSyscallError("add_key", err)
}

func (realSyscalls) read(id int) ([]byte, error) {
	buf := make([]byte, 512)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, os.NewSyscallError("keyctl KEYCTL_READ", err)
		}
		if n <= len(buf) {
			return buf[:n], nil
		}
		// The payload is longer than buf (or grew since): the kernel
		// said how long it is.
		buf = make([]byte, n)
	}
}

func (realSyscalls) describe(id int) (string, error) {
	// One call where unix.KeyctlString makes two (length, then text):
	// every call of ours describes our keyring.
	buf := make([]byte, 128)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_DESCRIBE, id, buf, 0)
		if err != nil {
			return "", os.NewSyscallError("keyctl KEYCTL_DESCRIBE", err)
		}
		if n <= len(buf) {
			// n counts the terminating NUL.
			return string(buf[:max(n-1, 0)]), nil
		}
		buf = make([]byte, n)
	}
}

func (realSyscalls) setTimeout(id int, d time.Duration) error {
	secs := 0
	if d > 0 {
		secs = int((d + time.Second - 1) / time.Second)
	}
	_, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, secs, 0, 0)
	return os.NewSyscallError("keyctl KEYCTL_SET_TIMEOUT", err)
}

func (realSyscalls) setPerm(id int, perm uint32) error {
	return os.NewSyscallError("keyctl KEYCTL_SETPERM", unix.KeyctlSetperm(id, perm))
}

func (realSyscalls) unlink(id, ring int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0)
	return os.NewSyscallError("keyctl KEYCTL_UNLINK", err)
}

func (realSyscalls) invalidate(id int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
	return os.NewSyscallError("keyctl KEYCTL_INVALIDATE", err)
}

// classOf says what an error from the syscalls means.
func classOf(err error) errClass {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return classOther
	}
	switch errno {
	case unix.ENOKEY, unix.EKEYEXPIRED, unix.EKEYREVOKED:
		return classNoKey
	case unix.EPERM, unix.ENOSYS, unix.EACCES:
		return classBlocked
	case unix.EOPNOTSUPP:
		return classNoPersistent
	case unix.EDQUOT:
		return classQuota
	}
	return classOther
}

// blockedHint says why keyctl may be refused, for a person.
func blockedHint(err error) string {
	switch {
	case errors.Is(err, unix.ENOSYS):
		return "the kernel was built without key management (CONFIG_KEYS), or a seccomp filter hides keyctl"
	case errors.Is(err, unix.EACCES):
		return "the keyring does not let this process in: only the user who stored the keys may use them; is it running as another user?"
	}
	return "a seccomp profile blocks keyctl, as Docker's default profile does; run outside the container or allow keyctl and add_key"
}
