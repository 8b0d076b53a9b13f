package helper

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// oauthHelper is a helper whose store holds an OAuth credential for
// gitlab.example.com, issued by a fake GitLab's application.
func oauthHelper(t *testing.T) (*Helper, *gitlabtest.Server, gitlabtest.OAuthPair) {
	t.Helper()
	gl := gitlabtest.New(t)
	clientID := gl.RegisterOAuthApp(gitlabtest.OAuthApp{})
	p := gl.CreateOAuthToken(clientID, "alice", nil)
	dir := t.TempDir()
	st := &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(dir, "index")}
	rec := &store.Record{Protocol: "https", Host: "gitlab.example.com", Username: "oauth2", ExpiryUTC: p.Expiry.Unix(),
		OAuth: &store.OAuth{APIURL: gl.APIURL(), ClientID: clientID}}
	if err := st.Put(context.Background(), rec, &store.Secret{Password: p.Access, OAuthRefreshToken: p.Refresh}); err != nil {
		t.Fatal(err)
	}
	lc := &lifecycle.Manager{Store: st, StateDir: filepath.Join(dir, "state"),
		Settings: func(*store.Record) lifecycle.Settings { return lifecycle.Settings{OAuthClientID: clientID} }}
	return &Helper{Store: st, Lifecycle: lc}, gl, p
}

func run(t *testing.T, h *Helper, op, in string) string {
	t.Helper()
	var out bytes.Buffer
	if err := h.Run(context.Background(), op, strings.NewReader(in), &out); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out.String()
}

// TestGetOfOAuthNeverGivesTheRefreshToken: Git gets the access token and
// its expiry, never the refresh token (Git would pass it to its other
// helpers).
func TestGetOfOAuthNeverGivesTheRefreshToken(t *testing.T) {
	h, _, p := oauthHelper(t)
	got := run(t, h, "get", "protocol=https\nhost=gitlab.example.com\n")
	want := fmt.Sprintf("username=oauth2\npassword=%s\npassword_expiry_utc=%d\n", p.Access, p.Expiry.Unix())
	if got != want {
		mask := strings.NewReplacer(p.Refresh, "<REFRESH>", p.Access, "<ACCESS>")
		t.Errorf("get = %q, want %q", mask.Replace(got), mask.Replace(want))
	}
}

// TestStoreNeverReplacesAnOAuthCredential: what Git stores for the account
// (another helper's refresh token, an access token refreshed since) does
// not replace the pair; what get printed, stored back, costs no write.
func TestStoreNeverReplacesAnOAuthCredential(t *testing.T) {
	h, _, p := oauthHelper(t)
	mem := h.Store.Secrets.(*secretstest.Memory)
	before := mem.Calls()
	run(t, h, "store", fmt.Sprintf("protocol=https\nhost=gitlab.example.com\nusername=oauth2\npassword=%s\npassword_expiry_utc=%d\n", p.Access, p.Expiry.Unix()))
	if n := mem.Calls() - before; n != 0 {
		t.Errorf("the store of what get printed made %d keychain calls, want 0", n)
	}
	for _, in := range []string{
		"protocol=https\nhost=gitlab.example.com\nusername=oauth2\npassword=" + p.Access + "\noauth_refresh_token=another-helpers-refresh-token\n",
		"protocol=https\nhost=gitlab.example.com\nusername=oauth2\npassword=an-old-access-token\n",
		"protocol=https\nhost=gitlab.example.com\npath=group/app.git\nusername=oauth2\npassword=an-old-access-token\n",
	} {
		run(t, h, "store", in)
	}
	rec, sec, err := h.Store.Lookup(context.Background(), "https", "gitlab.example.com", store.AccountName("https", "gitlab.example.com", "", "oauth2"))
	if err != nil || rec == nil || rec.OAuth == nil || sec.Password != p.Access || sec.OAuthRefreshToken != p.Refresh {
		t.Fatalf("after Git's stores the account holds %+v: want the pair as logged in", rec)
	}
	recs, _ := h.Store.List()
	if len(recs) != 1 {
		t.Errorf("%d records, want the one OAuth credential", len(recs))
	}
	if got := run(t, h, "get", "protocol=https\nhost=gitlab.example.com\npath=group/app.git\n"); !strings.Contains(got, "password="+p.Access+"\n") {
		t.Errorf("get with a path = %q, want the OAuth access token", got)
	}
}

// TestEraseKeepsAnOAuthCredential: Git erases after its server refused the
// access token; the refresh token is kept, and an access token GitLab no
// longer accepts is refreshed by the next get.
func TestEraseKeepsAnOAuthCredential(t *testing.T) {
	h, gl, p := oauthHelper(t)
	gl.RevokeOAuthToken(p.ID) // the access token (and its refresh token)
	run(t, h, "erase", "protocol=https\nhost=gitlab.example.com\nusername=oauth2\npassword="+p.Access+"\n")
	recs, _ := h.Store.List()
	if len(recs) != 1 || recs[0].OAuth == nil {
		t.Fatalf("after erase the index holds %+v, want the OAuth credential", recs)
	}
	if !recs[0].Expired(time.Now()) {
		t.Errorf("the refused access token is not due for a refresh")
	}
	var warnings []string
	h.Lifecycle.Warn = func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }
	if got := run(t, h, "get", "protocol=https\nhost=gitlab.example.com\n"); got != "" {
		t.Errorf("get = %q, want nothing: the refresh token was revoked too", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "login gitlab.example.com --username oauth2 --oauth") {
		t.Errorf("warnings %q, want one saying to log in again with --oauth", warnings)
	}
}
