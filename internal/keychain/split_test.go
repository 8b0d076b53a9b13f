package keychain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// memKeyring is go-keyring's interface over a map: a keychain of items
// under service and account, as Credential Manager and macOS's Keychain
// keep them. It counts the calls it gets.
type memKeyring struct {
	mu                 sync.Mutex
	items              map[itemKey]string
	gets, sets, delets int
}

type itemKey struct{ service, account string }

func (m *memKeyring) Get(service, account string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	v, ok := m.items[itemKey{service, account}]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memKeyring) Set(service, account, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sets++
	if m.items == nil {
		m.items = make(map[itemKey]string)
	}
	m.items[itemKey{service, account}] = value
	return nil
}

func (m *memKeyring) Delete(service, account string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delets++
	if _, ok := m.items[itemKey{service, account}]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.items, itemKey{service, account})
	return nil
}

func (m *memKeyring) DeleteAll(service string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.items {
		if k.service == service {
			delete(m.items, k)
		}
	}
	return nil
}

// list returns the items held, as "service account", sorted.
func (m *memKeyring) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.items {
		out = append(out, k.service+" "+k.account)
	}
	slices.Sort(out)
	return out
}

// calls returns the calls made so far and resets the counts.
func (m *memKeyring) calls() (gets, sets, deletes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gets, sets, deletes = m.gets, m.sets, m.delets
	m.gets, m.sets, m.delets = 0, 0, 0
	return gets, sets, deletes
}

// limited is a keychain (inner) with the limit on one item of another
// system, checked as go-keyring checks it there before the write: an item
// that does not fit fails with keyring.ErrSetDataTooBig and changes
// nothing. It can die: after a given number of writes (sets and deletes),
// every call fails as if the process had been killed, and what was
// written stays for the next process to find.
type limited struct {
	inner keyring.Keyring
	fits  itemFits

	mu         sync.Mutex
	writesLeft int // writes until it dies; negative: never
	dead       bool
}

var errKilled = errors.New("the process was killed")

func (l *limited) alive(write bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dead {
		return errKilled
	}
	if write && l.writesLeft == 0 {
		l.dead = true
		return errKilled
	}
	if write && l.writesLeft > 0 {
		l.writesLeft--
	}
	return nil
}

// dieAfter makes l die at its (n+1)th write from now; negative: never.
func (l *limited) dieAfter(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writesLeft, l.dead = n, false
}

func (l *limited) died() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dead
}

func (l *limited) Get(service, account string) (string, error) {
	if err := l.alive(false); err != nil {
		return "", err
	}
	return l.inner.Get(service, account)
}

func (l *limited) Set(service, account, value string) error {
	if !l.fits(service, account, len(value)) {
		return keyring.ErrSetDataTooBig
	}
	if err := l.alive(true); err != nil {
		return err
	}
	return l.inner.Set(service, account, value)
}

func (l *limited) Delete(service, account string) error {
	if err := l.alive(true); err != nil {
		return err
	}
	return l.inner.Delete(service, account)
}

func (l *limited) DeleteAll(service string) error {
	if err := l.alive(true); err != nil {
		return err
	}
	return l.inner.DeleteAll(service)
}

// systems are the limits on one item that go-keyring has elsewhere.
var systems = []struct {
	name string
	fits itemFits
}{
	{"windows", windowsItemFits},
	{"macOS", macItemFits},
}

// testClock is a clock that tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// memKeychain returns a Keychain over a map with the limits of fits.
func memKeychain(fits itemFits) (*Keychain, *memKeyring, *limited, *testClock) {
	mem := new(memKeyring)
	lim := &limited{inner: mem, fits: fits, writesLeft: -1}
	clock := &testClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	k := &Keychain{Service: "git-credential-glpat", Timeout: 10 * time.Second, lib: lim, fits: fits, now: clock.now}
	return k, mem, lim, clock
}

// The contract of a secrets.Store holds on keychains with Windows' and
// macOS's limits on one item: large secrets are stored whole.
func TestConformanceWithItemLimits(t *testing.T) {
	for _, sys := range systems {
		t.Run(sys.name, func(t *testing.T) {
			secretstest.Conformance(t, func(t *testing.T) secrets.Store {
				k, _, _, _ := memKeychain(sys.fits)
				return k
			}, secretstest.HoldsLargeSecrets())
		})
	}
}

// go-keyring's limits, as its Set checks them (keyring_windows.go and
// keyring_darwin.go, v0.2.8).
func TestItemLimits(t *testing.T) {
	for _, tc := range []struct {
		name             string
		fits             itemFits
		service, account string
		size             int
		want             bool
	}{
		{"windows: 2,560 bytes", windowsItemFits, "git-credential-glpat", "https://alice@example.com", 2560, true},
		{"windows: one byte more", windowsItemFits, "git-credential-glpat", "https://alice@example.com", 2561, false},
		{"windows: a service of 512 bytes", windowsItemFits, strings.Repeat("s", 512), "a", 1, false},
		// 27+20+4+25+4+18+3996+1: 2,997 bytes make a command of 4,095.
		{"macOS: a command of 4,095 bytes", macItemFits, "git-credential-glpat", "https://alice@example.com", 2997, true},
		{"macOS: a command of 4,099 bytes", macItemFits, "git-credential-glpat", "https://alice@example.com", 2998, false},
		// A space makes go-keyring quote the account: two bytes more.
		{"macOS: a quoted account", macItemFits, "git-credential-glpat", "https://al ice@example.com", 2997, false},
		{"macOS: a quoted account, 3 bytes less", macItemFits, "git-credential-glpat", "https://al ice@example.com", 2994, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.fits(tc.service, tc.account, tc.size); got != tc.want {
				t.Errorf("fits(%q, %q, %d) = %v, want %v", tc.service, tc.account, tc.size, got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ in, want string }{
		{"", "''"}, {"plain-._@%+=:,/", "plain-._@%+=:,/"}, {"a b", "'a b'"}, {"it's", `'it'"'"'s'`}, {"é", "'é'"},
	} {
		if got := shellQuotedLen(tc.in); got != len(tc.want) {
			t.Errorf("shellQuotedLen(%q) = %d, want %d (%s)", tc.in, got, len(tc.want), tc.want)
		}
	}
}

// A secret that fits one item costs what it always did: one item, one call
// for Get and for Set. A split one costs a read per part more.
func TestSplitCostsNothingForSmallSecrets(t *testing.T) {
	ctx := context.Background()
	k, mem, _, _ := memKeychain(windowsItemFits)
	small := secretstest.LargeSecret(2560, "small")
	if err := k.Set(ctx, "acct", small); err != nil {
		t.Fatal(err)
	}
	if g, s, d := mem.calls(); g != 0 || s != 1 || d != 0 {
		t.Errorf("Set of 2,560 bytes: %d gets, %d sets, %d deletes; want one set", g, s, d)
	}
	if got, err := k.Get(ctx, "acct"); err != nil || got != small {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	if g, s, d := mem.calls(); g != 1 || s != 0 || d != 0 {
		t.Errorf("Get of 2,560 bytes: %d gets, %d sets, %d deletes; want one get", g, s, d)
	}
	if want := []string{"git-credential-glpat acct"}; !slices.Equal(mem.list(), want) {
		t.Errorf("items = %q, want %q", mem.list(), want)
	}

	big := secretstest.LargeSecret(60000, "big")
	if err := k.Set(ctx, "acct", big); err != nil {
		t.Fatal(err)
	}
	mem.calls()
	if got, err := k.Get(ctx, "acct"); err != nil || got != big {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	parts := (60000 + windowsBlobMax - 1) / windowsBlobMax
	if g, _, _ := mem.calls(); g != 1+parts {
		t.Errorf("Get of 60,000 bytes: %d gets, want %d (the head and %d parts)", g, 1+parts, parts)
	}
	// Nothing but the head is under the credential's service: what
	// lists credentials never sees a part.
	var heads, other int
	for _, it := range mem.list() {
		if strings.HasPrefix(it, "git-credential-glpat ") {
			heads++
		} else if !strings.HasPrefix(it, "git-credential-glpat/part ") && !strings.HasPrefix(it, "git-credential-glpat/journal ") {
			other++
		}
	}
	if heads != 1 || other != 0 || len(mem.list()) != 1+parts+1 {
		t.Errorf("items = %q, want one head, %d parts and a journal", mem.list(), parts)
	}

	if err := k.Delete(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	if got := mem.list(); len(got) != 0 {
		t.Errorf("items after Delete = %q, want none", got)
	}
	if err := k.Set(ctx, "acct", small); err != nil {
		t.Fatal(err)
	}
	mem.calls()
	if err := k.Delete(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	if g, s, d := mem.calls(); g != 1 || s != 0 || d != 1 {
		t.Errorf("Delete of a secret never split: %d gets, %d sets, %d deletes; want the journal's miss and one delete", g, s, d)
	}
}

// A store, overwrite or erase killed at any point leaves the old value or
// the new one whole, never a mix; what it left is removed by the next
// write or Delete of the credential, and never read.
func TestSplitKilledPartWay(t *testing.T) {
	for _, sys := range systems {
		t.Run(sys.name, func(t *testing.T) {
			killPartWay(t, func(t *testing.T) (*Keychain, *limited, *testClock, func() []string) {
				k, mem, lim, clock := memKeychain(sys.fits)
				return k, lim, clock, mem.list
			}, 60000)
		})
	}
}

// killPartWay runs each change of a credential (store over nothing, over
// a small or a large secret, overwrite of a large one by a small one,
// erase) in a keychain that dies at its first write, then at its second,
// and so on until one runs through; after each death, the value must be
// the old one or the new one, whole. Then a later store and erase must
// leave the keychain empty. open makes a fresh keychain and the
// listing of every item in it. only, when given, names the changes to
// run.
func killPartWay(t *testing.T, open func(t *testing.T) (*Keychain, *limited, *testClock, func() []string), size int, only ...string) {
	const absent = "\x00absent"
	large := secretstest.LargeSecret(size, "large")
	other := secretstest.LargeSecret(size/2+1000, "other")
	for _, tc := range []struct {
		name     string
		old, new string
	}{
		{"store a large secret", absent, large},
		{"overwrite a small secret with a large one", "small", large},
		{"overwrite a large secret with another", other, large},
		{"overwrite a large secret with a small one", large, "small"},
		{"erase a large secret", large, absent},
	} {
		if len(only) > 0 && !slices.Contains(only, tc.name) {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			for n := 0; ; n++ {
				k, lim, clock, list := open(t)
				if tc.old != absent {
					if err := k.Set(ctx, "acct", tc.old); err != nil {
						t.Fatal(err)
					}
				}
				lim.dieAfter(n)
				var err error
				if tc.new == absent {
					err = k.Delete(ctx, "acct")
				} else {
					err = k.Set(ctx, "acct", tc.new)
				}
				killed := lim.died()
				lim.dieAfter(-1)
				if !killed && err != nil {
					t.Fatalf("not killed, yet: %v", err)
				}

				got, err := k.Get(ctx, "acct")
				switch {
				case err == nil && (got == tc.old || got == tc.new):
				case errors.Is(err, secrets.ErrNotFound) && (tc.old == absent || tc.new == absent):
				default:
					t.Fatalf("killed at write %d: Get = %s, %v; want the old or the new value whole", n+1, describe(got), err)
				}
				if !killed && (err != nil || got != tc.new) && tc.new != absent {
					t.Fatalf("not killed: Get = %s, %v; want the new value", describe(got), err)
				}

				// Later, once any write that died is long over, the next
				// store and erase of the credential clear what was left.
				clock.add(writeHorizon)
				if err := k.Set(ctx, "acct", other+"later"); err != nil {
					t.Fatalf("killed at write %d: a later Set: %v", n+1, err)
				}
				if got, err := k.Get(ctx, "acct"); err != nil || got != other+"later" {
					t.Fatalf("killed at write %d: a later Get = %s, %v", n+1, describe(got), err)
				}
				if err := k.Delete(ctx, "acct"); err != nil {
					t.Fatalf("killed at write %d: a later Delete: %v", n+1, err)
				}
				if left := list(); len(left) != 0 {
					t.Fatalf("killed at write %d: after a later store and erase, the keychain holds %d items: %q", n+1, len(left), left)
				}
				if !killed {
					t.Logf("%d kill points", n)
					return
				}
			}
		})
	}
}

func describe(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%.20q… (%d bytes)", s, len(s))
	}
	return fmt.Sprintf("%q", s)
}

// A reader that follows a head whose parts a writer removed meanwhile
// reads the head again and returns the new value; parts that are gone
// with the head unchanged are an error that is not "not found".
func TestSplitReadFollowsANewHead(t *testing.T) {
	ctx := context.Background()
	k, mem, _, _ := memKeychain(windowsItemFits)
	first, second := secretstest.LargeSecret(9000, "first"), secretstest.LargeSecret(9000, "second")
	if err := k.Set(ctx, "acct", first); err != nil {
		t.Fatal(err)
	}
	oldHead := mem.items[itemKey{"git-credential-glpat", "acct"}]
	if err := k.Set(ctx, "acct", second); err != nil {
		t.Fatal(err)
	}
	// The reader read the old head before the write: its parts are gone.
	if got, err := k.getSplit(ctx, "acct", oldHead); err != nil || got != second {
		t.Errorf("Get through an old head = %s, %v; want the new value", describe(got), err)
	}

	for it := range mem.items {
		if it.service == "git-credential-glpat/part" && strings.HasSuffix(it.account, ".2") {
			delete(mem.items, it)
		}
	}
	_, err := k.Get(ctx, "acct")
	if err == nil || errors.Is(err, secrets.ErrNotFound) || !strings.Contains(err.Error(), "store the credential again") {
		t.Errorf("Get with a part gone = %v; want an error that says what to do and is not ErrNotFound", err)
	}
	if err := k.Set(ctx, "acct", first); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, "acct"); err != nil || got != first {
		t.Errorf("Get after storing again = %s, %v", describe(got), err)
	}
}

// A secret that starts like a head is kept as it is.
func TestSecretThatLooksLikeAHead(t *testing.T) {
	ctx := context.Background()
	for _, sys := range append(systems, struct {
		name string
		fits itemFits
	}{"no limit", func(string, string, int) bool { return true }}) {
		k, _, _, _ := memKeychain(sys.fits)
		for _, v := range []string{
			headMarker,
			headMarker + "0123456789abcdef0123456789abcdef 1 3 " + strings.Repeat("0", 64) + "\n",
			headMarker + inlineLine + "x",
			headMarker + secretstest.LargeSecret(5000, "x"),
		} {
			if err := k.Set(ctx, "acct", v); err != nil {
				t.Fatalf("%s: Set: %v", sys.name, err)
			}
			if got, err := k.Get(ctx, "acct"); err != nil || got != v {
				t.Errorf("%s: Get = %s, %v; want %s", sys.name, describe(got), err, describe(v))
			}
		}
	}
}

// Where even a head cannot fit (an account name near macOS's 4,096 bytes),
// a large secret is refused in one line, and the old one kept.
func TestSplitRefusesWhatCannotFit(t *testing.T) {
	ctx := context.Background()
	k, _, _, _ := memKeychain(macItemFits)
	long := "https://alice@example.com/" + strings.Repeat("group/", 640)
	if err := k.Set(ctx, long, "old"); err != nil {
		t.Fatal(err)
	}
	err := k.Set(ctx, long, secretstest.LargeSecret(5000, "x"))
	if !errors.Is(err, secrets.ErrTooLarge) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("Set under a %d-byte name = %v; want a one-line ErrTooLarge", len(long), err)
	}
	if got, err := k.Get(ctx, long); err != nil || got != "old" {
		t.Errorf("Get after the refusal = %s, %v; want the old value", describe(got), err)
	}
	err = k.Set(ctx, "acct", strings.Repeat("x", maxSplitSecret+1))
	if !errors.Is(err, secrets.ErrTooLarge) || strings.Contains(err.Error(), "xxxx") {
		t.Errorf("Set of more than %d bytes = %v; want ErrTooLarge", maxSplitSecret, err)
	}
}
