package lifecycle

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// wantUnrecognizedSince checks the record's memory of the first bare 401.
func (w *world) wantUnrecognizedSince(want time.Time) {
	w.t.Helper()
	rec, _ := w.stored()
	if rec.Token == nil || !rec.Token.UnrecognizedSince.Equal(want) {
		w.t.Errorf("stored record %+v: want a token first unrecognized at %s", rec.Token, want)
	}
}

// wantDead checks the record's Dead.
func (w *world) wantDead(want store.Dead) {
	w.t.Helper()
	if rec, _ := w.stored(); rec.Token.Dead != want {
		w.t.Errorf("stored dead %q, want %q", rec.Token.Dead, want)
	}
}

// gitRefused does what Git's erase does for the account.
func (w *world) gitRefused() {
	w.t.Helper()
	m := w.manager()
	rec, sec, err := m.Store.Lookup(context.Background(), "https", host, w.account)
	if err != nil || rec == nil {
		w.t.Fatalf("lookup: %v", err)
	}
	m.GitRefused(context.Background(), rec, sec, "")
}

// TestTokenGitLabNoLongerKnowsIsDeadOnlyWhenThatLasts: a token GitLab has
// deleted (with its user) gets the same bare 401 as any token behind a
// proxy's 401. It is served while its expiry allows and never rotated; it
// is dead once GET .../self has answered so for an hour with no answer
// accepting it in between, and GET /user agrees.
func TestTokenGitLabNoLongerKnowsIsDeadOnlyWhenThatLasts(t *testing.T) {
	t.Parallel()
	w := newWorld(t, onKeychain(t))
	tok, id := w.createToken(10) // due
	w.login(tok, id)
	w.gl.Delete(id)

	// Checked at t0, +15, +30 and +45 minutes (the back-off after each).
	for i := range 4 {
		if got := w.mustServe(w.manager()); got != tok {
			t.Fatalf("check %d (at %s): served %q, want the stored token", i+1, w.clock.Now(), got)
		}
		w.wantCalls(i+1, 0)
		w.wantUnrecognizedSince(t0)
		w.wantDead("")
		w.clock.Advance(retryAfter) // the back-off after each failed check
	}
	if n := w.gl.Calls(gitlabtest.EndpointUser); n != 0 {
		t.Errorf("%d calls to GET /user within the hour, want 0", n)
	}
	// t0 + 60 minutes: the hour is over.
	if got := w.mustServe(w.manager()); got != "" {
		t.Fatalf("served %q an hour after the first 401, with GET /user agreeing; want nothing", got)
	}
	w.wantCalls(5, 0)
	if n := w.gl.Calls(gitlabtest.EndpointUser); n != 1 {
		t.Errorf("%d calls to GET /user, want 1", n)
	}
	w.wantDead(store.DeadRefused)
	warnings := w.allWarnings()
	w.wantWarnings(len(warnings)-1, []string{host + " (alice): GitLab no longer accepts the token", "git-credential-glpat login " + host})
	for _, msg := range warnings[:len(warnings)-1] {
		if !strings.Contains(msg, "could not rotate the token for "+host) {
			t.Errorf("warning %q before the hour is over: want it to say only that rotation failed", msg)
		}
	}
}

// TestBare401CountsFromTheLastAcceptance: the hour of bare 401s is counted
// from the first one after GitLab last accepted the token, to the nanosecond;
// an answer accepting it in between starts the count again. Checked
// through Git's erase, which asks GitLab every time.
func TestBare401CountsFromTheLastAcceptance(t *testing.T) {
	t.Parallel()
	w := newWorld(t, onKeychain(t))
	tok, id := w.createToken(60)
	w.login(tok, id)

	w.gl.ProxyUnauthorized(true)
	w.gitRefused()
	w.wantUnrecognizedSince(t0)
	w.wantWarnings(0, []string{"refused the token for " + host, "answered 401 without saying that it is revoked or expired", "not handed to Git again for 15 minutes"})

	// GitLab answers again: the token is live, and the count is over.
	w.clock.Advance(50 * time.Minute)
	w.gl.ProxyUnauthorized(false)
	w.gitRefused()
	w.wantUnrecognizedSince(time.Time{})

	// The proxy is back: the hour starts now.
	w.clock.Advance(20 * time.Minute)
	w.gl.ProxyUnauthorized(true)
	restart := w.clock.Now()
	w.gitRefused()
	w.wantUnrecognizedSince(restart)
	w.clock.Set(restart.Add(confirmUnrecognizedAfter - 1))
	w.gitRefused()
	w.wantDead("")
	if n := w.gl.Calls(gitlabtest.EndpointUser); n != 0 {
		t.Errorf("%d calls to GET /user before the hour is over, want 0", n)
	}

	// A 401 that lasts an hour at both endpoints is taken as GitLab's:
	// nothing in it tells a proxy's apart.
	w.clock.Set(restart.Add(confirmUnrecognizedAfter))
	w.gitRefused()
	w.wantDead(store.DeadRefused)
	if n := w.gl.Calls(gitlabtest.EndpointUser); n != 1 {
		t.Errorf("%d calls to GET /user, want 1", n)
	}
}

// TestUnverifiedPasswordGitLabDoesNotKnowStaysAPlainCredential: a password
// typed for a configured host while GitLab could not be reached is stored
// as an unverified token. GitLab answers it as any secret it does not know
// as a token, a bare 401: never a reason to call it dead. Once that has
// lasted an hour and GET /user agrees, it is what it is, a plain
// credential, served as before and never checked again.
func TestUnverifiedPasswordGitLabDoesNotKnowStaysAPlainCredential(t *testing.T) {
	t.Parallel()
	w := newWorld(t, onKeychain(t))
	const pw = "correct-horse-battery-staple"
	w.loginRecord(pw, &store.Token{Unverified: true, APIURL: w.gl.APIURL()})

	if got := w.mustServe(w.manager()); got != pw {
		t.Fatalf("first check: served %q, want the password", got)
	}
	w.wantUnrecognizedSince(t0)
	if rec, _ := w.stored(); !rec.Token.Unverified || rec.Token.Dead != "" {
		t.Errorf("after one 401: stored %+v, want still unverified, not dead", *rec.Token)
	}

	w.clock.Advance(confirmUnrecognizedAfter)
	if got := w.mustServe(w.manager()); got != pw {
		t.Fatalf("after an hour of 401s: served %q, want the password", got)
	}
	rec, secret := w.stored()
	if rec.Token != nil || secret != pw || rec.SecretSHA256 != "" {
		t.Errorf("stored token %+v, digest %q: want a plain credential with its password and no digest", rec.Token, rec.SecretSHA256)
	}
	w.wantCalls(2, 0)
	if n := w.gl.Calls(gitlabtest.EndpointUser); n != 1 {
		t.Errorf("%d calls to GET /user, want 1", n)
	}
	w.wantWarnings(0)
}
