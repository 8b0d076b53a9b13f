package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
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
