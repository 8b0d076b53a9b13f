package agefile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/glpat-dev/git-credential-glpat/internal/kernelkeyring"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

const passphrase = "correct horse battery staple"

// crashEnv makes the test binary a process that stores secrets in a loop
// until it is killed (see TestKillMidWriteLosesNothing).
const crashEnv = "GLPAT_AGEFILE_CRASH_WORKER"

func TestMain(m *testing.M) {
	if dir, ok := os.LookupEnv(crashEnv); ok {
		crashWorker(dir)
	}
	secretstest.ServeWorker(openWorkerStore)
	os.Exit(m.Run())
}

// openWorkerStore opens, in a worker process of secretstest.Processes,
// the File that spec names: "dir|name of the kernel keyring".
func openWorkerStore(spec string) (secrets.Store, error) {
	dir, name, _ := strings.Cut(spec, "|")
	return New(dir, &kernelkeyring.Keyring{Name: name, LockFile: filepath.Join(dir, "keyring.lock")}), nil
}

// memCache is an IdentityCache in memory, for the tests that are about the
// file rather than the kernel keyring; it fails every call with err when
// that is set.
type memCache struct {
	mu    sync.Mutex
	m     map[string][]byte
	err   error
	reads atomic.Int64
}

func (c *memCache) Read(ctx context.Context, name string) ([]byte, error) {
	c.reads.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	v, ok := c.m[name]
	if !ok {
		return nil, fmt.Errorf("memcache: %s: %w", name, secrets.ErrNotFound)
	}
	return v, nil
}

func (c *memCache) Write(ctx context.Context, name string, value []byte, expire time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[name] = bytes.Clone(value)
	return nil
}

func (c *memCache) Remove(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if _, ok := c.m[name]; !ok {
		return fmt.Errorf("memcache: %s: %w", name, secrets.ErrNotFound)
	}
	delete(c.m, name)
	return nil
}

func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return c
}

// newFile returns a File in a new directory, set up with passphrase and
// unlocked. A low scrypt work factor keeps the tests fast.
func newFile(tb testing.TB, cache IdentityCache) *File {
	tb.Helper()
	f := &File{Dir: filepath.Join(tb.TempDir(), "state"), Cache: cache, WorkFactor: 10}
	if err := f.Init(ctx(tb), passphrase, 0); err != nil {
		tb.Fatalf("Init: %v", err)
	}
	return f
}

func mustSet(tb testing.TB, f *File, account, secret string) {
	tb.Helper()
	if err := f.Set(ctx(tb), account, secret); err != nil {
		tb.Fatalf("Set(%q): %v", account, err)
	}
}

func mustGet(tb testing.TB, f *File, account, want string) {
	tb.Helper()
	got, err := f.Get(ctx(tb), account)
	if err != nil || got != want {
		tb.Errorf("Get(%q) = %q, %v; want %q", account, got, err, want)
	}
}

func TestConformance(t *testing.T) {
	secretstest.Conformance(t, func(t *testing.T) secrets.Store { return newFile(t, new(memCache)) }, secretstest.HoldsLargeSecrets())
}

func TestFilesAndModes(t *testing.T) {
	f := newFile(t, new(memCache))
	mustSet(t, f, "https://alice@gitlab.com", "glpat-verysecret")
	st, err := os.Stat(f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", f.Dir, st.Mode().Perm())
	}
	for _, name := range []string{SecretsFile, IdentityFile, RecipientFile} {
		st, err := os.Stat(f.path(name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	data, _ := os.ReadFile(f.path(SecretsFile))
	if bytes.Contains(data, []byte("glpat-verysecret")) {
		t.Error("the secret is in secrets.age in clear")
	}
	if !bytes.HasPrefix(data, []byte(fileMagic+"\nrecipient age1")) || !bytes.Contains(data, []byte("\nentry \"https://alice@gitlab.com\" ")) {
		t.Errorf("secrets.age is not in the documented format:\n%s", data)
	}
	id, _ := os.ReadFile(f.path(IdentityFile))
	if bytes.Contains(id, []byte("AGE-SECRET-KEY")) || !bytes.HasPrefix(id, []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
		t.Errorf("identity.age is not an armored, encrypted file:\n%s", id)
	}
	r, _ := os.ReadFile(f.path(RecipientFile))
	if _, err := age.ParseX25519Recipient(strings.TrimSpace(string(r))); err != nil {
		t.Errorf("recipient.txt = %q: %v", r, err)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	f := newFile(t, new(memCache))
	before, _ := os.ReadFile(f.path(IdentityFile))
	err := f.Init(ctx(t), "another passphrase", 0)
	if !errors.Is(err, ErrAlreadyInitialized) || !strings.Contains(err.Error(), f.path(IdentityFile)) {
		t.Errorf("second Init: err = %v, want ErrAlreadyInitialized naming identity.age", err)
	}
	if after, _ := os.ReadFile(f.path(IdentityFile)); !bytes.Equal(before, after) {
		t.Error("second Init changed identity.age")
	}

	// A secrets file whose identity is gone is not overwritten either.
	g := &File{Dir: t.TempDir(), Cache: new(memCache), WorkFactor: 10}
	os.WriteFile(g.path(SecretsFile), []byte("old"), 0o600)
	if err := g.Init(ctx(t), passphrase, 0); !errors.Is(err, ErrAlreadyInitialized) {
		t.Errorf("Init over a secrets file: err = %v, want ErrAlreadyInitialized", err)
	}
	if _, err := os.Stat(g.path(IdentityFile)); err == nil {
		t.Error("Init wrote an identity next to an old secrets file")
	}
}

func TestInitNeedsAPassphraseAndACache(t *testing.T) {
	f := &File{Dir: filepath.Join(t.TempDir(), "state"), Cache: new(memCache), WorkFactor: 10}
	if err := f.Init(ctx(t), "", 0); err == nil {
		t.Error("Init with an empty passphrase succeeded")
	}
	unavailable := fmt.Errorf("kernel keyring: read: keyctl: operation not permitted: %w", secrets.ErrUnavailable)
	f.Cache = &memCache{err: unavailable}
	if err := f.Init(ctx(t), passphrase, 0); !errors.Is(err, secrets.ErrUnavailable) {
		t.Errorf("Init without a usable cache: err = %v, want ErrUnavailable", err)
	}
	if _, err := os.Stat(f.Dir); err == nil {
		t.Error("Init without a usable cache created files")
	}
}

func TestInitLeavesItUnlocked(t *testing.T) {
	cache := new(memCache)
	f := newFile(t, cache)
	if ok, err := f.Unlocked(ctx(t)); !ok || err != nil {
		t.Errorf("after Init: Unlocked = %v, %v", ok, err)
	}
	if ok, err := f.Initialized(); !ok || err != nil {
		t.Errorf("after Init: Initialized = %v, %v", ok, err)
	}
}

func TestWrongPassphrase(t *testing.T) {
	cache := new(memCache)
	f := newFile(t, cache)
	mustSet(t, f, "a", "secret")
	if err := f.Lock(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"correct horse battery stapler", "", strings.ToUpper(passphrase)} {
		err := f.Unlock(ctx(t), wrong, 0)
		if !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("Unlock(%q): err = %v, want ErrWrongPassphrase", wrong, err)
			continue
		}
		want := "encrypted file: unlock: wrong passphrase for " + f.path(IdentityFile)
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Unlock(%q): err = %q, want it to start %q", wrong, err, want)
		}
		if wrong != "" && strings.Contains(err.Error(), wrong) {
			t.Errorf("the error repeats the passphrase: %q", err)
		}
	}
	if ok, _ := f.Unlocked(ctx(t)); ok {
		t.Error("a wrong passphrase unlocked it")
	}
	if err := f.Unlock(ctx(t), passphrase, 0); err != nil {
		t.Fatalf("Unlock with the right passphrase: %v", err)
	}
	mustGet(t, f, "a", "secret")
}

// While locked, Get fails with the message a person reads, whether or not
// the account has a secret; writes go on without a passphrase.
func TestLocked(t *testing.T) {
	f := newFile(t, new(memCache))
	mustSet(t, f, "a", "before")
	if err := f.Lock(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := f.Lock(ctx(t)); err != nil {
		t.Errorf("Lock of a locked file: %v", err)
	}
	for _, acct := range []string{"a", "missing"} {
		_, err := f.Get(ctx(t), acct)
		if !errors.Is(err, secrets.ErrLocked) || !errors.Is(err, ErrLocked) || errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("Get(%q) while locked: err = %v, want ErrLocked only", acct, err)
		}
		if err != nil && err.Error() != "credentials are locked; run git-credential-glpat unlock" {
			t.Errorf("Get(%q) while locked: message %q", acct, err)
		}
	}
	mustSet(t, f, "b", "while locked")
	mustSet(t, f, "a", "overwritten while locked")
	if err := f.Delete(ctx(t), "b"); err != nil {
		t.Errorf("Delete while locked: %v", err)
	}
	mustSet(t, f, "c", "while locked")
	if got, err := f.List(ctx(t)); err != nil || strings.Join(got, ",") != "a,c" {
		t.Errorf("List while locked = %q, %v", got, err)
	}
	if err := f.Check(ctx(t)); !errors.Is(err, ErrLocked) {
		t.Errorf("Check while locked = %v, want ErrLocked", err)
	}
	if err := f.Unlock(ctx(t), passphrase, 0); err != nil {
		t.Fatal(err)
	}
	mustGet(t, f, "a", "overwritten while locked")
	mustGet(t, f, "c", "while locked")
	if err := f.Check(ctx(t)); err != nil {
		t.Errorf("Check when unlocked = %v", err)
	}
}

// testLockedConcurrentGets: twenty Gets at once on a locked file all fail
// at once with the locked message; none waits for anything.
func testLockedConcurrentGets(t *testing.T, f *File) {
	mustSet(t, f, "a", "secret")
	if err := f.Lock(ctx(t)); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	took := make([]time.Duration, 20)
	for i := range errs {
		wg.Go(func() {
			t0 := time.Now()
			_, errs[i] = f.Get(c, "a")
			took[i] = time.Since(t0)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, secrets.ErrLocked) || err.Error() != "credentials are locked; run git-credential-glpat unlock" {
			t.Errorf("Get %d: err = %v, want the locked error", i, err)
		}
		if took[i] > time.Second {
			t.Errorf("Get %d took %v to say it is locked", i, took[i])
		}
	}
	t.Logf("20 concurrent Gets on a locked file: %v in all", time.Since(start))
}

func TestLockedUnderConcurrentGets(t *testing.T) {
	testLockedConcurrentGets(t, newFile(t, new(memCache)))
}

func TestChangePassphrase(t *testing.T) {
	f := newFile(t, new(memCache))
	mustSet(t, f, "a", "secret")
	before, _ := os.ReadFile(f.path(IdentityFile))
	if err := f.ChangePassphrase(ctx(t), "not it", "new passphrase"); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("ChangePassphrase with a wrong old one: %v, want ErrWrongPassphrase", err)
	}
	if after, _ := os.ReadFile(f.path(IdentityFile)); !bytes.Equal(before, after) {
		t.Error("a failed ChangePassphrase changed identity.age")
	}
	if err := f.ChangePassphrase(ctx(t), passphrase, ""); err == nil {
		t.Error("ChangePassphrase to an empty passphrase succeeded")
	}
	if err := f.ChangePassphrase(ctx(t), passphrase, "new passphrase"); err != nil {
		t.Fatal(err)
	}
	// Still unlocked: the identity did not change.
	mustGet(t, f, "a", "secret")
	f.Lock(ctx(t))
	if err := f.Unlock(ctx(t), passphrase, 0); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Unlock with the old passphrase: %v, want ErrWrongPassphrase", err)
	}
	if err := f.Unlock(ctx(t), "new passphrase", 0); err != nil {
		t.Errorf("Unlock with the new passphrase: %v", err)
	}
	mustGet(t, f, "a", "secret")
}

func TestNotInitialized(t *testing.T) {
	f := &File{Dir: t.TempDir(), Cache: new(memCache)}
	_, getErr := f.Get(ctx(t), "a")
	_, okErr := f.Unlocked(ctx(t))
	for name, err := range map[string]error{
		"Get":      getErr,
		"Set":      f.Set(ctx(t), "a", "s"),
		"Delete":   f.Delete(ctx(t), "a"),
		"Unlock":   f.Unlock(ctx(t), passphrase, 0),
		"Lock":     f.Lock(ctx(t)),
		"Check":    f.Check(ctx(t)),
		"Unlocked": okErr,
	} {
		if !errors.Is(err, ErrNotInitialized) || !errors.Is(err, secrets.ErrUnavailable) || !strings.Contains(err.Error(), "run git-credential-glpat init") {
			t.Errorf("%s before Init: err = %v, want ErrNotInitialized", name, err)
		}
	}
	if entries, _ := os.ReadDir(f.Dir); len(entries) != 0 {
		t.Errorf("calls before Init created files: %v", entries)
	}
}

// Unavailable is not locked: when the cache (the kernel keyring) cannot be
// reached, Get and Unlock say so; writes, which do not need it, go on.
func TestCacheUnavailable(t *testing.T) {
	cache := new(memCache)
	f := newFile(t, cache)
	mustSet(t, f, "a", "secret")
	cache.err = fmt.Errorf("kernel keyring: read: keyctl KEYCTL_GET_PERSISTENT: operation not permitted: %w", secrets.ErrUnavailable)
	_, err := f.Get(ctx(t), "a")
	if !errors.Is(err, secrets.ErrUnavailable) || errors.Is(err, secrets.ErrLocked) || !strings.Contains(err.Error(), "operation not permitted") {
		t.Errorf("Get: err = %v, want ErrUnavailable saying why", err)
	}
	if err := f.Unlock(ctx(t), passphrase, 0); !errors.Is(err, secrets.ErrUnavailable) {
		t.Errorf("Unlock: err = %v, want ErrUnavailable", err)
	}
	mustSet(t, f, "b", "still writable")
	cache.err = nil
	mustGet(t, f, "b", "still writable")
}

// Every way secrets.age can be damaged is a clear error naming it, for
// every call; Set and Delete then write nothing.
func TestDamagedFile(t *testing.T) {
	f := newFile(t, new(memCache))
	mustSet(t, f, "https://alice@gitlab.com", "glpat-aaaa")
	mustSet(t, f, "https://bob@gitlab.com", "glpat-bbbb")
	good, _ := os.ReadFile(f.path(SecretsFile))
	lines := strings.SplitAfter(string(good), "\n")
	flip := []byte(good)
	flip[len(lines[0])+len(lines[1])+40] ^= 0x01

	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "the file is empty"},
		{"cut in the middle", string(good[:len(good)/2]), "truncated"},
		{"last byte gone", string(good[:len(good)-1]), "truncated"},
		{"checksum line gone", strings.Join(lines[:len(lines)-2], ""), "truncated"},
		{"one bit flipped", string(flip), "checksum mismatch"},
		{"an entry removed", lines[0] + lines[1] + lines[3] + lines[4], "checksum mismatch"},
		{"not ours", "hello\n", "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(f.path(SecretsFile), []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, getErr := f.Get(ctx(t), "https://alice@gitlab.com")
			_, listErr := f.List(ctx(t))
			for name, err := range map[string]error{
				"Get":    getErr,
				"Set":    f.Set(ctx(t), "https://carol@gitlab.com", "glpat-cccc"),
				"Delete": f.Delete(ctx(t), "https://bob@gitlab.com"),
				"List":   listErr,
				"Check":  f.Check(ctx(t)),
			} {
				if !errors.Is(err, ErrDamaged) || errors.Is(err, secrets.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrDamaged", name, err)
					continue
				}
				for _, want := range []string{f.path(SecretsFile), tc.want} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: err = %q, want it to say %q", name, err, want)
					}
				}
				if strings.Contains(err.Error(), "glpat-") {
					t.Errorf("%s: the error holds a secret: %q", name, err)
				}
			}
			if after, _ := os.ReadFile(f.path(SecretsFile)); string(after) != tc.data {
				t.Error("a damaged secrets.age was overwritten")
			}
		})
	}
}

// rewrite edits the entries of secrets.age and writes it back with a valid
// checksum, as someone who knows the format could.
func rewrite(t *testing.T, f *File, edit func(e *entryFile)) {
	t.Helper()
	e, err := f.load()
	if err != nil {
		t.Fatal(err)
	}
	edit(e)
	if err := os.WriteFile(f.path(SecretsFile), e.encode(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Tampering that keeps the checksum right is still caught when the entry
// is decrypted: a changed ciphertext, an entry moved to another account,
// an entry encrypted to someone else.
func TestTamperedEntries(t *testing.T) {
	f := newFile(t, new(memCache))
	mustSet(t, f, "alice", "glpat-aaaa")
	mustSet(t, f, "bob", "glpat-bbbb")
	mustSet(t, f, "carol", "glpat-cccc")
	other, _ := age.GenerateX25519Identity()
	foreign, err := sealEntry(other.Recipient(), "carol", "glpat-evil")
	if err != nil {
		t.Fatal(err)
	}
	rewrite(t, f, func(e *entryFile) {
		e.entries["alice"], e.entries["bob"] = e.entries["bob"], e.entries["alice"]
		e.entries["carol"] = foreign
	})
	for acct, want := range map[string]string{
		"alice": "entry for alice holds the secret of bob",
		"bob":   "entry for bob holds the secret of alice",
		"carol": "entry for carol: damaged: it is encrypted to another identity",
	} {
		_, err := f.Get(ctx(t), acct)
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), f.path(SecretsFile)) {
			t.Errorf("Get(%s): err = %v, want ErrDamaged saying %q", acct, err, want)
		}
	}

	g := newFile(t, new(memCache))
	mustSet(t, g, "alice", "glpat-aaaa")
	rewrite(t, g, func(e *entryFile) {
		ct := []byte(e.entries["alice"])
		ct[len(ct)-10] ^= 0x01 // still base64, no longer authentic
		e.entries["alice"] = string(ct)
	})
	if _, err := g.Get(ctx(t), "alice"); !errors.Is(err, ErrDamaged) {
		t.Errorf("Get of a changed ciphertext: err = %v, want ErrDamaged", err)
	}
}

// A recipient.txt replaced by someone else's key would make every new
// secret readable by them: writes refuse, and so does Unlock.
func TestReplacedRecipient(t *testing.T) {
	f := newFile(t, new(memCache))
	mustSet(t, f, "a", "secret")
	other, _ := age.GenerateX25519Identity()
	os.WriteFile(f.path(RecipientFile), []byte(other.Recipient().String()+"\n"), 0o600)
	if err := f.Set(ctx(t), "b", "glpat-new"); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "is encrypted to") {
		t.Errorf("Set with a replaced recipient: err = %v, want ErrDamaged", err)
	}
	if err := f.Unlock(ctx(t), passphrase, 0); !errors.Is(err, ErrDamaged) {
		t.Errorf("Unlock with a replaced recipient: err = %v, want ErrDamaged", err)
	}
}

// A crash between the two writes of Init leaves identity.age without
// recipient.txt; Unlock completes it.
func TestUnlockWritesAMissingRecipient(t *testing.T) {
	f := newFile(t, new(memCache))
	want, _ := os.ReadFile(f.path(RecipientFile))
	os.Remove(f.path(RecipientFile))
	if err := f.Unlock(ctx(t), passphrase, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(f.path(RecipientFile)); !bytes.Equal(got, want) {
		t.Errorf("recipient.txt = %q, want %q", got, want)
	}
	mustSet(t, f, "a", "secret")
	mustGet(t, f, "a", "secret")
}

// Each identity has its own entry in the cache: unlocking one directory
// unlocks nothing else.
func TestUnlockIsPerIdentity(t *testing.T) {
	cache := new(memCache)
	f, g := newFile(t, cache), newFile(t, cache)
	g.Lock(ctx(t))
	mustSet(t, f, "a", "f")
	mustSet(t, g, "a", "g")
	mustGet(t, f, "a", "f")
	if _, err := g.Get(ctx(t), "a"); !errors.Is(err, ErrLocked) {
		t.Errorf("Get in a locked directory next to an unlocked one: %v", err)
	}
	// g's entry copied over f's file cannot be read with f's identity.
	data, _ := os.ReadFile(g.path(SecretsFile))
	os.WriteFile(f.path(SecretsFile), data, 0o600)
	if _, err := f.Get(ctx(t), "a"); !errors.Is(err, ErrDamaged) {
		t.Errorf("Get from another identity's file: %v, want ErrDamaged", err)
	}
}

func TestDescribe(t *testing.T) {
	f := New("/state", nil)
	if got, want := f.Describe(), "encrypted file "+filepath.Join("/state", "secrets.age")+" (age)"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

// crashWorker stores secrets in dir in a loop, printing the number of each
// Set that returned, until it is killed.
func crashWorker(dir string) {
	f := New(dir, nil) // Set needs no identity, so no cache
	run := os.Getenv(crashEnv + "_RUN")
	for i := 0; ; i++ {
		acct := fmt.Sprintf("run-%s-acct-%d", run, i)
		if err := f.Set(context.Background(), acct, "secret-"+acct); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(i)
	}
}

// A process killed (SIGKILL) at a random point while writing leaves a
// secrets.age that reads back whole, with every secret whose Set returned.
func TestKillMidWriteLosesNothing(t *testing.T) {
	f := newFile(t, new(memCache))
	mustSet(t, f, "before", "kept")
	for run := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+f.Dir, crashEnv+"_RUN="+strconv.Itoa(run))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		last, stopAt := -1, 3+rand.IntN(20)
		for last < stopAt && sc.Scan() {
			last, _ = strconv.Atoi(sc.Text())
		}
		// Let it get into the next write, then kill it somewhere in there.
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		cmd.Process.Kill()
		for sc.Scan() { // whatever it managed to acknowledge before dying
			last, _ = strconv.Atoi(sc.Text())
		}
		cmd.Wait()
		if last < 0 {
			t.Fatalf("run %d: the worker stored nothing: %s", run, stderr.String())
		}
		got, err := f.List(ctx(t))
		if err != nil {
			t.Fatalf("run %d: after a kill at write %d: %v", run, last+1, err)
		}
		n := 0
		for _, a := range got {
			if strings.HasPrefix(a, fmt.Sprintf("run-%d-", run)) {
				n++
			}
		}
		if n != last+1 && n != last+2 {
			t.Errorf("run %d: %d entries after %d acknowledged Sets", run, n, last+1)
		}
		for i := 0; i <= last; i++ {
			acct := fmt.Sprintf("run-%d-acct-%d", run, i)
			mustGet(t, f, acct, "secret-"+acct)
		}
		mustGet(t, f, "before", "kept")
	}
}

// BenchmarkGet is the cost of one Get with the identity cached in memory:
// read recipient.txt and secrets.age, check the sum, one X25519 decryption.
func BenchmarkGet(b *testing.B) {
	benchmarkGet(b, newFile(b, new(memCache)))
}

func benchmarkGet(b *testing.B, f *File) {
	secret := `{"password":"glpat-` + strings.Repeat("x", 20) + `","username":"alice"}`
	for i := range 10 { // a few other credentials in the file
		mustSet(b, f, fmt.Sprintf("https://user%d@gitlab.example.com", i), secret)
	}
	mustSet(b, f, "https://alice@gitlab.com", secret)
	c := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Get(c, "https://alice@gitlab.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetFirstInProcess is the cost of the one Get a credential helper
// process makes: the identity is parsed from the cache too.
func BenchmarkGetFirstInProcess(b *testing.B) {
	f := newFile(b, new(memCache))
	mustSet(b, f, "https://alice@gitlab.com", `{"password":"glpat-xxxxxxxxxxxxxxxxxxxx","username":"alice"}`)
	c := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		fresh := &File{Dir: f.Dir, Cache: f.Cache}
		if _, err := fresh.Get(c, "https://alice@gitlab.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSet is the cost of one Set: one encryption, a lock, a read and
// an fsync'd atomic rewrite of the file.
func BenchmarkSet(b *testing.B) {
	f := newFile(b, new(memCache))
	c := context.Background()
	for b.Loop() {
		if err := f.Set(c, "https://alice@gitlab.com", "glpat-xxxxxxxxxxxxxxxxxxxx"); err != nil {
			b.Fatal(err)
		}
	}
}
