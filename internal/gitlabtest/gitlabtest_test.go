package gitlabtest_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/gltoken"
)

// start is noon UTC on the test's "today", 2026-03-01.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var today = gitlabtest.DateOf(start)

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func newServer(t *testing.T) (*gitlabtest.Server, *clock) {
	t.Helper()
	c := newClock(start)
	return gitlabtest.New(t, gitlabtest.WithClock(c.Now)), c
}

// client is GitLab's official Go client for tok. Retries are off: GitLab
// must not see a rotate twice, and the fault tests count requests.
func client(t *testing.T, srv *gitlabtest.Server, tok string) *gitlab.Client {
	t.Helper()
	c, err := gitlab.NewClient(tok,
		gitlab.WithBaseURL(srv.APIURL()),
		gitlab.WithHTTPClient(srv.Client()),
		gitlab.WithoutRetries(),
	)
	if err != nil {
		t.Fatalf("gitlab.NewClient: %v", err)
	}
	return c
}

// answer is a raw HTTP answer.
type answer struct {
	status int
	header http.Header
	body   string
}

// do sends a raw API request; auth sets the token on it.
func do(t *testing.T, srv *gitlabtest.Server, method, path string, auth func(*http.Request), body io.Reader, contentType string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.APIURL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func privateToken(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("PRIVATE-TOKEN", tok) }
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v", err)
	}
	return m
}

// statusOf returns the HTTP status of a client-go error, 0 if it had none.
func statusOf(err error) int {
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	if errors.Is(err, gitlab.ErrNotFound) {
		return http.StatusNotFound
	}
	return 0
}

func bodyOf(err error) string {
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) {
		return string(er.Body)
	}
	return ""
}

func isoDate(d gitlabtest.Date) *gitlab.ISOTime {
	return gitlab.Ptr(gitlab.ISOTime(d.Midnight()))
}

func TestSelf(t *testing.T) {
	srv, _ := newServer(t)
	exp := today.AddDays(90)
	tok, id := srv.CreateToken(gitlabtest.TokenSpec{
		Username: "alice", Name: "laptop", Scopes: []string{"read_repository", "write_repository"}, ExpiresAt: exp,
	})
	user := srv.Token(id).UserID

	tests := []struct {
		name string
		auth func(*http.Request)
	}{
		{"PRIVATE-TOKEN header", privateToken(tok)},
		{"Authorization Bearer", bearer(tok)},
		{"private_token parameter", func(r *http.Request) {
			q := r.URL.Query()
			q.Set("private_token", tok)
			r.URL.RawQuery = q.Encode()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := do(t, srv, "GET", "/personal_access_tokens/self", tt.auth, nil, "")
			if got.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", got.status, got.body)
			}
			m := decode(t, got.body)
			want := map[string]any{
				"id": float64(id), "name": "laptop", "revoked": false, "active": true,
				"description": nil, "user_id": float64(user), "expires_at": exp.String(),
				"created_at":    "2026-03-01T12:00:00.000Z",
				"last_used_at":  "2026-03-01T12:00:00.000Z",
				"scopes":        []any{"read_repository", "write_repository"},
				"last_used_ips": []any{"127.0.0.1"},
			}
			for k, w := range want {
				if g, ok := m[k]; !ok || !jsonEqual(g, w) {
					t.Errorf("%s = %v, want %v", k, g, w)
				}
			}
			if _, ok := m["token"]; ok {
				t.Errorf("answer holds the token value")
			}
		})
	}

	t.Run("client-go", func(t *testing.T) {
		pat, _, err := client(t, srv, tok).PersonalAccessTokens.GetSinglePersonalAccessToken()
		if err != nil {
			t.Fatalf("GetSinglePersonalAccessToken: %v", err)
		}
		if pat.ID != int64(id) || pat.Name != "laptop" || !pat.Active || pat.Revoked || pat.UserID != int64(user) {
			t.Errorf("got %+v, want id %d, name laptop, active, user %d", pat, id, user)
		}
		if pat.ExpiresAt == nil || pat.ExpiresAt.String() != exp.String() {
			t.Errorf("ExpiresAt = %v, want %s", pat.ExpiresAt, exp)
		}
	})

	t.Run("no expiry answers null", func(t *testing.T) {
		tok, _ := srv.CreateToken(gitlabtest.TokenSpec{Name: "forever"})
		m := decode(t, do(t, srv, "GET", "/personal_access_tokens/self", privateToken(tok), nil, "").body)
		if v, ok := m["expires_at"]; !ok || v != nil {
			t.Errorf("expires_at = %v (present %v), want null", v, ok)
		}
	})
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestRotateWithClient(t *testing.T) {
	tests := []struct {
		name       string
		expiresAt  *gitlab.ISOTime
		wantExpiry gitlabtest.Date // zero: rotation refused
		wantStatus int
		wantBody   string
	}{
		{name: "default expiry is one week", wantExpiry: today.AddDays(7)},
		{name: "explicit date", expiresAt: isoDate(today.AddDays(90)), wantExpiry: today.AddDays(90)},
		{name: "tomorrow", expiresAt: isoDate(today.AddDays(1)), wantExpiry: today.AddDays(1)},
		{name: "365 days is the limit", expiresAt: isoDate(today.AddDays(365)), wantExpiry: today.AddDays(365)},
		{
			name: "366 days is refused", expiresAt: isoDate(today.AddDays(366)),
			wantStatus: 400, wantBody: `{"message":"400 Bad request - Expiration date must be before 2027-03-01"}`,
		},
		{
			name: "today is refused", expiresAt: isoDate(today),
			wantStatus: 400, wantBody: `{"message":"400 Bad request - Expiration date must be in the future"}`,
		},
		{
			name: "past date is refused", expiresAt: isoDate(today.AddDays(-3)),
			wantStatus: 400, wantBody: `{"message":"400 Bad request - Expiration date must be in the future"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t)
			oldTok, oldID := srv.CreateToken(gitlabtest.TokenSpec{
				Name: "ci", Description: "rotated by tests", Scopes: []string{"self_rotate", "write_repository"}, ExpiresAt: today.AddDays(10),
			})
			before := srv.Token(oldID)

			pat, _, err := client(t, srv, oldTok).PersonalAccessTokens.RotatePersonalAccessTokenSelf(
				&gitlab.RotatePersonalAccessTokenOptions{ExpiresAt: tt.expiresAt})

			if tt.wantStatus != 0 {
				if got := statusOf(err); got != tt.wantStatus || bodyOf(err) != tt.wantBody {
					t.Fatalf("rotate: status %d body %s (err %v), want %d %s", got, bodyOf(err), err, tt.wantStatus, tt.wantBody)
				}
				if got := srv.Tokens(); len(got) != 1 || !got[0].Active {
					t.Errorf("a refused rotation changed tokens: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("rotate: %v", err)
			}
			if pat.ID == int64(oldID) || pat.Token == "" || pat.Token == oldTok {
				t.Fatalf("rotate answered id %d (old %d) and a token equal to the old one: %v", pat.ID, oldID, pat.Token == oldTok)
			}
			if p, ok := gltoken.Routable(pat.Token); !ok || p != "glpat-" {
				t.Errorf("new token is %d characters, prefix %q; want a routable glpat- token", len(pat.Token), p)
			}
			if got := pat.ExpiresAt.String(); got != tt.wantExpiry.String() {
				t.Errorf("new expires_at = %s, want %s", got, tt.wantExpiry)
			}
			if pat.Name != before.Name || pat.Description != before.Description || !slices.Equal(pat.Scopes, before.Scopes) || pat.UserID != int64(before.UserID) {
				t.Errorf("new token %+v differs in name, description, scopes or user from %v", pat, before)
			}
			if !pat.Active || pat.Revoked || pat.LastUsedAt != nil {
				t.Errorf("new token active %v revoked %v last_used_at %v, want active, not revoked, never used", pat.Active, pat.Revoked, pat.LastUsedAt)
			}

			old := srv.Token(oldID)
			if !old.Revoked || old.RotatedTo != int(pat.ID) {
				t.Errorf("old token after rotation: %v (rotated to %d), want revoked and rotated to %d", old, old.RotatedTo, pat.ID)
			}
			neu, ok := srv.TokenByValue(pat.Token)
			if !ok || neu.ID != int(pat.ID) || neu.RotatedFrom != oldID || neu.Family != oldID || !neu.Active {
				t.Errorf("new token state %v (ok %v, from %d, family %d), want active, rotated from %d", neu, ok, neu.RotatedFrom, neu.Family, oldID)
			}
			if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(oldTok), nil, ""); got.status != http.StatusUnauthorized {
				t.Errorf("old token on self: status %d, want 401", got.status)
			}
			if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(pat.Token), nil, ""); got.status != http.StatusOK {
				t.Errorf("new token on self: status %d, want 200", got.status)
			}
		})
	}
}

func TestRotateParameterForms(t *testing.T) {
	want := today.AddDays(30)
	tests := []struct {
		name        string
		query       string
		body        string
		contentType string
		wantStatus  int
		wantExpiry  gitlabtest.Date
		wantBody    string
	}{
		{name: "JSON body", body: `{"expires_at":"` + want.String() + `"}`, contentType: "application/json", wantStatus: 200, wantExpiry: want},
		{name: "JSON null is the default", body: `{"expires_at":null}`, contentType: "application/json", wantStatus: 200, wantExpiry: today.AddDays(7)},
		{name: "form body", body: "expires_at=" + want.String(), contentType: "application/x-www-form-urlencoded", wantStatus: 200, wantExpiry: want},
		{name: "query parameter", query: "?expires_at=" + want.String(), wantStatus: 200, wantExpiry: want},
		{name: "no body", wantStatus: 200, wantExpiry: today.AddDays(7)},
		{name: "malformed date", query: "?expires_at=2026-13-01", wantStatus: 400, wantBody: `{"error":"expires_at is invalid"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t)
			tok, _ := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(5)})
			got := do(t, srv, "POST", "/personal_access_tokens/self/rotate"+tt.query, privateToken(tok), strings.NewReader(tt.body), tt.contentType)
			if got.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", got.status, tt.wantStatus, got.body)
			}
			if tt.wantStatus != 200 {
				if got.body != tt.wantBody {
					t.Errorf("body = %s, want %s", got.body, tt.wantBody)
				}
				if n := len(srv.Tokens()); n != 1 {
					t.Errorf("%d tokens after a refused rotation, want 1", n)
				}
				return
			}
			if m := decode(t, got.body); m["expires_at"] != tt.wantExpiry.String() {
				t.Errorf("expires_at = %v, want %s", m["expires_at"], tt.wantExpiry)
			}
		})
	}
}

func TestRotateNeedsScope(t *testing.T) {
	tests := []struct {
		name       string
		scopes     []string
		wantStatus int
	}{
		{"api", []string{"api"}, 200},
		{"self_rotate", []string{"self_rotate"}, 200},
		{"read_api and write_repository", []string{"read_api", "write_repository"}, 403},
		{"read_user", []string{"read_user"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t)
			tok, id := srv.CreateToken(gitlabtest.TokenSpec{Scopes: tt.scopes, ExpiresAt: today.AddDays(5)})
			_, _, err := client(t, srv, tok).PersonalAccessTokens.RotatePersonalAccessTokenSelf(nil)
			if tt.wantStatus == 200 {
				if err != nil {
					t.Fatalf("rotate: %v, want success", err)
				}
				return
			}
			const want = `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api self_rotate"}`
			if got := statusOf(err); got != tt.wantStatus || bodyOf(err) != want {
				t.Errorf("rotate: status %d body %s, want %d %s", got, bodyOf(err), tt.wantStatus, want)
			}
			if st := srv.Token(id); !st.Active || len(srv.Tokens()) != 1 {
				t.Errorf("a refused rotation changed tokens: %v", srv.Tokens())
			}
		})
	}
}

// chain makes a token and rotates it twice: A -> B -> C.
func chain(t *testing.T, srv *gitlabtest.Server) (toks [3]string, ids [3]int) {
	t.Helper()
	toks[0], ids[0] = srv.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"self_rotate"}, ExpiresAt: today.AddDays(3)})
	for i := 1; i < 3; i++ {
		pat, _, err := client(t, srv, toks[i-1]).PersonalAccessTokens.RotatePersonalAccessTokenSelf(nil)
		if err != nil {
			t.Fatalf("rotate %d: %v", i, err)
		}
		toks[i], ids[i] = pat.Token, int(pat.ID)
	}
	return toks, ids
}

func TestReuseDetection(t *testing.T) {
	const revokedBody = `{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}`
	tests := []struct {
		name        string
		reuse       int    // index in the chain of the token used again
		method      string // with path
		path        string
		wantRevoked [3]bool
	}{
		{"rotate with the first token revokes the family", 0, "POST", "/personal_access_tokens/self/rotate", [3]bool{true, true, true}},
		{"rotate with the middle token revokes its successor", 1, "POST", "/personal_access_tokens/self/rotate", [3]bool{true, true, true}},
		{"self with a revoked token revokes nothing more", 0, "GET", "/personal_access_tokens/self", [3]bool{true, true, false}},
		{"revoke with a revoked token revokes nothing more", 0, "DELETE", "/personal_access_tokens/self", [3]bool{true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t)
			toks, ids := chain(t, srv)
			got := do(t, srv, tt.method, tt.path, privateToken(toks[tt.reuse]), nil, "")
			if got.status != http.StatusUnauthorized || got.body != revokedBody {
				t.Errorf("reuse: status %d body %s, want 401 %s", got.status, got.body, revokedBody)
			}
			for i, id := range ids {
				if st := srv.Token(id); st.Revoked != tt.wantRevoked[i] {
					t.Errorf("token %c: revoked = %v, want %v", 'A'+i, st.Revoked, tt.wantRevoked[i])
				}
			}
			if n := len(srv.Tokens()); n != 3 {
				t.Errorf("%d tokens, want 3: reuse must not create one", n)
			}
		})
	}

	t.Run("a token revoked by hand has no family to revoke", func(t *testing.T) {
		srv, _ := newServer(t)
		tok, id := srv.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: today.AddDays(3)})
		_, otherID := srv.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: today.AddDays(3)})
		srv.Revoke(id)
		if got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(tok), nil, ""); got.status != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", got.status)
		}
		if !srv.Token(otherID).Active {
			t.Errorf("another token of the same user was revoked")
		}
	})

	t.Run("an expired token is refused as expired, without reuse detection", func(t *testing.T) {
		srv, clk := newServer(t)
		toks, ids := chain(t, srv)
		// A expires now; B (revoked) and C were given a week by rotation.
		clk.Set(today.AddDays(3).Midnight())
		got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(toks[0]), nil, "")
		if got.status != http.StatusUnauthorized || !strings.Contains(got.body, "Token is expired") {
			t.Errorf("status %d body %s, want 401 expired", got.status, got.body)
		}
		if st := srv.Token(ids[2]); !st.Active {
			t.Errorf("newest token %v, want still active", st)
		}
	})
}

func TestExpiryBoundary(t *testing.T) {
	exp := today.AddDays(9) // 2026-03-10
	boundary := exp.Midnight()
	est := time.FixedZone("EST", -5*60*60)
	tests := []struct {
		name       string
		now        time.Time
		wantStatus int
	}{
		{"one nanosecond before midnight UTC", boundary.Add(-time.Nanosecond), 200},
		{"exactly midnight UTC", boundary, 401},
		{"midnight UTC read in another zone", time.Date(2026, 3, 9, 19, 0, 0, 0, est), 401},
		{"the evening before, in another zone", time.Date(2026, 3, 9, 18, 59, 59, 0, est), 200},
		{"a day later", boundary.Add(24 * time.Hour), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clk := newServer(t)
			tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: exp})
			clk.Set(tt.now)
			for _, ep := range []string{"/personal_access_tokens/self", "/user"} {
				got := do(t, srv, "GET", ep, privateToken(tok), nil, "")
				if got.status != tt.wantStatus {
					t.Errorf("GET %s at %s: status %d, want %d", ep, tt.now.UTC().Format(time.RFC3339Nano), got.status, tt.wantStatus)
				}
			}
			if st := srv.Token(id); st.Expired != (tt.wantStatus == 401) || st.Active != (tt.wantStatus == 200) {
				t.Errorf("state %v: expired %v active %v", st, st.Expired, st.Active)
			}
		})
	}
}

func TestUnauthorizedAnswers(t *testing.T) {
	srv, clk := newServer(t)
	expired, _ := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(1)})
	revoked, revokedID := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(30)})
	srv.Revoke(revokedID)
	deleted, deletedID := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(30)})
	srv.Delete(deletedID)
	live, _ := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(30)})
	clk.Set(today.AddDays(1).Midnight())

	tests := []struct {
		name     string
		auth     func(*http.Request)
		proxy    bool // ProxyUnauthorized on
		wantBody string
		wantAuth string
	}{
		{"no token", nil, false, `{"message":"401 Unauthorized"}`, ""},
		{"unknown token", privateToken("glpat-AAAAAAAAAAAAAAAAAAAA"), false, `{"message":"401 Unauthorized"}`, ""},
		{"deleted token", privateToken(deleted), false, `{"message":"401 Unauthorized"}`, ""},
		{"live token behind a proxy that answers 401", privateToken(live), true, `{"message":"401 Unauthorized"}`, ""},
		{
			"expired token", privateToken(expired), false,
			`{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}`,
			`Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token is expired. You can either do re-authorization or token refresh."`,
		},
		{
			"revoked token", bearer(revoked), false,
			`{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}`,
			`Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="Token was revoked. You have to re-authorize from the user."`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ProxyUnauthorized(tt.proxy)
			defer srv.ProxyUnauthorized(false)
			for _, ep := range []string{"/personal_access_tokens/self", "/user"} {
				got := do(t, srv, "GET", ep, tt.auth, nil, "")
				if got.status != http.StatusUnauthorized || got.body != tt.wantBody {
					t.Errorf("GET %s: %d %s, want 401 %s", ep, got.status, got.body, tt.wantBody)
				}
				if ct := got.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("GET %s: Content-Type %q, want application/json", ep, ct)
				}
				if h := got.header.Get("WWW-Authenticate"); h != tt.wantAuth {
					t.Errorf("GET %s: WWW-Authenticate %q, want %q", ep, h, tt.wantAuth)
				}
			}
		})
	}
}

// TestProxyUnauthorizedIsForAWhile: the proxy's 401 ends when it is
// switched off, and the token it answered for is as live as before; a
// deleted token stays unknown.
func TestProxyUnauthorizedIsForAWhile(t *testing.T) {
	srv, _ := newServer(t)
	live, _ := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(30)})
	deleted, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(30)})
	srv.Delete(id)
	srv.ProxyUnauthorized(true)
	if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(live), nil, ""); got.status != http.StatusUnauthorized {
		t.Errorf("self behind the proxy: %d, want 401", got.status)
	}
	srv.ProxyUnauthorized(false)
	if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(live), nil, ""); got.status != http.StatusOK {
		t.Errorf("self once the proxy is gone: %d %s, want 200", got.status, got.body)
	}
	if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(deleted), nil, ""); got.status != http.StatusUnauthorized {
		t.Errorf("self of the deleted token: %d, want 401", got.status)
	}
	if _, ok := srv.TokenByValue(deleted); ok {
		t.Errorf("TokenByValue finds the deleted token")
	}
	if n := srv.Calls(gitlabtest.EndpointSelf); n != 3 {
		t.Errorf("Calls(self) = %d, want 3 (the proxy's answer counts as an arrival)", n)
	}
}

func TestCurrentUser(t *testing.T) {
	tests := []struct {
		name       string
		scopes     []string
		wantStatus int
	}{
		{"api", []string{"api"}, 200},
		{"read_api", []string{"read_api"}, 200},
		{"read_user", []string{"read_user"}, 200},
		{"least privilege: write_repository and self_rotate", []string{"write_repository", "self_rotate"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t)
			tok, id := srv.CreateToken(gitlabtest.TokenSpec{Username: "bob", Scopes: tt.scopes, ExpiresAt: today.AddDays(5)})
			u, _, err := client(t, srv, tok).Users.CurrentUser()
			if tt.wantStatus == 200 {
				if err != nil {
					t.Fatalf("CurrentUser: %v", err)
				}
				if u.Username != "bob" || u.ID != int64(srv.Token(id).UserID) || u.Bot || u.State != "active" {
					t.Errorf("CurrentUser = %+v, want bob (id %d), not a bot, active", u, srv.Token(id).UserID)
				}
				return
			}
			const want = `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"read_user api read_api"}`
			if got := statusOf(err); got != tt.wantStatus || bodyOf(err) != want {
				t.Errorf("CurrentUser: status %d body %s, want %d %s", got, bodyOf(err), tt.wantStatus, want)
			}
		})
	}
}

func TestResourceTokens(t *testing.T) {
	type rotateFunc func(c *gitlab.Client, repo gitlabtest.Repo) (id int64, tok string, accessLevel gitlab.AccessLevelValue, err error)
	projectRotate := func(pid func(gitlabtest.Repo) any) rotateFunc {
		return func(c *gitlab.Client, repo gitlabtest.Repo) (int64, string, gitlab.AccessLevelValue, error) {
			pat, _, err := c.ProjectAccessTokens.RotateProjectAccessTokenSelf(pid(repo),
				&gitlab.RotateProjectAccessTokenOptions{ExpiresAt: isoDate(today.AddDays(30))})
			if err != nil {
				return 0, "", 0, err
			}
			return pat.ID, pat.Token, pat.AccessLevel, nil
		}
	}
	groupRotate := func(gid func(gitlabtest.Repo) any) rotateFunc {
		return func(c *gitlab.Client, repo gitlabtest.Repo) (int64, string, gitlab.AccessLevelValue, error) {
			pat, _, err := c.GroupAccessTokens.RotateGroupAccessTokenSelf(gid(repo), nil)
			if err != nil {
				return 0, "", 0, err
			}
			return pat.ID, pat.Token, pat.AccessLevel, nil
		}
	}
	personalRotate := func(c *gitlab.Client, _ gitlabtest.Repo) (int64, string, gitlab.AccessLevelValue, error) {
		pat, _, err := c.PersonalAccessTokens.RotatePersonalAccessTokenSelf(nil)
		if err != nil {
			return 0, "", 0, err
		}
		return pat.ID, pat.Token, 0, nil
	}
	projectID := func(r gitlabtest.Repo) any { return int(r.ID) }
	groupID := func(r gitlabtest.Repo) any { return int(r.GroupID) }

	tests := []struct {
		name       string
		kind       gitlabtest.Kind
		owner      func(gitlabtest.Repo) int
		rotate     rotateFunc
		wantStatus int
		wantLevel  gitlab.AccessLevelValue
	}{
		{"project token by project id", gitlabtest.ProjectToken, func(r gitlabtest.Repo) int { return r.ID }, projectRotate(projectID), 200, 40},
		{"project token by project path", gitlabtest.ProjectToken, func(r gitlabtest.Repo) int { return r.ID }, projectRotate(func(r gitlabtest.Repo) any { return r.Path }), 200, 40},
		{"group token by group id", gitlabtest.GroupToken, func(r gitlabtest.Repo) int { return r.GroupID }, groupRotate(groupID), 200, 40},
		{"group token by group path", gitlabtest.GroupToken, func(r gitlabtest.Repo) int { return r.GroupID }, groupRotate(func(gitlabtest.Repo) any { return "acme" }), 200, 40},
		{"project token on the personal endpoint", gitlabtest.ProjectToken, func(r gitlabtest.Repo) int { return r.ID }, personalRotate, 200, 0},
		{"project token for another project", gitlabtest.ProjectToken, func(r gitlabtest.Repo) int { return r.ID }, projectRotate(func(gitlabtest.Repo) any { return 999 }), 404, 0},
		// lib/api/resource_access_tokens/self_rotation.rb: find_source
		// finds the group, find_token does not find the token in it, and
		// the endpoint answers unauthorized!.
		{"project token on the group endpoint", gitlabtest.ProjectToken, func(r gitlabtest.Repo) int { return r.ID }, groupRotate(groupID), 401, 0},
		{"personal token on the project endpoint", gitlabtest.Personal, func(gitlabtest.Repo) int { return 0 }, projectRotate(projectID), 405, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t)
			repo := srv.CreateRepo("acme/widgets")
			tok, oldID := srv.CreateToken(gitlabtest.TokenSpec{
				Name: "deploy", Kind: tt.kind, OwnerID: tt.owner(repo), Scopes: []string{"self_rotate", "read_repository"}, ExpiresAt: today.AddDays(3),
			})
			old := srv.Token(oldID)
			if tt.kind != gitlabtest.Personal && !old.Bot {
				t.Fatalf("%s token's user %q is not a bot", tt.kind, old.Username)
			}
			self, _, err := client(t, srv, tok).PersonalAccessTokens.GetSinglePersonalAccessToken()
			if err != nil || self.UserID != int64(old.UserID) {
				t.Fatalf("self: %v, user %v; want user %d", err, self, old.UserID)
			}

			id, newTok, level, err := tt.rotate(client(t, srv, tok), repo)
			if tt.wantStatus != 200 {
				if got := statusOf(err); got != tt.wantStatus {
					t.Fatalf("rotate: status %d (%v), want %d", got, err, tt.wantStatus)
				}
				if !srv.Token(oldID).Active || len(srv.Tokens()) != 1 {
					t.Errorf("a refused rotation changed tokens: %v", srv.Tokens())
				}
				return
			}
			if err != nil {
				t.Fatalf("rotate: %v", err)
			}
			neu, ok := srv.TokenByValue(newTok)
			if !ok || neu.ID != int(id) || neu.Kind != tt.kind || neu.OwnerID != old.OwnerID || neu.UserID != old.UserID {
				t.Errorf("new token %v, want kind %s, owner %d, user %d", neu, tt.kind, old.OwnerID, old.UserID)
			}
			if level != tt.wantLevel {
				t.Errorf("access_level = %d, want %d", level, tt.wantLevel)
			}
			if !srv.Token(oldID).Revoked {
				t.Errorf("old token not revoked")
			}
		})
	}

	t.Run("bot user", func(t *testing.T) {
		srv, _ := newServer(t)
		tok, _ := srv.CreateToken(gitlabtest.TokenSpec{Kind: gitlabtest.GroupToken, OwnerID: 7, Scopes: []string{"read_api"}, ExpiresAt: today.AddDays(3)})
		u, _, err := client(t, srv, tok).Users.CurrentUser()
		if err != nil || !u.Bot || !strings.HasPrefix(u.Username, "group_7_bot_") {
			t.Errorf("CurrentUser = %+v, %v; want bot group_7_bot_…", u, err)
		}
	})
}

func TestTokenEndpoints(t *testing.T) {
	srv, _ := newServer(t)
	tok, id := srv.CreateToken(gitlabtest.TokenSpec{Username: "alice", Scopes: []string{"api"}, ExpiresAt: today.AddDays(30)})
	_, sibling := srv.CreateToken(gitlabtest.TokenSpec{Username: "alice", Name: "sibling", ExpiresAt: today.AddDays(30)})
	_, stranger := srv.CreateToken(gitlabtest.TokenSpec{Username: "mallory", ExpiresAt: today.AddDays(30)})
	narrow, _ := srv.CreateToken(gitlabtest.TokenSpec{Username: "alice", Scopes: []string{"write_repository"}, ExpiresAt: today.AddDays(30)})
	c := client(t, srv, tok)

	t.Run("get own token by id", func(t *testing.T) {
		pat, _, err := c.PersonalAccessTokens.GetSinglePersonalAccessTokenByID(int64(sibling))
		if err != nil || pat.Name != "sibling" {
			t.Errorf("got %v, %v; want the sibling token", pat, err)
		}
	})
	t.Run("get another user's token by id", func(t *testing.T) {
		_, _, err := c.PersonalAccessTokens.GetSinglePersonalAccessTokenByID(int64(stranger))
		if got := statusOf(err); got != 401 {
			t.Errorf("status %d (%v), want 401", got, err)
		}
	})
	t.Run("get by id needs api or read_api", func(t *testing.T) {
		_, _, err := client(t, srv, narrow).PersonalAccessTokens.GetSinglePersonalAccessTokenByID(int64(id))
		if got := statusOf(err); got != 403 {
			t.Errorf("status %d (%v), want 403", got, err)
		}
	})
	t.Run("revoke another user's token", func(t *testing.T) {
		_, err := c.PersonalAccessTokens.RevokePersonalAccessTokenByID(int64(stranger))
		if got := statusOf(err); got != 400 || srv.Token(stranger).Revoked {
			t.Errorf("status %d (%v), revoked %v; want 400 and not revoked", got, err, srv.Token(stranger).Revoked)
		}
	})
	t.Run("revoke a missing token", func(t *testing.T) {
		_, err := c.PersonalAccessTokens.RevokePersonalAccessTokenByID(9999)
		if got := statusOf(err); got != 404 {
			t.Errorf("status %d (%v), want 404", got, err)
		}
	})
	t.Run("revoke own token by id", func(t *testing.T) {
		resp, err := c.PersonalAccessTokens.RevokePersonalAccessTokenByID(int64(sibling))
		if err != nil || resp.StatusCode != 204 || !srv.Token(sibling).Revoked {
			t.Errorf("revoke: %v, revoked %v; want 204 and revoked", err, srv.Token(sibling).Revoked)
		}
	})
	t.Run("revoke self", func(t *testing.T) {
		resp, err := client(t, srv, narrow).PersonalAccessTokens.RevokePersonalAccessTokenSelf()
		if err != nil || resp.StatusCode != 204 {
			t.Fatalf("revoke self: %v", err)
		}
		if st, _ := srv.TokenByValue(narrow); !st.Revoked {
			t.Errorf("token not revoked: %v", st)
		}
		if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(narrow), nil, ""); got.status != 401 {
			t.Errorf("self after revoke: %d, want 401", got.status)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		if got := do(t, srv, "GET", "/projects", privateToken(tok), nil, ""); got.status != 404 {
			t.Errorf("status %d, want 404", got.status)
		}
	})
}

func TestFaults(t *testing.T) {
	t.Run("FailRotate answers and commits nothing", func(t *testing.T) {
		srv, _ := newServer(t)
		tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(3)})
		for _, status := range []int{500, 502, 503, 429} {
			srv.FailRotate(status)
			_, _, err := client(t, srv, tok).PersonalAccessTokens.RotatePersonalAccessTokenSelf(nil)
			if got := statusOf(err); got != status {
				t.Errorf("FailRotate(%d): status %d (%v)", status, got, err)
			}
		}
		if !srv.Token(id).Active || len(srv.Tokens()) != 1 {
			t.Errorf("FailRotate changed tokens: %v", srv.Tokens())
		}
		if got := srv.Calls(gitlabtest.EndpointRotate); got != 4 {
			t.Errorf("Calls(rotate) = %d, want 4", got)
		}
		srv.FailRotate(0)
		if _, _, err := client(t, srv, tok).PersonalAccessTokens.RotatePersonalAccessTokenSelf(nil); err != nil {
			t.Errorf("rotate after FailRotate(0): %v", err)
		}
	})

	t.Run("DropAfterRotateCommit commits and hangs up", func(t *testing.T) {
		srv, _ := newServer(t)
		tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(3)})
		srv.DropAfterRotateCommit(true)
		_, resp, err := client(t, srv, tok).PersonalAccessTokens.RotatePersonalAccessTokenSelf(nil)
		if err == nil || resp != nil {
			t.Fatalf("rotate: answer %v, err %v; want a transport error and no answer", resp, err)
		}
		old := srv.Token(id)
		if !old.Revoked || old.RotatedTo == 0 || !srv.Token(old.RotatedTo).Active {
			t.Fatalf("after the drop: old %v, successor %d; want old revoked and an active successor", old, old.RotatedTo)
		}
		// A client that retries now reuses a revoked token: GitLab revokes
		// the successor too.
		srv.DropAfterRotateCommit(false)
		if got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(tok), nil, ""); got.status != 401 {
			t.Errorf("retry: status %d, want 401", got.status)
		}
		if st := srv.Token(old.RotatedTo); !st.Revoked {
			t.Errorf("successor after a retried rotate: %v, want revoked", st)
		}
	})

	t.Run("Delay", func(t *testing.T) {
		srv, _ := newServer(t)
		tok, _ := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(3)})
		srv.Delay(gitlabtest.EndpointSelf, 300*time.Millisecond)

		impatient := srv.Client()
		impatient.Timeout = 50 * time.Millisecond
		req, _ := http.NewRequest("GET", srv.APIURL()+"/personal_access_tokens/self", nil)
		req.Header.Set("PRIVATE-TOKEN", tok)
		if resp, err := impatient.Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("a 50ms client got an answer from a 300ms endpoint")
		}

		srv.Delay(gitlabtest.EndpointSelf, 100*time.Millisecond)
		begin := time.Now()
		if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(tok), nil, ""); got.status != 200 {
			t.Errorf("delayed self: status %d", got.status)
		}
		if d := time.Since(begin); d < 100*time.Millisecond {
			t.Errorf("delayed self answered after %v, want at least 100ms", d)
		}
		if got := srv.Calls(gitlabtest.EndpointSelf); got != 2 {
			t.Errorf("Calls(self) = %d, want 2", got)
		}
		srv.Delay(gitlabtest.EndpointSelf, 0)
	})

	t.Run("SlowSelfAnswer checks the token first", func(t *testing.T) {
		srv, _ := newServer(t)
		tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(3)})
		srv.SlowSelfAnswer(time.Second, time.Second)
		status := make(chan int, 1)
		go func() {
			status <- do(t, srv, "GET", "/personal_access_tokens/self", privateToken(tok), nil, "").status
		}()
		// Revoked while the answer is held: the answer is still the one
		// GitLab computed when the request arrived.
		for srv.Calls(gitlabtest.EndpointSelf) == 0 {
			time.Sleep(time.Millisecond)
		}
		srv.Revoke(id)
		if got := <-status; got != 200 {
			t.Errorf("self held back while the token was revoked: status %d, want 200", got)
		}
		srv.SlowSelfAnswer(0, 0)
		if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(tok), nil, ""); got.status != 401 {
			t.Errorf("self after the revocation: status %d, want 401", got.status)
		}
	})

	t.Run("Garbage", func(t *testing.T) {
		srv, _ := newServer(t)
		tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(3)})
		srv.Garbage(gitlabtest.EndpointSelf, true)
		srv.Garbage(gitlabtest.EndpointRotate, true)
		got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(tok), nil, "")
		if got.status != 200 || json.Valid([]byte(got.body)) || !strings.HasPrefix(got.header.Get("Content-Type"), "text/html") {
			t.Errorf("garbage self: %d %q %q, want 200 with HTML", got.status, got.header.Get("Content-Type"), got.body)
		}
		if _, _, err := client(t, srv, tok).PersonalAccessTokens.GetSinglePersonalAccessToken(); err == nil {
			t.Errorf("client-go decoded garbage without error")
		}
		if _, _, err := client(t, srv, tok).PersonalAccessTokens.RotatePersonalAccessTokenSelf(nil); err == nil {
			t.Errorf("client-go decoded a garbage rotate without error")
		}
		if !srv.Token(id).Active || len(srv.Tokens()) != 1 {
			t.Errorf("a garbage rotate committed: %v", srv.Tokens())
		}
		srv.Garbage(gitlabtest.EndpointSelf, false)
		if got := do(t, srv, "GET", "/personal_access_tokens/self", privateToken(tok), nil, ""); got.status != 200 || !json.Valid([]byte(got.body)) {
			t.Errorf("self after Garbage(false): %d %s", got.status, got.body)
		}
	})

	t.Run("unknown endpoint names panic", func(t *testing.T) {
		srv, _ := newServer(t)
		for _, f := range []func(){
			func() { srv.Delay("rotation", time.Second) },
			func() { srv.Garbage(gitlabtest.EndpointGitAuthFail, true) },
			func() { srv.Calls("selfie") },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("no panic")
					}
				}()
				f()
			}()
		}
	})
}

func TestTLS(t *testing.T) {
	srv := gitlabtest.NewTLS(t)
	tok, _ := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: gitlabtest.DateOf(time.Now()).AddDays(30)})
	if u, err := url.Parse(srv.URL); err != nil || u.Scheme != "https" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("URL = %s, want https://127.0.0.1:PORT", srv.URL)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	srv.WriteCA(caFile)
	if fi, err := os.Stat(caFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	pemBytes, _ := os.ReadFile(caFile)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("CA file holds no certificate")
	}

	tests := []struct {
		name    string
		roots   *x509.CertPool
		wantErr bool
	}{
		{"trusting the written CA", pool, false},
		{"trusting only the system roots", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tt.roots}}}
			defer hc.CloseIdleConnections()
			c, err := gitlab.NewClient(tok, gitlab.WithBaseURL(srv.APIURL()), gitlab.WithHTTPClient(hc), gitlab.WithoutRetries())
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.PersonalAccessTokens.GetSinglePersonalAccessToken()
			if (err != nil) != tt.wantErr {
				t.Errorf("self: err %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestConcurrentClients(t *testing.T) {
	srv, _ := newServer(t)
	shared, _ := srv.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_api"}, ExpiresAt: today.AddDays(30)})
	const rotators, rotations, readers = 24, 3, 24
	toks := make([]string, rotators)
	for i := range toks {
		toks[i], _ = srv.CreateToken(gitlabtest.TokenSpec{Username: "user" + string(rune('a'+i)), ExpiresAt: today.AddDays(5)})
	}

	var wg sync.WaitGroup
	errs := make(chan error, rotators*rotations+readers*5)
	for i := range rotators {
		wg.Go(func() {
			tok := toks[i]
			for range rotations {
				c, err := gitlab.NewClient(tok, gitlab.WithBaseURL(srv.APIURL()), gitlab.WithoutRetries())
				if err != nil {
					errs <- err
					return
				}
				pat, _, err := c.PersonalAccessTokens.RotatePersonalAccessTokenSelf(nil)
				if err != nil {
					errs <- err
					return
				}
				tok = pat.Token
			}
			toks[i] = tok
		})
	}
	for range readers {
		wg.Go(func() {
			c, err := gitlab.NewClient(shared, gitlab.WithBaseURL(srv.APIURL()), gitlab.WithoutRetries())
			if err != nil {
				errs <- err
				return
			}
			for range 5 {
				if _, _, err := c.PersonalAccessTokens.GetSinglePersonalAccessToken(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := srv.Calls(gitlabtest.EndpointRotate), rotators*rotations; got != want {
		t.Errorf("Calls(rotate) = %d, want %d", got, want)
	}
	if got, want := len(srv.Tokens()), 1+rotators*(rotations+1); got != want {
		t.Errorf("%d tokens, want %d", got, want)
	}
	for i, tok := range toks {
		if st, ok := srv.TokenByValue(tok); !ok || !st.Active {
			t.Errorf("rotator %d: final token %v, want active", i, st)
		}
	}
}

func TestTokenStateHoldsNoSecret(t *testing.T) {
	srv, _ := newServer(t)
	tok, id := srv.CreateToken(gitlabtest.TokenSpec{Name: "n", ExpiresAt: today.AddDays(3)})
	st := srv.Token(id)
	for _, s := range []string{st.String(), fmtState(st)} {
		if strings.Contains(s, tok[len("glpat-"):]) {
			t.Errorf("state text holds the token: %s", s)
		}
	}
	if want := "glpat-…" + tok[len(tok)-4:]; st.Fingerprint != want {
		t.Errorf("Fingerprint = %q, want %q", st.Fingerprint, want)
	}
}

func fmtState(st gitlabtest.TokenState) string {
	b, _ := json.Marshal(st)
	return string(b)
}
