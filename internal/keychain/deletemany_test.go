package keychain

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/keyringtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// TestDeleteMany: against the real keyring, DeleteMany deletes what is
// there (more than one window of calls in flight) and says "not found" for
// what is not, account by account, leaving other items alone.
func TestDeleteMany(t *testing.T) {
	keyringtest.Require(t)
	ctx := context.Background()
	k := New("glpat-test-deletemany")
	var accounts []string
	for i := 0; i < 150; i++ {
		a := fmt.Sprintf("https://u%d@many.example", i)
		accounts = append(accounts, a)
		if i%10 == 3 {
			continue // never stored
		}
		if err := k.Set(ctx, a, "s"); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.Set(ctx, "https://keep@many.example", "keep"); err != nil {
		t.Fatal(err)
	}
	errs := k.DeleteMany(ctx, accounts)
	for i, err := range errs {
		if i%10 == 3 {
			if !errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("%s (never stored): %v, want not found", accounts[i], err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", accounts[i], err)
		}
		if _, err := k.Get(ctx, accounts[i]); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("%s is still there: %v", accounts[i], err)
		}
	}
	if got, err := k.Get(ctx, "https://keep@many.example"); err != nil || got != "keep" {
		t.Errorf("an item not asked for: %q, %v", got, err)
	}
	k.Delete(ctx, "https://keep@many.example")
}
