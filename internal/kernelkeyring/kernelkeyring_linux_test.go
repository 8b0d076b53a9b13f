package kernelkeyring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/glpat-dev/git-credential-glpat/internal/kerneltest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

func TestMain(m *testing.M) {
	secretstest.ServeWorker(func(spec string) (secrets.Store, error) {
		name, lock, _ := strings.Cut(spec, "|")
		return testStore(&Keyring{Name: name, LockFile: lock}), nil
	})
	os.Exit(m.Run())
}

// NoKeyctlEnv, set to 1, declares that keyctl is not usable where the
// tests run (a container whose seccomp profile blocks it), so that
// TestKeyctlIsAvailable skips instead of failing. Every other test that
// needs keyctl skips there and says why.
const NoKeyctlEnv = "GLPAT_NO_KEYCTL"

var testSeq atomic.Int64

// requireKeyctl skips tb when keyctl cannot be used here;
// TestKeyctlIsAvailable is the one test that fails for it.
func requireKeyctl(tb testing.TB) {
	tb.Helper()
	if _, err := (&Keyring{}).Probe(context.Background()); err != nil {
		tb.Skipf("keyctl is not usable here, so this test cannot run: %v", err)
	}
}

// testKeyring returns a keyring of ours under a name that nothing else
// uses, inside the real persistent keyring of the user running the tests.
// It is destroyed, keys and all, when the test ends, and the test fails if
// anything of it is left.
func testKeyring(tb testing.TB) *Keyring {
	tb.Helper()
	requireKeyctl(tb)
	k := &Keyring{
		Name:     fmt.Sprintf("git-credential-glpat-test-%d-%d", os.Getpid(), testSeq.Add(1)),
		LockFile: filepath.Join(tb.TempDir(), "keyring.lock"),
	}
	tb.Cleanup(func() {
		if err := k.Destroy(context.Background()); err != nil {
			tb.Errorf("destroy test keyring: %v", err)
		}
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		top, _, err := k.top()
		if err != nil {
			tb.Errorf("find persistent keyring: %v", err)
			return
		}
		// An invalidated keyring answers EKEYREVOKED until the kernel's
		// garbage collector has unlinked it, moments later.
		if _, err := unix.KeyctlSearch(top, "keyring", k.Name, 0); classOf(err) != classNoKey {
			tb.Errorf("test keyring %s is still there after Destroy (search: %v)", k.Name, err)
		}
	})
	return k
}

func testStore(k *Keyring) *Store { return &Store{Keyring: k, Prefix: k.Name + ":"} }

func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return c
}

// TestKeyctlIsAvailable reports, as a failure, a machine where keyctl
// cannot be used, rather than let the kernel keyring tests pass by
// skipping. Set GLPAT_NO_KEYCTL=1 where that is known and accepted.
func TestKeyctlIsAvailable(t *testing.T) {
	loc, err := (&Keyring{}).Probe(ctx(t))
	if err != nil {
		if os.Getenv(NoKeyctlEnv) == "1" {
			t.Skipf("keyctl is not usable here (%s=1): %v", NoKeyctlEnv, err)
		}
		t.Fatalf("keyctl is not usable here, so the kernel keyring tests skip: %v\n(set %s=1 to accept that)", err, NoKeyctlEnv)
	}
	t.Logf("our keyring goes into the %v", loc)
}

func TestConformance(t *testing.T) {
	secretstest.Conformance(t, func(t *testing.T) secrets.Store { return testStore(testKeyring(t)) })
}

// Several processes start on a keyring that does not exist yet, so they
// also race to create it: the lock file must keep every key.
func TestConcurrentProcesses(t *testing.T) {
	k := testKeyring(t)
	secretstest.Processes(t, testStore(k), 6, 5, k.Name+"|"+k.LockFile)
}

// Without the lock, add_key of a keyring whose name is taken replaces it
// and the keys stored in the first one are lost: this is why LockFile
// exists. With it, goroutines that all create the keyring lose nothing.
func TestCreationUnderLockLosesNothing(t *testing.T) {
	for range 5 {
		k := testKeyring(t)
		s := testStore(k)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if err := s.Set(ctx(t), fmt.Sprint("acct-", i), "v"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, err := s.List(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 8 {
			t.Fatalf("List after 8 concurrent first Sets = %q, want 8 accounts", got)
		}
	}
}

func TestKeysLiveInThePersistentKeyring(t *testing.T) {
	k := testKeyring(t)
	s := testStore(k)
	if err := s.Set(ctx(t), "https://alice@example.com", "glpat-secret"); err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	persistent, loc, err := k.top()
	if err != nil {
		t.Fatal(err)
	}
	if loc != Persistent {
		t.Skipf("this kernel has no persistent keyrings; ours is in the %v", loc)
	}
	if d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, persistent); err != nil || !strings.HasSuffix(d, fmt.Sprintf(";_persistent.%d", os.Getuid())) {
		t.Fatalf("top keyring is %q, %v; want the persistent keyring", d, err)
	}
	ring, err := unix.KeyctlSearch(persistent, "keyring", k.Name, 0)
	if err != nil {
		t.Fatalf("our keyring is not in the persistent keyring: %v", err)
	}
	key, err := unix.KeyctlSearch(ring, "user", k.Name+":https://alice@example.com", 0)
	if err != nil {
		t.Fatalf("the key is not in our keyring: %v", err)
	}
	// Everything for the user's uid; nothing for possessors (of any uid),
	// the group or others.
	for what, id := range map[string]int{"our keyring": ring, "the key": key} {
		uid, perm, err := kerneltest.Describe(id)
		if err != nil || uid != os.Geteuid() || perm != 0x003f0000 {
			t.Errorf("%s: uid %d, permissions %08x (%v); want uid %d, 003f0000", what, uid, perm, err, os.Geteuid())
		}
	}
}

func TestListSkipsKeysThatAreNotOurs(t *testing.T) {
	k := testKeyring(t)
	s := testStore(k)
	for _, a := range []string{"https://b@example.com", "https://a@example.com", "semi;colon"} {
		if err := s.Set(ctx(t), a, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.Write(ctx(t), "someone-else:https://c@example.com", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://a@example.com", "https://b@example.com", "semi;colon"}
	if !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

func TestListOfNoKeyringIsEmpty(t *testing.T) {
	s := testStore(testKeyring(t))
	got, err := s.List(ctx(t))
	if err != nil || len(got) != 0 {
		t.Errorf("List = %q, %v; want nothing", got, err)
	}
	if err := s.Delete(ctx(t), "a"); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("Delete = %v, want ErrNotFound", err)
	}
}

func TestWriteExpires(t *testing.T) {
	k := testKeyring(t)
	if err := k.Write(ctx(t), "short", []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	if err := k.Write(ctx(t), "was-short", []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	// Rewriting without an expiry clears the one the key had.
	if err := k.Write(ctx(t), "was-short", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Read(ctx(t), "short"); err != nil {
		t.Fatalf("Read before expiry: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := k.Read(ctx(t), "short")
		if errors.Is(err, secrets.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("key with a 1s expiry still readable after 5s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := k.Read(ctx(t), "was-short"); err != nil || string(got) != "y" {
		t.Errorf("Read of a key rewritten without expiry = %q, %v", got, err)
	}
}

func TestSizeLimits(t *testing.T) {
	k := testKeyring(t)
	s := testStore(k)
	big := strings.Repeat("x", MaxSecret)
	if err := s.Set(ctx(t), "max", big); err != nil {
		// Users other than root have a quota of 20000 bytes.
		if os.Getuid() == 0 {
			t.Errorf("Set of %d bytes: %v", MaxSecret, err)
		} else {
			t.Logf("Set of %d bytes (over the kernel's per-user quota): %v", MaxSecret, err)
		}
	} else if got, err := s.Get(ctx(t), "max"); err != nil || got != big {
		t.Errorf("Get of a %d-byte secret: %d bytes, %v", MaxSecret, len(got), err)
	}
	if err := s.Set(ctx(t), "too-big", "old"); err != nil {
		t.Fatal(err)
	}
	err := s.Set(ctx(t), "too-big", big+"x")
	if !errors.Is(err, secrets.ErrTooLarge) || !strings.Contains(err.Error(), "holds at most 32766; nothing was changed (use the encrypted-file backend: git-credential-glpat migrate --to encrypted-file)") {
		t.Errorf("Set of %d bytes: err = %v, want it refused with the limit and what to do", MaxSecret+1, err)
	}
	if got, err := s.Get(ctx(t), "too-big"); err != nil || got != "old" {
		t.Errorf("Get after the refusal = %q, %v; want the old value", got, err)
	}
	if strings.Contains(fmt.Sprint(err), "xxxx") {
		t.Error("the error repeats the secret")
	}
}

func TestForeignPayloadIsAnError(t *testing.T) {
	k := testKeyring(t)
	s := testStore(k)
	if err := k.Write(ctx(t), s.Prefix+"acct", []byte("not ours"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx(t), "acct"); err == nil || !strings.Contains(err.Error(), "not a key written by git-credential-glpat") {
		t.Errorf("Get = %v", err)
	}
}

// faultSys is the real keyctl, except the calls named in fail.
type faultSys struct {
	realSyscalls
	fail  map[string]error
	calls atomic.Int64
}

func (f *faultSys) err(call string) error {
	f.calls.Add(1)
	return f.fail[call]
}

func (f *faultSys) getPersistent() (int, error) {
	if err := f.err("getPersistent"); err != nil {
		return 0, os.NewSyscallError("keyctl KEYCTL_GET_PERSISTENT", err)
	}
	return f.realSyscalls.getPersistent()
}

func (f *faultSys) search(ring int, typ, desc string) (int, error) {
	if err := f.err("search"); err != nil {
		return 0, os.NewSyscallError("keyctl KEYCTL_SEARCH", err)
	}
	return f.realSyscalls.search(ring, typ, desc)
}

func (f *faultSys) add(typ, desc string, payload []byte, ring int) (int, error) {
	if err := f.err("add"); err != nil {
		return 0, os.NewSyscallError("add_key", err)
	}
	return f.realSyscalls.add(typ, desc, payload, ring)
}

func (f *faultSys) read(id int) ([]byte, error) {
	if err := f.err("read"); err != nil {
		return nil, os.NewSyscallError("keyctl KEYCTL_READ", err)
	}
	return f.realSyscalls.read(id)
}

// A container whose seccomp profile blocks keyctl (Docker's default
// answers EPERM), or a kernel without it (ENOSYS): every call fails with
// ErrUnavailable and says what failed. Nothing is reported as "not found",
// and nothing falls back anywhere. This needs no working keyctl: the fault
// comes before any real call.
func TestBlockedKeyctlIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		call     string
		errno    unix.Errno
		wantMsgs []string
	}{
		{"getPersistent", unix.EPERM, []string{"keyctl KEYCTL_GET_PERSISTENT: operation not permitted", "seccomp"}},
		{"getPersistent", unix.ENOSYS, []string{"keyctl KEYCTL_GET_PERSISTENT: function not implemented", "CONFIG_KEYS"}},
		{"getPersistent", unix.EACCES, []string{"permission denied", "another user"}},
	} {
		t.Run(tc.call+" "+tc.errno.Error(), func(t *testing.T) {
			sys := &faultSys{fail: map[string]error{tc.call: tc.errno}}
			s := testStore(&Keyring{Name: "git-credential-glpat-test-blocked", LockFile: filepath.Join(t.TempDir(), "l"), sys: sys})
			_, getErr := s.Get(ctx(t), "a")
			_, listErr := s.List(ctx(t))
			for name, err := range map[string]error{
				"Get":    getErr,
				"Set":    s.Set(ctx(t), "a", "glpat-secret"),
				"Delete": s.Delete(ctx(t), "a"),
				"List":   listErr,
				"Check":  s.Check(ctx(t)),
			} {
				if !errors.Is(err, secrets.ErrUnavailable) || errors.Is(err, secrets.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrUnavailable only", name, err)
					continue
				}
				if !errors.Is(err, tc.errno) {
					t.Errorf("%s: err = %v, lost the errno", name, err)
				}
				for _, m := range tc.wantMsgs {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("%s: err = %q, want it to say %q", name, err, m)
					}
				}
				if !strings.HasPrefix(err.Error(), "kernel keyring: ") || strings.Contains(err.Error(), "glpat-secret") {
					t.Errorf("%s: err = %q", name, err)
				}
			}
		})
	}
}

// Faults after the keyring is found: a blocked add_key or read is
// unavailable too; a full quota says so.
func TestLaterFaults(t *testing.T) {
	k := testKeyring(t)
	if err := testStore(k).Set(ctx(t), "a", "v"); err != nil {
		t.Fatal(err)
	}
	sys := &faultSys{fail: map[string]error{"read": unix.EPERM, "add": unix.EDQUOT}}
	s := testStore(&Keyring{Name: k.Name, sys: sys})
	if _, err := s.Get(ctx(t), "a"); !errors.Is(err, secrets.ErrUnavailable) {
		t.Errorf("Get with KEYCTL_READ blocked: %v, want ErrUnavailable", err)
	}
	err := s.Set(ctx(t), "a", "w")
	if err == nil || errors.Is(err, secrets.ErrUnavailable) || !errors.Is(err, secrets.ErrTooLarge) || !errors.Is(err, unix.EDQUOT) ||
		!strings.Contains(err.Error(), "maxbytes); nothing was changed (erase credentials you no longer need, raise kernel.keys.maxbytes with sysctl, or use the encrypted-file backend: git-credential-glpat migrate --to encrypted-file)") {
		t.Errorf("Set over quota: %v, want a quota error that says what to do", err)
	}
	if got, err := testStore(k).Get(ctx(t), "a"); err != nil || got != "v" {
		t.Errorf("after the faults: Get = %q, %v; want the old value", got, err)
	}
}

// Where the kernel has no persistent keyrings (EOPNOTSUPP), our keyring
// goes into the user keyring, and works the same.
func TestNoPersistentKeyringsUsesUserKeyring(t *testing.T) {
	k := testKeyring(t)
	k.sys = &faultSys{fail: map[string]error{"getPersistent": unix.EOPNOTSUPP}}
	loc, err := k.Probe(ctx(t))
	if err != nil || loc != UserKeyring {
		t.Fatalf("Probe = %v, %v; want %v", loc, err, UserKeyring)
	}
	s := testStore(k)
	if err := s.Set(ctx(t), "a", "secret"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx(t), "a"); err != nil || got != "secret" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	u, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.KeyctlSearch(u, "keyring", k.Name, 0); err != nil {
		t.Errorf("our keyring is not in the user keyring: %v", err)
	}
}

func TestDoneContextMakesNoCall(t *testing.T) {
	sys := &faultSys{}
	s := testStore(&Keyring{Name: "git-credential-glpat-test-done", sys: sys})
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, e1 := s.Get(done, "a")
	_, e4 := s.List(done)
	for _, err := range []error{e1, s.Set(done, "a", "b"), s.Delete(done, "a"), e4, s.Check(done)} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	}
	if n := sys.calls.Load(); n != 0 {
		t.Errorf("%d keyctl calls with a done context, want none", n)
	}
}

func TestDescribe(t *testing.T) {
	if got := (&Store{Keyring: &Keyring{Name: DefaultName}}).Describe(); got != "kernel keyring (lost at reboot)" {
		t.Errorf("Describe = %q", got)
	}
	if got := Persistent.String(); got != "persistent keyring" {
		t.Errorf("Persistent = %q", got)
	}
}

// BenchmarkGet is the cost of one Get: five keyctl calls, no disk.
func BenchmarkGet(b *testing.B) {
	s := testStore(testKeyring(b))
	secret := `{"password":"glpat-` + strings.Repeat("x", 20) + `","username":"alice"}`
	if err := s.Set(context.Background(), "https://alice@gitlab.com", secret); err != nil {
		b.Fatal(err)
	}
	c := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(c, "https://alice@gitlab.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// In a session keyring shared with another uid, as `su` leaves it, that uid
// can read nothing the Store keeps, and the Store leaves no link to the
// persistent keyring in the session keyring; the user's uid reads its own
// key without one.
func TestAnotherUIDInTheSessionCannotRead(t *testing.T) {
	k := testKeyring(t)
	s := testStore(k)
	ss := kerneltest.NewSession(t)
	var err error
	ss.Run(func() { err = s.Set(ctx(t), "acct", "glpat-secret") })
	if err != nil {
		t.Fatal(err)
	}
	key := keyID(t, k, s.Prefix+"acct")
	if n, err := ss.ReadAs(kerneltest.Other, key); !kerneltest.IsDenied(err) {
		t.Errorf("uid %d read %d bytes of the key (%v); want permission denied", kerneltest.Other, n, err)
	}
	if n, err := ss.ReadAs(os.Geteuid(), key); err != nil || n == 0 {
		t.Errorf("the user's uid read %d bytes of its key: %v", n, err)
	}
	persistent, _ := kerneltest.Persistent()
	if links, err := ss.Links(); err != nil || slices.Contains(links, persistent) {
		t.Errorf("the session keyring links the persistent keyring: %v, %v", links, err)
	}
}

// A keyring left by earlier versions grants everything to possessors, and
// the persistent keyring is linked into the session keyring, so another uid
// in the session could read its keys, keep one by linking it into the
// session keyring, and add keys of its own. The first call restricts the
// keyring and every key in it to the user's uid, drops the other uid's key
// and the link to the persistent keyring.
func TestKeysOfEarlierVersionsAreRestricted(t *testing.T) {
	k := testKeyring(t)
	s := testStore(k)
	ss := kerneltest.NewSession(t)
	persistent, err := ss.LinkPersistent()
	if err != nil {
		t.Fatal(err)
	}
	var ring, key int
	ss.Run(func() {
		if ring, err = unix.AddKey("keyring", k.Name, nil, persistent); err == nil {
			key, err = unix.AddKey("user", s.Prefix+"acct", []byte("\x01glpat-old"), ring)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ss.ReadAs(kerneltest.Other, key); err != nil || n == 0 {
		t.Fatalf("uid %d cannot read a key as earlier versions left it (%d bytes, %v): this test proves nothing here", kerneltest.Other, n, err)
	}
	if _, err := ss.Keyctl(kerneltest.Other, "link", strconv.Itoa(key), "@s"); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Keyctl(kerneltest.Other, "add", "user", s.Prefix+"planted", "\x01glpat-planted", strconv.Itoa(ring)); err != nil {
		t.Fatal(err)
	}

	var got string
	ss.Run(func() { got, err = s.Get(ctx(t), "acct") })
	if err != nil || got != "glpat-old" {
		t.Fatalf("Get = %d bytes, %v; want the stored secret", len(got), err)
	}
	if n, err := ss.ReadAs(kerneltest.Other, key); !kerneltest.IsDenied(err) {
		t.Errorf("uid %d, which linked the key into the session keyring, still read %d bytes of it (%v); want permission denied", kerneltest.Other, n, err)
	}
	for what, id := range map[string]int{"our keyring": ring, "the key": key} {
		if uid, perm, err := kerneltest.Describe(id); err != nil || uid != os.Geteuid() || perm != keyPerm {
			t.Errorf("%s: uid %d, permissions %08x (%v); want %08x", what, uid, perm, err, keyPerm)
		}
	}
	if accts, err := s.List(ctx(t)); err != nil || !slices.Equal(accts, []string{"acct"}) {
		t.Errorf("List = %q, %v; want the other uid's key gone", accts, err)
	}
	if links, err := ss.Links(); err != nil || slices.Contains(links, persistent) {
		t.Errorf("the session keyring still links the persistent keyring: %v, %v", links, err)
	}
}

// A keyring of our name that another uid put in the persistent keyring
// (which it could only while it possessed it) is never read; a write
// replaces it with one of the user's.
func TestKeyringOfAnotherUIDIsNotUsed(t *testing.T) {
	k := testKeyring(t)
	s := testStore(k)
	ss := kerneltest.NewSession(t)
	persistent, err := ss.LinkPersistent()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ss.Keyctl(kerneltest.Other, "newring", k.Name, strconv.Itoa(persistent))
	if err != nil {
		t.Fatal(err)
	}
	planted := strings.TrimSpace(out)
	if _, err := ss.Keyctl(kerneltest.Other, "add", "user", s.Prefix+"acct", "\x01glpat-planted", planted); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx(t), "acct")
	if err == nil || errors.Is(err, secrets.ErrNotFound) || !strings.Contains(err.Error(), fmt.Sprintf("belongs to uid %d", kerneltest.Other)) {
		t.Errorf("Get from another uid's keyring = %d bytes, %v; want an error naming the uid", len(got), err)
	}
	if err := s.Set(ctx(t), "acct", "glpat-mine"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx(t), "acct"); err != nil || got != "glpat-mine" {
		t.Errorf("Get after Set = %d bytes, %v; want the secret just set", len(got), err)
	}
	if uid, _, err := kerneltest.Describe(keyID(t, k, s.Prefix+"acct")); err != nil || uid != os.Geteuid() {
		t.Errorf("the key belongs to uid %d (%v)", uid, err)
	}
}

// keyID returns the serial of the key desc in k.
func keyID(tb testing.TB, k *Keyring, desc string) int {
	tb.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	top, _, err := k.top()
	if err != nil {
		tb.Fatal(err)
	}
	ring, err := unix.KeyctlSearch(top, "keyring", k.Name, 0)
	if err != nil {
		tb.Fatal(err)
	}
	id, err := unix.KeyctlSearch(ring, "user", desc, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}
