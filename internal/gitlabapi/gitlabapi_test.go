package gitlabapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

func today() time.Time {
	y, m, d := time.Now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestSelfAndRotate(t *testing.T) {
	gl := gitlabtest.New(t)
	tok, id := gl.CreateToken(gitlabtest.TokenSpec{Name: "laptop", Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
	c, err := New(gl.APIURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	info, err := c.Self(ctx, tok)
	if err != nil || info.ID != int64(id) || info.Name != "laptop" || info.ExpiresAt != gitlabtest.DateOf(today().AddDate(0, 0, 9)).String() {
		t.Fatalf("Self = %+v, %v", info, err)
	}
	nt, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 90))
	if err != nil || nt.Token == "" || nt.ID == int64(id) || nt.ExpiresAt != gitlabtest.DateOf(today().AddDate(0, 0, 90)).String() {
		t.Fatalf("Rotate = %+v, %v", nt, err)
	}
	_, err = c.Self(ctx, tok)
	var ae *Error
	if !errors.As(err, &ae) || !errors.Is(err, ErrUnauthorized) || !ae.Revoked() {
		t.Errorf("Self of the rotated token: %v; want ErrUnauthorized saying revoked", err)
	}
	if strings.Contains(err.Error(), tok) {
		t.Error("error message holds the token")
	}
}

// TestSelf401s: only GitLab's invalid_token answer (expired, revoked) is
// ErrUnauthorized; a bare 401, GitLab's answer for a token it does not know
// and a proxy's alike, is ErrUnrecognized; a 401 GitLab would not give is
// not about the token.
func TestSelf401s(t *testing.T) {
	ctx := context.Background()
	gl := gitlabtest.New(t)
	c, _ := New(gl.APIURL(), "")
	revoked, revokedID := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
	gl.Revoke(revokedID)
	expired, _ := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: gitlabtest.DateOf(today())})
	deleted, deletedID := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
	gl.Delete(deletedID)
	live, _ := gl.CreateToken(gitlabtest.TokenSpec{Username: "dora", ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "<html><body>401 Unauthorized: sign in to the gateway</body></html>")
	}))
	defer page.Close()
	pc, _ := New(page.URL+"/api/v4", "")

	tests := []struct {
		name  string
		c     *Client
		token string
		setup func(on bool)
		want  error
		check func(*Error) bool
	}{
		{"revoked", c, revoked, nil, ErrUnauthorized, (*Error).Revoked},
		{"expired", c, expired, nil, ErrUnauthorized, (*Error).Expired},
		{"deleted", c, deleted, nil, ErrUnrecognized, (*Error).Unrecognized},
		{"no token", c, "", nil, ErrUnrecognized, (*Error).Unrecognized},
		{"live behind a proxy's 401", c, live, gl.ProxyUnauthorized, ErrUnrecognized, (*Error).Unrecognized},
		{"DPoP required", c, live, func(on bool) { gl.RequireDPoP("dora", on) }, ErrRefused, func(e *Error) bool { return e.Code == "dpop_error" && !e.Unrecognized() }},
		{"a gateway's page", pc, live, nil, ErrRefused, func(e *Error) bool { return !e.Unrecognized() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(true)
				defer tt.setup(false)
			}
			_, err := tt.c.Self(ctx, tt.token)
			var ae *Error
			if !errors.As(err, &ae) || !errors.Is(err, tt.want) || !tt.check(ae) {
				t.Fatalf("Self: %v, want %v", err, tt.want)
			}
			for _, other := range []error{ErrUnauthorized, ErrUnrecognized, ErrRefused} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("Self: %v is also %v", err, other)
				}
			}
		})
	}
	// GET /user tells the same bare 401 by Unrecognized (its kind is
	// ErrRefused: only .../self is about the token for certain).
	_, err := c.CurrentUser(ctx, deleted)
	if ae := (*Error)(nil); !errors.As(err, &ae) || !ae.Unrecognized() {
		t.Errorf("CurrentUser of a deleted token: %v, want a bare 401", err)
	}
}

func TestErrorKinds(t *testing.T) {
	gl := gitlabtest.New(t)
	c, _ := New(gl.APIURL(), "")
	ctx := context.Background()
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_repository"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
	if _, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30)); !errors.Is(err, ErrForbidden) {
		t.Errorf("rotate without scope: %v, want ErrForbidden", err)
	}
	if _, err := c.CurrentUser(ctx, tok); !errors.Is(err, ErrForbidden) {
		t.Errorf("/user without scope: %v, want ErrForbidden", err)
	}
	if _, err := c.Self(ctx, "glpat-unknownunknown00"); !errors.Is(err, ErrUnrecognized) {
		t.Errorf("unknown token: %v, want ErrUnrecognized", err)
	}
	api, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
	gl.Garbage(gitlabtest.EndpointSelf, true)
	if _, err := c.Self(ctx, api); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("garbage: %v, want ErrBadAnswer", err)
	}
	gl.Garbage(gitlabtest.EndpointSelf, false)
	gl.DropAfterRotateCommit(true)
	if _, err := c.Rotate(ctx, api, KindPersonal, 0, today().AddDate(0, 0, 30)); !errors.Is(err, ErrLostAnswer) {
		t.Errorf("dropped rotate answer: %v, want ErrLostAnswer", err)
	}
	gl.DropAfterRotateCommit(false)
	gl.Delay(gitlabtest.EndpointSelf, 2*time.Second)
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := c.Self(sctx, api); !errors.Is(err, ErrUnreachable) {
		t.Errorf("slow answer past the deadline: %v, want ErrUnreachable", err)
	}
	dead, _ := New("http://127.0.0.1:1/api/v4", "")
	if _, err := dead.Rotate(ctx, api, KindPersonal, 0, today()); !errors.Is(err, ErrUnreachable) || errors.Is(err, ErrLostAnswer) {
		t.Errorf("connection refused on rotate: %v, want ErrUnreachable (nothing was sent)", err)
	}
}

// TestRedirectsAreNotFollowed: a token is only ever sent to the configured
// URL; a redirect (to another host or not) is reported, not followed.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != "" || r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		w.Write([]byte(`{"id":1}`))
	}))
	defer elsewhere.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirector.Close()
	c, _ := New(redirector.URL+"/api/v4", "")
	_, err := c.Self(context.Background(), "glpat-redirectredirect00")
	if !errors.Is(err, ErrBadAnswer) || !strings.Contains(err.Error(), "not followed") {
		t.Errorf("Self through a redirect: %v", err)
	}
	if leaked.Load() {
		t.Error("the token was sent to the redirect target")
	}
}

func TestTLSVerified(t *testing.T) {
	gl := gitlabtest.NewTLS(t)
	tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
	c, _ := New(gl.APIURL(), "")
	if _, err := c.Self(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("self-signed server without ca_file: %v, want a certificate error", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	gl.WriteCA(ca)
	c, err := New(gl.APIURL(), ca)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Self(context.Background(), tok); err != nil {
		t.Errorf("with ca_file: %v", err)
	}
	if _, err := New(gl.APIURL(), filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("a missing ca_file is accepted")
	}
	if _, err := New("ftp://gitlab.example.com/api/v4", ""); err == nil {
		t.Error("an ftp API URL is accepted")
	}
}

// TestRotateIsSentExactlyOnce: whatever the rotate request meets, it reaches
// GitLab once. client-go retries 429 and 5xx answers and some transport
// errors by default; a second rotate with the (now revoked) old token would
// revoke the whole token family.
func TestRotateIsSentExactlyOnce(t *testing.T) {
	tests := []struct {
		name     string
		fault    func(gl *gitlabtest.Server)
		timeout  time.Duration
		wantKind error
		wantSent bool
	}{
		{"429", func(gl *gitlabtest.Server) { gl.FailRotate(http.StatusTooManyRequests) }, 0, ErrServer, true},
		{"500", func(gl *gitlabtest.Server) { gl.FailRotate(http.StatusInternalServerError) }, 0, ErrServer, true},
		{"502", func(gl *gitlabtest.Server) { gl.FailRotate(http.StatusBadGateway) }, 0, ErrServer, true},
		{"503", func(gl *gitlabtest.Server) { gl.FailRotate(http.StatusServiceUnavailable) }, 0, ErrServer, true},
		{"reset after the request was written", func(gl *gitlabtest.Server) { gl.ResetRotate(true) }, 0, ErrLostAnswer, true},
		{"slow answer past the deadline", func(gl *gitlabtest.Server) { gl.Delay(gitlabtest.EndpointRotate, time.Minute) }, 200 * time.Millisecond, ErrLostAnswer, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gl := gitlabtest.New(t)
			tok, id := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
			c, _ := New(gl.APIURL(), "")
			tt.fault(gl)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			_, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30))
			var ae *Error
			if !errors.As(err, &ae) || !errors.Is(err, tt.wantKind) || ae.Sent != tt.wantSent {
				t.Errorf("Rotate: %v (sent %v); want %v, sent %v", err, ae != nil && ae.Sent, tt.wantKind, tt.wantSent)
			}
			if n := gl.Calls(gitlabtest.EndpointRotate); n != 1 {
				t.Errorf("rotate requests: %d, want exactly 1", n)
			}
			if !gl.Token(id).Active {
				t.Errorf("the old token is %v; the fault committed nothing", gl.Token(id))
			}
		})
	}
}

// TestGetIsNotRetried: client-go retries GET on 5xx and on most transport
// errors by default; this client never does (a doctor or status that
// hangs on retries helps nobody, and GitLab's abuse bans count requests).
func TestGetIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"message":"500 Internal Server Error"}`))
	}))
	defer srv.Close()
	c, _ := New(srv.URL+"/api/v4", "")
	if _, err := c.Self(context.Background(), "glpat-aaaaaaaaaaaaaaaaaaaa"); !errors.Is(err, ErrServer) {
		t.Errorf("Self: %v, want ErrServer", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("requests: %d, want 1", n)
	}
}

// TestNeverSentIsNotLost: a rotate that never reached a connection is
// "never sent" (GitLab cannot have acted on it), not "sent, no answer".
func TestNeverSentIsNotLost(t *testing.T) {
	c, _ := New("http://127.0.0.1:1/api/v4", "")
	_, err := c.Rotate(context.Background(), "glpat-aaaaaaaaaaaaaaaaaaaa", KindPersonal, 0, today())
	var ae *Error
	if !errors.As(err, &ae) || !errors.Is(err, ErrUnreachable) || ae.Sent {
		t.Errorf("connection refused: %v, want ErrUnreachable, not sent", err)
	}
}

// TestCutAnswerStillYieldsToken: GitLab rotated and its 200 answer broke
// off after the new token: the token is the only copy and is returned.
func TestCutAnswerStillYieldsToken(t *testing.T) {
	gl := gitlabtest.New(t)
	tok, id := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 9))})
	c, _ := New(gl.APIURL(), "")
	gl.CutRotateAnswer(true)
	nt, err := c.Rotate(context.Background(), tok, KindPersonal, 0, today().AddDate(0, 0, 30))
	if err != nil || nt.Token == "" {
		t.Fatalf("Rotate with a cut answer: %v, %v; want the new token", nt != nil, err)
	}
	st, ok := gl.TokenByValue(nt.Token)
	if !ok || !st.Active || st.RotatedFrom != id {
		t.Errorf("returned token is %v, want the active successor of %d", st, id)
	}
}

// TestAnswersAsGitLabGivesThem: each error GitLab gives maps to what it
// means for the token.
func TestAnswersAsGitLabGivesThem(t *testing.T) {
	ctx := context.Background()
	in := func(days int) gitlabtest.Date { return gitlabtest.DateOf(today().AddDate(0, 0, days)) }
	t.Run("dpop", func(t *testing.T) {
		gl := gitlabtest.New(t)
		tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Username: "dora", ExpiresAt: in(9)})
		gl.RequireDPoP("dora", true)
		c, _ := New(gl.APIURL(), "")
		_, err := c.Self(ctx, tok)
		var ae *Error
		if !errors.As(err, &ae) || !errors.Is(err, ErrRefused) || errors.Is(err, ErrUnauthorized) || ae.Code != "dpop_error" {
			t.Errorf("Self with DPoP required: %v; want ErrRefused dpop_error, not ErrUnauthorized", err)
		}
		if _, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30)); !errors.Is(err, ErrRefused) {
			t.Errorf("Rotate with DPoP required: %v; want ErrRefused", err)
		}
	})
	t.Run("scopes and other 403s", func(t *testing.T) {
		gl := gitlabtest.New(t)
		tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"read_repository"}, ExpiresAt: in(9)})
		c, _ := New(gl.APIURL(), "")
		_, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30))
		var ae *Error
		if !errors.As(err, &ae) || !ae.InsufficientScope() {
			t.Errorf("rotate without scope: %v; want insufficient_scope", err)
		}
		api, _ := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: in(9)})
		gl.FailRotate(http.StatusForbidden)
		_, err = c.Rotate(ctx, api, KindPersonal, 0, today().AddDate(0, 0, 30))
		if !errors.As(err, &ae) || !errors.Is(err, ErrForbidden) || ae.InsufficientScope() || ae.Reason != "403 Forbidden" {
			t.Errorf("a 403 that is not about scopes: %v; want ErrForbidden with GitLab's message", err)
		}
	})
	t.Run("lifetime cap", func(t *testing.T) {
		gl := gitlabtest.New(t)
		tok, _ := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: in(9)})
		gl.SetMaxLifetime(30)
		c, _ := New(gl.APIURL(), "")
		_, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 90))
		var ae *Error
		d, ok := time.Time{}, false
		if errors.As(err, &ae) {
			d, ok = ae.MaxExpiry()
		}
		if !ok || !d.Equal(today().AddDate(0, 0, 30)) {
			t.Errorf("rotate past the cap: %v; MaxExpiry = %v, %v; want %v", err, d, ok, today().AddDate(0, 0, 30))
		}
		// Past GitLab's 365 days and the policy, in German: two
		// messages, the policy's date second, and the earliest binds.
		gl.SetLocale(gl.Tokens()[0].Username, "de")
		_, err = c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 400))
		d, ok = time.Time{}, false
		if errors.As(err, &ae) {
			d, ok = ae.MaxExpiry()
		}
		if !ok || !d.Equal(today().AddDate(0, 0, 30)) || len(ae.Dates()) != 2 {
			t.Errorf("rotate past two caps: %v; MaxExpiry = %v, %v, of %v; want %v, of 2", err, d, ok, ae.Dates(), today().AddDate(0, 0, 30))
		}
	})
	t.Run("missing endpoints", func(t *testing.T) {
		// Before 16.0 the path meets the API's catch-all route: a
		// missing endpoint.
		gl := gitlabtest.New(t)
		gl.SetVersion("15.11.2")
		tok, _ := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: in(9)})
		c, _ := New(gl.APIURL(), "")
		_, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30))
		var ae *Error
		if !errors.As(err, &ae) || !ae.MissingEndpoint() {
			t.Errorf("GitLab 15.11 personal rotate: %v; want a missing endpoint", err)
		}
		if got, err := c.Version(ctx, tok); got != "15.11.2" {
			t.Errorf("Version = %q, %v; want 15.11.2", got, err)
		}
		// 16.0-16.9 answer from a rotate-by-id route: a refusal that is
		// not about the token (401), or for an administrator a 404 of a
		// missing record, not of a missing route. Only the version tells
		// them from other refusals.
		gl = gitlabtest.New(t)
		gl.SetVersion("16.9.0")
		tok, id := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: in(9)})
		c, _ = New(gl.APIURL(), "")
		_, err = c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30))
		if !errors.Is(err, ErrRefused) || errors.Is(err, ErrUnauthorized) {
			t.Errorf("GitLab 16.9 personal rotate: %v; want ErrRefused, not ErrUnauthorized", err)
		}
		gl.SetAdmin(gl.Token(id).Username, true)
		_, err = c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30))
		if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.MissingEndpoint() || ae.Reason != "404 Not found" {
			t.Errorf("GitLab 16.9 personal rotate by an administrator: %v; want a 404 that is not a missing endpoint", err)
		}
		gl = gitlabtest.New(t)
		gl.SetVersion("17.8.1")
		repo := gl.CreateRepo("acme/widgets")
		tok, _ = gl.CreateToken(gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: repo.ID, ExpiresAt: in(9)})
		c, _ = New(gl.APIURL(), "")
		_, err = c.Rotate(ctx, tok, KindProject, int64(repo.ID), today().AddDate(0, 0, 30))
		if !errors.Is(err, ErrRefused) || errors.Is(err, ErrUnauthorized) {
			t.Errorf("GitLab 17.8 project rotate: %v; want ErrRefused, not ErrUnauthorized", err)
		}
		if _, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30)); err != nil {
			t.Errorf("the bot's token on the personal endpoint of 17.8: %v", err)
		}
	})
	t.Run("rate limits", func(t *testing.T) {
		gl := gitlabtest.New(t)
		tok, _ := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: in(9)})
		c, _ := New(gl.APIURL(), "")
		gl.ThrottleRotate(gitlabtest.RackAttack, 90*time.Second)
		now := time.Now()
		_, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30))
		var ae *Error
		if !errors.As(err, &ae) || !ae.RateLimited() || ae.Reason != "Retry later" {
			t.Fatalf("Rack::Attack: %v; want a 429 saying Retry later", err)
		}
		if at := ae.RetryAt(now); at.Before(now.Add(89*time.Second)) || at.After(now.Add(92*time.Second)) {
			t.Errorf("Rack::Attack: RetryAt = %s, want about %s", at, now.Add(90*time.Second))
		}
		gl.ThrottleRotate(gitlabtest.ApplicationLimiter, time.Hour)
		_, err = c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30))
		if !errors.As(err, &ae) || !ae.RateLimited() || ae.Reason != "This endpoint has been requested too many times. Try again later." || !ae.RetryAt(now).IsZero() {
			t.Errorf("application limiter: %v (RetryAt %s); want a 429 with GitLab's message and no time", err, ae.RetryAt(now))
		}
	})
	t.Run("resource mismatch", func(t *testing.T) {
		gl := gitlabtest.New(t)
		repo := gl.CreateRepo("acme/widgets")
		other := gl.CreateRepo("acme/gadgets")
		tok, _ := gl.CreateToken(gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: repo.ID, ExpiresAt: in(9)})
		c, _ := New(gl.APIURL(), "")
		_, err := c.Rotate(ctx, tok, KindProject, int64(other.ID), today().AddDate(0, 0, 30))
		if !errors.Is(err, ErrRefused) || errors.Is(err, ErrUnauthorized) {
			t.Errorf("rotate at another project: %v; want ErrRefused, not ErrUnauthorized", err)
		}
	})
	t.Run("dead tokens", func(t *testing.T) {
		gl := gitlabtest.New(t)
		c, _ := New(gl.APIURL(), "")
		if _, err := c.Self(ctx, "glpat-unknownunknown00"); !errors.Is(err, ErrUnrecognized) || errors.Is(err, ErrUnauthorized) {
			t.Errorf("Self of an unknown token: %v; want ErrUnrecognized, not ErrUnauthorized", err)
		}
		tok, id := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: in(9)})
		gl.Revoke(id)
		_, err := c.Rotate(ctx, tok, KindPersonal, 0, today().AddDate(0, 0, 30))
		var ae *Error
		if !errors.As(err, &ae) || !ae.InvalidToken() || !ae.Revoked() {
			t.Errorf("rotate with a revoked token: %v; want invalid_token, revoked", err)
		}
	})
	t.Run("wrong API URL", func(t *testing.T) {
		gl := gitlabtest.New(t)
		tok, _ := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: in(9)})
		c, _ := New(gl.URL+"/gitlab/api/v4", "")
		_, err := c.Self(ctx, tok)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Self at a wrong API URL: %v; want ErrNotFound", err)
		}
	})
	t.Run("last used IPs", func(t *testing.T) {
		gl := gitlabtest.New(t)
		tok, _ := gl.CreateToken(gitlabtest.TokenSpec{ExpiresAt: in(9)})
		c, _ := New(gl.APIURL(), "")
		c.Self(ctx, tok)
		info, err := c.Self(ctx, tok)
		if err != nil || len(info.LastUsedIPs) != 1 || info.LastUsedIPs[0] != "127.0.0.1" || info.LastUsedAt == nil {
			t.Errorf("Self = %+v, %v; want last used from 127.0.0.1", info, err)
		}
	})
	t.Run("server time", func(t *testing.T) {
		gl := gitlabtest.New(t)
		c, _ := New(gl.APIURL(), "")
		st, err := c.ServerTime(ctx)
		if err != nil || time.Since(st).Abs() > time.Minute {
			t.Errorf("ServerTime = %v, %v", st, err)
		}
	})
}
