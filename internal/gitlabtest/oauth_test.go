package gitlabtest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// oauthPost posts form to path and returns the status and the decoded JSON.
func oauthPost(t *testing.T, srv *gitlabtest.Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// noRedirects is a browser that stops at the first redirect, to read it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize plays the browser at GET /oauth/authorize and returns where
// GitLab sends it.
func authorize(t *testing.T, srv *gitlabtest.Server, q url.Values) *url.URL {
	t.Helper()
	resp, err := noRedirects.Get(srv.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: HTTP %d, want a redirect", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestOAuthCodeFlowWithPKCE(t *testing.T) {
	srv, _ := newServer(t)
	id := srv.RegisterOAuthApp(gitlabtest.OAuthApp{})
	srv.SetOAuthConsent("alice", true)
	verifier := strings.Repeat("v", 50)
	redirect := "http://127.0.0.1:54321/callback" // any port of the registered loopback URI
	loc := authorize(t, srv, url.Values{"client_id": {id}, "redirect_uri": {redirect}, "response_type": {"code"},
		"state": {"xyz"}, "scope": {"read_repository write_repository"}, "code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}})
	if loc.Host != "127.0.0.1:54321" || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect to %s, want the loopback URI with a code and the state", loc.Redacted())
	}
	code := loc.Query().Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {id}, "redirect_uri": {redirect}}

	form.Set("code_verifier", "wrong"+verifier)
	if st, body := oauthPost(t, srv, "/oauth/token", form); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("a wrong code_verifier: %d %v, want 400 invalid_grant", st, body["error"])
	}
	form.Set("code_verifier", verifier)
	st, body := oauthPost(t, srv, "/oauth/token", form)
	if st != 200 || body["access_token"] == nil || body["refresh_token"] == nil || body["expires_in"] != float64(7200) {
		t.Fatalf("token: %d %v, want a pair that lives 7200 s", st, body["error"])
	}
	if st, body := oauthPost(t, srv, "/oauth/token", form); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("the code used twice: %d %v, want invalid_grant", st, body["error"])
	}
	got, ok := srv.OAuthTokenByValue(body["access_token"].(string))
	if !ok || got.Username != "alice" || strings.Join(got.Scopes, " ") != "read_repository write_repository" {
		t.Errorf("issued token %+v", got)
	}
}

func TestOAuthAuthorizeRefusals(t *testing.T) {
	srv, _ := newServer(t)
	id := srv.RegisterOAuthApp(gitlabtest.OAuthApp{})
	q := url.Values{"client_id": {id}, "redirect_uri": {"http://127.0.0.1:1/callback"}, "response_type": {"code"}, "state": {"s"}}
	if loc := authorize(t, srv, q); loc.Path != "/users/sign_in" {
		t.Errorf("nobody signed in: redirect to %s, want the sign-in page", loc.Path)
	}
	srv.SetOAuthConsent("alice", false)
	if loc := authorize(t, srv, q); loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s" {
		t.Errorf("denied: redirect to %s, want error=access_denied with the state", loc.Redacted())
	}
	srv.SetOAuthConsent("alice", true)
	for name, bad := range map[string]url.Values{
		"unknown client":    {"client_id": {"nope"}, "redirect_uri": {"http://127.0.0.1:1/callback"}, "response_type": {"code"}},
		"another redirect":  {"client_id": {id}, "redirect_uri": {"http://127.0.0.1:1/other"}, "response_type": {"code"}},
		"non-loopback host": {"client_id": {id}, "redirect_uri": {"http://example.com/callback"}, "response_type": {"code"}},
	} {
		resp, err := noRedirects.Get(srv.URL + "/oauth/authorize?" + bad.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound {
			t.Errorf("%s: redirected to %s, want an error page", name, resp.Header.Get("Location"))
		}
	}
	if st, body := oauthPost(t, srv, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"unknown"}}); st != 401 || body["error"] != "invalid_client" {
		t.Errorf("token request of an unknown client: %d %v, want 401 invalid_client", st, body["error"])
	}
	conf := srv.RegisterOAuthApp(gitlabtest.OAuthApp{Confidential: true})
	if st, body := oauthPost(t, srv, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {conf}}); st != 401 || body["error"] != "invalid_client" {
		t.Errorf("a confidential application without its secret: %d %v, want 401 invalid_client", st, body["error"])
	}
}

// TestOAuthRefreshIsSingleUse: the old pair is revoked by the refresh that
// replaces it, a spent refresh token gets invalid_grant, and the new pair
// is unaffected by it.
func TestOAuthRefreshIsSingleUse(t *testing.T) {
	srv, _ := newServer(t)
	id := srv.RegisterOAuthApp(gitlabtest.OAuthApp{})
	p := srv.CreateOAuthToken(id, "alice", nil)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p.Refresh}, "client_id": {id}}
	st, body := oauthPost(t, srv, "/oauth/token", refresh)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, body["error"])
	}
	if st, body := oauthPost(t, srv, "/oauth/token", refresh); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("the spent refresh token: %d %v, want invalid_grant", st, body["error"])
	}
	old := srv.OAuthTokens()[0]
	if !old.Revoked || old.RefreshRequests != 2 || old.Redeemed != 1 {
		t.Errorf("old row %+v, want revoked, 2 requests, redeemed once", old)
	}
	next, _ := srv.OAuthTokenByValue(body["access_token"].(string))
	if next.Revoked || next.RefreshedFrom != p.ID {
		t.Errorf("new row %+v, want live and refreshed from %d", next, p.ID)
	}
	other := srv.RegisterOAuthApp(gitlabtest.OAuthApp{})
	q := srv.CreateOAuthToken(id, "alice", nil)
	if st, body := oauthPost(t, srv, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {q.Refresh}, "client_id": {other}}); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("another application's refresh token: %d %v, want invalid_grant", st, body["error"])
	}
	if st, body := oauthPost(t, srv, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {q.Refresh}, "client_id": {"unknown"}}); st != 401 || body["error"] != "invalid_client" {
		t.Errorf("an unknown client: %d %v, want 401 invalid_client", st, body["error"])
	}
	if n := srv.Calls(gitlabtest.EndpointOAuthRefresh); n != 4 {
		t.Errorf("%d refresh calls counted, want 4", n)
	}
}

func TestOAuthTokenInfoAndRevoke(t *testing.T) {
	srv, c := newServer(t)
	id := srv.RegisterOAuthApp(gitlabtest.OAuthApp{})
	p := srv.CreateOAuthToken(id, "alice", nil)
	info := func(tok string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/oauth/token/info", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if st, body := info(p.Access); st != 200 || body["expires_in"] != float64(7200) || body["resource_owner_id"] == nil {
		t.Errorf("info: %d %v", st, body)
	}
	c.Set(start.Add(2 * time.Hour))
	if st, body := info(p.Access); st != 400 || body["error"] != "invalid_request" {
		t.Errorf("info of an expired token: %d %v, want 400 invalid_request", st, body)
	}
	c.Set(start)
	if st, _ := oauthPost(t, srv, "/oauth/revoke", url.Values{"token": {p.Access}}); st != 403 {
		t.Errorf("revoke without client_id: %d, want 403", st)
	}
	if st, _ := oauthPost(t, srv, "/oauth/revoke", url.Values{"token": {p.Access}, "client_id": {id}}); st != 200 {
		t.Errorf("revoke: %d, want 200", st)
	}
	if st, _ := info(p.Access); st != 400 {
		t.Errorf("info of a revoked token: %d, want 400", st)
	}
	if st, body := oauthPost(t, srv, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p.Refresh}, "client_id": {id}}); st != 400 || body["error"] != "invalid_grant" {
		t.Errorf("refresh after the access token was revoked: %d %v, want invalid_grant", st, body["error"])
	}
	if st, _ := oauthPost(t, srv, "/oauth/revoke", url.Values{"token": {"unknown"}, "client_id": {id}}); st != 200 {
		t.Errorf("revoke of an unknown token: %d, want 200 (RFC 7009)", st)
	}
}

func TestOAuthDeviceFlow(t *testing.T) {
	srv, c := newServer(t)
	id := srv.RegisterOAuthApp(gitlabtest.OAuthApp{})
	srv.SetOAuthConsent("alice", true)
	if st, body := oauthPost(t, srv, "/oauth/authorize_device", url.Values{"client_id": {"unknown"}}); st != 401 || body["error"] != "invalid_client" {
		t.Errorf("unknown client: %d %v", st, body["error"])
	}
	st, da := oauthPost(t, srv, "/oauth/authorize_device", url.Values{"client_id": {id}, "scope": {"read_repository"}})
	if st != 200 || da["interval"] != float64(5) || da["expires_in"] != float64(300) {
		t.Fatalf("device authorization: %d %v", st, da)
	}
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da["device_code"].(string)}, "client_id": {id}}
	errorOf := func() any { _, body := oauthPost(t, srv, "/oauth/token", poll); return body["error"] }
	if e := errorOf(); e != "authorization_pending" {
		t.Errorf("first poll: %v, want authorization_pending", e)
	}
	if e := errorOf(); e != "slow_down" {
		t.Errorf("a poll within the interval: %v, want slow_down", e)
	}
	c.Set(start.Add(6 * time.Second))
	resp, err := http.Get(da["verification_uri_complete"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, tok := oauthPost(t, srv, "/oauth/token", poll)
	if tok["access_token"] == nil || tok["scope"] != "read_repository" {
		t.Fatalf("after the user confirmed: %v", tok["error"])
	}

	_, da = oauthPost(t, srv, "/oauth/authorize_device", url.Values{"client_id": {id}})
	poll.Set("device_code", da["device_code"].(string))
	c.Set(start.Add(6*time.Second + 300*time.Second))
	if e := errorOf(); e != "expired_token" {
		t.Errorf("after 300 s: %v, want expired_token", e)
	}

	srv.SetOAuthConsent("alice", false)
	_, da = oauthPost(t, srv, "/oauth/authorize_device", url.Values{"client_id": {id}})
	poll.Set("device_code", da["device_code"].(string))
	resp, _ = http.Get(da["verification_uri_complete"].(string))
	resp.Body.Close()
	if e := errorOf(); e != "access_denied" {
		t.Errorf("declined: %v, want access_denied", e)
	}
}

// TestGitWithOAuthToken: Git over HTTP takes an access token as the
// password while it is accessible.
func TestGitWithOAuthToken(t *testing.T) {
	srv, c := newServer(t)
	repo := srv.CreateRepo("group/app")
	id := srv.RegisterOAuthApp(gitlabtest.OAuthApp{})
	p := srv.CreateOAuthToken(id, "alice", nil)
	g := newGitClient(t)
	g.setToken(p.Access)
	dir := t.TempDir()
	if out, err := g.run(dir, "clone", "--quiet", repo.URL, filepath.Join(dir, "app")); err != nil {
		t.Fatalf("clone with an access token: %v\n%s", err, out)
	}
	c.Set(start.Add(2 * time.Hour))
	before := srv.Calls(gitlabtest.EndpointGitAuthFail)
	if out, err := g.run(dir, "clone", "--quiet", repo.URL, filepath.Join(dir, "again")); err == nil {
		t.Fatalf("clone with an expired access token worked:\n%s", out)
	}
	if srv.Calls(gitlabtest.EndpointGitAuthFail) == before {
		t.Errorf("an expired access token was not counted as a failed login")
	}
}
