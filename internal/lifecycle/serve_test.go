package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

func TestServeNotDueMakesNoAPICall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// expires is the token's expires_at, in days from t0's date; 0
		// means no expiry.
		expires    int
		now        time.Time
		autoRotate bool
	}{
		{"expires in 60 days", 60, t0, true},
		{"exactly rotate_before left", 30, midnight("2026-03-10"), true},
		{"never expires", 0, t0, true},
		{"due, but auto_rotate is off", 10, t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			spec := gitlabtest.TokenSpec{}
			if tt.expires != 0 {
				spec.ExpiresAt = gitlabtest.DateOf(t0).AddDays(tt.expires)
			}
			tok, id := w.create(spec)
			w.login(tok, id)
			w.clock.Set(tt.now)
			w.setSettings(func(s *Settings) { s.AutoRotate = tt.autoRotate })
			before, _ := w.stored()

			for i := range 3 {
				got := w.mustServe(w.manager())
				if got != tok {
					t.Errorf("call %d: served token %d, want the stored token %d as is", i+1, w.tokenID(got), id)
				}
			}
			w.wantCalls(0, 0)
			w.wantTable("1:active")
			w.wantWarnings(0)
			w.wantFiles(false, false)
			after, _ := w.stored()
			if !after.StoredAt.Equal(before.StoredAt) || !reflect.DeepEqual(after.Token, before.Token) {
				t.Errorf("the record changed:\ngot  %+v\nwant %+v", after.Token, before.Token)
			}
		})
	}
}

func TestServeRotatesWhenDue(t *testing.T) {
	t.Parallel()
	backends := []struct {
		name  string
		world func(t *testing.T) *world
	}{
		{"memory", func(t *testing.T) *world { return newWorld(t) }},
		{"keychain", func(t *testing.T) *world { return newWorld(t, onKeychain(t)) }},
	}
	tests := []struct {
		name     string
		lifetime time.Duration
		kind     gitlabtest.Kind
		now      time.Time
		// wantExpires is the new expires_at: today + lifetime, at most 365 days.
		wantExpires string
	}{
		{"lifetime 90 days", 90 * day, gitlabtest.Personal, t0, "2026-06-08"},
		{"lifetime 365 days, GitLab's limit", 365 * day, gitlabtest.Personal, t0, "2027-03-10"},
		{"lifetime 400 days is capped at 365", 400 * day, gitlabtest.Personal, t0, "2027-03-10"},
		{"last nanosecond of a UTC day", 90 * day, gitlabtest.Personal, midnight("2026-03-11").Add(-1), "2026-06-08"},
		{"project access token", 90 * day, gitlabtest.ProjectToken, t0, "2026-06-08"},
		{"group access token", 90 * day, gitlabtest.GroupToken, t0, "2026-06-08"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					w := b.world(t)
					spec := gitlabtest.TokenSpec{Kind: tt.kind, ExpiresAt: gitlabtest.DateOf(t0).AddDays(10)}
					if tt.kind != gitlabtest.Personal {
						spec.OwnerID = 4242
					}
					old, id := w.create(spec)
					w.login(old, id)
					w.clock.Set(tt.now)
					w.setSettings(func(s *Settings) { s.Lifetime = tt.lifetime })

					got := w.mustServe(w.manager())

					w.wantServed(got, 2)
					w.wantTable("1:revoked->2 2:active")
					w.wantCalls(1, 1)
					w.wantWarnings(0) // success is silent: Git's tests fail a noisy helper
					w.wantFiles(false, false)
					if exp := w.gl.Token(2).ExpiresAt.String(); exp != tt.wantExpires {
						t.Errorf("GitLab's new token expires %s, want %s", exp, tt.wantExpires)
					}
					rec, stored := w.stored()
					if stored != got {
						t.Errorf("the store holds token %d, want the served token %d", w.tokenID(stored), w.tokenID(got))
					}
					now := w.clock.Now()
					tok := rec.Token
					if tok.ID != 2 || tok.ExpiresAt != tt.wantExpires || !tok.RotatedAt.Equal(now) || !tok.CheckedAt.Equal(now) {
						t.Errorf("stored metadata: id %d, expires_at %s, rotated_at %s, checked_at %s; want 2, %s, %s, %s",
							tok.ID, tok.ExpiresAt, tok.RotatedAt, tok.CheckedAt, tt.wantExpires, now, now)
					}
					if tok.Kind != tt.kind.String() || tok.APIURL != w.gl.APIURL() || tok.Dead != "" || !tok.RotateFailedAt.IsZero() {
						t.Errorf("stored metadata: kind %q, api_url %q, dead %q, rotate_failed_at %s; want %q, %q, none, none",
							tok.Kind, tok.APIURL, tok.Dead, tok.RotateFailedAt, tt.kind, w.gl.APIURL())
					}
					if want := midnight(tt.wantExpires).Unix(); rec.ExpiryUTC != want {
						t.Errorf("password_expiry_utc: got %d, want %d (00:00 UTC on %s)", rec.ExpiryUTC, want, tt.wantExpires)
					}

					// The new token is not due: the next get is offline.
					again := w.mustServe(w.manager())
					w.wantServed(again, 2)
					w.wantCalls(1, 1)
				})
			}
		})
	}
}

func TestExpiryBoundaries(t *testing.T) {
	t.Parallel()
	expires := gitlabtest.DateOf(t0).AddDays(10) // 2026-03-20
	tests := []struct {
		name       string
		now        time.Time
		autoRotate bool
		wantServed int
		wantSelf   int
		wantRotate int
		wantTable  string
		wantWarn   [][]string
	}{
		{"a nanosecond before 00:00 UTC, auto_rotate off: served", expires.Midnight().Add(-1), false, 1, 0, 0, "1:active", nil},
		{"a nanosecond before 00:00 UTC: still valid, so rotated", expires.Midnight().Add(-1), true, 2, 1, 1, "1:revoked->2 2:active", nil},
		{"at 00:00 UTC: expired, not served", expires.Midnight(), true, 0, 0, 0, "1:expired",
			[][]string{{"expired", "2026-03-20", "git-credential-glpat login " + host}}},
		{"at 00:00 UTC, auto_rotate off: not served", expires.Midnight(), false, 0, 0, 0, "1:expired",
			[][]string{{"expired", "git-credential-glpat login " + host}}},
		{"a day later: not served", expires.Midnight().Add(day), true, 0, 0, 0, "1:expired",
			[][]string{{"expired", "git-credential-glpat login " + host}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tok, id := w.create(gitlabtest.TokenSpec{ExpiresAt: expires})
			w.login(tok, id)
			w.clock.Set(tt.now)
			w.setSettings(func(s *Settings) { s.AutoRotate = tt.autoRotate })
			rec, _ := w.stored()
			if !Due(rec, w.manager().SettingsFor(rec), tt.now) {
				t.Errorf("Due at %s: got false, want true", tt.now.Format(time.RFC3339Nano))
			}
			// GitLab and the helper must agree on the instant.
			if gotExpired, wantExpired := w.gl.Token(1).Expired, tt.wantServed == 0; gotExpired != wantExpired {
				t.Fatalf("the fake says expired=%v at %s; the test wants %v", gotExpired, tt.now, wantExpired)
			}

			got := w.mustServe(w.manager())

			w.wantServed(got, tt.wantServed)
			w.wantCalls(tt.wantSelf, tt.wantRotate)
			w.wantTable(tt.wantTable)
			w.wantWarnings(0, tt.wantWarn...)
			if tt.wantServed == 2 {
				if exp := w.gl.Token(2).ExpiresAt.String(); exp != "2026-06-17" {
					t.Errorf("new token expires %s, want 2026-06-17 (2026-03-19 + 90 days)", exp)
				}
			}
		})
	}
}

func TestTokenRefusedByGitLabIsNeverRotated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup stores the credential and breaks it on the server.
		setup     func(w *world)
		wantDead  store.Dead
		wantTable string
	}{
		{"revoked in GitLab", func(w *world) {
			tok, id := w.createToken(10)
			w.login(tok, id)
			w.gl.Revoke(id)
		}, "revoked", "1:revoked"},
		{"expired on the server before the stored date", func(w *world) {
			tok, id := w.createToken(1)
			w.loginRecord(tok, &store.Token{ID: int64(id), Scopes: []string{"api"}, ExpiresAt: w.today(10), APIURL: w.gl.APIURL(), Kind: "personal"})
			w.clock.Advance(day)
		}, "expired", "1:expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tt.setup(w)

			got := w.mustServe(w.manager())

			w.wantServed(got, 0)
			w.wantCalls(1, 0)
			w.wantTable(tt.wantTable)
			w.wantWarnings(0, []string{host + " (alice): GitLab says the token", string(tt.wantDead), "git-credential-glpat login " + host})
			rec, _ := w.stored()
			if rec.Token.Dead != tt.wantDead || !rec.Token.DeadAt.Equal(w.clock.Now()) {
				t.Errorf("stored dead %q at %s, want %q at %s", rec.Token.Dead, rec.Token.DeadAt, tt.wantDead, w.clock.Now())
			}

			// Known dead: no API call at all, and the person is told again.
			for range 3 {
				got = w.mustServe(w.manager())
				w.wantServed(got, 0)
			}
			w.wantCalls(1, 0)
			w.wantTable(tt.wantTable)
			w.wantWarnings(1,
				[]string{string(tt.wantDead), "git-credential-glpat login " + host},
				[]string{string(tt.wantDead), "git-credential-glpat login " + host},
				[]string{string(tt.wantDead), "git-credential-glpat login " + host})
		})
	}
}

func TestTokenThatCannotRotateItselfIsServedWithOneWarning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// serverScopes are the token's scopes in GitLab; storedScopes what
		// the record says (nil: the same).
		serverScopes []string
		storedScopes []string
		failRotate   int
		wantSelf     int
		wantRotate   int
		wantWarn     []string
	}{
		{"no api or self_rotate scope", []string{"read_repository", "write_repository"}, nil, 0, 0, 0,
			[]string{"cannot rotate itself", "self_rotate", "2026-03-20 (00:00 UTC)", "git-credential-glpat login " + host}},
		{"the stored scopes are out of date", []string{"read_repository"}, []string{"read_repository", "self_rotate"}, 0, 1, 0,
			[]string{"cannot rotate itself", "self_rotate", "2026-03-20 (00:00 UTC)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tok, id := w.createToken(10, tt.serverScopes...)
			w.login(tok, id)
			if tt.storedScopes != nil {
				rec, _ := w.stored()
				rec.Token.Scopes = tt.storedScopes
				if err := w.newStore().UpdateRecord(context.Background(), rec); err != nil {
					t.Fatal(err)
				}
			}
			w.gl.FailRotate(tt.failRotate)

			for i := range 5 {
				got := w.mustServe(w.manager())
				if got != tok {
					t.Errorf("call %d: served token %d, want token %d as is", i+1, w.tokenID(got), id)
				}
			}
			w.wantCalls(tt.wantSelf, tt.wantRotate)
			w.wantTable("1:active")
			w.wantWarnings(0, tt.wantWarn)

			// A day later the person hears it once more, still with no
			// attempt to rotate.
			w.clock.Advance(warnEvery)
			for range 3 {
				w.wantServed(w.mustServe(w.manager()), 1)
			}
			w.wantCalls(tt.wantSelf, tt.wantRotate)
			if n := len(w.allWarnings()); n != 2 {
				t.Errorf("after a day: got %d warnings in all, want 2:\n%s", n, strings.Join(w.allWarnings(), "\n"))
			}
		})
	}
}

func TestRotateErrorServesOldTokenAndBacksOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		// wantSelf: a 5xx does not prove nothing was committed, so the old
		// token is checked again; a 4xx does, but a 404 of something not
		// found may be a GitLab without self-rotation, which .../self
		// and GitLab's version tell.
		wantSelf int
	}{
		{500, 2}, {502, 2}, {503, 2}, {504, 2},
		{400, 1}, {404, 2}, {422, 1}, {429, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tok, id := w.createToken(10)
			w.login(tok, id)
			w.gl.FailRotate(tt.status)

			got := w.mustServe(w.manager())

			w.wantServed(got, 1)
			w.wantCalls(tt.wantSelf, 1)
			w.wantTable("1:active")
			// A 5xx leaves the outcome unknown until GitLab is done with
			// the request: the journal stays.
			w.wantFiles(tt.status >= 500, false)
			w.wantWarnings(0, []string{"could not rotate the token for " + host, fmt.Sprintf("HTTP %d", tt.status), "keeps working until 2026-03-20 00:00 UTC"})
			rec, _ := w.stored()
			if !rec.Token.RotateFailedAt.Equal(t0) || !strings.Contains(rec.Token.RotateError, fmt.Sprint(tt.status)) {
				t.Errorf("stored failure at %s (%q), want at %s naming HTTP %d", rec.Token.RotateFailedAt, rec.Token.RotateError, t0, tt.status)
			}

			// Within 15 minutes: no API call, no new warning.
			w.clock.Advance(retryAfter - 1)
			for range 3 {
				w.wantServed(w.mustServe(w.manager()), 1)
			}
			w.wantCalls(tt.wantSelf, 1)
			w.wantWarnings(1)

			// At 15 minutes it tries again, and GitLab is back.
			w.gl.FailRotate(0)
			w.clock.Advance(1)
			got = w.mustServe(w.manager())
			w.wantServed(got, 2)
			w.wantCalls(tt.wantSelf+1, 2)
			w.wantTable("1:revoked->2 2:active")
			w.wantWarnings(1)
			rec, _ = w.stored()
			if !rec.Token.RotateFailedAt.IsZero() || rec.Token.RotateError != "" {
				t.Errorf("after a good rotation the failure is still stored: %s %q", rec.Token.RotateFailedAt, rec.Token.RotateError)
			}
		})
	}
}

func TestLostRotateAnswerIsNeverRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, id := w.createToken(10)
	w.login(tok, id)
	w.gl.DropAfterRotateCommit(true)

	got := w.mustServe(w.manager())

	w.wantServed(got, 0)
	// GitLab rotated; its answer was lost. The new token must stay active:
	// a second rotate with the old token would revoke the whole family.
	w.wantTable("1:revoked->2 2:active")
	w.wantCalls(2, 1)
	w.wantWarnings(0, []string{
		"the token for " + host + " may have been rotated; its answer was lost",
		"GitLab no longer accepts the old token",
		"create a new token and run git-credential-glpat login " + host,
	})
	w.wantFiles(false, false)
	rec, _ := w.stored()
	if rec.Token.Dead == "" {
		t.Errorf("the record is not marked dead")
	}

	// The next calls know: no API call, nothing served.
	w.gl.DropAfterRotateCommit(false)
	w.clock.Advance(retryAfter)
	for range 3 {
		w.wantServed(w.mustServe(w.manager()), 0)
	}
	w.wantCalls(2, 1)
	w.wantTable("1:revoked->2 2:active")
	for _, msg := range w.warningsSince(1) {
		if !strings.Contains(msg, "git-credential-glpat login "+host) {
			t.Errorf("warning %q does not say how to log in again", msg)
		}
	}
}

func TestRotationFaultsServeOldTokenWithoutLockOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      func(w *world) (undo func())
		wantSelf   int
		wantRotate int
		wantWarn   []string
	}{
		{"rotate answers an HTML page", func(w *world) func() {
			w.gl.Garbage(gitlabtest.EndpointRotate, true)
			return func() { w.gl.Garbage(gitlabtest.EndpointRotate, false) }
		}, 2, 1, []string{"could not rotate the token for " + host, "rotate token"}},
		{"rotate answers after the timeout", func(w *world) func() {
			w.gl.Delay(gitlabtest.EndpointRotate, time.Hour)
			return func() { w.gl.Delay(gitlabtest.EndpointRotate, 0) }
		}, 2, 1, []string{"could not rotate the token for " + host, "rotate token", "deadline exceeded"}},
		{"self answers an HTML page", func(w *world) func() {
			w.gl.Garbage(gitlabtest.EndpointSelf, true)
			return func() { w.gl.Garbage(gitlabtest.EndpointSelf, false) }
		}, 1, 0, []string{"could not rotate the token for " + host, "get token"}},
		{"self answers after the timeout", func(w *world) func() {
			w.gl.Delay(gitlabtest.EndpointSelf, time.Hour)
			return func() { w.gl.Delay(gitlabtest.EndpointSelf, 0) }
		}, 1, 0, []string{"could not rotate the token for " + host, "get token", "deadline exceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.apiTimeout = time.Second
			tok, id := w.createToken(10)
			w.login(tok, id)
			undo := tt.fault(w)

			got := w.mustServe(w.manager())

			w.wantServed(got, 1)
			w.wantCalls(tt.wantSelf, tt.wantRotate)
			w.wantTable("1:active") // nothing committed
			w.wantWarnings(0, tt.wantWarn)
			// A rotate request without an answer leaves the outcome
			// unknown for a while: the journal stays.
			w.wantFiles(tt.wantRotate > 0, false)

			w.clock.Advance(retryAfter - 1)
			w.wantServed(w.mustServe(w.manager()), 1)
			w.wantCalls(tt.wantSelf, tt.wantRotate)

			// No lock-out: the old token still rotates once GitLab is well.
			undo()
			w.clock.Advance(1)
			got = w.mustServe(w.manager())
			w.wantServed(got, 2)
			w.wantCalls(tt.wantSelf+1, tt.wantRotate+1)
			w.wantTable("1:revoked->2 2:active")
			w.wantWarnings(1)
		})
	}
}

func TestGitLabUnreachableServesOldToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, id := w.createToken(10)
	// An address where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String() + "/api/v4"
	ln.Close()
	w.loginRecord(tok, &store.Token{ID: int64(id), Scopes: []string{"api"}, ExpiresAt: w.today(10), APIURL: deadURL, Kind: "personal"})

	got := w.mustServe(w.manager())

	w.wantServed(got, 1)
	w.wantCalls(0, 0)
	w.wantTable("1:active")
	w.wantWarnings(0, []string{"could not rotate the token for " + host, "unreachable", "keeps working until 2026-03-20 00:00 UTC"})
	w.clock.Advance(retryAfter - 1)
	w.wantServed(w.mustServe(w.manager()), 1)
	w.wantWarnings(1)
}

func TestTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		caFile     func(w *world) string
		wantServed int
		wantSelf   int
		wantRotate int
		wantTable  string
		wantWarn   [][]string
	}{
		{"ca_file names the server's CA", func(w *world) string {
			name := filepath.Join(w.t.TempDir(), "ca.pem")
			w.gl.WriteCA(name)
			return name
		}, 2, 1, 1, "1:revoked->2 2:active", nil},
		{"no ca_file: the certificate is refused", func(w *world) string { return "" },
			1, 0, 0, "1:active", [][]string{{"could not rotate the token for " + host, "certificate"}}},
		{"ca_file that does not exist", func(w *world) string { return filepath.Join(w.t.TempDir(), "missing.pem") },
			1, 0, 0, "1:active", [][]string{{"could not rotate the token for " + host, "ca_file", "missing.pem"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, overTLS())
			if !strings.HasPrefix(w.gl.APIURL(), "https://") {
				t.Fatalf("API URL %s is not https", w.gl.APIURL())
			}
			tok, id := w.createToken(10)
			w.login(tok, id)
			ca := tt.caFile(w)
			w.setSettings(func(s *Settings) { s.CAFile = ca })

			got, err := w.serve(w.manager())
			if err != nil {
				t.Errorf("Serve: %v; want no error (a valid token is served, GitLab's trouble is a warning)", err)
			}
			w.wantServed(got, tt.wantServed)
			w.wantCalls(tt.wantSelf, tt.wantRotate)
			w.wantTable(tt.wantTable)
			w.wantWarnings(0, tt.wantWarn...)
		})
	}
}

func TestUnverifiedTokenIsVerifiedOnNextServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		days       int
		revoke     bool
		wantServed int
		wantSelf   int
		wantRotate int
		wantDead   store.Dead
		wantWarn   [][]string
	}{
		{"GitLab confirms it", 60, false, 1, 1, 0, "", nil},
		{"GitLab confirms it and it is due", 10, false, 2, 2, 1, "", nil},
		{"GitLab refuses it", 60, true, 0, 1, 0, "revoked", [][]string{{"revoked", "git-credential-glpat login " + host}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tok, id := w.createToken(tt.days, "self_rotate", "write_repository")
			w.loginRecord(tok, &store.Token{Unverified: true, APIURL: w.gl.APIURL()})
			if tt.revoke {
				w.gl.Revoke(id)
			}
			w.clock.Advance(time.Hour)

			got := w.mustServe(w.manager())

			w.wantServed(got, tt.wantServed)
			w.wantCalls(tt.wantSelf, tt.wantRotate)
			w.wantWarnings(0, tt.wantWarn...)
			rec, secret := w.stored()
			tok2 := rec.Token
			wantDigest := "" // a digest is kept of a confirmed token only
			if tt.wantDead == "" {
				wantDigest = store.Digest(secret)
			}
			if rec.SecretSHA256 != wantDigest {
				t.Errorf("stored digest %q, want %q", rec.SecretSHA256, wantDigest)
			}
			if tok2.Unverified == (tt.wantDead == "") {
				t.Errorf("stored unverified = %v after GitLab answered", tok2.Unverified)
			}
			if tok2.Dead != tt.wantDead {
				t.Errorf("stored dead %q, want %q", tok2.Dead, tt.wantDead)
			}
			if tt.wantDead != "" {
				return
			}
			st := w.gl.Token(tt.wantServed)
			if tok2.ID != int64(st.ID) || tok2.Name != st.Name || !slices.Equal(tok2.Scopes, st.Scopes) ||
				tok2.ExpiresAt != st.ExpiresAt.String() || tok2.UserID != int64(st.UserID) || !tok2.CheckedAt.Equal(w.clock.Now()) {
				t.Errorf("stored metadata %+v, want GitLab's %v checked at %s", *tok2, st, w.clock.Now())
			}
			if want := st.ExpiresAt.Midnight().Unix(); rec.ExpiryUTC != want {
				t.Errorf("password_expiry_utc: got %d, want %d", rec.ExpiryUTC, want)
			}
			// Verified: the next call is offline.
			w.wantServed(w.mustServe(w.manager()), tt.wantServed)
			w.wantCalls(tt.wantSelf, tt.wantRotate)
		})
	}
}

func TestUnverifiedTokenWhileGitLabIsDown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.apiTimeout = time.Second
	tok, id := w.createToken(60)
	w.loginRecord(tok, &store.Token{Unverified: true, APIURL: w.gl.APIURL()})
	w.gl.Delay(gitlabtest.EndpointSelf, time.Hour)

	w.wantServed(w.mustServe(w.manager()), id)
	w.wantCalls(1, 0)
	rec, _ := w.stored()
	if !rec.Token.Unverified || !rec.Token.CheckedAt.Equal(t0) {
		t.Errorf("stored unverified %v checked at %s, want still unverified, checked at %s", rec.Token.Unverified, rec.Token.CheckedAt, t0)
	}

	// Asked again only after 15 minutes.
	w.gl.Delay(gitlabtest.EndpointSelf, 0)
	w.clock.Advance(retryAfter - 1)
	w.wantServed(w.mustServe(w.manager()), id)
	w.wantCalls(1, 0)
	w.clock.Advance(1)
	w.wantServed(w.mustServe(w.manager()), id)
	w.wantCalls(2, 0)
	rec, _ = w.stored()
	if rec.Token.Unverified || rec.Token.ID != int64(id) {
		t.Errorf("after GitLab answered: unverified %v, id %d; want verified, id %d", rec.Token.Unverified, rec.Token.ID, id)
	}
	w.wantWarnings(0) // nothing for a person to do yet
}

func TestRotationLockHeldTooLong(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, id := w.createToken(10)
	w.login(tok, id)
	// Another process holds the rotation lock and does not finish.
	m := w.manager()
	m.LockWait = 50 * time.Millisecond
	if err := os.MkdirAll(filepath.Join(w.stateDir, "rotation"), 0o700); err != nil {
		t.Fatal(err)
	}
	rec, _, err := m.Store.Lookup(context.Background(), "https", host, w.account)
	if err != nil || rec == nil {
		t.Fatalf("lookup: %v %v", rec, err)
	}
	lock, err := filelock.Acquire(context.Background(), m.lockPath(rec))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()

	w.wantServed(w.mustServe(m), 1)
	w.wantCalls(0, 0)
	w.wantTable("1:active")

	// What the other process stored is what this one serves: here, that
	// the token is dead.
	rec, _ = w.stored()
	rec.Token.Dead = "revoked"
	if err := w.newStore().UpdateRecord(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	old, sec, _ := w.newStore().Lookup(context.Background(), "https", host, w.account)
	old.Token.Dead = "" // this caller read the record before
	got, err := w.serveRecord(m, old, sec)
	if err != nil {
		t.Fatal(err)
	}
	w.wantServed(got, 0)
	w.wantCalls(0, 0)
}

func TestRotateForce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		force      bool
		wantServed int
		wantRotate int
	}{
		{"not due, not forced: nothing to do", false, 1, 0},
		{"not due, forced: rotates", true, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tok, id := w.createToken(60)
			w.login(tok, id)
			rec, sec, _ := w.newStore().Lookup(context.Background(), "https", host, w.account)
			got, err := w.manager().Rotate(context.Background(), rec, sec, tt.force)
			gotRec, gotSec := got.Record, got.Secret
			if err != nil || got.Refused != NotRefused {
				t.Fatalf("Rotate: %v, %v", gotRec, err)
			}
			w.remember(gotSec.Password)
			w.wantServed(gotSec.Password, tt.wantServed)
			w.wantCalls(tt.wantRotate, tt.wantRotate)
		})
	}
}

// A forced rotation (`rotate --force`) that waited for a get to finish
// rotating has nothing left to do: it must not rotate the new token again.
func TestForcedRotationAfterAnotherProcessRotated(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok, id := w.createToken(10)
	w.login(tok, id)
	staleRec, staleSec, err := w.newStore().Lookup(context.Background(), "https", host, w.account)
	if err != nil {
		t.Fatal(err)
	}
	w.wantServed(w.mustServe(w.manager()), 2)

	got, err := w.manager().Rotate(context.Background(), staleRec, staleSec, true)
	gotRec, gotSec := got.Record, got.Secret
	if err != nil || got.Refused != NotRefused {
		t.Fatalf("Rotate: %v, %v", gotRec, err)
	}
	w.remember(gotSec.Password)
	w.wantServed(gotSec.Password, 2)
	if gotRec.Token.ID != 2 {
		t.Errorf("Rotate returned the record of token %d, want 2", gotRec.Token.ID)
	}
	w.wantCalls(1, 1)
	w.wantTable("1:revoked->2 2:active")
}

// A forced rotation whose record was read before another process rotated
// and whose secret was read after it (as rotate --all reads the index once,
// then each secret in turn) holds the old token's record with the new
// token: that pair describes no generation, and the rotation it asked for
// has happened. Nothing is sent.
func TestForcedRotationWithARecordOlderThanItsSecret(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(10)
		w.login(tok, id)
		staleRec, _, err := w.newStore().Lookup(context.Background(), "https", host, w.account)
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute)
		w.wantServed(w.mustServe(w.manager()), 2)
		newSec, err := w.newStore().ReadSecret(context.Background(), staleRec)
		if err != nil {
			t.Fatal(err)
		}

		got, err := w.manager().Rotate(context.Background(), staleRec, newSec, true)
		gotRec, gotSec := got.Record, got.Secret
		if err != nil || got.Refused != NotRefused {
			t.Fatalf("Rotate: %v, %v", gotRec, err)
		}
		w.wantServed(gotSec.Password, 2)
		if gotRec.Token.ID != 2 {
			t.Errorf("Rotate returned the record of token %d, want 2", gotRec.Token.ID)
		}
		w.wantTable("1:revoked->2 2:active")
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 1 {
			t.Errorf("rotate requests: %d, want 1", n)
		}
	})
}

// A record that does not describe the stored token (the keychain holds
// token 2 under token 1's record, as a state dir restored from a backup
// leaves it) is never the basis of a rotation: GitLab's answer about the
// stored token shows the record stale; the record is brought up to date
// from it, and nothing is sent.
func TestStaleRecordIsRefreshedNotRotated(t *testing.T) {
	t.Parallel()
	eachBackend(t, nil, func(t *testing.T, w *world) {
		tok, id := w.createToken(60)
		w.login(tok, id)
		next, nextID := w.createToken(80)
		rec, sec, err := w.newStore().Lookup(context.Background(), "https", host, w.account)
		if err != nil {
			t.Fatal(err)
		}
		moved := *sec
		moved.Password = next
		raw, _ := json.Marshal(&moved)
		if err := w.secrets.Set(context.Background(), w.account, string(raw)); err != nil {
			t.Fatal(err)
		}

		got, err := w.manager().Rotate(context.Background(), rec, &moved, true)
		gotRec, gotSec := got.Record, got.Secret
		if err != nil || got.Refused != NotRefused {
			t.Fatalf("Rotate: %v, %v", gotRec, err)
		}
		w.wantServed(gotSec.Password, nextID)
		w.wantTable("1:active 2:active")
		if n := w.gl.Calls(gitlabtest.EndpointRotate); n != 0 {
			t.Errorf("rotate requests: %d, want none", n)
		}
		stored, _ := w.stored()
		if stored.Token.ID != int64(nextID) || stored.Token.ExpiresAt != w.today(80) || stored.SecretSHA256 != store.Digest(next) {
			t.Errorf("the index describes token %d expiring %s, want token %d expiring %s", stored.Token.ID, stored.Token.ExpiresAt, nextID, w.today(80))
		}
	})
}

// TestNoRotationIntoANewerHelpersIndex: a token due for rotation whose
// index a newer helper wrote is served as it is and not rotated: the
// rotation could record nothing there, and its new token would reach the
// recovery file alone. The person is told to upgrade; the file stays as
// the newer helper wrote it.
func TestNoRotationIntoANewerHelpersIndex(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	old, id := w.createToken(10)
	w.login(old, id)
	files, _ := filepath.Glob(filepath.Join(w.storeDir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("index files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	newer := strings.Replace(string(b), `"version": 2`, `"version": 3`, 1)
	if newer == string(b) {
		t.Fatalf("no version in %s", b)
	}
	os.WriteFile(files[0], []byte(newer), 0o600)

	got := w.mustServe(w.manager())

	w.wantServed(got, 1)
	w.wantCalls(0, 0)
	w.wantWarnings(0, []string{"cannot rotate the token for " + host, "index format 3", "upgrade git-credential-glpat"})
	if after, _ := os.ReadFile(files[0]); string(after) != newer {
		t.Errorf("the newer helper's index was changed:\n%s", after)
	}
	if left, _ := filepath.Glob(filepath.Join(w.stateDir, "recovery", "*")); len(left) != 0 {
		t.Errorf("recovery files: %v", left)
	}
}
