package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// faulty is a Memory store whose calls fail as a test says.
type faulty struct {
	secretstest.Memory
	mu         sync.Mutex
	sets       int
	failSetAt  int    // the nth Set (1-based, probes excluded) fails; 0: none
	setStores  bool   // the failing Set stores the secret anyway, as a timed-out keychain call may
	garble     string // Get returns a different secret for this account
	failDelete string // Delete of this account fails
}

var errInjected = errors.New("injected fault")

func (f *faulty) Set(ctx context.Context, account, secret string) error {
	if strings.HasPrefix(account, probePrefix) {
		return f.Memory.Set(ctx, account, secret)
	}
	f.mu.Lock()
	f.sets++
	n := f.sets
	f.mu.Unlock()
	if n == f.failSetAt {
		if f.setStores {
			f.Memory.Set(ctx, account, secret)
		}
		return fmt.Errorf("faulty: set %s: %w", account, errInjected)
	}
	return f.Memory.Set(ctx, account, secret)
}

func (f *faulty) Get(ctx context.Context, account string) (string, error) {
	s, err := f.Memory.Get(ctx, account)
	if err == nil && account == f.garble {
		s += "-garbled"
	}
	return s, err
}

func (f *faulty) Delete(ctx context.Context, account string) error {
	if account == f.failDelete {
		return fmt.Errorf("faulty: delete %s: %w", account, errInjected)
	}
	return f.Memory.Delete(ctx, account)
}

var fiveAccounts = []string{"a", "b", "c", "d", "e"}

// filled returns a store holding a secret for each account.
func filled(t *testing.T, accounts ...string) *faulty {
	t.Helper()
	f := new(faulty)
	for _, a := range accounts {
		if err := f.Memory.Set(context.Background(), a, "secret-"+a); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// holds checks that s has exactly accounts, each with its secret.
func holds(t *testing.T, name string, s *faulty, accounts ...string) {
	t.Helper()
	if got := s.Accounts(); !slices.Equal(got, accounts) && (len(got) != 0 || len(accounts) != 0) {
		t.Errorf("%s holds %q, want %q", name, got, accounts)
	}
	for _, a := range accounts {
		if got, err := s.Memory.Get(context.Background(), a); err != nil || got != "secret-"+a {
			t.Errorf("%s: Get(%s) = %q, %v", name, a, got, err)
		}
	}
}

func TestMigrate(t *testing.T) {
	from, to := filled(t, fiveAccounts...), new(faulty)
	res, err := Migrate(context.Background(), from, to, append([]string{"missing", "c"}, fiveAccounts...))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Moved, fiveAccounts) || !slices.Equal(res.Missing, []string{"missing"}) || len(res.Kept) != 0 {
		t.Errorf("result = %+v", res)
	}
	holds(t, "old backend", from)
	holds(t, "new backend", to, fiveAccounts...)
}

// The case: the new backend fails on the 3rd secret. Nothing is
// lost, and nothing is left behind in the new backend.
func TestMigrateInterruptedHalfWay(t *testing.T) {
	for _, setStores := range []bool{false, true} {
		t.Run(fmt.Sprintf("failed set stored it: %v", setStores), func(t *testing.T) {
			from, to := filled(t, fiveAccounts...), &faulty{failSetAt: 3, setStores: setStores}
			res, err := Migrate(context.Background(), from, to, fiveAccounts)
			if !errors.Is(err, errInjected) {
				t.Fatalf("err = %v, want the injected fault", err)
			}
			for _, want := range []string{"store c in the new backend", "the old backend still has every secret"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to say %q", err, want)
				}
			}
			if len(res.Moved) != 0 {
				t.Errorf("Moved = %q after a failure", res.Moved)
			}
			holds(t, "old backend", from, fiveAccounts...)
			holds(t, "new backend", to)
		})
	}
}

func TestMigrateReadBackMismatch(t *testing.T) {
	from, to := filled(t, fiveAccounts...), &faulty{garble: "d"}
	_, err := Migrate(context.Background(), from, to, fiveAccounts)
	if err == nil || !strings.Contains(err.Error(), "gave back a different secret for d") {
		t.Fatalf("err = %v", err)
	}
	holds(t, "old backend", from, fiveAccounts...)
	holds(t, "new backend", to)
}

func TestMigrateUnreadableOldBackendChangesNothing(t *testing.T) {
	from, to := filled(t, fiveAccounts...), new(faulty)
	locked := fmt.Errorf("credentials are locked: %w", secrets.ErrLocked)
	from.Memory.Err = locked
	_, err := Migrate(context.Background(), from, to, fiveAccounts)
	if !errors.Is(err, secrets.ErrLocked) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v", err)
	}
	from.Memory.Err = nil
	holds(t, "old backend", from, fiveAccounts...)
	holds(t, "new backend", to)
}

// A different secret already in the new backend is never overwritten.
func TestMigrateConflict(t *testing.T) {
	from, to := filled(t, fiveAccounts...), new(faulty)
	to.Memory.Set(context.Background(), "b", "newer")
	_, err := Migrate(context.Background(), from, to, fiveAccounts)
	if err == nil || !strings.Contains(err.Error(), "already holds a different secret for b") {
		t.Fatalf("err = %v", err)
	}
	holds(t, "old backend", from, fiveAccounts...)
	if got := to.Accounts(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("new backend holds %q", got)
	}
	if got, _ := to.Memory.Get(context.Background(), "b"); got != "newer" {
		t.Errorf("new backend: b = %q, want it untouched", got)
	}
}

// A Migrate that stopped after copying (a crash) is finished by the next
// one: the copies already there are not a conflict.
func TestMigrateFinishesAnInterruptedOne(t *testing.T) {
	from, to := filled(t, fiveAccounts...), filled(t, "a", "b", "c")
	res, err := Migrate(context.Background(), from, to, fiveAccounts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Moved, fiveAccounts) {
		t.Errorf("Moved = %q", res.Moved)
	}
	holds(t, "old backend", from)
	holds(t, "new backend", to, fiveAccounts...)
}

// When the old backend will not delete, the secret is in both: reported,
// not lost.
func TestMigrateOldBackendKeepsOne(t *testing.T) {
	from, to := filled(t, fiveAccounts...), new(faulty)
	from.failDelete = "e"
	res, err := Migrate(context.Background(), from, to, fiveAccounts)
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "could not be removed from the old one (e)") {
		t.Fatalf("err = %v", err)
	}
	if !slices.Equal(res.Kept, []string{"e"}) || !slices.Equal(res.Moved, fiveAccounts[:4]) {
		t.Errorf("result = %+v", res)
	}
	holds(t, "old backend", from, "e")
	holds(t, "new backend", to, fiveAccounts...)
}

func TestMigrateOntoItself(t *testing.T) {
	s := filled(t, fiveAccounts...)
	_, err := Migrate(context.Background(), s, s, fiveAccounts)
	if err == nil || !strings.Contains(err.Error(), "same storage") {
		t.Fatalf("err = %v", err)
	}
	holds(t, "store", s, fiveAccounts...)
}

type listing struct {
	faulty
	list []string
}

func (l *listing) List(context.Context) ([]string, error) { return l.list, nil }

func TestAccounts(t *testing.T) {
	got, err := Accounts(context.Background(), new(faulty), []string{"b", "a", "b"})
	if err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Accounts of a store that cannot list = %q, %v", got, err)
	}
	l := &listing{list: []string{"c", "a", probePrefix + "0123"}}
	got, err = Accounts(context.Background(), l, []string{"b", "a"})
	if err != nil || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Accounts of a store that lists = %q, %v", got, err)
	}
}

// The config is switched after the copies are verified and before the old
// backend is emptied; a switch that fails moves nothing.
func TestMigrateBeforeRemoving(t *testing.T) {
	from, to := filled(t, fiveAccounts...), new(faulty)
	var copiedWhenSwitched, oldFullWhenSwitched bool
	_, err := Migrate(context.Background(), from, to, fiveAccounts, BeforeRemoving(func() error {
		copiedWhenSwitched = slices.Equal(to.Accounts(), fiveAccounts)
		oldFullWhenSwitched = slices.Equal(from.Accounts(), fiveAccounts)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !copiedWhenSwitched || !oldFullWhenSwitched {
		t.Errorf("at the switch: new backend complete %v, old backend complete %v; want both", copiedWhenSwitched, oldFullWhenSwitched)
	}
	holds(t, "old backend", from)

	from, to = filled(t, fiveAccounts...), new(faulty)
	_, err = Migrate(context.Background(), from, to, fiveAccounts, BeforeRemoving(func() error {
		return fmt.Errorf("write config: %w", errInjected)
	}))
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "nothing was moved") {
		t.Fatalf("err = %v", err)
	}
	holds(t, "old backend", from, fiveAccounts...)
	holds(t, "new backend", to)
}
