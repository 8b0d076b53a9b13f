// Package lifecycle keeps managed GitLab tokens alive: it decides when a
// token is due for rotation, rotates it at most once across every process of
// the user, and never hands Git a token that GitLab has stopped accepting.
package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

const (
	// maxLifetime is GitLab's cap on a token's expiry: at most 365 days
	// ahead (https://docs.gitlab.com/api/personal_access_tokens/#rotate-a-personal-access-token).
	maxLifetime = 365 * 24 * time.Hour
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
)

// Settings are the rotation settings of one host, from the config.
type Settings struct {
	RotateBefore time.Duration
	Lifetime     time.Duration
	AutoRotate   bool
	// CAFile is an extra CA for the API's TLS.
	CAFile string
}

// API is the part of gitlabapi.Client the lifecycle needs.
type API interface {
	Self(ctx context.Context, token string) (*gitlabapi.Token, error)
	Rotate(ctx context.Context, token, kind string, ownerID int64, expiresAt time.Time) (*gitlabapi.Token, error)
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
	Now    func() time.Time
	// Warn tells a person something they must act on, one line, no prefix.
	Warn       func(format string, args ...any)
	LockWait   time.Duration
	APITimeout time.Duration
	// Hook, when set, is called at the named points of a rotation
	// ("before-rotate", "after-answer", "after-store"); crash tests use it
	// to kill the process exactly there.
	Hook func(point string)
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

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
	return Settings{RotateBefore: 30 * 24 * time.Hour, Lifetime: 90 * 24 * time.Hour, AutoRotate: true}
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

// Serve decides what get answers for a managed credential: the stored token,
// a freshly rotated one, or nothing (rec == nil) when the token is dead. It
// rotates only when the token is due and auto_rotate is on. Errors are for
// faults of the local machine (keychain); GitLab's faults are warnings, and
// the still valid token is returned.
func (m *Manager) Serve(ctx context.Context, rec *store.Record, sec *store.Secret) (*store.Record, *store.Secret, error) {
	now := m.now()
	if rec.Token.Unverified {
		rec = m.verify(ctx, rec, sec)
	}
	// A rotation that a process left unfinished is settled first, due or
	// not: GitLab may have revoked the stored token already, and the new
	// one may be waiting in the recovery file.
	if m.pending(rec.Account) && !backingOff(rec, now) {
		return m.rotate(ctx, rec, sec, m.autoRotation)
	}
	if m.dead(rec, now) {
		return nil, nil, nil
	}
	s := m.settings(rec)
	if !s.AutoRotate || !Due(rec, s, now) {
		return rec, sec, nil
	}
	if !rec.Token.CanRotateItself() {
		m.warnOnce(ctx, rec, "the token for %s expires %s and cannot rotate itself (it needs the self_rotate or api scope); create a new one and run %s",
			rec.Host, expiryText(rec), m.LoginCommand(rec))
		return rec, sec, nil
	}
	if backingOff(rec, now) {
		return rec, sec, nil
	}
	return m.rotate(ctx, rec, sec, m.autoRotation)
}

// autoRotation reports whether get should rotate rec now. It is asked
// again under the rotation lock, of the record as stored then: a process
// that waited for the lock must not repeat an attempt that just failed.
func (m *Manager) autoRotation(rec *store.Record, now time.Time) bool {
	s := m.settings(rec)
	return s.AutoRotate && Due(rec, s, now) && rec.Token.CanRotateItself() && !backingOff(rec, now)
}

// backingOff reports whether the last rotation of rec failed less than
// retryAfter ago.
func backingOff(rec *store.Record, now time.Time) bool {
	return !rec.Token.RotateFailedAt.IsZero() && now.Sub(rec.Token.RotateFailedAt) < retryAfter
}

// dead reports (and tells the person, once per call) whether the token
// must not be handed to Git.
func (m *Manager) dead(rec *store.Record, now time.Time) bool {
	if rec.Token.Dead != "" {
		m.warn("the token for %s is %s; run %s", rec.Host, rec.Token.Dead, m.LoginCommand(rec))
		return true
	}
	if exp, ok := rec.Token.Expiry(); ok && !now.Before(exp) {
		m.warn("the token for %s expired on %s; run %s", rec.Host, rec.Token.ExpiresAt, m.LoginCommand(rec))
		return true
	}
	return false
}

// verify checks a token that was stored while GitLab could not be reached,
// at most once per retryAfter.
func (m *Manager) verify(ctx context.Context, rec *store.Record, sec *store.Secret) *store.Record {
	if now := m.now(); now.Sub(rec.Token.CheckedAt) < retryAfter {
		return rec
	}
	api, err := m.api(rec)
	if err != nil {
		return rec
	}
	actx, cancel := m.apiContext(ctx)
	defer cancel()
	info, err := api.Self(actx, sec.Password)
	upd, tok := copyRecord(rec)
	tok.CheckedAt = m.now().UTC()
	switch {
	case err == nil:
		applyInfo(tok, info)
		tok.Unverified = false
		upd.ExpiryUTC = expiryUnix(tok)
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		markDead(tok, err, m.now())
	default:
		// Still unknown; try again later.
	}
	m.Store.UpdateRecord(ctx, upd)
	return upd
}

// Rotate rotates rec's token now. With force it rotates even when the token
// is not due. It is safe to call from many processes at once: one rotates,
// the others wait and return what it stored.
func (m *Manager) Rotate(ctx context.Context, rec *store.Record, sec *store.Secret, force bool) (*store.Record, *store.Secret, error) {
	return m.rotate(ctx, rec, sec, func(cur *store.Record, now time.Time) bool {
		return force || Due(cur, m.settings(cur), now)
	})
}

// rotate rotates rec's token under the rotation lock if want says so of
// the record as stored once the lock is held, and finishes an unfinished
// rotation whatever want says.
func (m *Manager) rotate(ctx context.Context, rec *store.Record, sec *store.Secret, want func(*store.Record, time.Time) bool) (*store.Record, *store.Secret, error) {
	lockWait := m.LockWait
	if lockWait == 0 {
		lockWait = defaultLockWait
	}
	if err := os.MkdirAll(m.dir("rotation"), 0o700); err != nil {
		return nil, nil, fmt.Errorf("rotate: %w", err)
	}
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	lock, err := filelock.Acquire(lctx, m.lockPath(rec))
	cancel()
	if err != nil {
		// Another process has been rotating for too long. Serve what
		// the store holds now: the new token if it got that far.
		cur, curSec, lerr := m.Store.Lookup(ctx, rec.Protocol, rec.Host, rec.Account)
		if lerr != nil || cur == nil || cur.Token == nil {
			return rec, sec, nil
		}
		if m.dead(cur, m.now()) {
			return nil, nil, nil
		}
		return cur, curSec, nil
	}
	defer lock.Unlock()

	// Under the lock, the store is the truth: another process may have
	// rotated, failed to rotate, or found the token dead while this one
	// waited.
	cur, curSec, err := m.Store.Lookup(ctx, rec.Protocol, rec.Host, rec.Account)
	if err != nil {
		return nil, nil, err
	}
	if cur == nil || cur.Token == nil {
		return nil, nil, nil // logged out meanwhile
	}
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
			return nil, nil, nil
		}
		if curSec.Password != sec.Password {
			// Rotated by another process (or a new login) meanwhile;
			// even a forced rotation has happened then.
			return cur, curSec, nil
		}
		if !want(cur, now) {
			return cur, curSec, nil
		}
	}
	rec, sec = cur, curSec

	api, err := m.api(rec)
	if err != nil {
		// A config problem (a bad ca_file, say) is no reason to keep a
		// valid token from Git.
		m.saveFailure(ctx, rec, err)
		return rec, sec, nil
	}
	if pending {
		return m.recover(ctx, api, rec, sec, j, want)
	}
	return m.rotateLocked(ctx, api, rec, sec)
}

func (m *Manager) rotateLocked(ctx context.Context, api API, rec *store.Record, sec *store.Secret) (*store.Record, *store.Secret, error) {
	now := m.now()
	// Check the token first: a token that answers 401 is never sent to
	// the rotate endpoint (SPEC: GitLab hosts).
	actx, cancel := m.apiContext(ctx)
	info, err := api.Self(actx, sec.Password)
	cancel()
	if err != nil {
		if errors.Is(err, gitlabapi.ErrUnauthorized) {
			m.saveDead(ctx, rec, err)
			return nil, nil, nil
		}
		m.saveFailure(ctx, rec, err)
		return rec, sec, nil
	}
	upd, tok := copyRecord(rec)
	applyInfo(tok, info)
	if !tok.CanRotateItself() {
		m.Store.UpdateRecord(ctx, upd)
		m.warnOnce(ctx, upd, "the token for %s expires %s and cannot rotate itself (it needs the self_rotate or api scope); create a new one and run %s",
			rec.Host, expiryText(upd), m.LoginCommand(rec))
		return upd, sec, nil
	}

	expiresAt := newExpiry(now, m.settings(rec).Lifetime)
	if err := m.writeJournal(rec.Account, journal{OldTokenID: tok.ID, StartedAt: now.UTC(), Host: rec.Host}); err != nil {
		// No journal, no rotation: it would not be crash safe. Back off
		// and say why, rather than retry on every call.
		m.saveFailure(ctx, upd, fmt.Errorf("cannot write the rotation journal: %w", err))
		return upd, sec, nil
	}
	m.hook("before-rotate")
	actx, cancel = m.apiContext(ctx)
	newTok, err := api.Rotate(actx, sec.Password, tok.Kind, tok.OwnerID, expiresAt)
	cancel()
	if err != nil {
		return m.rotateFailed(ctx, api, upd, sec, err)
	}
	return m.adopt(ctx, upd, newTok)
}

// rotateFailed sorts out a failed rotate call. Only an answer that proves
// nothing was committed lets the old token be used again; otherwise the old
// token is checked, and if GitLab revoked it, the rotation happened and its
// answer was lost.
func (m *Manager) rotateFailed(ctx context.Context, api API, rec *store.Record, sec *store.Secret, rerr error) (*store.Record, *store.Secret, error) {
	var ae *gitlabapi.Error
	errors.As(rerr, &ae)
	switch {
	case errors.Is(rerr, gitlabapi.ErrUnauthorized):
		// Valid a moment ago and refused now: revoked meanwhile, or
		// GitLab's reuse detection fired.
		m.removeJournal(rec.Account)
		m.saveDead(ctx, rec, rerr)
		return nil, nil, nil
	case errors.Is(rerr, gitlabapi.ErrForbidden):
		m.removeJournal(rec.Account)
		upd, tok := copyRecord(rec)
		tok.CannotRotate = true
		tok.WarnedAt = m.now().UTC() // this is the warning warnOnce would give
		m.Store.UpdateRecord(ctx, upd)
		m.warn("GitLab refused to rotate the token for %s (%v); it keeps working until %s", rec.Host, rerr, expiryText(rec))
		return upd, sec, nil
	case ae != nil && ae.Status >= 400 && ae.Status < 500:
		// A 4xx answer: GitLab refused and committed nothing.
		m.removeJournal(rec.Account)
		m.saveFailure(ctx, rec, rerr)
		return rec, sec, nil
	}
	// No answer, a 5xx or garbage: GitLab may have rotated.
	return m.probe(ctx, api, rec, sec, rerr)
}

// probe checks the old token after a rotation whose outcome is unknown.
func (m *Manager) probe(ctx context.Context, api API, rec *store.Record, sec *store.Secret, cause error) (*store.Record, *store.Secret, error) {
	actx, cancel := m.apiContext(ctx)
	_, err := api.Self(actx, sec.Password)
	cancel()
	switch {
	case err == nil:
		// Not rotated: the old token still works.
		m.removeJournal(rec.Account)
		m.saveFailure(ctx, rec, cause)
		return rec, sec, nil
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		m.saveLost(ctx, rec, "revoked: GitLab rotated it but the answer with the new token was lost")
		m.warn("GitLab rotated the token for %s but its answer was lost (%v), so the new token is unknown and the old one is revoked; create a new token and run %s", rec.Host, cause, m.LoginCommand(rec))
		return nil, nil, nil
	default:
		// Still unknown. Keep the journal: a later call checks again
		// before any rotation, after the back-off, so that a GitLab
		// that stays unreachable does not cost every git command a
		// network timeout. The old token is valid unless GitLab
		// rotated, so it is still the best answer.
		m.warn("rotating the token for %s: %v; the outcome is unknown and will be checked again in %s (the token expires %s)", rec.Host, cause, retryAfter, expiryText(rec))
		return m.backOff(ctx, rec, "outcome unknown: "+cause.Error()), sec, nil
	}
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
	m.Store.UpdateRecord(ctx, upd)
	return upd
}

// recover finishes what a process that died mid-rotation left behind.
func (m *Manager) recover(ctx context.Context, api API, rec *store.Record, sec *store.Secret, j journal, want func(*store.Record, time.Time) bool) (*store.Record, *store.Secret, error) {
	// The new token may have reached the recovery file before the crash
	// (or the keychain refused it).
	if token, ok := m.readRecovery(rec.Account); ok {
		actx, cancel := m.apiContext(ctx)
		info, err := api.Self(actx, token)
		cancel()
		switch {
		case err == nil:
			info.Token = token
			return m.adopt(ctx, rec, info)
		case !errors.Is(err, gitlabapi.ErrUnauthorized):
			// The file holds GitLab's answer to a rotation, so the
			// stored token is revoked: store the new one now (its
			// metadata is checked on a later call) rather than ask
			// an unreachable GitLab on every call.
			return m.adopt(ctx, rec, &gitlabapi.Token{Token: token})
		}
	}
	actx, cancel := m.apiContext(ctx)
	_, err := api.Self(actx, sec.Password)
	cancel()
	switch {
	case err == nil:
		// The interrupted rotation never happened.
		m.removeJournal(rec.Account)
		if !want(rec, m.now()) {
			return rec, sec, nil
		}
		return m.rotateLocked(ctx, api, rec, sec)
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		return m.probe(ctx, api, rec, sec, fmt.Errorf("a rotation started %s did not finish", j.StartedAt.Local().Format(time.DateTime)))
	default:
		// Back off, as probe does, so that an unreachable GitLab does not
		// cost every git command a network timeout.
		m.warn("cannot check an unfinished rotation of the token for %s: %v; checked again in %s (the token expires %s)", rec.Host, err, retryAfter, expiryText(rec))
		return m.backOff(ctx, rec, "unfinished rotation not checked: "+err.Error()), sec, nil
	}
}

// adopt stores a new token from GitLab: first in the recovery file, then in
// the keychain, then it drops the recovery file and the journal. If the
// keychain write fails, the recovery file stays and the person is told where.
func (m *Manager) adopt(ctx context.Context, old *store.Record, nt *gitlabapi.Token) (*store.Record, *store.Secret, error) {
	recoveryFile, rerr := m.writeRecovery(old.Account, nt)
	m.hook("after-answer") // the new token is safe on disk, not yet in the keychain
	upd, tok := copyRecord(old)
	applyInfo(tok, nt)
	// Without GitLab's metadata (an answer cut short, or a recovered token
	// adopted while GitLab is unreachable), the next call asks for it.
	tok.Unverified = nt.ID == 0
	tok.RotatedAt = m.now().UTC()
	tok.CheckedAt = tok.RotatedAt
	tok.RotateFailedAt, tok.RotateError, tok.Dead, tok.WarnedAt = time.Time{}, "", "", time.Time{}
	upd.ExpiryUTC = expiryUnix(tok)
	sec := &store.Secret{Password: nt.Token}
	if err := m.Store.Put(ctx, upd, sec); err != nil {
		if rerr != nil {
			// Only this one answer has the new token. The stored one is
			// revoked: never serve it or rotate with it again.
			m.saveLost(ctx, old, "revoked (it was rotated, but the new token could not be saved)")
			m.warn("the token for %s was rotated but could not be saved anywhere (%v; %v); create a new token and run %s", old.Host, err, rerr, m.LoginCommand(old))
			return upd, sec, nil
		}
		// The journal stays, so that the next call serves the token from
		// the recovery file and moves it to the keychain when it can.
		m.warn("the token for %s was rotated but the keychain refused it (%v); the new token is in %s: run %s --token-stdin < %s, then delete the file",
			old.Host, err, recoveryFile, m.LoginCommand(old), recoveryFile)
		return upd, sec, nil
	}
	m.hook("after-store")
	os.Remove(recoveryFile)
	m.removeJournal(old.Account)
	return upd, sec, nil
}

// saveLost marks rec's token dead after a rotation whose new token is lost,
// and ends the rotation.
func (m *Manager) saveLost(ctx context.Context, rec *store.Record, why string) {
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
	m.warn("GitLab no longer accepts the token for %s (%s); run %s", rec.Host, tok.Dead, m.LoginCommand(rec))
}

func (m *Manager) saveFailure(ctx context.Context, rec *store.Record, cause error) {
	m.backOff(ctx, rec, cause.Error())
	m.warn("could not rotate the token for %s: %v; it keeps working until %s", rec.Host, cause, expiryText(rec))
}

// warnOnce warns at most once per warnEvery for the same record.
func (m *Manager) warnOnce(ctx context.Context, rec *store.Record, format string, args ...any) {
	now := m.now()
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
	tok.Dead = "no longer accepted by GitLab"
	if errors.As(cause, &ae) {
		switch {
		case ae.Expired():
			tok.Dead = "expired"
		case ae.Revoked():
			tok.Dead = "revoked"
		}
	}
	tok.DeadAt = now.UTC()
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

// newExpiry is today (UTC) + lifetime, capped at GitLab's 365 days.
func newExpiry(now time.Time, lifetime time.Duration) time.Time {
	if lifetime <= 0 || lifetime > maxLifetime {
		lifetime = maxLifetime
	}
	y, mo, d := now.UTC().Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	return today.Add(lifetime).Truncate(24 * time.Hour)
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

// lockPath names the rotation lock of rec's token: per token, not per
// account, so that one token stored under two usernames is still rotated
// only once (a second rotate with it would be reuse, which revokes the
// family). A token whose id is not known yet falls back to its account.
func (m *Manager) lockPath(rec *store.Record) string {
	if rec.Token != nil && rec.Token.ID != 0 {
		return m.path("rotation", fmt.Sprintf("%s#%d", rec.Token.APIURL, rec.Token.ID), ".lock")
	}
	return m.path("rotation", rec.Account, ".lock")
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
	b, err := os.ReadFile(m.path("rotation", account, ".pending"))
	if err != nil {
		return j, false
	}
	// A damaged journal still means a rotation was in flight.
	json.Unmarshal(b, &j)
	return j, true
}

// pending reports whether a rotation of account's token is unfinished.
// Refuses reports (and tells the person) that rec's token will not be
// handed to Git: dead or expired, with no unfinished rotation that might
// still produce a successor. It reads no secret, so a get for a token that
// would be refused costs no keychain call (nor an unlock prompt).
func (m *Manager) Refuses(rec *store.Record) bool {
	return rec.Token != nil && !m.pending(rec.Account) && m.dead(rec, m.now())
}

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

// RecoveryDir is where new tokens wait when the keychain refused them.
func (m *Manager) RecoveryDir() string { return m.dir("recovery") }

// writeRecovery saves a new token, alone on its line, so that a person can
// feed the file to `login --token-stdin`.
func (m *Manager) writeRecovery(account string, t *gitlabapi.Token) (string, error) {
	if err := os.MkdirAll(m.dir("recovery"), 0o700); err != nil {
		return "", err
	}
	name := m.path("recovery", account, ".token")
	return name, atomicfile.WriteFile(name, []byte(t.Token+"\n"), 0o600)
}

func (m *Manager) readRecovery(account string) (string, bool) {
	b, err := os.ReadFile(m.path("recovery", account, ".token"))
	if err != nil {
		return "", false
	}
	tok := strings.TrimSpace(string(b))
	return tok, tok != ""
}
