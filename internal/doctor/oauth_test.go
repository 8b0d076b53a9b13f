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
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

func TestCheckOAuth(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte("[hosts.\"gitlab.com\"]\noauth_client_id = \"abc\"\n"), 0o600)
	withID, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	oauthRec := func(f func(*store.OAuth)) *store.Record {
		r := &store.Record{Protocol: "https", Host: "gitlab.com", Username: "oauth2", ExpiryUTC: checkNow.Add(2 * time.Hour).Unix(),
			OAuth: &store.OAuth{ClientID: "abc", Scopes: []string{"write_repository"}}}
		if f != nil {
			f(r.OAuth)
		}
		return r
	}
	due := oauthRec(nil)
	due.ExpiryUTC = checkNow.Add(time.Minute).Unix()
	tests := []struct {
		name       string
		entry      account.Entry
		cfg        *config.Config
		wantStatus string
		wantDetail string
		wantFix    string
	}{
		{"ok", statusEntry(t, oauthRec(nil), withID, false), withID, StatusOK, "refreshed before it expires", ""},
		{"due", statusEntry(t, due, withID, false), withID, StatusOK, "due for a refresh", ""},
		{"ended", statusEntry(t, oauthRec(func(o *store.OAuth) { o.Dead = store.DeadAnswerLost }), withID, false), withID, StatusFail,
			"the OAuth login has ended: GitLab refreshed it", "login gitlab.com --username oauth2 --oauth"},
		{"no client ID", statusEntry(t, oauthRec(nil), config.Default(), false), config.Default(), StatusFail, "no oauth_client_id", "oauth_client_id under [hosts.\"gitlab.com\"]"},
		{"refresh failed", statusEntry(t, oauthRec(func(o *store.OAuth) { o.RefreshFailedAt, o.RefreshError = checkNow.Add(-time.Minute), "gitlab: 502" }), withID, false), withID,
			StatusWarn, "the last refresh failed: gitlab: 502", "rotate gitlab.com --force"},
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
