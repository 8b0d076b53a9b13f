package agefile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// TestWriteThatWouldBrickIsRefused: stores of large secrets grow the file
// up to maxFileSize and no further: the write that would pass it fails
// with one clear line and changes nothing.
func TestWriteThatWouldBrickIsRefused(t *testing.T) {
	f := newFile(t, new(memCache))
	big := strings.Repeat("x", 1<<20) // 1 MiB; stored base64 in the file
	var refused error
	for i := 0; i < 40 && refused == nil; i++ {
		refused = f.Set(ctx(t), fmt.Sprintf("acct-%d", i), big)
	}
	if refused == nil || !errors.Is(refused, ErrTooLarge) || !errors.Is(refused, secrets.ErrTooLarge) || strings.Contains(refused.Error(), "\n") {
		t.Fatalf("Set past the limit = %v, want one line wrapping ErrTooLarge", refused)
	}
	before, _ := os.ReadFile(f.path(SecretsFile))
	if err := f.Set(ctx(t), "acct-again", big); err == nil {
		t.Fatal("a second Set past the limit succeeded")
	}
	after, _ := os.ReadFile(f.path(SecretsFile))
	if !bytes.Equal(before, after) {
		t.Errorf("a refused Set changed the file")
	}
	if len(after) > maxFileSize {
		t.Errorf("the file grew to %d bytes, past the %d readers accept", len(after), maxFileSize)
	}
	// Every command still works.
	if got, err := f.Get(ctx(t), "acct-0"); err != nil || got != big {
		t.Errorf("Get after a refused Set: %d bytes, %v", len(got), err)
	}
	if _, err := f.List(ctx(t)); err != nil {
		t.Errorf("List: %v", err)
	}
}

// TestOversizedFileCanBeEmptied: a file that somehow holds more than
// maxFileSize can still be read, listed, erased from and moved away from;
// only writes that grow it are refused.
func TestOversizedFileCanBeEmptied(t *testing.T) {
	f := newFile(t, new(memCache))
	mustSet(t, f, "small", "s")
	r, err := f.recipient()
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.load()
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("y", 1<<20)
	for i := 0; len(e.encode()) <= maxFileSize+1<<20; i++ {
		ct, err := sealEntry(r, fmt.Sprintf("big-%d", i), big)
		if err != nil {
			t.Fatal(err)
		}
		e.entries[fmt.Sprintf("big-%d", i)] = ct
	}
	if err := os.WriteFile(f.path(SecretsFile), e.encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	mustGet(t, f, "small", "s")
	accts, err := f.List(ctx(t))
	if err != nil || len(accts) != len(e.entries) {
		t.Fatalf("List of an oversized file = %d accounts, %v", len(accts), err)
	}
	if err := f.Set(ctx(t), "more", big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a Set that grows an oversized file = %v, want ErrTooLarge", err)
	}
	for _, a := range accts {
		if a == "small" {
			continue
		}
		if err := f.Delete(ctx(t), a); err != nil {
			t.Fatalf("Delete %s: %v", a, err)
		}
	}
	if _, err := f.Get(ctx(t), "big-0"); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("Get after Delete = %v", err)
	}
	mustSet(t, f, "after", "a")
}
