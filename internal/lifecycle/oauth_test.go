package lifecycle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/oauth"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// oauthWorld is a world whose account holds an OAuth credential of an
// application registered on the fake.
type oauthWorld struct {
	*world
	clientID string
	userID   int64
}

// newOAuthWorld logs alice in with OAuth: the fake issues a pair (valid
// two hours from the clock) and the store holds it as login --oauth does.
func newOAuthWorld(t *testing.T, opts ...worldOption) *oauthWorld {
	t.Helper()
	w := newWorld(t, opts...)
	o := &oauthWorld{world: w, clientID: w.gl.RegisterOAuthApp(gitlabtest.OAuthApp{})}
	w.setSettings(func(s *Settings) { s.OAuthClientID = o.clientID })
	p := w.gl.CreateOAuthToken(o.clientID, "alice", nil)
	st, _ := w.gl.OAuthTokenByValue(p.Access)
	o.userID = int64(st.UserID)
	rec := &store.Record{Protocol: "https", Host: host, Username: "oauth2", ExpiryUTC: p.Expiry.Unix(),
		OAuth: &store.OAuth{APIURL: w.gl.APIURL(), ClientID: o.clientID, Scopes: st.Scopes, UserID: o.userID}}
	if err := w.newStore().Put(context.Background(), rec, &store.Secret{Password: p.Access, OAuthRefreshToken: p.Refresh, UserID: o.userID}); err != nil {
		t.Fatalf("store the pair: %v", err)
	}
	w.account = rec.Account
	w.remember(p.Access)
	w.remember(p.Refresh)
	return o
}

// serveOAuth does what get does for the account: look it up, then
// ServeOAuth it; the access token Git would get ("" for none).
func (o *oauthWorld) serveOAuth(m *Manager) (string, error) {
	rec, sec, err := m.Store.Lookup(context.Background(), "https", host, o.account)
	if err != nil || rec == nil {
		return "", fmt.Errorf("lookup: %v, %v", rec, err)
	}
	got, err := m.ServeOAuth(context.Background(), rec, sec)
	if err != nil || got.Refused != NotRefused {
		return "", err
	}
	gotSec := got.Secret
	o.remember(gotSec.Password)
	o.remember(gotSec.OAuthRefreshToken)
	return gotSec.Password, nil
}

// accessID is the fake's id of access token tok, 0 when it is not one.
func (o *oauthWorld) accessID(tok string) int {
	st, ok := o.gl.OAuthTokenByValue(tok)
	if !ok {
		return 0
	}
	return st.ID
}

// wantRefreshes checks how many refresh requests reached the fake, and that
// no refresh token got two pairs.
func (o *oauthWorld) wantRefreshes(n int) {
	o.t.Helper()
	if got := o.gl.Calls(gitlabtest.EndpointOAuthRefresh); got != n {
		o.t.Errorf("%d refresh requests, want %d", got, n)
	}
	for _, st := range o.gl.OAuthTokens() {
		if st.Redeemed > 1 {
			o.t.Errorf("token %d was refreshed %d times", st.ID, st.Redeemed)
		}
	}
}

func (o *oauthWorld) oauthJournal() string {
	return filepath.Join(o.stateDir, "oauth", store.EscapeName(o.account)+".pending")
}

func (o *oauthWorld) oauthRecovery() string {
	return filepath.Join(o.stateDir, "recovery", store.EscapeName(o.account)+".oauth")
}

func TestOAuthServedAsStoredWhileValid(t *testing.T) {
	o := newOAuthWorld(t)
	_, stored := o.stored()
	o.clock.Advance(2*time.Hour - oauthRefreshBefore - time.Second)
	got, err := o.serveOAuth(o.manager())
	if err != nil || got != stored {
		t.Fatalf("served %d (%v), want the stored access token", o.accessID(got), err)
	}
	if n := o.gl.Calls(gitlabtest.EndpointOAuthToken) + o.gl.Calls(gitlabtest.EndpointOAuthInfo); n != 0 {
		t.Errorf("%d calls to GitLab for a valid access token, want none", n)
	}
}

// TestOAuthRefreshedPairExpiresByTheOneClock: a refreshed access token's
// expiry is reckoned by the store's clock, which the lifecycle compares it
// with (here a clock months away from the machine's): it expires two hours
// after the refresh, and the next call serves it without a second refresh.
func TestOAuthRefreshedPairExpiresByTheOneClock(t *testing.T) {
	o := newOAuthWorld(t)
	o.clock.Advance(2*time.Hour + time.Second)
	refreshed := o.clock.Now()
	if _, err := o.serveOAuth(o.manager()); err != nil {
		t.Fatal(err)
	}
	rec, stored := o.stored()
	if got, want := time.Unix(rec.ExpiryUTC, 0).UTC(), refreshed.Add(2*time.Hour); got.Sub(want).Abs() > time.Minute {
		t.Errorf("the new access token expires %s, want %s (two hours after the refresh, by the one clock)", got, want)
	}
	o.clock.Advance(time.Hour)
	if got, err := o.serveOAuth(o.manager()); err != nil || got != stored {
		t.Errorf("an hour later: served %d (%v), want the refreshed access token %d", o.accessID(got), err, o.accessID(stored))
	}
	o.wantRefreshes(1)
}

// TestOAuthConcurrentRefreshOnce: just after the access token expired,
// twenty callers in separate managers (as separate processes) refresh once
// and all serve the one new access token.
func TestOAuthConcurrentRefreshOnce(t *testing.T) {
	o := newOAuthWorld(t, onKeychain(t))
	o.clock.Advance(2*time.Hour + time.Second)
	var ms []*Manager
	for range callers {
		ms = append(ms, o.manager())
	}
	got := make([]string, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	done := make(chan int)
	for i := range callers {
		go func() {
			<-start
			got[i], errs[i] = o.serveOAuth(ms[i])
			done <- i
		}()
	}
	close(start)
	for range callers {
		<-done
	}
	_, stored := o.stored()
	for i := range callers {
		if errs[i] != nil || got[i] == "" || got[i] != stored {
			t.Errorf("caller %d got access token %d (%v), want the stored new one %d", i, o.accessID(got[i]), errs[i], o.accessID(stored))
		}
	}
	o.wantRefreshes(1)
	if w := o.allWarnings(); len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
}

// spendsFirst is an OAuthAPI whose Refresh lets another process refresh
// first (it stores that process's pair), then sends the now spent token.
type spendsFirst struct {
	OAuthAPI
	other func()
}

func (s spendsFirst) Refresh(ctx context.Context, rt string) (*oauth.Pair, error) {
	s.other()
	return s.OAuthAPI.Refresh(ctx, rt)
}

// TestOAuthSpentRefreshTokenRereadsTheStore: invalid_grant is not taken for
// a dead login while the store holds a newer pair.
func TestOAuthSpentRefreshTokenRereadsTheStore(t *testing.T) {
	o := newOAuthWorld(t)
	o.clock.Advance(2*time.Hour + time.Second)
	m := o.manager()
	real, err := oauth.New(o.gl.APIURL(), "", o.clientID, o.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	m.NewOAuth = func(string, string, string) (OAuthAPI, error) {
		return spendsFirst{OAuthAPI: real, other: func() {
			rec, sec, _ := o.newStore().Lookup(context.Background(), "https", host, o.account)
			p, err := real.Refresh(context.Background(), sec.OAuthRefreshToken)
			if err != nil {
				t.Errorf("the other process's refresh: %v", err)
				return
			}
			rec.ExpiryUTC = p.Expiry.Unix()
			o.newStore().Put(context.Background(), rec, &store.Secret{Password: p.Access, OAuthRefreshToken: p.Refresh, UserID: sec.UserID})
		}}, nil
	}
	got, err := o.serveOAuth(m)
	_, stored := o.stored()
	if err != nil || got == "" || got != stored {
		t.Fatalf("served %d (%v), want the other process's new access token %d", o.accessID(got), err, o.accessID(stored))
	}
	if rec, _ := o.stored(); rec.OAuth.Dead != "" {
		t.Errorf("the login was declared dead: %q", rec.OAuth.Dead)
	}
}

// TestOAuthLostRefreshAnswer: GitLab refreshed and the answer was lost. The
// old refresh token is spent: nothing is served, one line says to log in
// again, and no refresh token got two pairs. While the old access token
// has time left, GitLab's token info tells without a second refresh.
func TestOAuthLostRefreshAnswer(t *testing.T) {
	for _, tt := range []struct {
		name      string
		left      time.Duration // what the old access token has left
		refreshes int
	}{
		{"access token still valid", 3 * time.Minute, 1},
		{"access token expired", -time.Second, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := newOAuthWorld(t)
			o.clock.Advance(2*time.Hour - tt.left)
			o.gl.DropAfterRefreshCommit(true)
			got, err := o.serveOAuth(o.manager())
			if err != nil || got != "" {
				t.Fatalf("served %d (%v), want nothing", o.accessID(got), err)
			}
			o.wantWarnings(0, []string{"answer with the new token was lost", "login " + host + " --username oauth2 --oauth"})
			o.wantRefreshes(tt.refreshes)
			if exists(o.oauthJournal()) {
				t.Errorf("the journal is left")
			}
			// Settled: the next get asks nothing and says it once more.
			o.gl.DropAfterRefreshCommit(false)
			before := o.gl.Calls(gitlabtest.EndpointOAuthToken)
			rec, _ := o.stored()
			if !o.manager().RefusesOAuth(rec) {
				t.Errorf("the next get is not refused")
			}
			if o.gl.Calls(gitlabtest.EndpointOAuthToken) != before {
				t.Errorf("the next get called GitLab")
			}
		})
	}
}

// TestOAuthNoAnswerWithoutCommit: a refresh that GitLab answered with
// garbage (nothing committed) is sent once more when the old access token
// cannot tell, and that settles it.
func TestOAuthNoAnswerWithoutCommit(t *testing.T) {
	o := newOAuthWorld(t)
	o.clock.Advance(2*time.Hour + time.Second)
	o.gl.Garbage(gitlabtest.EndpointOAuthToken, true)
	got, _ := o.serveOAuth(o.manager())
	if got != "" {
		t.Fatalf("served %d while GitLab garbled", o.accessID(got))
	}
	o.wantRefreshes(2)
	if !exists(o.oauthJournal()) {
		t.Fatal("no journal while the outcome is unknown")
	}
	// During the back-off nothing is sent.
	o.clock.Advance(time.Minute)
	o.serveOAuth(o.manager())
	o.wantRefreshes(2)
	o.gl.Garbage(gitlabtest.EndpointOAuthToken, false)
	o.clock.Advance(retryAfter)
	got, err := o.serveOAuth(o.manager())
	if err != nil || got == "" || o.accessID(got) == 0 {
		t.Fatalf("served %d (%v) once GitLab answers, want a new access token", o.accessID(got), err)
	}
	if exists(o.oauthJournal()) {
		t.Errorf("the journal is left")
	}
}

// TestOAuthKeychainRefusesTheNewPair: the new pair is never lost: it waits
// in a 0600 recovery file, is served, and reaches the keychain once it
// takes it.
func TestOAuthKeychainRefusesTheNewPair(t *testing.T) {
	fs := &failingSet{Store: &secretstest.Memory{}}
	o := newOAuthWorld(t, onSecrets(fs))
	o.clock.Advance(2*time.Hour + time.Second)
	fs.arm(true)
	got, err := o.serveOAuth(o.manager())
	if err != nil || o.accessID(got) == 0 {
		t.Fatalf("served %d (%v), want the new access token", o.accessID(got), err)
	}
	o.wantWarnings(0, []string{"keychain refused", o.oauthRecovery()})
	if !exists(o.oauthRecovery()) {
		t.Fatal("no recovery file")
	}
	newAccess := got
	fs.arm(false)
	got, err = o.serveOAuth(o.manager())
	if err != nil || got != newAccess {
		t.Fatalf("next get served %d (%v), want the recovered access token %d", o.accessID(got), err, o.accessID(newAccess))
	}
	if _, stored := o.stored(); stored != newAccess {
		t.Errorf("the keychain holds %d, want the recovered %d", o.accessID(stored), o.accessID(newAccess))
	}
	if exists(o.oauthRecovery()) || exists(o.oauthJournal()) {
		t.Errorf("recovery file or journal left after recovery")
	}
	o.wantRefreshes(1)
}

// TestOAuthCrashDuringRefresh stops the refresh at each point (a kill -9
// there) and runs get again: a working access token, never a second pair
// for one refresh token.
func TestOAuthCrashDuringRefresh(t *testing.T) {
	for _, point := range []string{"before-refresh", "after-refresh-answer", "after-refresh-store"} {
		t.Run(point, func(t *testing.T) {
			o := newOAuthWorld(t)
			o.clock.Advance(2*time.Hour + time.Second)
			m := o.manager()
			m.Hook = crashAt(point)
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(crash); !ok {
							panic(r)
						}
					}
				}()
				o.serveOAuth(m)
				t.Fatalf("no crash at %s", point)
			}()
			got, err := o.serveOAuth(o.manager())
			st, ok := o.gl.OAuthTokenByValue(got)
			if err != nil || !ok || st.Revoked || st.Expired {
				t.Fatalf("after the crash served %d (%v), want a live access token", o.accessID(got), err)
			}
			if w := o.allWarnings(); len(w) != 0 {
				t.Errorf("warnings: %q", w)
			}
			// Before the request left, or after GitLab answered: one
			// refresh reached GitLab in all.
			o.wantRefreshes(1)
			if exists(o.oauthJournal()) || exists(o.oauthRecovery()) {
				t.Errorf("journal or recovery file left")
			}
		})
	}
}

// TestOAuthRecoveryFileOfAnotherUser: a pair planted in the state
// directory is not adopted.
func TestOAuthRecoveryFileOfAnotherUser(t *testing.T) {
	o := newOAuthWorld(t)
	mallory := o.gl.CreateOAuthToken(o.clientID, "mallory", nil)
	o.remember(mallory.Access)
	o.remember(mallory.Refresh)
	m := o.manager()
	os.MkdirAll(m.dir("oauth"), 0o700)
	if _, err := m.writeOAuthRecovery(o.account, &oauth.Pair{Access: mallory.Access, Refresh: mallory.Refresh, Expiry: mallory.Expiry}); err != nil {
		t.Fatal(err)
	}
	if err := m.writeOAuthJournal(o.account, oauthJournal{StartedAt: o.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	got, _ := o.serveOAuth(o.manager())
	if got == mallory.Access {
		t.Fatal("served the planted pair of another user")
	}
	if _, stored := o.stored(); stored == mallory.Access {
		t.Fatal("stored the planted pair")
	}
	if w := strings.Join(o.allWarnings(), "\n"); !strings.Contains(w, "another GitLab user") {
		t.Errorf("warnings %q do not say why the file is ignored", w)
	}
}

func TestOAuthState(t *testing.T) {
	o := newOAuthWorld(t)
	m := o.manager()
	rec, _ := o.stored()
	if st := m.State(rec); st.State != Active || st.Due {
		t.Errorf("fresh: %v due %v, want active", st.State, st.Due)
	}
	o.clock.Advance(2 * time.Hour)
	if st := m.State(rec); st.State != DueForRotation || !st.Due || !st.State.Served() {
		t.Errorf("expired access token: %v, want due for refresh and served", st.State)
	}
	rec.OAuth.Dead = store.DeadRefused
	if st := m.State(rec); st.State != Revoked || st.State.Served() {
		t.Errorf("dead: %v, want revoked", st.State)
	}
}

// TestOAuthProxy401WhileARefreshIsUnknownKeepsTheLogin: a refresh got no
// answer (GitLab garbled it, nothing committed) while the old access token
// still had time, and then something in front of GitLab answers every
// request with a bare 401 for a while. GitLab's token info never answers
// so (it answers 400 invalid_request for a token it does not accept,
// app/controllers/oauth/token_info_controller.rb), so that is not GitLab's
// word that the refresh was carried out: the login is not declared dead,
// and once GitLab answers again a working access token is served.
func TestOAuthProxy401WhileARefreshIsUnknownKeepsTheLogin(t *testing.T) {
	o := newOAuthWorld(t)
	m := o.manager()
	rec, sec, err := m.Store.Lookup(context.Background(), "https", host, o.account)
	if err != nil || rec == nil {
		t.Fatalf("lookup: %v", err)
	}
	o.gl.Garbage(gitlabtest.EndpointOAuthToken, true)
	m.RefreshOAuth(context.Background(), rec, sec, true)
	o.gl.Garbage(gitlabtest.EndpointOAuthToken, false)
	if !exists(o.oauthJournal()) {
		t.Fatal("no journal while the outcome is unknown")
	}
	o.gl.ProxyUnauthorized(true)
	o.serveOAuth(o.manager())
	o.gl.ProxyUnauthorized(false)
	o.clock.Advance(retryAfter + settleAfter)
	if cur, _ := o.stored(); cur.OAuth.Dead != "" || o.manager().RefusesOAuth(cur) {
		t.Fatalf("the login was declared dead (%s) on a 401 that GitLab's token info never gives; warnings %q", cur.OAuth.Dead, o.warningsSince(0))
	}
	got, err := o.serveOAuth(o.manager())
	if st, ok := o.gl.OAuthTokenByValue(got); err != nil || !ok || st.Revoked || st.Expired {
		t.Errorf("once GitLab answers again, served %d (%v, %v); want a working access token; warnings %q", o.accessID(got), st, err, o.warningsSince(0))
	}
}
