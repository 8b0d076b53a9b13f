package lifecycle

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// TestState stands on each boundary of State and one nanosecond on either
// side of it, with the clock injected.
func TestState(t *testing.T) {
	const expires = "2026-04-01"
	exp := midnight(expires)
	s := Settings{RotateBefore: 30 * day, Lifetime: 90 * day, AutoRotate: true}
	dueAt := exp.Add(-30 * day) // exactly rotate_before left: not due yet
	rotatable := func(mod func(*store.Token)) *store.Token {
		tok := &store.Token{ID: 1, ExpiresAt: expires, Scopes: []string{"self_rotate"}}
		if mod != nil {
			mod(tok)
		}
		return tok
	}
	refusedAt := dueAt.Add(-10 * day)
	failedAt := dueAt.Add(-day)
	noSelfAt := dueAt.Add(-day)
	tests := []struct {
		name      string
		tok       *store.Token
		pending   bool
		elsewhere bool
		now       time.Time
		want      State
		outcome   Outcome
		due       bool
	}{
		{"exactly rotate_before left", rotatable(nil), false, false, dueAt, Active, NoRotation, false},
		{"one nanosecond later: due", rotatable(nil), false, false, dueAt.Add(1), DueForRotation, NoRotation, true},
		{"one nanosecond before expiry", rotatable(nil), false, false, exp.Add(-1), DueForRotation, NoRotation, true},
		{"at expiry", rotatable(nil), false, false, exp, Expired, NoRotation, true},
		{"never expires", rotatable(func(t *store.Token) { t.ExpiresAt = "" }), false, false, exp.Add(400 * day), Active, NoRotation, false},
		{"due without the scope", rotatable(func(t *store.Token) { t.Scopes = []string{"read_repository"} }), false, false, dueAt.Add(1), CannotRotateItself, NoRotation, true},
		{"not due without the scope", rotatable(func(t *store.Token) { t.Scopes = []string{"read_repository"} }), false, false, dueAt, Active, NoRotation, false},
		{"due, GitLab refused for scope", rotatable(func(t *store.Token) { t.CannotRotate = true }), false, false, dueAt.Add(1), CannotRotateItself, NoRotation, true},
		{"due, no self-rotation found just under a week ago", rotatable(func(t *store.Token) { t.NoSelfRotation, t.NoSelfRotationAt = "old GitLab", noSelfAt }), false, false, noSelfAt.Add(recheckNoSelfRotation - 1), NoSelfRotation, NoRotation, true},
		{"due, no self-rotation found a week ago: asked again", rotatable(func(t *store.Token) { t.NoSelfRotation, t.NoSelfRotationAt = "old GitLab", noSelfAt }), false, false, noSelfAt.Add(recheckNoSelfRotation), DueForRotation, NoRotation, true},
		{"held back one nanosecond before the back-off ends", rotatable(func(t *store.Token) { t.GitRefusedAt = refusedAt }), false, false, refusedAt.Add(retryAfter - 1), HeldBack, NoRotation, false},
		{"served again when it ends", rotatable(func(t *store.Token) { t.GitRefusedAt = refusedAt }), false, false, refusedAt.Add(retryAfter), Active, NoRotation, false},
		{"held back and due", rotatable(func(t *store.Token) { t.GitRefusedAt = dueAt }), false, false, dueAt.Add(1), HeldBack, NoRotation, true},
		{"held back without the scope, due: get holds it back", rotatable(func(t *store.Token) { t.GitRefusedAt = dueAt; t.Scopes = nil }), false, false, dueAt.Add(1), HeldBack, NoRotation, true},
		{"held back past expiry", rotatable(func(t *store.Token) { t.GitRefusedAt = exp.Add(-time.Minute) }), false, false, exp, Expired, NoRotation, true},
		{"unverified", &store.Token{Unverified: true}, false, false, exp, Unverified, NoRotation, false},
		{"unverified past expiry: refused as expired", &store.Token{Unverified: true, ExpiresAt: expires}, false, false, exp, Expired, NoRotation, true},
		{"GitLab said expired", rotatable(func(t *store.Token) { t.Dead = store.DeadExpired }), false, false, dueAt, Expired, NoRotation, false},
		{"GitLab said revoked", rotatable(func(t *store.Token) { t.Dead = store.DeadRevoked }), false, false, dueAt, Revoked, NoRotation, false},
		{"GitLab refused it", rotatable(func(t *store.Token) { t.Dead = store.DeadRefused }), false, false, dueAt, Revoked, NoRotation, false},
		{"answer lost", rotatable(func(t *store.Token) { t.Dead = store.DeadAnswerLost }), false, false, dueAt, Revoked, AnswerLost, false},
		{"new token not saved", rotatable(func(t *store.Token) { t.Dead = store.DeadUnsaved }), false, false, dueAt, Revoked, AnswerLost, false},
		{"rotation unfinished", rotatable(nil), true, false, dueAt.Add(1), DueForRotation, OutcomeUnknown, true},
		{"rotation unfinished, revoked meanwhile", rotatable(func(t *store.Token) { t.Dead = store.DeadAnswerLost }), true, false, dueAt, Revoked, OutcomeUnknown, false},
		{"failed one nanosecond before the back-off ends", rotatable(func(t *store.Token) { t.RotateFailedAt, t.RotateError = failedAt, "502" }), false, false, failedAt.Add(retryAfter - 1), Active, RotationFailed, false},
		{"back-off over", rotatable(func(t *store.Token) { t.RotateFailedAt, t.RotateError = failedAt, "502" }), false, false, failedAt.Add(retryAfter), Active, NoRotation, false},
		{"stored elsewhere", rotatable(nil), false, true, dueAt.Add(1), StoredElsewhere, NoRotation, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := assess(&store.Record{Token: tt.tok}, s, tt.pending, tt.elsewhere, tt.now)
			if got.State != tt.want || got.Outcome != tt.outcome || got.Due != tt.due {
				t.Errorf("at %s: got %v (outcome %d, due %v), want %v (outcome %d, due %v)",
					tt.now.Format(time.RFC3339Nano), got.State, got.Outcome, got.Due, tt.want, tt.outcome, tt.due)
			}
			if served := got.State.Served(); served != (tt.want < HeldBack) {
				t.Errorf("Served() = %v for %v", served, got.State)
			}
		})
	}
}

// TestStateSaysWhenAndWhy checks the times and reasons State gives with a
// state.
func TestStateSaysWhenAndWhy(t *testing.T) {
	const expires = "2026-04-01"
	exp := midnight(expires)
	s := Settings{RotateBefore: 30 * day, AutoRotate: true}
	at := exp.Add(-40 * day)
	for _, tc := range []struct {
		name                string
		tok                 store.Token
		since, until, retry time.Time
		why                 string
	}{
		{"held back", store.Token{ExpiresAt: expires, GitRefusedAt: at}, at, at.Add(retryAfter), time.Time{}, ""},
		{"revoked", store.Token{ExpiresAt: expires, Dead: store.DeadRevoked, DeadAt: at}, at, time.Time{}, time.Time{}, "GitLab says the token was revoked"},
		{"expired", store.Token{ExpiresAt: expires}, exp, time.Time{}, time.Time{}, ""},
		{"failed", store.Token{ExpiresAt: expires, RotateFailedAt: at, RotateError: "gitlab: 502"}, time.Time{}, time.Time{}, at.Add(retryAfter), "gitlab: 502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := at.Add(time.Minute)
			if tc.name == "expired" {
				now = exp
			}
			got := assess(&store.Record{Token: &tc.tok}, s, false, false, now)
			if !got.Since.Equal(tc.since) || !got.Until.Equal(tc.until) || !got.RetryAt.Equal(tc.retry) || got.Why != tc.why || !got.Expiry.Equal(exp) {
				t.Errorf("got since %s until %s retry %s why %q expiry %s; want %s %s %s %q %s",
					got.Since, got.Until, got.RetryAt, got.Why, got.Expiry, tc.since, tc.until, tc.retry, tc.why, exp)
			}
		})
	}
}

// TestManagerState checks State's inputs: the journal of an unfinished
// rotation, the host's settings and the injected clock.
func TestManagerState(t *testing.T) {
	exp := midnight("2026-04-01")
	now := exp.Add(-10 * day)
	dir := t.TempDir()
	m := &Manager{
		Store:    &store.Store{Clock: func() time.Time { return now }},
		StateDir: dir,
		Settings: func(*store.Record) Settings { return Settings{RotateBefore: 5 * day} },
	}
	rec := &store.Record{Account: "https://alice@gitlab.com", Token: &store.Token{ExpiresAt: "2026-04-01", Scopes: []string{"api"}}}
	if got := m.State(rec); got.State != Active || got.Outcome != NoRotation {
		t.Errorf("10 days left, rotate_before 5d: got %v, outcome %d", got.State, got.Outcome)
	}
	if err := os.MkdirAll(filepath.Join(dir, "rotation"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := m.writeJournal(rec.Account, journal{StartedAt: now}); err != nil {
		t.Fatal(err)
	}
	if got := m.StateAt(rec, exp.Add(-day)); got.State != DueForRotation || got.Outcome != OutcomeUnknown {
		t.Errorf("a day left, journal there: got %v, outcome %d", got.State, got.Outcome)
	}
}

// TestRateLimitWaitIsBounded: a rate limit kept in the index ends at most a
// week after the refused rotation, whatever the record says.
func TestRateLimitWaitIsBounded(t *testing.T) {
	failed := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		until time.Time
		want  time.Time
	}{
		{"none", time.Time{}, failed.Add(retryAfter)},
		{"an hour", failed.Add(time.Hour), failed.Add(time.Hour)},
		{"a week", failed.Add(maxRateLimitWait), failed.Add(maxRateLimitWait)},
		{"a year", failed.AddDate(1, 0, 0), failed.Add(maxRateLimitWait)},
	} {
		tok := &store.Token{RotateFailedAt: failed, RateLimitedUntil: c.until}
		if got := retryAt(tok); !got.Equal(c.want) {
			t.Errorf("%s: retryAt = %v, want %v", c.name, got, c.want)
		}
	}
}
