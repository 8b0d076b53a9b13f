//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// goKeyring is go-keyring itself, as a keyring.Keyring, for tests that
// put the limits of another system (and deaths) in front of the real
// Secret Service.
type goKeyring struct{}

func (goKeyring) Get(service, account string) (string, error) { return keyring.Get(service, account) }
func (goKeyring) Set(service, account, value string) error {
	if err := introduce(); err != nil {
		return err
	}
	return keyring.Set(service, account, value)
}
func (goKeyring) Delete(service, account string) error { return keyring.Delete(service, account) }
func (goKeyring) DeleteAll(service string) error       { return keyring.DeleteAll(service) }

var splitServices atomic.Int64

// splitService returns a service name no other test uses.
func splitService() string {
	return fmt.Sprintf("%s-split-%d", testService, splitServices.Add(1))
}

// secretServiceItems lists the accounts of the items under service, and
// under its parts' and journals' services, in the test's keyring.
func secretServiceItems(t testing.TB, service string) []string {
	t.Helper()
	if err := introduce(); err != nil {
		t.Fatal(err)
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, svc := range []string{service, service + partSuffix, service + journalSuffix} {
		var items []dbus.ObjectPath
		err := conn.Object(secretsName, loginCollection).Call(collectionIface+".SearchItems", 0, map[string]string{"service": svc}).Store(&items)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			v, err := conn.Object(secretsName, it).GetProperty(itemIface + ".Attributes")
			if err != nil {
				t.Fatal(err)
			}
			attrs, _ := v.Value().(map[string]string)
			out = append(out, svc+" "+attrs["username"])
		}
	}
	slices.Sort(out)
	return out
}

// The Secret Service takes a secret as large as Git can send in one item.
func TestLargeSecretsOnSecretService(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	k := New(splitService())
	for _, size := range []int{2561, 65535, 200000} {
		acct := fmt.Sprintf("large-%d", size)
		big := secretstest.LargeSecret(size, acct)
		if err := k.Set(ctx, acct, big); err != nil {
			t.Fatalf("Set of %d bytes: %v", size, err)
		}
		mustGet(t, k, acct, big)
	}
	if got, want := secretServiceItems(t, k.Service), []string{k.Service + " large-200000", k.Service + " large-2561", k.Service + " large-65535"}; !slices.Equal(got, want) {
		t.Errorf("items = %q, want one each: %q", got, want)
	}
	for _, size := range []int{2561, 65535, 200000} {
		if err := k.Delete(ctx, fmt.Sprintf("large-%d", size)); err != nil {
			t.Error(err)
		}
	}
}

// itemFits16K is a limit of 16 KB on one item: secrets are split on a
// real keychain, in fewer parts than Windows' limit makes (gnome-keyring
// writes its whole file on every change).
func itemFits16K(_, _ string, size int) bool { return size <= 16<<10 }

// Split secrets work on a real keychain, with a limit on one item in
// front of gnome-keyring: stored over a small one, read back whole,
// overwritten, erased; what lists the credentials of the service
// (secret-tool search, Seahorse) sees the credential alone, and an erase
// leaves nothing. (TestConformanceWithItemLimits runs the whole contract
// with Windows' and macOS's limits, in memory.)
func TestSplitOnSecretService(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	k := &Keychain{Service: splitService(), Timeout: DefaultTimeout, fits: itemFits16K}
	const acct = "https://alice@example.com"
	for _, size := range []int{16<<10 + 1, 65535, 200000} {
		if err := k.Set(ctx, acct, "small"); err != nil {
			t.Fatal(err)
		}
		big := secretstest.LargeSecret(size, "big")
		if err := k.Set(ctx, acct, big); err != nil {
			t.Fatalf("Set of %d bytes: %v", size, err)
		}
		mustGet(t, k, acct, big)
		parts := (size + 16<<10 - 1) / (16 << 10)
		items := secretServiceItems(t, k.Service)
		heads := slices.DeleteFunc(slices.Clone(items), func(s string) bool { return !strings.HasPrefix(s, k.Service+" ") })
		if !slices.Equal(heads, []string{k.Service + " " + acct}) || len(items) != 1+parts+1 {
			t.Errorf("items = %q, want the head, %d parts and the journal", items, parts)
		}
		other := secretstest.LargeSecret(size-size/3, "other")
		if err := k.Set(ctx, acct, other); err != nil {
			t.Fatalf("Set of %d bytes over %d: %v", len(other), size, err)
		}
		mustGet(t, k, acct, other)
		if err := k.Delete(ctx, acct); err != nil {
			t.Fatal(err)
		}
		if _, err := k.Get(ctx, acct); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("Get after Delete: %v, want ErrNotFound", err)
		}
		if left := secretServiceItems(t, k.Service); len(left) != 0 {
			t.Errorf("items after Delete = %q, want none", left)
		}
	}
}

func itemFits4K(_, _ string, size int) bool { return size <= 4<<10 }

// Killed part way on a real keychain, an overwrite of a large secret
// leaves the old or the new value whole; a later store and erase leave
// nothing. (TestSplitKilledPartWay kills every change, in memory.)
func TestSplitKilledPartWayOnSecretService(t *testing.T) {
	keyringtest.Require(t)
	killPartWay(t, func(t *testing.T) (*Keychain, *limited, *testClock, func() []string) {
		k, _, lim, clock := memKeychain(itemFits4K)
		lim.inner = goKeyring{}
		k.Service = splitService()
		return k, lim, clock, func() []string { return secretServiceItems(t, k.Service) }
	}, 9000, "overwrite a large secret with another")
}
