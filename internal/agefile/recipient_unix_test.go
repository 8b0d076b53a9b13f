//go:build unix

package agefile

import (
	"os"
	"strings"
	"testing"
)

// Whoever could write recipient.txt could have every secret stored from
// then on encrypted to them: one that others may write is refused.
func TestRecipientFileMustBePrivate(t *testing.T) {
	f := newFile(t, new(memCache))
	os.Chmod(f.path(RecipientFile), 0o622)
	err := f.Set(ctx(t), "a", "glpat-secret")
	if err == nil || !strings.Contains(err.Error(), "chmod go-w "+f.path(RecipientFile)) {
		t.Errorf("Set with recipient.txt writable by others: %v", err)
	}
	os.Chmod(f.path(RecipientFile), 0o600)
	mustSet(t, f, "a", "glpat-secret")
}
