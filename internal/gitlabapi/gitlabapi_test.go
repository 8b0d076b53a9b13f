package gitlabapi

import (
	"context"
	"errors"
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
	if _, err := c.Self(ctx, "glpat-unknownunknown00"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unknown token: %v", err)
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
