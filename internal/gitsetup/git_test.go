package gitsetup

import (
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
)

func TestLaterHelperFix(t *testing.T) {
	for _, tc := range []struct {
		e          gitconfig.Entry
		fix        string
		setupFixes bool
	}{
		{gitconfig.Entry{Scope: "global", Key: "credential.https://gitlab.com.helper", Value: "store"}, "", true},
		{gitconfig.Entry{Scope: "global", Key: "credential.helper", Value: "store"}, "remove it, or move it above the lines setup added", false},
		{gitconfig.Entry{Scope: "global", Key: "credential.gitlab.com.helper", Value: "store"}, "remove it, or move it above the lines setup added", false},
		{gitconfig.Entry{Scope: "local", Key: "credential.https://gitlab.com.helper", Value: "store"}, "remove it", false},
	} {
		fix, bySetup := LaterHelperFix(tc.e, "https://GitLab.com")
		if fix != tc.fix || bySetup != tc.setupFixes {
			t.Errorf("LaterHelperFix(%s %s) = %q, %v; want %q, %v", tc.e.Scope, tc.e.Key, fix, bySetup, tc.fix, tc.setupFixes)
		}
	}
}
