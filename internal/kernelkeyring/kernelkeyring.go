// Package kernelkeyring keeps secrets in the Linux kernel's key retention service, in a keyring of ours inside the user's persistent keyring: fast, never written to disk, and lost at reboot.
package kernelkeyring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// DefaultName is the description of our keyring, as `keyctl show` lists it.
const DefaultName = "git-credential-glpat"

// MaxPayload is the most a "user" key can hold (the kernel's user key type
// refuses more than 32767 bytes).
const MaxPayload = 32767

// lockWait bounds how long the creation of our keyring waits for another
// process that is creating it, which takes microseconds.
const lockWait = 10 * time.Second

// Location says which of the user's keyrings holds ours.
type Location int

const (
	// Persistent is the user's persistent keyring: it outlives login
	// sessions and is lost at reboot, or after three idle days.
	Persistent Location = iota + 1
	// UserKeyring is the user keyring @u, used where the kernel has no
	// persistent keyrings (CONFIG_PERSISTENT_KEYRINGS is off).
	UserKeyring
)

func (l Location) String() string {
	switch l {
	case Persistent:
		return "persistent keyring"
	case UserKeyring:
		return "user keyring (the kernel has no persistent keyrings)"
	}
	return "no keyring"
}

// Keyring is a keyring of ours, found by its Name in the user's persistent
// keyring and created there on the first write. It stores byte strings
// under descriptions. A Keyring is safe for concurrent use by goroutines and
// processes; its fields must not change while calls are in flight.
//
// # Where the keys live
//
// Our keyring (named DefaultName) is linked into the user's persistent
// keyring (keyctl KEYCTL_GET_PERSISTENT, see persistent-keyring(7)), which
// the kernel keeps for each user independently of login sessions, so a
// secret stored from an SSH session is still there for a cron job or the
// next login. The kernel destroys the persistent keyring, and everything
// in it, at reboot, and also when nothing has asked for it for
// /proc/sys/kernel/keys/persistent_keyring_expiry seconds (three days by
// default; every call of this package asks for it, and so resets that
// clock).
//
// Kernels built without CONFIG_PERSISTENT_KEYRINGS answer EOPNOTSUPP; then
// our keyring goes into the user keyring (@u) instead (Location tells which
// one is in use). Since Linux 5.3 the user keyring is kept in its user
// namespace's register and lives as long as that, which for a normal login
// is until reboot, as the persistent
// keyring does; on older kernels it is destroyed when the user's last
// process exits. Either way: secrets kept here are lost at reboot.
//
// # Who can read the keys
//
// The kernel grants rights on a key to its possessor, to its owner's uid,
// to its group and to everyone else (keyrings(7)). Possessor rights add to
// the others and go to any process that can reach the key from its own
// thread, process or session keyring, whatever its uid; and a session
// keyring is inherited across fork and exec, and across `su` where PAM has
// no pam_keyinit (Debian's /etc/pam.d/su). So our keyring and every key in
// it grant nothing to possessors, nothing to the group or others, and
// everything to the owner's uid (keyPerm): only processes running as the
// user can use them, and root, which may take any uid.
//
// Searching the persistent keyring still takes possession of it (its owner
// may only view and read it), so each call links it into the calling
// thread's keyring, with the goroutine locked to its OS thread for the
// call, and never into a session keyring. A thread keyring is the
// thread's alone: a thread it starts gets an empty one of its own, fork and
// exec drop it, and it goes when the process goes, killed or not. Earlier versions linked the
// persistent keyring into the caller's session keyring (or the
// user-session keyring), where another uid could inherit it; each call
// removes such a link from both. The first call to find our keyring with
// other rights than keyPerm (as earlier versions left it) sets keyPerm on it
// and on every key in it, and unlinks keys in it that another uid put there
// (only a possessor could). A keyring of our name that another uid owns
// (only a possessor of the persistent keyring could have put it there) is
// never used: reads fail naming it, and the next write replaces it.
//
// # Limits
//
// A "user" key holds at most 32767 bytes, and the kernel limits each user
// (but root) to /proc/sys/kernel/keys/maxkeys keys (200) and maxbytes bytes
// (20000) in all: enough for dozens of tokens, not for thousands. keyctl
// calls on "user" keys never wait on user space (there is no upcall, as
// request_key would make), so they are bounded by the kernel; a context is
// checked before each call, and only the creation of our keyring, which
// takes a lock shared with other processes, can wait.
type Keyring struct {
	// Name is the description of our keyring; empty means DefaultName.
	// Tests use a name of their own, so that they never touch the real one.
	Name string
	// LockFile serialises the creation of our keyring across processes:
	// add_key of a keyring whose name is taken replaces the existing one
	// (keyrings cannot be updated in place), so two processes creating it
	// at once would lose the keys the first one stored. Empty means no
	// lock, which is only safe in a single process.
	LockFile string

	sys syscalls // nil: the real keyctl; tests put a fault in its place
}

// keyPerm is the permission mask of our keyring and of every key in it
// (keyctl_setperm(3)): view, read, write, search, link and setattr for the
// owner's uid (KEY_USR_ALL), nothing for possessors, the group or others.
// See Keyring, "Who can read the keys".
const keyPerm = 0x003f0000

// syscalls is the part of keyctl(2) and add_key(2) we use, so that tests
// can make it fail as a container's seccomp profile would. Errors keep the
// errno in their chain and name the call that failed. Calls that rely on
// possession must run on the OS thread that called getPersistent.
type syscalls interface {
	// getPersistent returns the user's persistent keyring, linked into the
	// calling thread's keyring.
	getPersistent() (int, error)
	// unlinkFromSessions removes a link to id from the caller's session
	// keyring and from the user-session keyring, where there is one.
	unlinkFromSessions(id int)
	// userKeyring returns the user keyring @u.
	userKeyring() (int, error)
	search(ring int, typ, desc string) (int, error)
	add(typ, desc string, payload []byte, ring int) (int, error)
	read(id int) ([]byte, error)
	describe(id int) (string, error)
	setPerm(id int, perm uint32) error
	setTimeout(id int, d time.Duration) error
	unlink(id, ring int) error
	invalidate(id int) error
}

// errClass is what an error of the syscalls means to us.
type errClass int

const (
	classOther        errClass = iota
	classNoKey                 // ENOKEY, EKEYEXPIRED, EKEYREVOKED: no such key (any more)
	classBlocked               // EPERM, ENOSYS, EACCES: keyctl cannot be used here
	classNoPersistent          // EOPNOTSUPP from KEYCTL_GET_PERSISTENT
	classQuota                 // EDQUOT: the user's key quota is used up
)

func (k *Keyring) name() string {
	if k.Name == "" {
		return DefaultName
	}
	return k.Name
}

func (k *Keyring) syscalls() syscalls {
	if k.sys == nil {
		return realSyscalls{}
	}
	return k.sys
}

// Probe reports which keyring holds ours (or would, before the first
// write), without creating anything. Its error says why keyctl cannot be
// used; it errors.Is secrets.ErrUnavailable when keyctl is blocked or
// missing.
func (k *Keyring) Probe(ctx context.Context) (Location, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("kernel keyring: probe: %w", err)
	}
	runtime.LockOSThread() // its keyring gives possession (see Keyring)
	defer runtime.UnlockOSThread()
	top, loc, err := k.top()
	if err != nil {
		return 0, k.fail("probe", "", err)
	}
	if _, err := k.syscalls().search(top, "keyring", k.name()); err != nil && classOf(err) != classNoKey {
		return 0, k.fail("probe", "", err)
	}
	return loc, nil
}

// Read returns the payload of the "user" key desc. The error errors.Is
// secrets.ErrNotFound when there is none (or it has expired).
func (k *Keyring) Read(ctx context.Context, desc string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("kernel keyring: read %s: %w", desc, err)
	}
	runtime.LockOSThread() // its keyring gives possession (see Keyring)
	defer runtime.UnlockOSThread()
	sys := k.syscalls()
	ring, err := k.ring(ctx, false)
	if err != nil {
		return nil, k.fail("read", desc, err)
	}
	id, err := sys.search(ring, "user", desc)
	if err != nil {
		return nil, k.fail("read", desc, err)
	}
	data, err := sys.read(id)
	if err != nil {
		return nil, k.fail("read", desc, err)
	}
	return data, nil
}

// Write stores payload as the "user" key desc, replacing any previous one
// atomically, and creates our keyring first if needed. A positive expire
// makes the kernel destroy the key after that long (rounded up to whole
// seconds); zero keeps it until our keyring goes.
func (k *Keyring) Write(ctx context.Context, desc string, payload []byte, expire time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kernel keyring: write %s: %w", desc, err)
	}
	if len(payload) == 0 || len(payload) > MaxPayload {
		return fmt.Errorf("kernel keyring: write %s: a key holds 1 to %d bytes, not %d", desc, MaxPayload, len(payload))
	}
	runtime.LockOSThread() // its keyring gives possession (see Keyring)
	defer runtime.UnlockOSThread()
	sys := k.syscalls()
	ring, err := k.ring(ctx, true)
	if err != nil {
		return k.fail("write", desc, err)
	}
	id, err := sys.add("user", desc, payload, ring)
	if err != nil {
		return k.fail("write", desc, err)
	}
	// A new key grants everything to its possessors (the kernel's
	// default). A process killed before this leaves such a key in our
	// keyring, where only the user's processes can reach it.
	if err := sys.setPerm(id, keyPerm); err != nil {
		return k.fail("write", desc, err)
	}
	// Updating a key keeps its expiry, so set it every time (zero clears
	// it). A process killed just before this leaves the key without an
	// expiry: it then lasts as long as our keyring.
	if err := sys.setTimeout(id, expire); err != nil {
		return k.fail("write", desc, err)
	}
	return nil
}

// Remove destroys the key desc at once (KEYCTL_INVALIDATE, so that no
// other link keeps it alive). The error errors.Is secrets.ErrNotFound when
// there was none.
func (k *Keyring) Remove(ctx context.Context, desc string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kernel keyring: remove %s: %w", desc, err)
	}
	runtime.LockOSThread() // its keyring gives possession (see Keyring)
	defer runtime.UnlockOSThread()
	sys := k.syscalls()
	ring, err := k.ring(ctx, false)
	if err != nil {
		return k.fail("remove", desc, err)
	}
	id, err := sys.search(ring, "user", desc)
	if err != nil {
		return k.fail("remove", desc, err)
	}
	if err := sys.invalidate(id); err != nil {
		return k.fail("remove", desc, err)
	}
	return nil
}

// Descriptions lists the descriptions of the "user" keys in our keyring,
// in the kernel's order. No keyring yet means an empty list.
func (k *Keyring) Descriptions(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("kernel keyring: list: %w", err)
	}
	runtime.LockOSThread() // its keyring gives possession (see Keyring)
	defer runtime.UnlockOSThread()
	ids, err := k.keys(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		d, err := k.syscalls().describe(id)
		if classOf(err) == classNoKey {
			continue // removed since we listed it
		}
		if err != nil {
			return nil, k.fail("list", "", err)
		}
		// "type;uid;gid;perm;description": the description may itself
		// hold semicolons (keyctl_describe(3)).
		f := strings.SplitN(d, ";", 5)
		if len(f) == 5 && f[0] == "user" {
			out = append(out, f[4])
		}
	}
	return out, nil
}

// Destroy invalidates every key in our keyring and the keyring itself. It
// is for tests, and for a person who wants the secrets gone before reboot.
func (k *Keyring) Destroy(ctx context.Context) error {
	runtime.LockOSThread() // its keyring gives possession (see Keyring)
	defer runtime.UnlockOSThread()
	ids, err := k.keys(ctx)
	if err != nil {
		return err
	}
	sys := k.syscalls()
	for _, id := range ids {
		if err := sys.invalidate(id); err != nil && classOf(err) != classNoKey {
			return k.fail("destroy", "", err)
		}
	}
	ring, err := k.ring(ctx, false)
	if classOf(err) == classNoKey {
		return nil
	}
	if err == nil {
		err = sys.invalidate(ring)
	}
	if err != nil && classOf(err) != classNoKey {
		return k.fail("destroy", "", err)
	}
	return nil
}

// keys lists the serial numbers of the keys in our keyring.
func (k *Keyring) keys(ctx context.Context) ([]int, error) {
	ring, err := k.ring(ctx, false)
	if classOf(err) == classNoKey {
		return nil, nil
	}
	if err != nil {
		return nil, k.fail("list", "", err)
	}
	data, err := k.syscalls().read(ring)
	if classOf(err) == classNoKey {
		return nil, nil
	}
	if err != nil {
		return nil, k.fail("list", "", err)
	}
	return serials(data), nil
}

// top returns the keyring ours lives in: the persistent keyring, linked
// into the calling thread's keyring so that the thread possesses it, or the
// user keyring where the kernel has no persistent keyrings. The caller
// holds its OS thread.
func (k *Keyring) top() (int, Location, error) {
	sys := k.syscalls()
	id, err := sys.getPersistent()
	if err == nil {
		sys.unlinkFromSessions(id)
		return id, Persistent, nil
	}
	if classOf(err) != classNoPersistent {
		return 0, 0, err
	}
	id, err = sys.userKeyring()
	if err != nil {
		return 0, 0, err
	}
	return id, UserKeyring, nil
}

// ring returns our keyring. When it does not exist, ring creates it if
// create is set, and otherwise returns an error of classNoKey. A keyring
// of our name that another uid owns is replaced if create is set, and
// otherwise an error.
func (k *Keyring) ring(ctx context.Context, create bool) (int, error) {
	sys := k.syscalls()
	top, _, err := k.top()
	if err != nil {
		return 0, err
	}
	id, err := k.find(top)
	if err == nil || !create || !replaceable(err) {
		return id, err
	}
	if k.LockFile != "" {
		if err := os.MkdirAll(filepath.Dir(k.LockFile), 0o700); err != nil {
			return 0, err
		}
		lctx, cancel := context.WithTimeout(ctx, lockWait)
		defer cancel()
		lock, err := filelock.Acquire(lctx, k.LockFile)
		if err != nil {
			return 0, err
		}
		defer lock.Unlock()
		// Another process may have created it while we waited.
		if id, err := k.find(top); err == nil || !replaceable(err) {
			return id, err
		}
	}
	id, err = sys.add("keyring", k.name(), nil, top)
	if err != nil {
		return 0, err
	}
	// Before anything goes in: a new keyring grants everything to its
	// possessors. A process killed before this leaves an empty keyring
	// that the next find restricts.
	if err := sys.setPerm(id, keyPerm); err != nil {
		return 0, err
	}
	return id, nil
}

// find returns our keyring in top, once it and the keys in it grant
// nothing to anyone but the user's uid (see Keyring). It fails with a
// *foreignError for a keyring of our name that another uid owns.
func (k *Keyring) find(top int) (int, error) {
	id, err := k.syscalls().search(top, "keyring", k.name())
	if err != nil {
		return 0, err
	}
	uid, perm, err := k.owner(id)
	if err != nil {
		return 0, err
	}
	if uid != os.Geteuid() {
		return 0, &foreignError{name: k.name(), id: id, uid: uid}
	}
	if perm != keyPerm {
		if err := k.restrict(id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// restrict sets keyPerm on our keyring and on every key in it, and unlinks
// from it the keys another uid put there. The keys come first, so that a
// process killed halfway leaves the keyring to be restricted again, and
// again after, for a key that a possessor added meanwhile.
func (k *Keyring) restrict(ring int) error {
	if err := k.restrictKeys(ring); err != nil {
		return err
	}
	if err := k.syscalls().setPerm(ring, keyPerm); err != nil {
		return err
	}
	return k.restrictKeys(ring)
}

func (k *Keyring) restrictKeys(ring int) error {
	sys := k.syscalls()
	data, err := sys.read(ring)
	if err != nil {
		return err
	}
	for _, id := range serials(data) {
		uid, perm, err := k.owner(id)
		switch {
		case classOf(err) == classNoKey:
			continue // gone since we listed it
		case classOf(err) == classBlocked:
			// A key the user's uid may not even view is not ours.
			err = sys.unlink(id, ring)
		case err != nil:
			return err
		case uid != os.Geteuid():
			err = sys.unlink(id, ring)
		case perm != keyPerm:
			err = sys.setPerm(id, keyPerm)
		}
		if err != nil && classOf(err) != classNoKey {
			return err
		}
	}
	return nil
}

// owner returns the uid that owns key id and its permission mask.
func (k *Keyring) owner(id int) (uid int, perm uint32, err error) {
	d, err := k.syscalls().describe(id)
	if err != nil {
		return 0, 0, err
	}
	// "type;uid;gid;perm;description", perm in hex (keyctl_describe(3)).
	if f := strings.SplitN(d, ";", 5); len(f) == 5 {
		u, uerr := strconv.Atoi(f[1])
		p, perr := strconv.ParseUint(f[3], 16, 32)
		if uerr == nil && perr == nil {
			return u, uint32(p), nil
		}
	}
	return 0, 0, fmt.Errorf("keyctl KEYCTL_DESCRIBE: unexpected answer %q", d)
}

// foreignError is a keyring of our name that another uid owns.
type foreignError struct {
	name    string
	id, uid int
}

func (e *foreignError) Error() string {
	return fmt.Sprintf("the keyring %q (%d) belongs to uid %d, not to you: another user put it there, and it is not used; the next store replaces it", e.name, e.id, e.uid)
}

// replaceable reports whether err from find leaves room for a keyring of
// ours: there is none, or the one there is another uid's.
func replaceable(err error) bool {
	var f *foreignError
	return classOf(err) == classNoKey || errors.As(err, &f)
}

// fail turns an error of the syscalls into one of ours: "kernel keyring:
// op desc: what failed", which errors.Is secrets.ErrNotFound or
// secrets.ErrUnavailable where that is what it means, and keeps the errno
// in its chain.
func (k *Keyring) fail(op, desc string, err error) error {
	what := op
	if desc != "" {
		what += " " + desc
	}
	switch classOf(err) {
	case classNoKey:
		return secrets.NewError(fmt.Sprintf("kernel keyring: %s: %v", what, secrets.ErrNotFound), secrets.ErrNotFound, err)
	case classBlocked:
		return secrets.NewError(fmt.Sprintf("kernel keyring: %s: %v (%s)", what, err, blockedHint(err)), secrets.ErrUnavailable, err)
	case classQuota:
		// The quota counts bytes and keys of all the user's keys: a
		// large secret may not fit the room left.
		return secrets.NewError(fmt.Sprintf("kernel keyring: %s: %v (the kernel limits the keys of each user: see /proc/sys/kernel/keys/maxkeys and maxbytes); nothing was changed (erase credentials you no longer need, raise kernel.keys.maxbytes with sysctl, or %s)",
			what, err, otherBackendHint), secrets.ErrTooLarge, err)
	}
	return fmt.Errorf("kernel keyring: %s: %w", what, err)
}

// serials decodes the payload of a keyring: an array of 32-bit key serial
// numbers in the machine's byte order.
func serials(data []byte) []int {
	out := make([]int, 0, len(data)/4)
	for i := 0; i+4 <= len(data); i += 4 {
		out = append(out, int(int32(binary.NativeEndian.Uint32(data[i:]))))
	}
	return out
}

// Store is a secrets.Store that keeps each secret as one "user" key,
// described Prefix+account, in a Keyring. Secrets stored here are never
// written to disk and are LOST AT REBOOT (and after three days in which
// nothing used them): it suits machines where a token is stored again after
// each boot, such as CI runners and short-lived build hosts. Only Linux has
// it; elsewhere every call fails with secrets.ErrUnavailable.
//
// A Store is safe for concurrent use by goroutines and processes.
type Store struct {
	Keyring *Keyring
	// Prefix starts the description of every key; empty means
	// DefaultName+":". Keys without it are not ours and List skips them.
	Prefix string
}

var _ secrets.Store = (*Store)(nil)

// otherBackendHint says where a secret goes that the kernel keyring cannot
// hold.
const otherBackendHint = "use the encrypted-file backend: git-credential-glpat migrate --to encrypted-file"

// payloadVersion starts every key payload: a "user" key cannot be empty,
// and a secret can be.
const payloadVersion = 1

// MaxSecret is the longest secret a Store can keep.
const MaxSecret = MaxPayload - 1

func (s *Store) prefix() string {
	if s.Prefix == "" {
		return DefaultName + ":"
	}
	return s.Prefix
}

// Get returns the secret stored for account. The error errors.Is
// secrets.ErrNotFound when there is none, and secrets.ErrUnavailable when
// keyctl cannot be used here.
func (s *Store) Get(ctx context.Context, account string) (string, error) {
	data, err := s.Keyring.Read(ctx, s.prefix()+account)
	if err != nil {
		return "", err
	}
	if len(data) == 0 || data[0] != payloadVersion {
		return "", fmt.Errorf("kernel keyring: read %s: not a key written by git-credential-glpat", s.prefix()+account)
	}
	return string(data[1:]), nil
}

// Set stores secret for account, replacing any previous one atomically.
func (s *Store) Set(ctx context.Context, account, secret string) error {
	if len(secret) > MaxSecret {
		return secrets.NewError(fmt.Sprintf("kernel keyring: write %s: the secret is %d bytes, and a kernel key holds at most %d; nothing was changed (%s)",
			s.prefix()+account, len(secret), MaxSecret, otherBackendHint), secrets.ErrTooLarge)
	}
	payload := make([]byte, 0, 1+len(secret))
	payload = append(payload, payloadVersion)
	payload = append(payload, secret...)
	return s.Keyring.Write(ctx, s.prefix()+account, payload, 0)
}

// Delete removes the secret for account. The error errors.Is
// secrets.ErrNotFound when there was none.
func (s *Store) Delete(ctx context.Context, account string) error {
	return s.Keyring.Remove(ctx, s.prefix()+account)
}

// List returns the accounts that have a secret here, sorted.
func (s *Store) List(ctx context.Context) ([]string, error) {
	descs, err := s.Keyring.Descriptions(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range descs {
		if a, ok := strings.CutPrefix(d, s.prefix()); ok {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Describe names the backend for status and doctor.
func (s *Store) Describe() string { return "kernel keyring (lost at reboot)" }

// Check reports whether the backend can be used, without changing
// anything; its error says what is wrong.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.Keyring.Probe(ctx)
	return err
}

// errNotLinux is what every call fails with where there is no kernel
// keyring.
var errNotLinux = errors.New("the kernel keyring exists only on Linux")
