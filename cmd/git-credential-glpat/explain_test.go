package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// TestExplainLockedKeychain: a locked keychain's advice is what works
// where the person is: Seahorse only with a display to show it on.
func TestExplainLockedKeychain(t *testing.T) {
	locked := fmt.Errorf("keychain: get: %w", secrets.ErrLocked)
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		name, goos string
		env        map[string]string
		want, not  string
	}{
		{"linux without a display", "linux", nil, "gnome-keyring-daemon --replace --unlock", "Seahorse"},
		{"linux over SSH", "linux", map[string]string{"SSH_CONNECTION": "10.0.0.2 5 10.0.0.1 22"}, "gnome-keyring-daemon --replace --unlock", "Seahorse"},
		{"linux desktop", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, "Seahorse", "gnome-keyring-daemon"},
		{"macOS", "darwin", nil, "security unlock-keychain", "Seahorse"},
		{"Windows", "windows", nil, "unlock it", "Seahorse"},
	} {
		got := explainOn(locked, tc.goos, env(tc.env), 1000)
		if !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) || strings.Contains(got, ") (") || strings.Contains(got, "))") {
			t.Errorf("%s: %q; want %q, not %q, no parentheses in a row", tc.name, got, tc.want, tc.not)
		}
	}
}

// TestExplainWordsWhatTheStoreReports: what the store reports says what
// happened; explain adds what to do, for each index file of a listing.
func TestExplainWordsWhatTheStoreReports(t *testing.T) {
	rec := store.Record{Protocol: "https", Host: "gitlab.example.com", Username: "alice", Backend: "kernel"}
	listed := errors.Join(&store.SetAsideError{Aside: "/s/index/x.json.corrupt-1"}, &store.InconsistentError{File: "/s/index/y.json", N: 2})
	for _, tc := range []struct {
		err  error
		want []string
	}{
		{&store.ElsewhereError{Record: rec, Backend: "keyring"}, []string{"gitlab.example.com (alice): ", "in the kernel backend", "migrate --to keyring"}},
		{listed, []string{"x.json.corrupt-1", "store them again", "y.json", "delete the file or store the credentials again"}},
		{fmt.Errorf("keychain: get: %w", secrets.ErrLocked), []string{"the keychain is locked"}},
	} {
		got := explainOn(tc.err, "linux", func(string) string { return "" }, 1000)
		for _, w := range tc.want {
			if !strings.Contains(got, w) || strings.Contains(got, "\n") {
				t.Errorf("explain(%v) = %q, want one line with %q", tc.err, got, w)
			}
		}
	}
}
