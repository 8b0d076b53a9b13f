package lifecycle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// TestDescribe: each state of a stored credential has one level, one label
// (and --json name), one problem and one fix, whichever command asks.
func TestDescribe(t *testing.T) {
	const expires = "2026-04-01"
	exp := midnight(expires)
	dueAt := exp.Add(-30 * day)
	notDue := exp.Add(-77 * day)
	due := dueAt.Add(time.Hour)
	token := func(mod func(*store.Token)) *store.Record {
		rec := &store.Record{Protocol: "https", Host: "gitlab.example.com", Username: "alice", Backend: "keyring",
			Token: &store.Token{ID: 1, Name: "laptop", ExpiresAt: expires, Scopes: []string{"read_repository", "write_repository", "self_rotate"}}}
		if mod != nil {
			mod(rec.Token)
		}
		return rec
	}
	oauthRec := func(mod func(*store.OAuth)) *store.Record {
		rec := &store.Record{Protocol: "https", Host: "gitlab.example.com", Username: "oauth2", Backend: "keyring",
			ExpiryUTC: due.Add(2 * time.Hour).Unix(), OAuth: &store.OAuth{Scopes: []string{"write_repository"}}}
		if mod != nil {
			mod(rec.OAuth)
		}
		return rec
	}
	login := "git-credential-glpat login gitlab.example.com --username alice"
	for _, tc := range []struct {
		name    string
		rec     *store.Record
		now     time.Time
		auto    bool // auto_rotate
		found   Found
		level   Level
		label   string
		problem string // in the problem (or the note, for OK)
		fix     string // in the fix
	}{
		{"ok", token(nil), notDue, true, Found{}, OK, "ok", "", ""},
		{"plain", &store.Record{Protocol: "https", Host: "example.org", Username: "bob", Backend: "keyring"}, notDue, true, Found{}, OK, "plain", "", ""},
		{"cannot rotate itself, not due: a note", token(func(t *store.Token) { t.Scopes = []string{"write_repository"} }), notDue, true, Found{}, OK, "ok", "cannot rotate itself", ""},
		{"cannot rotate itself, due", token(func(t *store.Token) { t.Scopes = []string{"write_repository"} }), due, true, Found{}, Warning, "can't rotate", "cannot rotate itself", login},
		{"due, rotated by the next git command", token(nil), due, true, Found{}, OK, "rotation due", "next git command", ""},
		{"due, auto_rotate off", token(nil), due, false, Found{}, Warning, "rotation due", "auto_rotate is off", "rotate gitlab.example.com"},
		{"no self-rotation, due", token(func(t *store.Token) {
			t.NoSelfRotation, t.GitLabVersion, t.NoSelfRotationAt = store.NoSelfRotateEndpoint, "16.9.1", due.Add(-day)
		}), due, true, Found{}, Warning, "no self-rotation", "this GitLab (16.9.1) cannot rotate tokens itself", login},
		{"no self-rotation, not due: a note", token(func(t *store.Token) {
			t.NoSelfRotation, t.NoSelfRotationAt = store.LegacyRotationDisabled, notDue.Add(-day)
		}), notDue, true, Found{}, OK, "ok", "disabled the rotation of legacy", ""},
		{"rotation failed", token(func(t *store.Token) { t.RotateFailedAt, t.RotateError = due.Add(-time.Minute), "gitlab: 502" }), due, true, Found{}, Warning, "rotation failed", "the last rotation failed: gitlab: 502", "rotate gitlab.example.com"},
		{"unverified", token(func(t *store.Token) { t.Unverified = true }), notDue, true, Found{}, Warning, "unverified", "not checked yet", "status gitlab.example.com"},
		{"held back", token(func(t *store.Token) { t.GitRefusedAt = notDue.Add(-time.Minute) }), notDue, true, Found{}, Warning, "held back", "refused the token", "repository's URL"},
		{"fetch only: a note", token(func(t *store.Token) { t.Scopes = []string{"read_repository", "self_rotate"} }), notDue, true, Found{}, OK, "ok", "fetch only", ""},
		{"no git access", token(func(t *store.Token) { t.Scopes = []string{"read_user", "self_rotate"} }), notDue, true, Found{}, ActionNeeded, "no git access", "do not let git fetch or push", login},
		{"expired by its date", token(nil), exp, true, Found{}, ActionNeeded, "expired", "expired on 2026-04-01", login},
		{"GitLab says expired", token(func(t *store.Token) { t.Dead = store.DeadExpired }), notDue, true, Found{}, ActionNeeded, "expired", "GitLab says the token has expired", login},
		{"GitLab says revoked", token(func(t *store.Token) { t.Dead = store.DeadRevoked }), notDue, true, Found{}, ActionNeeded, "revoked", "GitLab says the token was revoked", login},
		{"GitLab refuses it", token(func(t *store.Token) { t.Dead = store.DeadRefused }), notDue, true, Found{}, ActionNeeded, "revoked", "GitLab no longer accepts the token", login},
		{"rotation answer lost", token(func(t *store.Token) { t.Dead = store.DeadAnswerLost }), notDue, true, Found{}, ActionNeeded, "revoked", "whose answer was lost", login},
		{"a newer helper's reason", token(func(t *store.Token) { t.Dead = "a-reason-of-format-9" }), notDue, true, Found{}, ActionNeeded, "revoked", "GitLab no longer accepts the token", login},
		{"stored elsewhere", func() *store.Record { r := token(nil); r.Backend = "kernel"; return r }(), notDue, true, Found{}, ActionNeeded, "elsewhere", "stored in the kernel backend, but the config names keyring", "migrate --to keyring"},
		{"secrets locked", token(nil), notDue, true, Found{SecretErr: fmt.Errorf("keychain: %w", secrets.ErrLocked)}, ActionNeeded, "locked", "git gets nothing", "unlock"},
		{"plain, secrets locked", &store.Record{Protocol: "https", Host: "example.org", Username: "bob", Backend: "keyring"}, notDue, true, Found{SecretErr: secrets.ErrLocked}, ActionNeeded, "locked", "git gets nothing", "unlock"},
		{"secret missing", token(nil), notDue, true, Found{SecretErr: secrets.ErrNotFound}, ActionNeeded, "missing", "missing from the backend", login},
		{"plain, secret missing", &store.Record{Protocol: "https", Host: "example.org", Username: "bob", Backend: "keyring"}, notDue, true, Found{SecretErr: secrets.ErrNotFound}, ActionNeeded, "missing", "missing from the backend", "store it again"},
		{"OAuth, secret missing", oauthRec(nil), due, true, Found{SecretErr: secrets.ErrNotFound}, ActionNeeded, "missing", "missing from the backend", "login gitlab.example.com --username oauth2 --oauth"},
		{"secret unreadable", token(nil), notDue, true, Found{SecretErr: errors.New("keychain: timed out")}, ActionNeeded, "unreadable", "timed out", "doctor"},
		{"OAuth", oauthRec(nil), due, true, Found{}, OK, "ok", "", ""},
		{"OAuth refresh due", oauthRec(nil), due.Add(2*time.Hour - time.Minute), true, Found{}, OK, "ok", "due for a refresh", ""},
		{"OAuth login ended", oauthRec(func(o *store.OAuth) { o.Dead = store.DeadRefused }), due, true, Found{}, ActionNeeded, "revoked", "the OAuth login has ended", "login gitlab.example.com --username oauth2 --oauth"},
		{"OAuth refresh failed", oauthRec(func(o *store.OAuth) { o.RefreshFailedAt, o.RefreshError = due.Add(-time.Minute), "gitlab: 502" }), due, true, Found{}, Warning, "refresh failed", "gitlab: 502", "rotate gitlab.example.com --force"},
		{"OAuth access token refused", oauthRec(nil), due, true, Found{AccessRefused: true}, Warning, "refused", "no longer accepts its access token", "rotate gitlab.example.com --force"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := &Manager{
				Store:    &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(dir, "index"), Backend: "keyring"},
				StateDir: dir,
				Settings: func(*store.Record) Settings {
					return Settings{RotateBefore: 30 * day, Lifetime: 90 * day, AutoRotate: tc.auto, OAuthClientID: "app"}
				},
			}
			v := m.Describe(tc.rec, m.StateAt(tc.rec, tc.now), tc.found, tc.now)
			said := v.Problem
			if tc.level == OK {
				said = v.Note
				if v.Problem != "" || v.Fix != "" {
					t.Errorf("an OK verdict has problem %q, fix %q", v.Problem, v.Fix)
				}
			}
			if v.Level != tc.level || v.Label != tc.label || v.Name != jsonName(tc.label) ||
				!strings.Contains(said, tc.problem) || (tc.problem == "" && said != "") || !strings.Contains(v.Fix, tc.fix) {
				t.Errorf("got %v %q (%q): %q; fix %q\nwant %v %q: %q; fix %q", v.Level, v.Label, v.Name, said, v.Fix, tc.level, tc.label, tc.problem, tc.fix)
			}
			if tc.level != OK && (v.Problem == "" || v.Fix == "") {
				t.Errorf("a %v verdict without a problem or a fix: %+v", v.Level, v)
			}
		})
	}
}

// TestDescribeRecoveryFile: a token waiting in the recovery file needs a
// person (unless it is the stored token itself: a copy a rotation left,
// worth a note); a rotation whose outcome is not known needs none, the
// helper settles it.
func TestDescribeRecoveryFile(t *testing.T) {
	dir := t.TempDir()
	m := &Manager{Store: &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(dir, "index"), Backend: "keyring"}, StateDir: dir}
	rec := &store.Record{Account: "https://alice@gitlab.example.com", Protocol: "https", Host: "gitlab.example.com", Username: "alice", Backend: "keyring",
		Token: &store.Token{ID: 1, ExpiresAt: "2026-04-01", Scopes: []string{"write_repository", "self_rotate"}}}
	now := midnight("2026-01-01")
	file := m.path("recovery", rec.Account, ".token")
	os.MkdirAll(filepath.Dir(file), 0o700)
	os.WriteFile(file, []byte("glpat-successor\n"), 0o600)

	for _, tc := range []struct {
		name   string
		stored string // the secret read, "" when not read
		level  Level
		label  string
	}{
		{"another token", "glpat-stored", ActionNeeded, "recovery file"},
		{"secret not read", "", ActionNeeded, "recovery file"},
		{"the stored token itself", "glpat-successor", OK, "ok"},
	} {
		var found Found
		if tc.stored != "" {
			found.Secret = &store.Secret{Password: tc.stored}
		}
		v := m.Describe(rec, m.StateAt(rec, now), found, now)
		if v.Level != tc.level || v.Label != tc.label || !strings.Contains(v.Problem+v.Note, file) {
			t.Errorf("%s: got %v %q %q %q; want %v %q naming %s", tc.name, v.Level, v.Label, v.Problem, v.Note, tc.level, tc.label, file)
		}
	}

	os.Remove(file)
	os.MkdirAll(m.dir("rotation"), 0o700)
	if err := m.writeJournal(rec.Account, journal{OldTokenID: 1, StartedAt: now.Add(-time.Minute), Host: rec.Host}); err != nil {
		t.Fatal(err)
	}
	rec.Token.Dead = store.DeadRevoked
	if v := m.Describe(rec, m.StateAt(rec, now), Found{}, now); v.Level != OK || v.Label != "outcome unknown" || !strings.Contains(v.Note, "may still be in progress") {
		t.Errorf("an unfinished rotation: %+v; want OK, outcome unknown", v)
	}
}

// TestGetSaysWhatStatusSays: get's line for a token it refuses is the
// verdict every command gives: the problem and the fix.
func TestGetSaysWhatStatusSays(t *testing.T) {
	dir := t.TempDir()
	var said []string
	m := &Manager{Store: &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(dir, "index"), Backend: "keyring"}, StateDir: dir,
		Warn: func(f string, a ...any) { said = append(said, fmt.Sprintf(f, a...)) }}
	now := midnight("2026-01-01")
	m.Store.Clock = func() time.Time { return now }
	for _, dead := range []store.Dead{store.DeadExpired, store.DeadRevoked, store.DeadRefused, store.DeadAnswerLost} {
		said = nil
		rec := &store.Record{Account: "https://alice@gitlab.example.com", Protocol: "https", Host: "gitlab.example.com", Username: "alice", Backend: "keyring",
			Token: &store.Token{ID: 1, ExpiresAt: "2026-04-01", Scopes: []string{"self_rotate"}, Dead: dead}}
		if !m.Refuses(rec, "") {
			t.Fatalf("%s: not refused", dead)
		}
		v := m.Describe(rec, m.StateAt(rec, now), Found{}, now)
		if want := "gitlab.example.com (alice): " + v.Line(); len(said) != 1 || said[0] != want {
			t.Errorf("%s: get said %q, want %q", dead, said, want)
		}
	}
}

// jsonName is the --json name of the state status's table calls label.
func jsonName(label string) string {
	if label == "can't rotate" {
		return "cannot_rotate"
	}
	return strings.NewReplacer(" ", "_", "-", "_").Replace(label)
}
