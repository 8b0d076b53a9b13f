package backend

import (
	"context"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// TestMigrateCarriesOverAValueChangedDuringTheMove: a rotation that writes
// a new token to the old backend while migrate runs is not lost.
func TestMigrateCarriesOverAValueChangedDuringTheMove(t *testing.T) {
	ctx := context.Background()
	from, to := new(secretstest.Memory), new(secretstest.Memory)
	from.Set(ctx, "https://u@h", "old-token")
	res, err := Migrate(ctx, from, to, []string{"https://u@h"}, BeforeRemoving(func() error {
		return from.Set(ctx, "https://u@h", "rotated-token") // a rotation in between
	}))
	if err != nil || len(res.Moved) != 1 {
		t.Fatalf("Migrate = %+v, %v", res, err)
	}
	if got, _ := to.Get(ctx, "https://u@h"); got != "rotated-token" {
		t.Errorf("new backend holds %q, want the token written during the move", got)
	}
	if _, err := from.Get(ctx, "https://u@h"); err == nil {
		t.Error("old backend still holds the secret")
	}
}
