package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/oauth"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// OAuth credentials (login --oauth) are kept alive by the discipline of a
// rotation: a refresh is due a little before the access token expires; it
// is sent by one process at a time for an account, under a lock every
// process takes by the account's name, after a journal entry; the new pair
// reaches a 0600 recovery file before the keychain, and Git only then.
//
// What GitLab does with a refresh decides the rest. GitLab's
// oauth_access_tokens table has no previous_refresh_token column
// (db/structure.sql), so Doorkeeper's refresh_token_revoked_on_use? is
// false, and RefreshTokenRequest#before_successful_response
// (lib/doorkeeper/oauth/refresh_token_request.rb) locks the old row,
// answers invalid_grant if it is revoked, and otherwise revokes it (its
// access token with it) and creates the new pair in one transaction. So:
//
//   - a refresh whose answer is lost after GitLab committed has lost the
//     new pair: the old refresh token is spent and only a new login helps;
//   - two refreshes with one refresh token never both get a pair (the row
//     lock), and a spent refresh token costs nothing but invalid_grant (no
//     reuse detection that revokes anything, unlike a PAT's rotation). When
//     the old access token has expired there is no other way to learn
//     whether an unanswered refresh was carried out (GitLab answers token
//     info for expired and revoked tokens alike), so the refresh token is
//     sent once more: a new pair, or invalid_grant, settles it;
//   - while the old access token is still valid, GitLab's token info says
//     whether it was revoked (refreshed) without sending anything again.

const (
	// oauthRefreshBefore is how long before the access token expires a
	// get refreshes it: Git sends it at the start of each request, and a
	// fetch's requests follow each other within seconds.
	oauthRefreshBefore = 5 * time.Minute
	// oauthValidMargin is how long an access token must still have, by
	// our clock, for GitLab's "not accessible" to mean revoked rather
	// than expired: room for clocks that disagree.
	oauthValidMargin = time.Minute
	// oauthRefusedAgain: an access token refreshed less than this ago that
	// Git's server refuses is not refreshed again at once (a server that
	// refuses every token would otherwise cost a refresh per git command).
	oauthRefusedAgain = time.Minute
)

// oauthDeadReason says why rec's OAuth login has ended, to follow "the
// OAuth login for HOST has ended:"; "" while it has not.
func oauthDeadReason(o *store.OAuth) string {
	switch o.Dead {
	case "":
		return ""
	case store.DeadAnswerLost:
		return "GitLab refreshed it but the answer with the new token was lost"
	case store.DeadUnsaved:
		return "it was refreshed, but the new token could not be saved"
	}
	return "GitLab no longer accepts its refresh token (it was revoked, or used elsewhere)"
}

// OAuthAPI is the part of oauth.Client the lifecycle uses.
type OAuthAPI interface {
	Refresh(ctx context.Context, refreshToken string) (*oauth.Pair, error)
	Info(ctx context.Context, accessToken string) (*oauth.Info, error)
}

func (m *Manager) oauthAPI(rec *store.Record) (OAuthAPI, error) {
	s := m.settings(rec)
	if s.OAuthClientID == "" {
		return nil, fmt.Errorf("the config names no oauth_client_id under [hosts.%q], which refreshing the OAuth token needs", rec.Host)
	}
	if m.NewOAuth != nil {
		return m.NewOAuth(rec.OAuth.APIURL, s.CAFile, s.OAuthClientID)
	}
	return oauth.New(rec.OAuth.APIURL, s.CAFile, s.OAuthClientID)
}

// RefusesOAuth is get's first question for an OAuth credential, from the
// record alone: its refresh token is dead (and no refresh is unfinished),
// or Git's server refused its access token a moment ago. It tells the
// person when it is dead.
func (m *Manager) RefusesOAuth(rec *store.Record) bool {
	if rec.OAuth == nil {
		return false
	}
	now := m.now()
	if rec.OAuth.Dead != "" && !m.oauthPending(rec.Account) {
		m.warnOAuthDead(rec)
		return true
	}
	return oauthHeldBack(rec, now)
}

func (m *Manager) warnOAuthDead(rec *store.Record) {
	now := m.now()
	m.warn("%s (%s): %s", hostOf(rec), rec.Username, m.Describe(rec, m.StateAt(rec, now), Found{}, now).Line())
}

func oauthHeldBack(rec *store.Record, now time.Time) bool {
	return !rec.OAuth.GitRefusedAt.IsZero() && now.Sub(rec.OAuth.GitRefusedAt) < retryAfter
}

// accessLeft is how long rec's access token has by our clock.
func accessLeft(rec *store.Record, now time.Time) time.Duration {
	return time.Unix(rec.ExpiryUTC, 0).Sub(now)
}

// refreshDue reports whether rec's access token is due for a refresh.
func refreshDue(rec *store.Record, now time.Time) bool {
	return accessLeft(rec, now) < oauthRefreshBefore
}

// ServeOAuth decides what get answers for an OAuth credential: the stored
// access token while it has time left, else a refreshed one, or nothing
// (rec == nil) with one line saying what to run. It makes no network call
// and takes no lock while no refresh is due or unfinished.
func (m *Manager) ServeOAuth(ctx context.Context, rec *store.Record, sec *store.Secret) (Rotation, error) {
	now := m.now()
	if !m.oauthPending(rec.Account) && !refreshDue(rec, now) {
		return served(rec, sec), nil
	}
	if accessLeft(rec, now) > 0 && oauthBackingOff(rec, now) && !m.oauthPending(rec.Account) {
		// The last refresh failed a moment ago: serve the token while it
		// works rather than ask a GitLab that is down on every command.
		return served(rec, sec), nil
	}
	return m.refreshOAuth(ctx, rec, sec, false)
}

// RefreshOAuth refreshes rec's access token now (rotate --force does;
// rotate without it when a refresh is due). Safe from many processes at
// once: one refreshes, the others wait and return what it stored.
func (m *Manager) RefreshOAuth(ctx context.Context, rec *store.Record, sec *store.Secret, force bool) (Rotation, error) {
	return m.refreshOAuth(ctx, rec, sec, force)
}

func oauthBackingOff(rec *store.Record, now time.Time) bool {
	return !rec.OAuth.RefreshFailedAt.IsZero() && now.Sub(rec.OAuth.RefreshFailedAt) < retryAfter
}

// serveIfValid is what a refresh that could not happen leaves: the stored
// access token while it still works, else nothing and the reason.
func (m *Manager) serveIfValid(rec *store.Record, sec *store.Secret, why string) (Rotation, error) {
	if accessLeft(rec, m.now()) > 0 {
		return served(rec, sec), nil
	}
	m.warn("the OAuth token for %s expired and could not be refreshed: %s", hostOf(rec), why)
	return unavailable(), nil
}

// refreshOAuth refreshes under the account's lock, if the record as
// stored once the lock is held still needs it (or force), and finishes an
// unfinished refresh whatever force says.
func (m *Manager) refreshOAuth(ctx context.Context, rec *store.Record, sec *store.Secret, force bool) (Rotation, error) {
	if err := m.Store.Writable(rec.Protocol, rec.Host); err != nil {
		// A newer helper's index: the new pair could not be recorded.
		return m.serveIfValid(rec, sec, err.Error()+"; upgrade git-credential-glpat")
	}
	lockWait := m.LockWait
	if lockWait == 0 {
		lockWait = defaultLockWait
	}
	if err := os.MkdirAll(m.dir("oauth"), 0o700); err != nil {
		return m.serveIfValid(rec, sec, fmt.Sprintf("the state directory %s cannot be written (%v), so no refresh is sent that could not be journaled", m.StateDir, err))
	}
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	// Keyed by the account's name, which every process derives from the
	// request: one refresh per refresh token, whatever else the index says.
	lock, err := filelock.Acquire(lctx, m.path("oauth", rec.Account, ".lock"))
	timedOut := lctx.Err() != nil
	cancel()
	if err != nil && !timedOut && ctx.Err() == nil {
		return m.serveIfValid(rec, sec, fmt.Sprintf("the state directory %s cannot be written (%v)", m.StateDir, err))
	}
	if err != nil {
		// Another process has been refreshing for too long: serve what
		// the store holds now.
		cur, curSec, lerr := m.Store.Lookup(ctx, rec.Protocol, rec.Host, rec.Account)
		if lerr != nil || cur == nil || cur.OAuth == nil {
			return m.serveIfValid(rec, sec, "another git-credential-glpat is refreshing it and did not finish in time")
		}
		return m.serveIfValid(cur, curSec, "another git-credential-glpat is refreshing it and did not finish in time")
	}
	defer lock.Unlock()

	// Under the lock the store is the truth: another process may have
	// refreshed, or found the refresh token dead, while this one waited.
	cur, curSec, err := m.Store.Lookup(ctx, rec.Protocol, rec.Host, rec.Account)
	if err != nil {
		return Rotation{}, err
	}
	if cur == nil || cur.OAuth == nil {
		return gone(), nil // logged out meanwhile
	}
	j, pending := m.readOAuthJournal(cur.Account)
	if pending && j.Sent != "" && j.Sent != store.Digest(curSec.OAuthRefreshToken) {
		// A process stored the new pair and died before tidying up.
		m.tidyOAuth(cur, curSec)
		pending = false
	}
	api, aerr := m.oauthAPI(cur)
	now := m.now()
	if pending {
		switch {
		case aerr != nil:
			return m.serveIfValid(cur, curSec, aerr.Error())
		case oauthBackingOff(cur, now) && accessLeft(cur, now) <= 0:
			// GitLab gave no answer twice a moment ago: it is not asked
			// on every command.
			m.warn("the OAuth token for %s expired, and whether GitLab refreshed it is not known yet (%s); asked again at %s",
				hostOf(cur), cur.OAuth.RefreshError, cur.OAuth.RefreshFailedAt.Add(retryAfter).Local().Format(time.Kitchen))
			return unavailable(), nil
		}
		return m.recoverOAuth(ctx, api, cur, curSec, j)
	}
	switch {
	case cur.OAuth.Dead != "":
		m.warnOAuthDead(cur)
		return dead(), nil
	case curSec.Password != sec.Password:
		return served(cur, curSec), nil // refreshed by another process meanwhile
	case !force && !refreshDue(cur, now):
		return served(cur, curSec), nil
	case aerr != nil:
		m.oauthBackOff(ctx, cur, aerr.Error())
		return m.serveIfValid(cur, curSec, aerr.Error())
	}
	return m.sendRefresh(ctx, api, cur, curSec, false)
}

// sendRefresh journals and sends one refresh of rec's refresh token. again
// says that an earlier refresh of the same token got no answer and the old
// access token could not tell whether GitLab carried it out.
func (m *Manager) sendRefresh(ctx context.Context, api OAuthAPI, rec *store.Record, sec *store.Secret, again bool) (Rotation, error) {
	if sec.OAuthRefreshToken == "" {
		m.saveOAuthDead(ctx, rec, store.DeadRefused)
		return dead(), nil
	}
	j := oauthJournal{StartedAt: m.now().UTC(), Sent: store.Digest(sec.OAuthRefreshToken), Host: rec.Host}
	if err := m.writeOAuthJournal(rec.Account, j); err != nil {
		// No journal, no refresh: a lost answer could not be settled.
		return m.serveIfValid(rec, sec, fmt.Sprintf("the state directory %s cannot be written (%v), so no refresh is sent that could not be journaled", m.StateDir, err))
	}
	m.hook("before-refresh")
	actx, cancel := m.apiContext(ctx)
	pair, err := api.Refresh(actx, sec.OAuthRefreshToken)
	cancel()
	switch {
	case err == nil:
		return m.adoptOAuth(ctx, rec, sec, pair)
	case errors.Is(err, oauth.ErrInvalidGrant):
		m.removeOAuthJournal(rec.Account)
		// Spent or revoked. Another process may have refreshed it (one
		// that did not take this lock, or stored under another name):
		// what the store holds now decides.
		if cur, curSec, lerr := m.Store.Lookup(ctx, rec.Protocol, rec.Host, rec.Account); lerr == nil && cur != nil && cur.OAuth != nil &&
			curSec.OAuthRefreshToken != sec.OAuthRefreshToken && cur.OAuth.Dead == "" {
			return served(cur, curSec), nil
		}
		if again {
			m.saveOAuthDead(ctx, rec, store.DeadAnswerLost)
		} else {
			m.saveOAuthDead(ctx, rec, store.DeadRefused)
		}
		return dead(), nil
	case errors.Is(err, oauth.ErrNoAnswer) && again:
		// Twice without an answer: GitLab is in trouble. The journal
		// stays; the next command after the back-off asks again.
		m.oauthBackOff(ctx, rec, "the refresh got no answer: "+err.Error())
		m.warn("refreshing the OAuth token for %s: %v; whether GitLab refreshed it is not known yet, and it is asked again in %s", hostOf(rec), err, retryAfter)
		return unavailable(), nil
	case errors.Is(err, oauth.ErrNoAnswer):
		// GitLab may have refreshed. The journal stays until settled.
		return m.unknownOAuth(ctx, api, rec, sec, j, err)
	default:
		// Never sent, or refused without effect (an unknown client, a
		// bad request): nothing happened at GitLab.
		m.removeOAuthJournal(rec.Account)
		why := err.Error()
		if errors.Is(err, oauth.ErrUnknownClient) {
			why = fmt.Sprintf("GitLab does not know oauth_client_id %q of [hosts.%q] as a non-confidential application (%v)", m.settings(rec).OAuthClientID, rec.Host, err)
		}
		upd := m.oauthBackOff(ctx, rec, why)
		if accessLeft(upd, m.now()) > 0 {
			m.oauthWarnOnce(ctx, upd, "could not refresh the OAuth token for %s: %s; it keeps working until %s", hostOf(rec), why, time.Unix(rec.ExpiryUTC, 0).UTC().Format("15:04 UTC"))
			return served(upd, sec), nil
		}
		return m.serveIfValid(upd, sec, why)
	}
}

// unknownOAuth settles a refresh that was sent and got no usable answer.
func (m *Manager) unknownOAuth(ctx context.Context, api OAuthAPI, rec *store.Record, sec *store.Secret, j oauthJournal, cause error) (Rotation, error) {
	if accessLeft(rec, m.now()) <= oauthValidMargin {
		// Nothing to serve, and nothing else can tell: send it again now
		// (see the top of this file).
		return m.sendRefresh(ctx, api, rec, sec, true)
	}
	actx, cancel := m.apiContext(ctx)
	_, err := api.Info(actx, sec.Password)
	cancel()
	switch {
	case err == nil && m.now().Before(settled(journal{StartedAt: j.StartedAt})):
		// Not refreshed yet, but GitLab may still act on the request:
		// serve the old token, checked again on every call until then.
		m.oauthWarnOnce(ctx, rec, "refreshing the OAuth token for %s: %v; GitLab may still be acting on it until %s, so the token is checked with GitLab until then",
			hostOf(rec), cause, settled(journal{StartedAt: j.StartedAt}).UTC().Format("15:04:05 UTC"))
		return served(rec, sec), nil
	case err == nil:
		// GitLab is done with it and did not refresh.
		m.removeOAuthJournal(rec.Account)
		return served(m.oauthBackOff(ctx, rec, "the refresh got no answer: "+cause.Error()), sec), nil
	case errors.Is(err, oauth.ErrInvalidGrant):
		// Valid by the clock and not accessible: revoked, by the
		// refresh whose answer was lost.
		m.saveOAuthDead(ctx, rec, store.DeadAnswerLost)
		return dead(), nil
	default:
		m.warn("refreshing the OAuth token for %s: %v; whether GitLab refreshed it is not known yet (asking GitLab: %v); it is checked again on the next git command", hostOf(rec), cause, err)
		return unavailable(), nil
	}
}

// recoverOAuth finishes a refresh that a process left unfinished (its
// journal is there): the new pair may be in the recovery file; else the
// outcome is settled as unknownOAuth does.
func (m *Manager) recoverOAuth(ctx context.Context, api OAuthAPI, rec *store.Record, sec *store.Secret, j oauthJournal) (Rotation, error) {
	if pair, ok := m.readOAuthRecovery(rec.Account); ok {
		actx, cancel := m.apiContext(ctx)
		info, err := api.Info(actx, pair.Access)
		cancel()
		switch {
		case err == nil && sec.UserID != 0 && info.UserID == sec.UserID:
			return m.adoptOAuth(ctx, rec, sec, pair)
		case err == nil:
			m.warn("%s holds an OAuth token of another GitLab user than the one logged in for %s; it is ignored: delete the file", m.RecoveryFile(rec.Account, true), hostOf(rec))
		case errors.Is(err, oauth.ErrInvalidGrant):
			m.warn("%s holds an OAuth token GitLab no longer accepts; it is ignored: delete the file", m.RecoveryFile(rec.Account, true))
		default:
			// The file holds GitLab's answer to a refresh, so the stored
			// pair is spent; but nothing is adopted unchecked.
			m.warn("a refreshed OAuth token for %s waits in %s, and GitLab cannot be asked whether it is good (%v); it is checked again on the next git command", hostOf(rec), m.RecoveryFile(rec.Account, true), err)
			return unavailable(), nil
		}
	}
	return m.unknownOAuth(ctx, api, rec, sec, j, errors.New("an earlier refresh did not finish"))
}

// adoptOAuth stores a new pair: first in the recovery file, then in the
// keychain; then the recovery file and the journal go. If the keychain
// refuses it, the recovery file stays, the pair is served from there, and
// the person is told.
func (m *Manager) adoptOAuth(ctx context.Context, old *store.Record, oldSec *store.Secret, p *oauth.Pair) (Rotation, error) {
	recoveryFile, rerr := m.writeOAuthRecovery(old.Account, p)
	m.hook("after-refresh-answer") // the pair is safe on disk, not yet in the keychain
	upd := *old
	o := *old.OAuth
	upd.OAuth = &o
	now := m.now().UTC()
	upd.ExpiryUTC = p.Expiry.Unix()
	if p.Scopes != nil {
		o.Scopes = p.Scopes
	}
	o.RefreshedAt = now
	o.Dead, o.DeadAt, o.RefreshFailedAt, o.RefreshError, o.GitRefusedAt, o.WarnedAt = "", time.Time{}, time.Time{}, "", time.Time{}, time.Time{}
	sec := &store.Secret{Password: p.Access, OAuthRefreshToken: p.Refresh, UserID: oldSec.UserID}
	if err := m.Store.Put(ctx, &upd, sec); err != nil {
		if cur, gerr := m.Store.ReadSecret(ctx, old); gerr == nil && cur.OAuthRefreshToken == p.Refresh {
			// The keychain took it; the index did not (a full disk). The
			// journal stays; a later call finds the pair stored and tidies.
			m.warn("the OAuth token for %s was refreshed and is in the keychain, but the index could not be written (%v)", hostOf(old), err)
			return served(&upd, sec), nil
		}
		if rerr != nil {
			m.saveOAuthDead(ctx, old, store.DeadUnsaved)
			m.warn("the OAuth token for %s was refreshed but could not be saved anywhere (%v; %v); it works for now, then run %s", hostOf(old), err, rerr, m.LoginCommand(old))
			return served(&upd, sec), nil
		}
		m.warn("the OAuth token for %s was refreshed but the keychain refused it (%v); the new token waits in %s and is used from there until the keychain takes it", hostOf(old), err, recoveryFile)
		return served(&upd, sec), nil
	}
	m.hook("after-refresh-store")
	os.Remove(recoveryFile)
	m.removeOAuthJournal(old.Account)
	return served(&upd, sec), nil
}

// OAuthGitRefused handles Git's erase of rec's access token after its
// server refused it: an access token GitLab no longer accepts (expired by
// GitLab's clock, or revoked) is refreshed by the next get; one GitLab
// still accepts (or that cannot be asked about) is held back for a while,
// as a token is (see GitRefused).
func (m *Manager) OAuthGitRefused(ctx context.Context, rec *store.Record, sec *store.Secret) {
	now := m.now()
	api, err := m.oauthAPI(rec)
	if err == nil {
		actx, cancel := m.apiContext(ctx)
		_, err = api.Info(actx, sec.Password)
		cancel()
	}
	upd := *rec
	o := *rec.OAuth
	upd.OAuth = &o
	if errors.Is(err, oauth.ErrInvalidGrant) && now.Sub(o.RefreshedAt) >= oauthRefusedAgain {
		upd.ExpiryUTC = now.Unix() // due: the next get refreshes it
		m.Store.UpdateRecord(ctx, &upd)
		return
	}
	o.GitRefusedAt = now.UTC()
	m.Store.UpdateRecord(ctx, &upd)
	m.warn("the server refused the OAuth token for %s; it is not handed to Git again until %s (check the repository's URL and your access)", hostOf(rec), now.Add(retryAfter).Local().Format(time.Kitchen))
}

// OAuthState is State for an OAuth credential.
func (m *Manager) oauthState(rec *store.Record, now time.Time) TokenState {
	o := rec.OAuth
	st := TokenState{CanRotate: true, Expiry: time.Unix(rec.ExpiryUTC, 0).UTC()}
	st.Due = refreshDue(rec, now)
	if oauthBackingOff(rec, now) {
		st.RetryAt = o.RefreshFailedAt.Add(retryAfter)
	}
	pending := m.oauthPending(rec.Account)
	switch {
	case pending:
		st.Outcome = OutcomeUnknown
	case o.Dead == store.DeadAnswerLost || o.Dead == store.DeadUnsaved:
		st.Outcome = AnswerLost
	case !st.RetryAt.IsZero():
		st.Outcome = RotationFailed
	}
	st.Why = o.RefreshError
	switch {
	case m.Store != nil && m.Store.Elsewhere(rec):
		st.State = StoredElsewhere
	case o.Dead != "":
		st.State, st.Since, st.Why = Revoked, o.DeadAt, oauthDeadReason(o)
	case oauthHeldBack(rec, now):
		st.State, st.Since, st.Until = HeldBack, o.GitRefusedAt, o.GitRefusedAt.Add(retryAfter)
	case st.Due:
		st.State = DueForRotation
	}
	return st
}

func (m *Manager) saveOAuthDead(ctx context.Context, rec *store.Record, why store.Dead) {
	m.removeOAuthJournal(rec.Account)
	upd := *rec
	o := *rec.OAuth
	upd.OAuth = &o
	o.Dead, o.DeadAt = why, m.now().UTC()
	m.Store.UpdateRecord(ctx, &upd)
	m.warnOAuthDead(&upd)
}

func (m *Manager) oauthBackOff(ctx context.Context, rec *store.Record, why string) *store.Record {
	upd := *rec
	o := *rec.OAuth
	upd.OAuth = &o
	o.RefreshFailedAt, o.RefreshError = m.now().UTC(), why
	m.Store.UpdateRecord(ctx, &upd)
	return &upd
}

// oauthWarnOnce warns at most once per warnEvery for the same record.
func (m *Manager) oauthWarnOnce(ctx context.Context, rec *store.Record, format string, args ...any) {
	now := m.now()
	if now.Sub(rec.OAuth.WarnedAt) < warnEvery {
		return
	}
	m.warn(format, args...)
	upd := *rec
	o := *rec.OAuth
	upd.OAuth = &o
	o.WarnedAt = now.UTC()
	m.Store.UpdateRecord(ctx, &upd)
}

// oauthJournal records a refresh in flight.
type oauthJournal struct {
	StartedAt time.Time `json:"started_at"`
	// Sent is the digest of the refresh token sent (store.Digest: a random
	// secret's digest gives nothing away), so that a later call knows
	// whether the stored pair is still the one it refreshed.
	Sent string `json:"sent"`
	Host string `json:"host"`
}

func (m *Manager) oauthPending(account string) bool {
	_, err := os.Stat(m.path("oauth", account, ".pending"))
	return err == nil
}

func (m *Manager) writeOAuthJournal(account string, j oauthJournal) error {
	b, _ := json.Marshal(j)
	return atomicfile.WriteFile(m.path("oauth", account, ".pending"), b, 0o600)
}

func (m *Manager) readOAuthJournal(account string) (oauthJournal, bool) {
	var j oauthJournal
	b, err := safefile.ReadFile(m.path("oauth", account, ".pending"), maxStateFile)
	if err != nil {
		return j, false
	}
	// A damaged journal still means a refresh was in flight.
	json.Unmarshal(b, &j)
	return j, true
}

func (m *Manager) removeOAuthJournal(account string) {
	os.Remove(m.path("oauth", account, ".pending"))
}

// recoveredPair is a refreshed pair as the recovery file keeps it.
type recoveredPair struct {
	Access  string    `json:"access_token"`
	Refresh string    `json:"refresh_token"`
	Expiry  time.Time `json:"expiry"`
}

func (m *Manager) writeOAuthRecovery(account string, p *oauth.Pair) (string, error) {
	name := m.RecoveryFile(account, true)
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return name, err
	}
	b, _ := json.Marshal(recoveredPair{Access: p.Access, Refresh: p.Refresh, Expiry: p.Expiry})
	return name, atomicfile.WriteFile(name, b, 0o600)
}

func (m *Manager) readOAuthRecovery(account string) (*oauth.Pair, bool) {
	b, err := safefile.ReadFile(m.RecoveryFile(account, true), maxStateFile)
	if err != nil {
		return nil, false
	}
	var r recoveredPair
	if json.Unmarshal(b, &r) != nil || r.Access == "" || r.Refresh == "" {
		return nil, false
	}
	return &oauth.Pair{Access: r.Access, Refresh: r.Refresh, Expiry: r.Expiry}, true
}

// tidyOAuth removes what a finished refresh left: its journal, and a
// recovery file holding the pair that is now stored.
func (m *Manager) tidyOAuth(rec *store.Record, sec *store.Secret) {
	m.removeOAuthJournal(rec.Account)
	if p, ok := m.readOAuthRecovery(rec.Account); ok && p.Refresh == sec.OAuthRefreshToken {
		os.Remove(m.RecoveryFile(rec.Account, true))
	}
}

// OAuthRecoveryFile is where a refreshed pair of account waits when the
// keychain refused it; "" when there is none.
func (m *Manager) OAuthRecoveryFile(account string) string {
	name := m.RecoveryFile(account, true)
	if _, err := os.Stat(name); err != nil {
		return ""
	}
	return name
}
