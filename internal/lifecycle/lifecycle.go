// Package lifecycle keeps managed GitLab tokens alive: it decides when a
// token is due for rotation, rotates it at most once across every process of
// the user, and never hands Git a token that GitLab has stopped accepting.
package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// Refuses is the first question of every get for a managed token: it
// reports (and, for a dead token, tells the person) that rec's token will
// not be handed to Git now. A token is refused when it is dead or expired
// with no unfinished rotation that might still produce a successor, or
// when it is held back after Git's server refused it (see GitRefused). It
// reads no secret and no config, so a get for a token that would be
// refused costs no keychain call (nor an unlock prompt). The rule is
// refusal's, in state.go; Serve answers what it lets through. path is the
// repository Git asks for (with credential.useHttpPath), "" when not known:
// a bot's token may be held back from one repository alone.
func (m *Manager) Refuses(rec *store.Record, path string) bool {
	if rec.Token == nil {
		return false
	}
	now := m.now()
	if !m.pending(rec.Account) && m.dead(rec, now) {
		return true
	}
	return heldBack(rec, now) || IsHeldBackFrom(rec, path, now)
}

// Rotation is what Serve, Rotate, ServeOAuth or RefreshOAuth came to: the
// credential as stored now with the secret to hand to Git, or why there is
// none.
type Rotation struct {
	Record *store.Record
	Secret *store.Secret
	// Refused says why there is no secret to hand to Git; Record and
	// Secret are nil then.
	Refused Refusal
}

// Refusal is why a Rotation has no secret for Git.
type Refusal int

const (
	// NotRefused: Record and Secret are what Git gets.
	NotRefused Refusal = iota
	// RefusedDead: the token (or OAuth login) is dead, and the person
	// was told what to run.
	RefusedDead
	// RefusedGone: the credential was logged out, or stored anew as a
	// plain one, meanwhile.
	RefusedGone
	// RefusedForNow: an OAuth access token expired and could not be
	// refreshed now (GitLab not reached, its answer not known yet); the
	// person was told, and a later command tries again.
	RefusedForNow
)

// Dead reports whether the rotation found the credential dead.
func (r Rotation) Dead() bool { return r.Refused == RefusedDead }

func served(rec *store.Record, sec *store.Secret) Rotation { return Rotation{Record: rec, Secret: sec} }
func dead() Rotation                                       { return Rotation{Refused: RefusedDead} }
func gone() Rotation                                       { return Rotation{Refused: RefusedGone} }
func unavailable() Rotation                                { return Rotation{Refused: RefusedForNow} }

// Serve decides what get answers for a managed credential: the stored token,
// a freshly rotated one, or nothing (rec == nil) when the token is dead. It
// rotates only when the token is due and auto_rotate is on. Errors are for
// faults of the local machine (keychain); GitLab's faults are warnings, and
// the still valid token is returned.
func (m *Manager) Serve(ctx context.Context, rec *store.Record, sec *store.Secret) (Rotation, error) {
	now := m.now()
	if rec.Token.Unverified {
		if rec = m.verify(ctx, ctx, rec, sec, now); rec.Token == nil {
			return served(rec, sec), nil // a plain credential after all
		}
	}
	// A rotation that a process left unfinished is settled first, due or
	// not: GitLab may have revoked the stored token already, and the new
	// one may be waiting in the recovery file.
	// While GitLab may still be acting on a rotate request, every call
	// checks that the stored token is still accepted before serving it.
	pending := m.pending(rec.Account)
	if pending && (!backingOff(rec, now) || (lastCheckAnswered(rec) && m.unsettled(rec.Account, now))) {
		return m.rotate(ctx, rec, sec, m.autoRotation)
	}
	if m.dead(rec, now) {
		return dead(), nil
	}
	s := m.settings(rec)
	st := assess(rec, s, pending, false, now)
	if rec.Token.GitUnusable() {
		// GitLab answers git with 403 for it, and git does not tell its
		// helpers about a 403 (http.c rejects a credential on 401 only):
		// only here can the person learn why.
		m.warnState(ctx, rec, st, sec, now)
	}
	if !s.AutoRotate || !st.Due {
		return served(rec, sec), nil
	}
	if !st.CanRotate || st.State == NoSelfRotation {
		// It stops working unless a person acts: said once a day.
		m.warnState(ctx, rec, st, sec, now)
		return served(rec, sec), nil
	}
	if !st.RetryAt.IsZero() || recentlyRotated(rec, now) {
		return served(rec, sec), nil
	}
	return m.rotate(ctx, rec, sec, m.autoRotation)
}

const (
	// maxLifetime is GitLab's cap on a token's expiry: at most 365 days
	// ahead (https://docs.gitlab.com/api/personal_access_tokens/#rotate-a-personal-access-token).
	maxLifetime = time.Duration(config.MaxLifetime)
	// retryAfter keeps a GitLab that is down (or a token that cannot
	// rotate) from being asked again on every git command.
	retryAfter = 15 * time.Minute
	// warnEvery repeats a warning that needs no new action at most this
	// often; IDEs run git many times a minute.
	warnEvery = 24 * time.Hour
	// defaultLockWait bounds how long a process waits for another one that
	// is rotating the same token. A rotation is two API calls.
	defaultLockWait = 45 * time.Second
	// defaultAPITimeout bounds each API call during a rotation.
	defaultAPITimeout = 15 * time.Second
	// settleAfter is how long after a rotate request was sent GitLab may
	// still be acting on it, so that its outcome stays unknown. GitLab's
	// longest handling of a request is bounded by Rack::Timeout
	// (config/initializers/rack_timeout.rb): a request may wait in Puma's
	// queue up to wait_timeout (GITLAB_RAILS_WAIT_TIMEOUT, 90 s) and then
	// run up to service_timeout (GITLAB_RAILS_RACK_TIMEOUT, 60 s), 150 s in
	// all, 210 s with rack-timeout's default wait_overtime (60 s) for a
	// request with a body; Puma does not stop a request whose client went
	// away. 5 minutes covers that with room for a transaction that commits
	// as the timeout fires and a server that raised the settings a little.
	settleAfter = 5 * time.Minute
	// recheckNoSelfRotation is how long a GitLab without a self-rotate
	// endpoint is left alone before it is asked again (it may have been
	// upgraded meanwhile).
	recheckNoSelfRotation = 7 * 24 * time.Hour
	// minRotationInterval keeps get from rotating a token it rotated less
	// than this ago: when an instance caps lifetime at or below
	// rotate_before, every new token would be due at once.
	minRotationInterval = 24 * time.Hour
	// maxStateFile bounds a journal or recovery file read; the helper
	// writes a few hundred bytes.
	maxStateFile = 64 << 10
)

// Settings are the rotation settings of one host, from the config.
type Settings struct {
	RotateBefore time.Duration
	Lifetime     time.Duration
	AutoRotate   bool
	// CAFile is an extra CA for the API's TLS.
	CAFile string
	// OAuthClientID is the OAuth application that refreshes the host's
	// OAuth credentials (oauth.go).
	OAuthClientID string
}

// HostSettings are the rotation settings the config gives a host.
func HostSettings(hc config.HostConfig) Settings {
	return Settings{
		RotateBefore: time.Duration(hc.RotateBefore),
		Lifetime:     time.Duration(hc.Lifetime),
		AutoRotate:   hc.AutoRotate,
		CAFile:       hc.CAFile,
		// OAuth credentials: oauth.go.
		OAuthClientID: hc.OAuthClientID,
	}
}

// API is the part of gitlabapi.Client the lifecycle needs.
type API interface {
	Self(ctx context.Context, token string) (*gitlabapi.Token, error)
	Rotate(ctx context.Context, token, kind string, ownerID int64, expiresAt time.Time) (*gitlabapi.Token, error)
	// CurrentUser is the second opinion on a bare 401 (see ask).
	CurrentUser(ctx context.Context, token string) (*gitlabapi.User, error)
}

// Manager rotates and checks managed tokens. All fields but Store and
// StateDir have defaults.
type Manager struct {
	Store *store.Store
	// StateDir holds the rotation locks, journals and recovery files.
	StateDir string
	// Settings returns the settings for a record's host.
	Settings func(rec *store.Record) Settings
	// NewAPI returns a client for an API base URL.
	NewAPI func(apiURL, caFile string) (API, error)
	// Warn tells a person something they must act on, one line, no prefix.
	Warn       func(format string, args ...any)
	LockWait   time.Duration
	APITimeout time.Duration
	// NewOAuth returns a client of GitLab's OAuth provider (oauth.go); nil
	// means oauth.New.
	NewOAuth func(apiURL, caFile, clientID string) (OAuthAPI, error)
	// Hook, when set, is called at the named points of a rotation
	// ("before-rotate", "after-answer", "after-store"); crash tests use it
	// to kill the process exactly there.
	Hook func(point string)
}

// now is the time by the store's clock, the one clock (store.Store.Clock).
func (m *Manager) now() time.Time { return m.Store.Now() }

func (m *Manager) warn(format string, args ...any) {
	if m.Warn != nil {
		m.Warn(format, args...)
	}
}

func (m *Manager) hook(point string) {
	if m.Hook != nil {
		m.Hook(point)
	}
}

func (m *Manager) settings(rec *store.Record) Settings {
	if m.Settings != nil {
		return m.Settings(rec)
	}
	// The config's defaults, for a Manager built without a config.
	return HostSettings(config.Default().Host(rec.Host))
}

func (m *Manager) api(rec *store.Record) (API, error) {
	if m.NewAPI != nil {
		return m.NewAPI(rec.Token.APIURL, m.settings(rec).CAFile)
	}
	c, err := gitlabapi.New(rec.Token.APIURL, m.settings(rec).CAFile)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (m *Manager) apiContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := m.APITimeout
	if d == 0 {
		d = defaultAPITimeout
	}
	return context.WithTimeout(ctx, d)
}

// Due reports whether rec's token should be rotated now: it expires in less
// than RotateBefore. Tokens without expiry are never due.
func Due(rec *store.Record, s Settings, now time.Time) bool {
	exp, ok := rec.Token.Expiry()
	return ok && exp.Sub(now) < s.RotateBefore
}

// recentlyRotated reports whether this helper rotated rec's token less
// than minRotationInterval ago.
func recentlyRotated(rec *store.Record, now time.Time) bool {
	return !rec.Token.RotatedAt.IsZero() && now.Sub(rec.Token.RotatedAt) < minRotationInterval
}

// noSelfRotation reports whether rec's GitLab was found to have no
// self-rotate endpoint less than recheckNoSelfRotation ago.
func noSelfRotation(rec *store.Record, now time.Time) bool {
	return rec.Token.NoSelfRotation != "" && now.Sub(rec.Token.NoSelfRotationAt) < recheckNoSelfRotation
}

// unsettled reports whether a rotation of account's token is pending and
// GitLab may still be acting on its request.
func (m *Manager) unsettled(account string, now time.Time) bool {
	j, ok := m.readJournal(account)
	return ok && now.Before(settled(j))
}

// settled is when GitLab can no longer be acting on the rotate request of
// j. A damaged journal (no start time) is settled: the process that wrote
// it is long gone or it would not be damaged.
func settled(j journal) time.Time {
	if j.StartedAt.IsZero() {
		return time.Time{}
	}
	return j.StartedAt.Add(settleAfter)
}

// autoRotation reports whether get should rotate rec now. It is asked
// again under the rotation lock, of the record as stored then: a process
// that waited for the lock must not repeat an attempt that just failed.
func (m *Manager) autoRotation(rec *store.Record, now time.Time) bool {
	s := m.settings(rec)
	return s.AutoRotate && Due(rec, s, now) && rec.Token.CanRotateItself() && !backingOff(rec, now) && !noSelfRotation(rec, now) && !recentlyRotated(rec, now)
}

// backingOff reports whether the last rotation of rec failed less than
// retryAfter ago, or GitLab's rate limiter said to wait longer.
func backingOff(rec *store.Record, now time.Time) bool {
	return !retryAt(rec.Token).IsZero() && now.Before(retryAt(rec.Token))
}

// retryAt is when the back-off after tok's last failed rotation ends:
// retryAfter after it, or when GitLab's rate limiter said, whichever is
// later; zero when no rotation failed.
func retryAt(tok *store.Token) time.Time {
	if tok.RotateFailedAt.IsZero() {
		return time.Time{}
	}
	at := tok.RotateFailedAt.Add(retryAfter)
	if tok.RateLimitedUntil.After(at) {
		at = tok.RateLimitedUntil
	}
	// The index is a cache: a wait longer than GitLab's answer could have
	// set (gitlabapi bounds it to a week) is not kept, so a planted or
	// damaged record cannot stop rotation for good.
	if limit := tok.RotateFailedAt.Add(maxRateLimitWait); at.After(limit) {
		at = limit
	}
	return at
}

// maxRateLimitWait is the longest back-off a rate limit keeps: gitlabapi
// bounds Retry-After and RateLimit-Reset to a week from the answer.
const maxRateLimitWait = 7 * 24 * time.Hour

// dead reports (and tells the person, once per call) whether the token
// must not be handed to Git.
func (m *Manager) dead(rec *store.Record, now time.Time) bool {
	if st := refusal(rec, now); st.State != Expired && st.State != Revoked {
		return false
	}
	m.warnDead(rec, now)
	return true
}

// verify checks a credential that was stored as a token while GitLab could
// not confirm it, at most once per retryAfter, asking GitLab under apiCtx.
// It returns the record as stored now: a token, or a plain credential
// (Token nil) once GitLab has shown it does not know it as a token.
func (m *Manager) verify(ctx, apiCtx context.Context, rec *store.Record, sec *store.Secret, now time.Time) *store.Record {
	if now.Sub(rec.Token.CheckedAt) < retryAfter {
		return rec
	}
	api, err := m.api(rec)
	if err != nil {
		return rec
	}
	asked, info, err := m.ask(apiCtx, api, rec, sec.Password)
	upd, tok := copyRecord(asked)
	// The answer's time, not the call's: a slow GitLab must not shorten
	// the wait before the next check.
	tok.CheckedAt = m.now().UTC()
	if errors.Is(err, gitlabapi.ErrNotFound) && tok.CheckedAt.Sub(rec.Token.WarnedAt) >= warnEvery {
		m.warn("checking the token for %s: %v", hostOf(rec), explain(rec, err))
		tok.WarnedAt = tok.CheckedAt
	}
	switch {
	case err == nil:
		applyInfo(tok, info)
		tok.Unverified = false
		upd.ExpiryUTC = expiryUnix(tok)
		upd.SetDigest(sec.Password) // GitLab has confirmed it is a token
	case errors.Is(err, errNotAToken):
		// Never confirmed, and GitLab does not know it as a token: a
		// password typed for a configured host (GitLab answers one as it
		// answers any unknown token). It works for Git as what it is.
		upd.Token = nil
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		markDead(tok, err, tok.CheckedAt)
	default:
		// Still unknown; try again later.
	}
	m.Store.UpdateRecord(ctx, upd)
	return upd
}

// Rotate rotates rec's token now. With force it rotates even when the token
// is not due. It is safe to call from many processes at once: one rotates,
// the others wait and return what it stored.
func (m *Manager) Rotate(ctx context.Context, rec *store.Record, sec *store.Secret, force bool) (Rotation, error) {
	return m.rotate(ctx, rec, sec, func(cur *store.Record, now time.Time) bool {
		return force || Due(cur, m.settings(cur), now)
	})
}

// rotate rotates rec's token under the rotation lock if want says so of
// the record as stored once the lock is held, and finishes an unfinished
// rotation whatever want says.
func (m *Manager) rotate(ctx context.Context, rec *store.Record, sec *store.Secret, want func(*store.Record, time.Time) bool) (Rotation, error) {
	if err := m.Store.Writable(rec.Protocol, rec.Host); err != nil {
		// A newer helper's index: nothing a rotation must record could be
		// written, and the new token would reach the recovery file alone.
		if m.dead(rec, m.now()) {
			return dead(), nil
		}
		m.warn("cannot rotate the token for %s: %v; upgrade git-credential-glpat (the token is served as it is and expires %s)", hostOf(rec), err, expiryText(rec))
		return served(rec, sec), nil
	}
	lockWait := m.LockWait
	if lockWait == 0 {
		lockWait = defaultLockWait
	}
	if err := os.MkdirAll(m.dir("rotation"), 0o700); err != nil {
		return m.cannotJournal(ctx, rec, sec, err)
	}
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	lock, err := filelock.Acquire(lctx, m.lockPath(rec))
	timedOut := lctx.Err() != nil
	cancel()
	if err != nil && !timedOut && ctx.Err() == nil {
		// Not a wait that ran out: the lock file cannot be made (a
		// read-only or full state directory).
		return m.cannotJournal(ctx, rec, sec, err)
	}
	if err != nil {
		// Another process has been rotating for too long. Serve what
		// the store holds now: the new token if it got that far.
		cur, curSec, lerr := m.Store.Lookup(ctx, rec.Protocol, rec.Host, rec.Account)
		if lerr != nil || cur == nil || cur.Token == nil {
			return served(rec, sec), nil
		}
		if m.dead(cur, m.now()) {
			return dead(), nil
		}
		return served(cur, curSec), nil
	}
	defer lock.Unlock()

	// Under the lock, the store is the truth: another process may have
	// rotated, failed to rotate, or found the token dead while this one
	// waited.
	cur, curSec, err := m.Store.Lookup(ctx, rec.Protocol, rec.Host, rec.Account)
	if err != nil {
		return Rotation{}, err
	}
	if cur == nil || cur.Token == nil {
		return gone(), nil // logged out meanwhile
	}
	// A store torn between the backend and the index (killed, or a full
	// disk) leaves a record that does not describe the secret: work from
	// the one that does, whose token GitLab is asked about below.
	cur = m.Store.Reconciled(ctx, cur, curSec)
	now := m.now()
	// A journal left by a process that died mid-rotation: find out whether
	// GitLab rotated before sending this token again. Rotating with an
	// already rotated token revokes the whole family.
	j, pending := m.readJournal(cur.Account)
	if pending && journalFinished(cur, j) {
		// The process died after storing the new token: nothing to do
		// but tidy up.
		m.Tidy(cur, curSec)
		pending = false
	}
	if !pending {
		if m.dead(cur, now) {
			return dead(), nil
		}
		if superseded(rec, sec, cur, curSec) {
			// Rotated by another process (or a new login, or Git's
			// store) since the caller read it; even a forced rotation
			// has happened then.
			return served(cur, curSec), nil
		}
		if !want(cur, now) {
			return served(cur, curSec), nil
		}
	}
	rec, sec = cur, curSec

	api, err := m.api(rec)
	if err != nil {
		// A config problem (a bad ca_file, say) is no reason to keep a
		// valid token from Git.
		m.saveFailure(ctx, rec, err)
		return served(rec, sec), nil
	}
	if pending {
		return m.recover(ctx, api, rec, sec, j, want)
	}
	return m.rotateLocked(ctx, api, rec, sec, nil)
}

// superseded reports whether the credential the caller read (rec and its
// secret sec) is no longer the stored one (cur and curSec, read under the
// rotation lock): stored anew since (rotated by another process, a login,
// Git's store), or never one store to begin with (the caller read the
// record, another process stored, then the caller read the secret, as
// rotate --all does for each record of the index it listed). Either way the
// caller's decision was about another generation than the stored one. A
// generation is named by when it was stored, as the backend says (the
// secret's envelope), not the index.
func superseded(rec *store.Record, sec *store.Secret, cur *store.Record, curSec *store.Secret) bool {
	return sec.Password != curSec.Password || !rec.StoredAt.Equal(generation(cur, curSec))
}

// generation is when the secret sec was stored: its envelope says; one of
// an earlier version (no time in it) goes by its record rec.
func generation(rec *store.Record, sec *store.Secret) time.Time {
	if !sec.StoredAt.IsZero() {
		return sec.StoredAt
	}
	return rec.StoredAt
}

// storedSince re-reads the store after a slow call made under the rotation
// lock and reports whether rec's credential was stored anew since it was
// read as rec and sec (or its rotation started elsewhere), with what is
// stored now.
func (m *Manager) storedSince(ctx context.Context, rec *store.Record, sec *store.Secret) (now time.Time, changed bool, cur *store.Record, curSec *store.Secret) {
	cur, curSec, err := m.Store.Lookup(ctx, rec.Protocol, rec.Host, rec.Account)
	now = m.now()
	switch {
	case err != nil:
		// The backend cannot say what it holds now (locked, gone): no
		// rotation on a guess; the token read before is still served.
		return now, true, rec, sec
	case cur == nil || cur.Token == nil:
		return now, true, nil, nil // logged out meanwhile
	case superseded(rec, sec, cur, curSec):
		return now, true, m.Store.Reconciled(ctx, cur, curSec), curSec
	}
	if _, pending := m.readJournal(rec.Account); pending {
		// Only a helper that does not take this lock (an earlier
		// version, during an upgrade) can have started one.
		return now, true, cur, curSec
	}
	return now, false, nil, nil
}

// refreshed brings rec up to date with GitLab's answer (info) about the
// token stored with it (sec), and returns it.
func (m *Manager) refreshed(ctx context.Context, rec *store.Record, sec *store.Secret, info *gitlabapi.Token) *store.Record {
	upd, tok := copyRecord(rec)
	applyInfo(tok, info)
	tok.Unverified = false
	tok.CheckedAt = m.now().UTC()
	tok.RotateFailedAt, tok.RotateError, tok.Dead, tok.WarnedAt = time.Time{}, "", "", time.Time{}
	upd.ExpiryUTC = expiryUnix(tok)
	upd.SetDigest(sec.Password) // GitLab has confirmed it is a token
	m.Store.UpdateRecord(ctx, upd)
	return upd
}

// cannotJournal serves rec's token when the state directory cannot take
// the rotation journal (read-only, full): a rotation that cannot be
// journaled is not crash safe, so none is attempted, and a valid token is
// never withheld for it.
func (m *Manager) cannotJournal(ctx context.Context, rec *store.Record, sec *store.Secret, cause error) (Rotation, error) {
	now := m.now()
	if m.dead(rec, now) {
		return dead(), nil
	}
	// Back off as after a failed attempt, so that no call asks GitLab
	// again for a while, and warn once a day (both when the index can
	// still be written; it may live elsewhere).
	upd, tok := copyRecord(rec)
	tok.RotateFailedAt = now.UTC()
	tok.RotateError = "the state directory cannot be written: " + cause.Error()
	if now.Sub(rec.Token.WarnedAt) >= warnEvery {
		m.warn("cannot rotate the token for %s: the state directory %s cannot be written (%v); the token is served as it is and expires %s",
			hostOf(rec), m.StateDir, cause, expiryText(rec))
		tok.WarnedAt = now.UTC()
	}
	m.Store.UpdateRecord(ctx, upd)
	return served(upd, sec), nil
}

// explain adds what to do to an error of GET .../self: a 404 there means
// the API URL is wrong (GitLab has had the endpoint since 15.5), typically
// a GitLab served under a path, whose API URL cannot be derived.
func explain(rec *store.Record, err error) error {
	if errors.Is(err, gitlabapi.ErrNotFound) {
		return fmt.Errorf("%w; %s is not GitLab's API here: if GitLab is served under a path, set api_url (such as \"https://%s/gitlab/api/v4\") under [hosts.%q] in the config", err, rec.Token.APIURL, rec.Host, rec.Host)
	}
	return err
}

// rotateLocked checks rec's token (unless info already holds GitLab's
// answer about it) and rotates it.
func (m *Manager) rotateLocked(ctx context.Context, api API, rec *store.Record, sec *store.Secret, info *gitlabapi.Token) (Rotation, error) {
	now := m.now()
	before := rec
	if info == nil {
		// Check the token first: a token that answers 401 is never sent
		// to the rotate endpoint (SPEC: GitLab hosts), whatever ask
		// makes of the 401.
		var err error
		rec, info, err = m.ask(ctx, api, rec, sec.Password)
		if err != nil {
			if errors.Is(err, gitlabapi.ErrUnauthorized) {
				m.saveDead(ctx, rec, err)
				return dead(), nil
			}
			m.saveFailure(ctx, rec, explain(rec, err))
			return served(rec, sec), nil
		}
	}
	if m.siblingUnsettled(rec, info.ID, now) {
		// The same token, stored under another username or host name,
		// was sent to rotate and GitLab may still be acting on it:
		// sending it again would, once the first commits, be reuse of a
		// revoked token, which revokes the whole family. Serve it while
		// GitLab accepts it; the other record's next call settles the
		// outcome. The token is named by GitLab's answer, not by the
		// index, which may not know it yet (a token stored unverified).
		return served(m.keep(ctx, before, rec), sec), nil
	}
	if rec.Token.ID != 0 && info.ID != rec.Token.ID {
		// The stored secret is not the token the record describes (a
		// store torn between the backend and the index, a record
		// restored or planted): whether to rotate was decided from the
		// record, so nothing is sent; the record is brought up to date
		// from GitLab's answer, and the next call decides from it.
		return served(m.refreshed(ctx, rec, sec, info), sec), nil
	}
	// The check may have taken long. No other rotation can have run
	// meanwhile (this process holds the rotation lock), but a login
	// or Git's store may have replaced the token: the decision to send
	// stands only for the token still stored.
	if now, changed, cur, curSec := m.storedSince(ctx, rec, sec); changed {
		if cur == nil || m.dead(cur, now) {
			return dead(), nil
		}
		return served(cur, curSec), nil
	}
	if sec.UserID == 0 && info.UserID != 0 {
		// A secret stored without its GitLab user (by an earlier version,
		// or while GitLab could not be asked): name it in the backend
		// now, before the token is revoked by its rotation, so that its
		// successor can be recognised if the keychain refuses it and it
		// waits in the recovery file (see recover). Best effort.
		if m.Store.KeepUserID(ctx, rec, sec, info.UserID) == nil {
			withUser := *sec
			withUser.UserID = info.UserID
			sec = &withUser
		}
	}
	upd, tok := copyRecord(rec)
	applyInfo(tok, info)
	if !tok.CanRotateItself() {
		m.Store.UpdateRecord(ctx, upd)
		m.warnState(ctx, upd, m.StateAt(upd, now), sec, now)
		return served(upd, sec), nil
	}

	expiresAt := newExpiry(now, m.settings(rec).Lifetime, info.Zone)
	j := journal{OldTokenID: tok.ID, StartedAt: now.UTC(), Host: rec.Host}
	if err := m.writeJournal(rec.Account, j); err != nil {
		// No journal, no rotation: it would not be crash safe.
		m.Store.UpdateRecord(ctx, upd)
		return m.cannotJournal(ctx, upd, sec, err)
	}
	return m.send(ctx, api, upd, sec, attempt{kind: tok.Kind, expiresAt: expiresAt, zone: info.Zone, journal: j, fallbacks: true})
}

// attempt is one rotate request of a rotation.
type attempt struct {
	kind      string // the endpoint: gitlabapi.KindPersonal, KindProject, KindGroup
	expiresAt time.Time
	// zone is the instance's time zone, whose today GitLab counts
	// lifetimes from (nil: UTC).
	zone    *time.Location
	journal journal
	// fallbacks allows one more request after an answer that proves
	// nothing was committed: a bot's token at the personal endpoint, or
	// the largest expiry date an instance allows.
	fallbacks bool
}

// send makes the rotate request of a and sorts out its outcome.
func (m *Manager) send(ctx context.Context, api API, rec *store.Record, sec *store.Secret, a attempt) (Rotation, error) {
	m.hook("before-rotate")
	actx, cancel := m.apiContext(ctx)
	newTok, err := api.Rotate(actx, sec.Password, a.kind, rec.Token.OwnerID, a.expiresAt)
	cancel()
	if err != nil {
		return m.rotateFailed(ctx, api, rec, sec, a, err)
	}
	return m.adopt(ctx, rec, sec, newTok)
}

// rotateFailed sorts out a failed rotate call. Only an answer that proves
// nothing was committed lets the old token be used again; otherwise the
// outcome is unknown until GitLab can no longer be acting on the request.
//
// What proves nothing was committed, in GitLab's source: every 4xx of the
// self-rotate endpoints comes from authentication (lib/api/api_guard.rb),
// Grape's parameter checks, the endpoint's own checks
// (lib/api/personal_access_tokens/self_rotation.rb,
// lib/api/resource_access_tokens/self_rotation.rb) or
// PersonalAccessTokens::RotateService, whose revoke and create share one
// transaction that a failed validation rolls back; 429 comes from the rate
// limiter before any of them.
func (m *Manager) rotateFailed(ctx context.Context, api API, rec *store.Record, sec *store.Secret, a attempt, rerr error) (Rotation, error) {
	var ae *gitlabapi.Error
	errors.As(rerr, &ae)
	switch {
	case errors.Is(rerr, gitlabapi.ErrUnauthorized):
		// invalid_token: valid a moment ago and refused now: revoked
		// meanwhile, or GitLab's reuse detection fired.
		m.removeJournal(rec.Account)
		m.saveDead(ctx, rec, rerr)
		return dead(), nil
	case errors.Is(rerr, gitlabapi.ErrRefused) || (ae != nil && ae.Status == http.StatusNotFound && !ae.MissingEndpoint()):
		// A 401 that is not about the token, or a 404 of something not
		// found: dpop_error; a project or group whose bot the token is
		// not (find_token found nothing: 401), or that it cannot see
		// (404); or the rotate-by-id routes of a GitLab without
		// self-rotation (16.0-16.9 personal, 16.0-17.8 project and
		// group), which find no token "self": 401 for a user, 404 for
		// an administrator (see gitlabtest's noTokenSelfLocked). All of
		// them refuse before RotateService. Whether GitLab takes the
		// token is for .../self to say; whether the endpoint exists, for
		// GitLab's version, never for the 401 alone (a proxy can give
		// one too).
		actx, cancel := m.apiContext(ctx)
		info, err := api.Self(actx, sec.Password)
		cancel()
		switch {
		case errors.Is(err, gitlabapi.ErrUnauthorized):
			m.removeJournal(rec.Account)
			m.saveDead(ctx, rec, err)
			return dead(), nil
		case err == nil && info != nil && a.kind != gitlabapi.KindPersonal && a.fallbacks:
			return m.fallBack(ctx, api, rec, sec, a)
		case err == nil && info != nil:
			if ver, known := m.version(ctx, api, sec); known && !selfRotationIn(ver, a.kind) {
				m.removeJournal(rec.Account)
				return m.saveNoSelfRotation(ctx, rec, sec, store.NoSelfRotateEndpoint, ver, rerr)
			}
		}
		m.removeJournal(rec.Account)
		m.saveFailure(ctx, rec, rerr)
		return served(rec, sec), nil
	case ae != nil && ae.InsufficientScope():
		m.removeJournal(rec.Account)
		upd, tok := copyRecord(rec)
		tok.CannotRotate = true
		tok.WarnedAt = m.now().UTC() // this is the warning warnOnce would give
		m.Store.UpdateRecord(ctx, upd)
		m.warn("the token for %s cannot rotate itself (%v); it keeps working until %s: create a new one with the self_rotate or api scope and run %s",
			hostOf(rec), rerr, expiryText(rec), m.LoginCommand(rec))
		return served(upd, sec), nil
	case ae != nil && ae.MissingEndpoint():
		if a.kind != gitlabapi.KindPersonal && a.fallbacks {
			return m.fallBack(ctx, api, rec, sec, a)
		}
		m.removeJournal(rec.Account)
		ver, _ := m.version(ctx, api, sec)
		return m.saveNoSelfRotation(ctx, rec, sec, store.NoSelfRotateEndpoint, ver, rerr)
	case ae != nil && ae.LegacyRotationDisabled():
		// Refused before RotateService's transaction. Not this
		// token's scopes: the instance's setting, which may change.
		m.removeJournal(rec.Account)
		return m.saveNoSelfRotation(ctx, rec, sec, store.LegacyRotationDisabled, "", rerr)
	case ae != nil && a.fallbacks && lifetimeCap(ae, a):
		return m.lifetimeCapped(ctx, api, rec, sec, a, ae)
	case errors.Is(rerr, gitlabapi.ErrUnreachable):
		// Never sent (gitlabapi tells it from "sent, no answer").
		m.removeJournal(rec.Account)
		m.saveFailure(ctx, rec, rerr)
		return served(rec, sec), nil
	case ae != nil && ae.Status >= 400 && ae.Status < 500:
		// Any other 4xx, 403 included (a blocked or locked account,
		// terms not accepted, a proxy): refused, nothing committed;
		// asked again after the back-off.
		m.removeJournal(rec.Account)
		m.saveFailure(ctx, rec, rerr)
		return served(rec, sec), nil
	}
	// No answer, a 5xx or garbage: GitLab may have rotated, or may yet.
	return m.unknown(ctx, api, rec, sec, a.journal, rerr)
}

// lifetimeCap reports whether ae, the answer to a, is a lifetime cap's
// refusal: a 400 naming one or more dates, each before the date a asked
// for (GitLab refuses expires_at only past the date it names). Words are
// not read: GitLab translates them into the user's language.
func lifetimeCap(ae *gitlabapi.Error, a attempt) bool {
	dates := ae.Dates()
	if ae.Status != http.StatusBadRequest || len(dates) == 0 {
		return false
	}
	for _, d := range dates {
		if !d.Before(a.expiresAt) {
			return false
		}
	}
	return true
}

// fallBack rotates a project or group bot's token at the personal
// self-rotate endpoint, which takes any personal access token, bots'
// included (lib/api/personal_access_tokens/self_rotation.rb), after its
// own endpoint refused without committing anything.
func (m *Manager) fallBack(ctx context.Context, api API, rec *store.Record, sec *store.Secret, a attempt) (Rotation, error) {
	a.kind, a.fallbacks = gitlabapi.KindPersonal, false
	return m.send(ctx, api, rec, sec, a)
}

// lifetimeCapped handles 400 "Expiration date must be before D": an
// instance (or group) lifetime policy refused the date, and the model's
// validation rolled the transaction back
// (app/models/personal_access_token.rb). If the old token is still active,
// it rotates once more with the earliest date the answer names, which
// GitLab allows (it refuses only a date after it), and tells the person
// what to set. The days are counted from the instance's today, as GitLab
// counts them; the date GitLab named is what is sent, whatever the clocks
// say.
func (m *Manager) lifetimeCapped(ctx context.Context, api API, rec *store.Record, sec *store.Secret, a attempt, ae *gitlabapi.Error) (Rotation, error) {
	latest, _ := ae.MaxExpiry()
	days := int(latest.Sub(civilToday(m.now(), a.zone)) / (24 * time.Hour))
	actx, cancel := m.apiContext(ctx)
	_, err := api.Self(actx, sec.Password)
	cancel()
	switch {
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		m.removeJournal(rec.Account)
		m.saveDead(ctx, rec, err)
		return dead(), nil
	case err != nil || days < 1:
		m.removeJournal(rec.Account)
		m.saveFailure(ctx, rec, ae)
		return served(rec, sec), nil
	}
	a.expiresAt, a.fallbacks = latest, false
	rot, rerr := m.send(ctx, api, rec, sec, a)
	if rot.Secret != nil && rot.Secret.Password != sec.Password {
		also := ""
		if s := m.settings(rec); s.RotateBefore >= time.Duration(days)*24*time.Hour {
			// Otherwise the new token is due at once, and every call
			// would rotate it.
			also = fmt.Sprintf(" and rotate_before below it (now %s), or the token is due again at once", fmt.Sprintf("%dd", int(s.RotateBefore.Hours()/24)))
		}
		m.warn("GitLab at %s allows tokens of at most %d days (until %s); the token for %s was rotated to expire then: set lifetime = \"%dd\"%s under [hosts.%q] in the config",
			rec.Token.APIURL, days, latest.Format(time.DateOnly), hostOf(rec), days, also, rec.Host)
	}
	return rot, rerr
}

// saveNoSelfRotation records why this GitLab cannot rotate the token
// itself (its self-rotate endpoint is missing, or it refuses to rotate
// legacy tokens), says so once, and leaves the token alone for
// recheckNoSelfRotation.
func (m *Manager) saveNoSelfRotation(ctx context.Context, rec *store.Record, sec *store.Secret, why store.NoSelfRotation, ver string, cause error) (Rotation, error) {
	upd, tok := copyRecord(rec)
	tok.NoSelfRotation, tok.GitLabVersion = why, ver
	tok.NoSelfRotationAt = m.now().UTC()
	tok.RotateError = cause.Error()
	tok.WarnedAt = tok.NoSelfRotationAt // this is the warning warnOnce would give
	m.Store.UpdateRecord(ctx, upd)
	m.warn("%s; the token for %s expires %s: create a new one before then and run %s", NoSelfRotationText(tok), hostOf(rec), expiryText(rec), m.LoginCommand(rec))
	return served(upd, sec), nil
}

// NoSelfRotationText says why tok's GitLab cannot rotate it itself
// (store.Token.NoSelfRotation): it is too old (of version GitLabVersion,
// when known), and which versions can; or it refuses to rotate legacy
// tokens. It is "" when nothing was found.
func NoSelfRotationText(tok *store.Token) string {
	switch tok.NoSelfRotation {
	case "":
		return ""
	case store.LegacyRotationDisabled:
		return "this GitLab has disabled the rotation of legacy personal access tokens, so the token cannot rotate itself: a fine-grained personal access token is needed"
	}
	which := "this GitLab"
	if tok.GitLabVersion != "" {
		which = "this GitLab (" + tok.GitLabVersion + ")"
	}
	return which + " cannot rotate tokens itself: personal access tokens rotate themselves from GitLab 16.10, project and group access tokens from 17.9"
}

// version asks GitLab its version (GET /version, which the token may read
// with api, read_api or read_user); known is false when it cannot tell.
func (m *Manager) version(ctx context.Context, api API, sec *store.Secret) (ver string, known bool) {
	v, ok := api.(interface {
		Version(ctx context.Context, token string) (string, error)
	})
	if !ok {
		return "", false
	}
	actx, cancel := m.apiContext(ctx)
	defer cancel()
	ver, err := v.Version(actx, sec.Password)
	return ver, err == nil && ver != ""
}

// selfRotationIn reports whether GitLab version ver ("16.9.1-ee") has the
// self-rotate endpoint of kind: personal access tokens from 16.10
// (lib/api/personal_access_tokens/self_rotation.rb), project and group
// access tokens from 17.9 (lib/api/resource_access_tokens/self_rotation.rb;
// https://docs.gitlab.com/api/personal_access_tokens/#self-rotate). A
// version it cannot read counts as having it: only a version that proves
// otherwise turns rotation off.
func selfRotationIn(ver, kind string) bool {
	var major, minor int
	if n, _ := fmt.Sscanf(ver, "%d.%d", &major, &minor); n != 2 {
		return true
	}
	wantMajor, wantMinor := 16, 10
	if kind == gitlabapi.KindProject || kind == gitlabapi.KindGroup {
		wantMajor, wantMinor = 17, 9
	}
	return major > wantMajor || (major == wantMajor && minor >= wantMinor)
}

// unknown checks the old token after a rotate request whose outcome is
// unknown. A token GitLab still accepts proves nothing while GitLab may
// still be acting on the request: the journal stays until settled, and
// until then every call checks the token before serving it.
func (m *Manager) unknown(ctx context.Context, api API, rec *store.Record, sec *store.Secret, j journal, cause error) (Rotation, error) {
	// A bare 401 here is not what a rotation leaves (GitLab answers a
	// rotated token invalid_token, revoked): unknown, as ask says.
	rec, _, err := m.ask(ctx, api, rec, sec.Password)
	switch {
	case err == nil && m.now().Before(settled(j)):
		m.warn("could not rotate the token for %s: %v; whether GitLab rotated it is not known yet (it may still be acting on the request until %s): until then the token is checked with GitLab before it is served (it keeps working until %s unless GitLab rotated it)",
			hostOf(rec), cause, settled(j).UTC().Format("15:04:05 UTC"), expiryText(rec))
		return served(m.backOffChecked(ctx, rec, "outcome unknown: "+cause.Error()), sec), nil
	case err == nil:
		// Not rotated, and GitLab is done with the request.
		m.removeJournal(rec.Account)
		m.saveFailure(ctx, rec, cause)
		return served(rec, sec), nil
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		m.lost(ctx, rec, cause)
		return dead(), nil
	default:
		// Still unknown. Keep the journal: a later call checks again
		// before any rotation, after the back-off, so that a GitLab
		// that stays unreachable does not cost every git command a
		// network timeout. The old token is valid unless GitLab
		// rotated, so it is still the best answer.
		m.warn("rotating the token for %s: %v; the outcome is unknown and will be checked again in %s (the token expires %s)", hostOf(rec), cause, retryAfter, expiryText(rec))
		return served(m.backOff(ctx, rec, "outcome unknown: "+cause.Error()), sec), nil
	}
}

// lost ends a rotation whose answer, with the new token if GitLab made
// one, never arrived, once GitLab no longer accepts the old token: GitLab
// may have rotated it, or it was revoked meanwhile, and nothing GitLab
// says tells the two apart. Either way the old token is dead and no new
// one is known.
func (m *Manager) lost(ctx context.Context, rec *store.Record, cause error) {
	m.saveLost(ctx, rec, store.DeadAnswerLost)
	m.warn("the token for %s may have been rotated; its answer was lost (%v), and GitLab no longer accepts the old token (rotated, or revoked meanwhile), so no new token is known; create a new token and run %s", hostOf(rec), cause, m.LoginCommand(rec))
}

// keep stores asked, what ask returned for before, when it changed (a
// caller with nothing else to store), and returns it.
func (m *Manager) keep(ctx context.Context, before, asked *store.Record) *store.Record {
	if asked != before {
		m.Store.UpdateRecord(ctx, asked)
	}
	return asked
}

// copyRecord returns a copy of rec with its own copy of the token, to
// change and store without touching what the caller holds.
func copyRecord(rec *store.Record) (*store.Record, *store.Token) {
	upd := *rec
	tok := *rec.Token
	upd.Token = &tok
	return &upd, &tok
}

// backOff records a failed attempt (the journal, if any, stays), so that
// no call asks GitLab again before retryAfter.
func (m *Manager) backOff(ctx context.Context, rec *store.Record, reason string) *store.Record {
	upd, tok := copyRecord(rec)
	tok.RotateFailedAt = m.now().UTC()
	tok.RotateError = reason
	tok.RateLimitedUntil = time.Time{}
	m.Store.UpdateRecord(ctx, upd)
	return upd
}

// backOffChecked is backOff after GitLab confirmed the old token: the
// calls of the back-off may check it again while the outcome is
// unsettled (see lastCheckAnswered).
func (m *Manager) backOffChecked(ctx context.Context, rec *store.Record, reason string) *store.Record {
	upd, tok := copyRecord(rec)
	tok.RotateFailedAt = m.now().UTC()
	tok.CheckedAt = tok.RotateFailedAt
	tok.RotateError = reason
	m.Store.UpdateRecord(ctx, upd)
	return upd
}

// lastCheckAnswered reports whether GitLab answered the check that came
// with rec's last failed attempt. When it did not (GitLab unreachable),
// the back-off holds even while an outcome is unsettled, so that an
// unreachable GitLab does not cost every git command a network timeout.
func lastCheckAnswered(rec *store.Record) bool {
	return !rec.Token.CheckedAt.Before(rec.Token.RotateFailedAt)
}

// recover finishes what a process that died mid-rotation left behind.
func (m *Manager) recover(ctx context.Context, api API, rec *store.Record, sec *store.Secret, j journal, want func(*store.Record, time.Time) bool) (Rotation, error) {
	// The new token may have reached the recovery file before the crash
	// (or the keychain refused it).
	var old *selfAnswer
	if token, ok := m.readRecovery(rec.Account); ok {
		var done bool
		var rot Rotation
		if rot, done, old = m.recoverFile(ctx, api, rec, sec, token); done {
			return rot, nil
		}
	}
	// The stored token is asked about through ask, which counts a bare 401
	// only when it lasts (unauthorized.go); recoverFile's answer is used
	// when it is GitLab's word either way.
	before := rec
	var info *gitlabapi.Token
	var err error
	if old != nil && !errors.Is(old.err, gitlabapi.ErrUnrecognized) {
		info, err = old.info, old.err
	} else {
		rec, info, err = m.ask(ctx, api, rec, sec.Password)
	}
	now := m.now()
	switch {
	case err == nil && j.OldTokenID != 0 && info.ID != j.OldTokenID:
		// The stored secret is already the successor: the keychain took
		// it and the index did not (a full disk). Bring the index up to
		// date; the journal goes once it is.
		upd, tok := copyRecord(rec)
		applyInfo(tok, info)
		tok.Unverified = false
		upd.SetDigest(sec.Password) // the record's was of the old token
		tok.RotatedAt, tok.CheckedAt = j.StartedAt, now.UTC()
		tok.RotateFailedAt, tok.RotateError, tok.Dead, tok.WarnedAt = time.Time{}, "", "", time.Time{}
		upd.ExpiryUTC = expiryUnix(tok)
		if m.Store.UpdateRecord(ctx, upd) == nil {
			m.removeJournal(rec.Account)
		}
		return served(upd, sec), nil
	case err == nil && now.Before(settled(j)):
		// GitLab still accepts the token, but may yet act on the
		// request: serve it, and ask again on the next call.
		return served(m.keep(ctx, before, rec), sec), nil
	case err == nil:
		// The interrupted rotation never happened, and GitLab is done
		// with it.
		m.removeJournal(rec.Account)
		if !want(rec, now) {
			return served(m.keep(ctx, before, rec), sec), nil
		}
		return m.rotateLocked(ctx, api, rec, sec, info)
	case errors.Is(err, errNotAToken):
		// Not what a rotation leaves (GitLab answers a rotated token
		// invalid_token, revoked): the token is gone (deleted with its
		// user), and so is any rotation of it.
		m.removeJournal(rec.Account)
		m.saveDead(ctx, rec, err)
		return dead(), nil
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		m.lost(ctx, rec, fmt.Errorf("the rotation sent at %s had no known outcome", clockText(j.StartedAt, m.now())))
		return dead(), nil
	default:
		// Back off, as unknown does, so that an unreachable GitLab does
		// not cost every git command a network timeout.
		m.warn("cannot check an unfinished rotation of the token for %s: %v; checked again in %s (the token expires %s)", hostOf(rec), err, retryAfter, expiryText(rec))
		return served(m.backOff(ctx, rec, "unfinished rotation not checked: "+err.Error()), sec), nil
	}
}

// selfAnswer is GitLab's answer to GET .../self about one token.
type selfAnswer struct {
	info *gitlabapi.Token
	err  error
}

func (m *Manager) askSelf(ctx context.Context, api API, token string) *selfAnswer {
	actx, cancel := m.apiContext(ctx)
	defer cancel()
	info, err := api.Self(actx, token)
	return &selfAnswer{info, err}
}

// recoverFile decides about token, read from rec's recovery file: the
// state dir is not an authority, so it takes the stored token's place only
// when GitLab answers that it is active and belongs to the same GitLab
// user as the stored token (a rotation keeps the user), that user named
// by the backend (the secret's envelope) or by GitLab (.../self with the
// stored token), never by the index. Until then nothing is adopted: the
// stored token stays, and so does the file. done is false when the stored
// token decides what happens; old is GitLab's answer about it, if asked.
func (m *Manager) recoverFile(ctx context.Context, api API, rec *store.Record, sec *store.Secret, token string) (rot Rotation, done bool, old *selfAnswer) {
	file := m.RecoveryFile(rec.Account, false)
	found := m.askSelf(ctx, api, token)
	switch {
	case errors.Is(found.err, gitlabapi.ErrUnauthorized), errors.Is(found.err, gitlabapi.ErrUnrecognized),
		found.err == nil && !activeAnswer(found.info):
		// Not a live token (a bare 401 included: GitLab does not know
		// it): it proves nothing either way.
		return Rotation{}, false, nil
	case found.err != nil:
		return m.unconfirmed(ctx, rec, sec, file, found.err), true, nil
	}
	user := sec.UserID
	if user == 0 {
		old = m.askSelf(ctx, api, sec.Password)
		if old.err == nil {
			user = old.info.UserID
		}
	}
	switch {
	case user != 0 && found.info.UserID == user:
		found.info.Token = token
		rot, _ = m.adopt(ctx, rec, sec, found.info)
		return rot, true, nil
	case user != 0:
		// Not this token's successor: a file someone put in the state
		// dir. Adopting it would replace the user's token with another
		// user's.
		m.warn("%s holds a token of another GitLab user than the token for %s; it is ignored: delete the file", file, hostOf(rec))
		return Rotation{}, false, old
	case old.err == nil:
		// GitLab accepts the stored token but named no user: the
		// stored token decides.
		return Rotation{}, false, old
	case errors.Is(old.err, gitlabapi.ErrUnauthorized):
		// The stored token is revoked (rotated, most likely), and
		// nothing tells whose it was: the file's token cannot be
		// confirmed as its successor. A person can.
		m.saveLost(ctx, rec, store.DeadUnconfirmed)
		m.warn("GitLab no longer accepts the token for %s, and the token in %s cannot be confirmed as its successor (the keychain does not say whose the stored token was); if it is yours, run %s --token-stdin < %s, then delete the file",
			hostOf(rec), file, m.LoginCommand(rec), file)
		return dead(), true, nil
	default:
		return m.unconfirmed(ctx, rec, sec, file, old.err), true, nil
	}
}

// unconfirmed keeps the stored token, and the recovery file, while GitLab
// cannot be asked about the file's token (cause): it is asked again after
// the back-off, and one line says what a person can do meanwhile.
func (m *Manager) unconfirmed(ctx context.Context, rec *store.Record, sec *store.Secret, file string, cause error) Rotation {
	m.warn("cannot ask GitLab about the token in %s (%v), so it is not used yet: the stored token for %s is kept and GitLab asked again in %s; or run %s --token-stdin < %s, then delete the file",
		file, cause, hostOf(rec), retryAfter, m.LoginCommand(rec), file)
	return served(m.backOff(ctx, rec, "recovered token not confirmed: "+cause.Error()), sec)
}

// activeAnswer reports whether GitLab's answer about a token says it is
// active, as login judges it.
func activeAnswer(info *gitlabapi.Token) bool {
	return info != nil && !info.Revoked && (info.Active || info.ExpiresAt == "")
}

// adopt stores a new token from GitLab, the successor of old's token
// (whose secret is oldSec): first in the recovery file, then in the
// keychain, then it drops the recovery file and the journal. If the
// keychain write fails, the recovery file stays and the person is told
// where.
func (m *Manager) adopt(ctx context.Context, old *store.Record, oldSec *store.Secret, nt *gitlabapi.Token) (Rotation, error) {
	recoveryFile, rerr := m.writeRecovery(old.Account, nt)
	m.hook("after-answer") // the new token is safe on disk, not yet in the keychain
	upd, tok := copyRecord(old)
	applyInfo(tok, nt)
	// Without GitLab's metadata (an answer cut short), the next call asks
	// for it.
	tok.Unverified = nt.ID == 0
	tok.RotatedAt = m.now().UTC()
	tok.CheckedAt = tok.RotatedAt
	tok.RotateFailedAt, tok.RotateError, tok.Dead, tok.WarnedAt = time.Time{}, "", "", time.Time{}
	upd.ExpiryUTC = expiryUnix(tok)
	// The user is GitLab's word: its answer's, else the old secret's (a
	// rotation keeps the user).
	sec := &store.Secret{Password: nt.Token, UserID: nt.UserID}
	if sec.UserID == 0 {
		sec.UserID = oldSec.UserID
		tok.UserID = oldSec.UserID
	}
	if err := m.Store.Put(ctx, upd, sec); err != nil {
		if cur, gerr := m.Store.ReadSecret(ctx, old); gerr == nil && cur.Password == nt.Token {
			// The keychain took the new token; the index did not (a full
			// disk). It is stored: serve it. The journal stays, so that
			// a later call brings the index up to date.
			m.warn("the token for %s was rotated and the new token is in the keychain, but the index could not be written (%v); it is served, and the index is brought up to date on a later call", hostOf(old), err)
			return served(upd, sec), nil
		}
		if rerr != nil {
			// Only this one answer has the new token. The stored one is
			// revoked: never serve it or rotate with it again.
			m.saveLost(ctx, old, store.DeadUnsaved)
			m.warn("the token for %s was rotated but could not be saved anywhere (%v; %v); create a new token and run %s", hostOf(old), err, rerr, m.LoginCommand(old))
			return served(upd, sec), nil
		}
		// The journal stays, so that the next call serves the token from
		// the recovery file and moves it to the keychain when it can.
		m.warn("the token for %s was rotated but the keychain refused it (%v); the new token is in %s: run %s --token-stdin < %s, then delete the file",
			hostOf(old), err, recoveryFile, m.LoginCommand(old), recoveryFile)
		return served(upd, sec), nil
	}
	m.hook("after-store")
	os.Remove(recoveryFile)
	m.removeJournal(old.Account)
	return served(upd, sec), nil
}

// saveLost marks rec's token dead after a rotation whose new token is lost,
// and ends the rotation.
func (m *Manager) saveLost(ctx context.Context, rec *store.Record, why store.Dead) {
	m.removeJournal(rec.Account)
	upd, tok := copyRecord(rec)
	tok.Dead = why
	tok.DeadAt = m.now().UTC()
	m.Store.UpdateRecord(ctx, upd)
}

func (m *Manager) saveDead(ctx context.Context, rec *store.Record, cause error) {
	upd, tok := copyRecord(rec)
	markDead(tok, cause, m.now())
	m.Store.UpdateRecord(ctx, upd)
	m.warnDead(upd, m.now())
}

// warnDead tells the person that rec's token is dead, as every command
// says it (Describe).
func (m *Manager) warnDead(rec *store.Record, now time.Time) {
	m.warn("%s (%s): %s", hostOf(rec), rec.Username, m.Describe(rec, refusal(rec, now), Found{}, now).Line())
}

func (m *Manager) saveFailure(ctx context.Context, rec *store.Record, cause error) {
	var ae *gitlabapi.Error
	if errors.As(cause, &ae) && ae.RateLimited() {
		m.saveRateLimited(ctx, rec, ae)
		return
	}
	m.backOff(ctx, rec, cause.Error())
	m.warn("could not rotate the token for %s: %v; it keeps working until %s", hostOf(rec), cause, expiryText(rec))
}

// saveRateLimited records a 429 (nothing was done: the limiters answer
// before the endpoint acts) and backs off until the time it gave, when
// that is later than the usual back-off.
func (m *Manager) saveRateLimited(ctx context.Context, rec *store.Record, ae *gitlabapi.Error) {
	now := m.now()
	why := fmt.Sprintf("rate-limited by GitLab (%v); asked again after %s", ae, clockText(now.Add(retryAfter), now))
	until := ae.RetryAt(now)
	if !until.IsZero() {
		why = fmt.Sprintf("rate-limited until %s (%v)", clockText(until, now), ae)
	}
	upd, tok := copyRecord(rec)
	tok.RotateFailedAt = now.UTC()
	tok.RotateError = why
	tok.RateLimitedUntil = until.UTC()
	m.Store.UpdateRecord(ctx, upd)
	m.warn("could not rotate the token for %s: %s; it keeps working until %s", hostOf(rec), why, expiryText(rec))
}

// clockText writes t for a message read at now: "15:04 UTC" on the same
// (UTC) day, with the date otherwise.
func clockText(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04 UTC")
	}
	return t.Format("2006-01-02 15:04 UTC")
}

// warnState tells the person, at most once per warnEvery, what every
// command says of rec's token in state st (Describe).
func (m *Manager) warnState(ctx context.Context, rec *store.Record, st TokenState, sec *store.Secret, now time.Time) {
	if now.Sub(rec.Token.WarnedAt) < warnEvery {
		return
	}
	m.warnOnce(ctx, rec, now, "%s (%s): %s", hostOf(rec), rec.Username, m.Describe(rec, st, Found{Secret: sec}, now).Line())
}

// warnOnce warns at most once per warnEvery for the same record.
func (m *Manager) warnOnce(ctx context.Context, rec *store.Record, now time.Time, format string, args ...any) {
	if now.Sub(rec.Token.WarnedAt) < warnEvery {
		return
	}
	m.warn(format, args...)
	upd, tok := copyRecord(rec)
	tok.WarnedAt = now.UTC()
	m.Store.UpdateRecord(ctx, upd)
}

func markDead(tok *store.Token, cause error, now time.Time) {
	var ae *gitlabapi.Error
	tok.Dead = store.DeadRefused
	if errors.As(cause, &ae) {
		switch {
		case ae.Expired():
			tok.Dead = store.DeadExpired
		case ae.Revoked():
			tok.Dead = store.DeadRevoked
		}
	}
	tok.DeadAt = now.UTC()
}

// NewToken is the metadata of a token GitLab has just described (GET
// .../personal_access_tokens/self) at apiURL: a personal access token until
// its caller knows better, checked at now.
func NewToken(info *gitlabapi.Token, apiURL string, now time.Time) *store.Token {
	tok := &store.Token{APIURL: apiURL, Kind: gitlabapi.KindPersonal, CheckedAt: now.UTC()}
	applyInfo(tok, info)
	return tok
}

// applyInfo copies what GitLab said about a token into its metadata.
func applyInfo(tok *store.Token, info *gitlabapi.Token) {
	tok.ID = info.ID
	if info.Name != "" {
		tok.Name = info.Name
	}
	if info.Scopes != nil {
		tok.Scopes = info.Scopes
	}
	tok.ExpiresAt = info.ExpiresAt
	tok.UserID = info.UserID
}

// newExpiry is today + lifetime, capped at GitLab's 365 days, as a date
// (00:00 UTC of it). Today is the instance's (zone, nil for UTC): GitLab
// counts its 365 days and any lifetime policy from Date.current in its
// own time zone (config/initializers/time_zone.rb), so near midnight on
// an instance behind UTC a date counted from the UTC date is a day past
// what it allows.
func newExpiry(now time.Time, lifetime time.Duration, zone *time.Location) time.Time {
	if lifetime <= 0 || lifetime > maxLifetime {
		lifetime = maxLifetime
	}
	return civilToday(now, zone).Add(lifetime).Truncate(24 * time.Hour)
}

// civilToday is the date of now in zone (UTC when nil), as 00:00 UTC of
// that date: the form the API's dates take.
func civilToday(now time.Time, zone *time.Location) time.Time {
	if zone == nil {
		zone = time.UTC
	}
	y, mo, d := now.In(zone).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

func expiryUnix(tok *store.Token) int64 {
	if exp, ok := tok.Expiry(); ok {
		return exp.Unix()
	}
	return 0
}

func expiryText(rec *store.Record) string {
	if exp, ok := rec.Token.Expiry(); ok {
		return exp.Format("2006-01-02 15:04 UTC")
	}
	return "never"
}

// lockPath names the rotation lock: every rotation of every token, of any
// host and account, is sent holding it. It is named after nothing a
// process could see differently from another: named after the token's id
// (an index field), two processes that read the record before and after a
// rotation took two locks; named after the host, one GitLab reached under
// two names (an alias, a search domain's short name, "host" and
// "host:443", each a host of its own to Git and to the config) took two,
// and a token stored for both was sent to rotate by each (reuse of a
// revoked token, which revokes the whole family). Nothing local tells that
// two API URLs are one GitLab, so there is one lock; under it, the token
// is checked with GitLab before it is sent, so that a process that waited
// sees what the winner did. The price, that rotations of different tokens
// wait for each other, is a second or two, a few times a year per token.
// The name cannot be an account's: those hold "://".
func (m *Manager) lockPath(*store.Record) string {
	return m.path("rotation", "every host", ".lock")
}

// journal records a rotation in flight, so that a process that finds it
// after a crash knows the old token may already be revoked.
type journal struct {
	OldTokenID int64     `json:"old_token_id"`
	StartedAt  time.Time `json:"started_at"`
	Host       string    `json:"host"`
}

func (m *Manager) dir(sub string) string { return filepath.Join(m.StateDir, sub) }

func (m *Manager) path(sub, account, ext string) string {
	return filepath.Join(m.StateDir, sub, store.EscapeName(account)+ext)
}

func (m *Manager) writeJournal(account string, j journal) error {
	b, _ := json.Marshal(j)
	return atomicfile.WriteFile(m.path("rotation", account, ".pending"), b, 0o600)
}

func (m *Manager) readJournal(account string) (journal, bool) {
	var j journal
	// Bounded, and never a FIFO: this is on the path of get.
	b, err := safefile.ReadFile(m.path("rotation", account, ".pending"), maxStateFile)
	if err != nil {
		return j, false
	}
	// A damaged journal still means a rotation was in flight.
	json.Unmarshal(b, &j)
	return j, true
}

// siblingUnsettled reports whether a record of another account holding
// the token GitLab calls id (the same token stored under another username,
// or for another name of the same GitLab) has a rotation whose outcome is
// unsettled. Hosts are not compared: one GitLab may have several names. It
// reads the rotation directory only when a rotation is about to be sent.
func (m *Manager) siblingUnsettled(rec *store.Record, id int64, now time.Time) bool {
	if id == 0 {
		return false
	}
	own := filepath.Base(m.path("rotation", rec.Account, ".pending"))
	ents, err := os.ReadDir(m.dir("rotation"))
	if err != nil {
		return false
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".pending") || e.Name() == own {
			continue
		}
		b, err := safefile.ReadFile(filepath.Join(m.dir("rotation"), e.Name()), maxStateFile)
		var j journal
		if err != nil || json.Unmarshal(b, &j) != nil {
			continue
		}
		if j.OldTokenID == id && now.Before(settled(j)) {
			return true
		}
	}
	return false
}

// pending reports whether a rotation of account's token is unfinished.
func (m *Manager) pending(account string) bool {
	_, err := os.Stat(m.path("rotation", account, ".pending"))
	return err == nil
}

// journalFinished reports whether j describes a rotation that finished:
// the stored token is no longer the one it rotated. A token stored without
// an id (never verified) proves nothing.
func journalFinished(rec *store.Record, j journal) bool {
	return rec.Token != nil && rec.Token.ID != 0 && j.OldTokenID != 0 && j.OldTokenID != rec.Token.ID
}

func (m *Manager) removeJournal(account string) {
	os.Remove(m.path("rotation", account, ".pending"))
}

// RecoveryFile is where a new secret of account waits when the keychain
// refused it: a rotated token, or with oauth a refreshed OAuth pair. Every
// reader and writer of those files, and every message that names one, asks
// here.
func (m *Manager) RecoveryFile(account string, oauth bool) string {
	if oauth {
		return m.path("recovery", account, ".oauth")
	}
	return m.path("recovery", account, ".token")
}

// writeRecovery saves a new token, alone on its line, so that a person can
// feed the file to `login --token-stdin`.
func (m *Manager) writeRecovery(account string, t *gitlabapi.Token) (string, error) {
	name := m.RecoveryFile(account, false)
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return "", err
	}
	return name, atomicfile.WriteFile(name, []byte(t.Token+"\n"), 0o600)
}

func (m *Manager) readRecovery(account string) (string, bool) {
	b, err := safefile.ReadFile(m.RecoveryFile(account, false), maxStateFile)
	if err != nil {
		return "", false
	}
	tok := strings.TrimSpace(string(b))
	return tok, tok != ""
}
