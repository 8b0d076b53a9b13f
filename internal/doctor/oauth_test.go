package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
)

func TestCheckOAuth(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("[hosts.\"gitlab.com\"]\noauth_client_id = \"abc\"\n"), 0o600)
	withID, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)
	entry := func(f func(*account.Entry)) account.Entry {
		e := account.Entry{Host: "gitlab.com", Protocol: "https", Username: "oauth2", Managed: true, Kind: "oauth",
			TokenName: "OAuth", State: "ok", AccessExpiry: &exp, Login: "git-credential-glpat login gitlab.com --username oauth2 --oauth"}
		if f != nil {
			f(&e)
		}
		return e
	}
	tests := []struct {
		name       string
		entry      account.Entry
		cfg        *config.Config
		wantStatus string
		wantDetail string
		wantFix    string
	}{
		{"ok", entry(nil), withID, StatusOK, "refreshed before it expires", ""},
		{"due", entry(func(e *account.Entry) { e.Token.State = lifecycle.DueForRotation }), withID, StatusOK, "due for a refresh", ""},
		{"ended", entry(func(e *account.Entry) {
			e.Token.State, e.Problem = lifecycle.Revoked, "GitLab refreshed it but the answer with the new token was lost; run …"
		}), withID, StatusFail, "the login has ended: GitLab refreshed it", "login gitlab.com --username oauth2 --oauth"},
		{"no client ID", entry(nil), config.Default(), StatusFail, "no oauth_client_id", "oauth_client_id under [hosts.\"gitlab.com\"]"},
		{"refresh failed", entry(func(e *account.Entry) { e.Problem, e.RotationFailed = "last refresh failed: 502", true }), withID, StatusWarn, "last refresh failed: 502", "rotate gitlab.com --force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{Accounts: fakeAccounts{entries: []account.Entry{tt.entry}}}.withDefaults()
			_, checks := checkTokens(context.Background(), e, tt.cfg)
			if len(checks) != 1 {
				t.Fatalf("got %d checks, want 1: %+v", len(checks), checks)
			}
			c := checks[0]
			if c.Name != "OAuth login gitlab.com (oauth2)" || c.Status != tt.wantStatus || !strings.Contains(c.Detail, tt.wantDetail) || !strings.Contains(c.Fix, tt.wantFix) {
				t.Errorf("check %+v, want status %s, detail saying %q, fix saying %q", c, tt.wantStatus, tt.wantDetail, tt.wantFix)
			}
		})
	}
}
