//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"context"
	"fmt"
	"slices"
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

// Split secrets work on a real keychain: the contract of a secrets.Store,
// with a limit on one item in front of gnome-keyring.
func TestSplitOnSecretService(t *testing.T) {
	keyringtest.Require(t)
	secretstest.Conformance(t, func(t *testing.T) secrets.Store {
		return &Keychain{Service: splitService(), Timeout: DefaultTimeout, fits: itemFits16K}
	}, secretstest.HoldsLargeSecrets())

	// What lists the credentials of a service (secret-tool search, or
	// the Delete of all that gnome-keyring's Seahorse offers) sees the
	// head alone; a Delete leaves nothing.
	ctx := context.Background()
	k := &Keychain{Service: splitService(), Timeout: DefaultTimeout, fits: windowsItemFits}
	if err := k.Set(ctx, "https://alice@example.com", secretstest.LargeSecret(6000, "x")); err != nil {
		t.Fatal(err)
	}
	items := secretServiceItems(t, k.Service)
	heads := slices.DeleteFunc(slices.Clone(items), func(s string) bool { return s != k.Service+" https://alice@example.com" })
	if len(heads) != 1 || len(items) != 1+3+1 {
		t.Errorf("items = %q, want the head, 3 parts and the journal", items)
	}
	if err := k.Delete(ctx, "https://alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if left := secretServiceItems(t, k.Service); len(left) != 0 {
		t.Errorf("items after Delete = %q, want none", left)
	}
}

// Killed part way on a real keychain, an overwrite of a large secret
// leaves the old or the new value whole; a later store and erase leave
// nothing. (TestSplitKilledPartWay kills every change, in memory.)
func TestSplitKilledPartWayOnSecretService(t *testing.T) {
	keyringtest.Require(t)
	killPartWay(t, func(t *testing.T) (*Keychain, *limited, *testClock, func() []string) {
		k, _, lim, clock := memKeychain(windowsItemFits)
		lim.inner = goKeyring{}
		k.Service = splitService()
		return k, lim, clock, func() []string { return secretServiceItems(t, k.Service) }
	}, 6000, "overwrite a large secret with another")
}
