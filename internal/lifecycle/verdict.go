package lifecycle

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// Level is how much a stored credential asks of a person. status counts
// what is Warning and above and exits 1 for it, doctor reports it as
// [ok], [warn] or [fail], and its colour follows it.
type Level int

const (
	// OK: git gets the credential, and nothing needs a person (the
	// helper rotates a token that is due itself). A Problem, if any, is
	// worth knowing only.
	OK Level = iota
	// Warning: git gets the credential now, but it stops working (or
	// keeps failing) unless a person acts.
	Warning
	// ActionNeeded: git gets nothing for it until a person acts.
	ActionNeeded
)

func (l Level) String() string {
	switch l {
	case Warning:
		return "warning"
	case ActionNeeded:
		return "action needed"
	}
	return "ok"
}

// MarshalText names the level in --json: "ok", "warning", "action".
func (l Level) MarshalText() ([]byte, error) {
	if l == ActionNeeded {
		return []byte("action"), nil
	}
	return []byte(l.String()), nil
}

// Verdict is what is said of one stored credential. It is decided by
// Describe alone, so that get's one-line messages, status (its table,
// --json and exit code), doctor, rotate and logout cannot disagree.
type Verdict struct {
	Level Level `json:"level"`
	// Label is the state in a word or two, as status's table shows it
	// ("ok", "rotation due", "cannot rotate", "revoked").
	Label string `json:"-"`
	// Name is the state as --json names it (snake case).
	Name string `json:"state"`
	// Problem says what is wrong (Warning and up), in a clause that
	// reads after "HOST (USER): ", and Fix what to run or do about it, in
	// a clause that reads after the Problem and "; ".
	Problem string `json:"problem,omitempty"`
	Fix     string `json:"fix,omitempty"`
	// Note says what is worth knowing of a credential that is OK, in the
	// same form; "" when nothing.
	Note string `json:"note,omitempty"`
}

// Line is the verdict as one line: the problem and its fix.
func (v Verdict) Line() string {
	if v.Fix == "" {
		return v.Problem
	}
	return v.Problem + "; " + v.Fix
}

// Found is what a command found out about a credential beyond its record
// and the state dir, for Describe.
type Found struct {
	// SecretErr is why its secret could not be read:
	// secrets.ErrNotFound when its backend holds none, or the backend's
	// error (secrets.ErrLocked when it is locked). Nil when it was read
	// or not asked.
	SecretErr error
	// Secret is its secret, when it was read: a recovery file that holds
	// the same token is a leftover copy, not a successor.
	Secret *store.Secret
	// AccessRefused: GitLab refused an OAuth credential's access token
	// just now.
	AccessRefused bool
}

// stateWord is a state as status's table (label) and --json (name) say
// it. The words are these, and no others.
type stateWord struct{ label, name string }

var (
	stateOK             = stateWord{"ok", "ok"}
	statePlain          = stateWord{"plain", "plain"}
	stateElsewhere      = stateWord{"elsewhere", "elsewhere"}
	stateMissing        = stateWord{"missing", "missing"}
	stateLocked         = stateWord{"locked", "locked"}
	stateUnreadable     = stateWord{"unreadable", "unreadable"}
	stateOutcomeUnknown = stateWord{"outcome unknown", "outcome_unknown"}
	stateRecoveryFile   = stateWord{"recovery file", "recovery_file"}
	stateExpired        = stateWord{"expired", "expired"}
	stateRevoked        = stateWord{"revoked", "revoked"}
	stateHeldBack       = stateWord{"held back", "held_back"}
	stateNoGitAccess    = stateWord{"no git access", "no_git_access"}
	stateRotationFailed = stateWord{"rotation failed", "rotation_failed"}
	stateUnverified     = stateWord{"unverified", "unverified"}
	stateCannotRotate   = stateWord{"can't rotate", "cannot_rotate"}
	stateNoSelfRotation = stateWord{"no self-rotation", "no_self_rotation"}
	stateRotationDue    = stateWord{"rotation due", "rotation_due"}
	stateNoClientID     = stateWord{"no client id", "no_client_id"}
	stateRefused        = stateWord{"refused", "refused"}
	stateRefreshFailed  = stateWord{"refresh failed", "refresh_failed"}
)

// verdict is the verdict of a state at level, in its words.
func verdict(level Level, w stateWord, problem, fix string) Verdict {
	v := Verdict{Level: level, Label: w.label, Name: w.name, Problem: problem, Fix: fix}
	if level == OK {
		v.Problem, v.Note = "", problem
	}
	return v
}

// Describe is the verdict on rec, whose state at now is st (StateAt), with
// what the caller found out besides. The first of these that holds decides:
// a secret stored in another backend, or that cannot be read; a rotation
// whose outcome the helper is settling; a new token waiting in a recovery
// file; the token dead (expired, revoked) or held back; then what makes it
// stop working unless a person acts; else it is ok.
func (m *Manager) Describe(rec *store.Record, st TokenState, found Found, now time.Time) Verdict {
	if st.State == StoredElsewhere || (m.Store != nil && m.Store.Elsewhere(rec)) {
		return m.elsewhere(rec)
	}
	if v, ok := m.unreadable(rec, found.SecretErr); ok {
		return v
	}
	switch {
	case rec.OAuth != nil:
		return m.describeOAuth(rec, st, found, now)
	case rec.Token == nil:
		return verdict(OK, statePlain, "", "")
	}
	return m.describeToken(rec, st, found, now)
}

// elsewhere is the verdict on a credential whose secret is in another
// backend than the config's.
func (m *Manager) elsewhere(rec *store.Record) Verdict {
	configured := ""
	if m.Store != nil {
		configured = m.Store.Backend
	}
	return Elsewhere(rec, configured)
}

// Elsewhere is the verdict on rec, whose secret is in another backend than
// the configured one (store.ElsewhereError).
func Elsewhere(rec *store.Record, configured string) Verdict {
	return verdict(ActionNeeded, stateElsewhere,
		fmt.Sprintf("stored in the %s backend, but the config names %s, so git gets nothing for it", rec.Backend, configured),
		fmt.Sprintf("run git-credential-glpat migrate --to %s to move it (or set backend = %q again)", configured, rec.Backend))
}

// unreadable is the verdict on rec, whose secret could not be read (err),
// if that is so.
func (m *Manager) unreadable(rec *store.Record, err error) (Verdict, bool) {
	switch {
	case err == nil:
		return Verdict{}, false
	case errors.Is(err, secrets.ErrNotFound):
		fix := "store it again (git does, at its next login)"
		if rec.Managed() {
			fix = "run " + m.LoginCommand(rec)
		}
		return verdict(ActionNeeded, stateMissing, "its secret is missing from the backend (deleted there?), so git gets nothing for it", fix), true
	case errors.Is(err, secrets.ErrLocked):
		fix := "unlock the keychain (git-credential-glpat doctor says how, here)"
		if m.Store != nil && m.Store.Backend == string(config.BackendEncryptedFile) {
			fix = "run git-credential-glpat unlock"
		}
		return verdict(ActionNeeded, stateLocked, "the secrets are locked, so git gets nothing for it", fix), true
	}
	return verdict(ActionNeeded, stateUnreadable, "its secret cannot be read ("+err.Error()+"), so git gets nothing for it",
		"nothing is lost while it cannot be read: git-credential-glpat doctor says what is wrong with the backend"), true
}

// describeToken is Describe for a managed token.
func (m *Manager) describeToken(rec *store.Record, st TokenState, found Found, now time.Time) Verdict {
	t := rec.Token
	login := "run " + m.LoginCommand(rec)
	newToken := "create a new token and run " + m.LoginCommand(rec)
	expires := "never expires"
	if t.ExpiresAt != "" {
		expires = "expires " + t.ExpiresAt + " (00:00 UTC)"
	}
	if st.Outcome == OutcomeUnknown {
		// Not a failure: GitLab may have rotated the token, and the
		// helper settles it by itself (every get checks the token with
		// GitLab meanwhile).
		return verdict(OK, stateOutcomeUnknown, st.OutcomeText(now), "")
	}
	if file, waits := m.recoveryWaits(rec, found.Secret); waits {
		return verdict(ActionNeeded, stateRecoveryFile, "a rotated token waits in "+file+" (the keychain refused it)",
			m.LoginCommand(rec)+" --token-stdin < "+file+", then delete the file")
	}
	switch st.State {
	case Expired:
		problem := "the token expired on " + t.ExpiresAt + " (00:00 UTC)"
		if t.Dead != "" {
			problem = "GitLab says the token has expired"
		}
		return verdict(ActionNeeded, stateExpired, problem, newToken)
	case Revoked:
		return verdict(ActionNeeded, stateRevoked, deadProblem(t.Dead), newToken)
	case HeldBack:
		return verdict(Warning, stateHeldBack,
			fmt.Sprintf("git's server refused the token at %s and GitLab could not be asked about it, so it is held back from git until %s", clockText(st.Since, now), clockText(st.Until, now)),
			"check the repository's URL and your access to it; to replace the token, "+login)
	}
	switch {
	case t.GitUnusable():
		return verdict(ActionNeeded, stateNoGitAccess, NoGitAccess(t.Scopes), "create a token with read_repository and write_repository and run "+m.LoginCommand(rec))
	case st.Outcome == RotationFailed || t.RotateError != "":
		why := st.OutcomeText(now)
		if why == "" {
			why = "the last rotation failed: " + t.RotateError
		}
		return verdict(Warning, stateRotationFailed, why+"; the token "+expires, "run git-credential-glpat rotate "+hostOf(rec)+" and read what it says")
	case st.State == Unverified:
		return verdict(Warning, stateUnverified, "the token was stored while GitLab could not be reached, and is not checked yet",
			"run git-credential-glpat status "+hostOf(rec)+" to check it with GitLab")
	case st.State == CannotRotateItself:
		return verdict(Warning, stateCannotRotate, "the token "+expires+" and cannot rotate itself (it needs the self_rotate or api scope)", newToken)
	case st.State == NoSelfRotation:
		return verdict(Warning, stateNoSelfRotation, NoSelfRotationText(t)+"; the token "+expires, "create a new token before then and run "+m.LoginCommand(rec))
	case st.State == DueForRotation && !m.settings(rec).AutoRotate:
		return verdict(Warning, stateRotationDue, "rotation is due (the token "+expires+"), and auto_rotate is off for "+hostOf(rec),
			"run git-credential-glpat rotate "+hostOf(rec)+", or git-credential-glpat schedule install to rotate daily")
	case st.State == DueForRotation:
		return verdict(OK, stateRotationDue, "rotation is due (the token "+expires+"): the next git command that uses it rotates it, or git-credential-glpat rotate "+hostOf(rec), "")
	}
	// Works, and is not due: what will need a person once it is.
	var notes []string
	if t.ExpiresAt != "" && !st.CanRotate {
		notes = append(notes, "the token cannot rotate itself (it needs the self_rotate or api scope), so once it is due for rotation a new token is needed")
	} else if t.ExpiresAt != "" && t.NoSelfRotation != "" {
		notes = append(notes, NoSelfRotationText(t)+", so once it is due for rotation a new token is needed")
	}
	if t.CanFetch() && !t.CanPush() {
		notes = append(notes, "fetch only: GitLab answers a push with 403 \"You are not allowed to upload code.\" (the token lacks write_repository)")
	}
	for _, h := range HeldBackPaths(rec, now) {
		notes = append(notes, "not handed to git for "+h.Path+" until "+clockText(h.Until, now)+": git's server refused it there, though GitLab accepts it (its account cannot read that repository)")
	}
	if file, ok := m.recoveryLeftover(rec, found.Secret); ok {
		notes = append(notes, file+" holds a copy of the stored token, left by a rotation: git-credential-glpat rotate "+hostOf(rec)+" removes it")
	}
	return verdict(OK, stateOK, strings.Join(notes, "; "), "")
}

// deadProblem says why a token is dead (store.Token.Dead), in a clause.
func deadProblem(d store.Dead) string {
	switch d {
	case store.DeadExpired:
		return "GitLab says the token has expired"
	case store.DeadRevoked:
		return "GitLab says the token was revoked"
	case store.DeadAnswerLost:
		return "GitLab no longer accepts the token after a rotation whose answer was lost: it may have been rotated (the new token is not known) or revoked"
	case store.DeadUnsaved:
		return "the token was rotated, which revoked it, but the new token could not be saved anywhere"
	case store.DeadUnconfirmed:
		return "GitLab no longer accepts the token after a rotation, and a token in the recovery file that may be its successor cannot be confirmed as such"
	}
	return "GitLab no longer accepts the token"
}

// NoGitAccess says that a token with scopes cannot be used by Git, and what
// GitLab answers it (store.Token.CanFetch).
func NoGitAccess(scopes []string) string {
	return fmt.Sprintf("its scopes (%s) do not let git fetch or push: GitLab answers git with 403 \"You are not allowed to download code.\"", strings.Join(scopes, ", "))
}

// recoveryWaits reports whether rec's recovery file holds a token that may
// succeed the stored one: any token but the stored one (sec, when read).
func (m *Manager) recoveryWaits(rec *store.Record, sec *store.Secret) (string, bool) {
	tok, ok := m.readRecovery(rec.Account)
	if !ok || (sec != nil && tok == sec.Password) {
		return "", false
	}
	return m.RecoveryFile(rec.Account, false), true
}

// recoveryLeftover reports whether rec's recovery file holds the stored
// token itself (sec): a copy a finished rotation left.
func (m *Manager) recoveryLeftover(rec *store.Record, sec *store.Secret) (string, bool) {
	tok, ok := m.readRecovery(rec.Account)
	if !ok || sec == nil || tok != sec.Password {
		return "", false
	}
	return m.RecoveryFile(rec.Account, false), true
}

// describeOAuth is Describe for an OAuth credential.
func (m *Manager) describeOAuth(rec *store.Record, st TokenState, found Found, now time.Time) Verdict {
	login := "run " + m.LoginCommand(rec)
	switch {
	case st.Outcome == OutcomeUnknown:
		return verdict(OK, stateOutcomeUnknown, "a refresh got no answer; whether GitLab made a new pair is checked on the next git command", "")
	case st.State == Revoked:
		return verdict(ActionNeeded, stateRevoked, "the OAuth login has ended: "+oauthDeadReason(rec.OAuth), login)
	case m.settings(rec).OAuthClientID == "":
		return verdict(ActionNeeded, stateNoClientID,
			"the config names no oauth_client_id under [hosts.\""+rec.Host+"\"], so its access token cannot be refreshed",
			"put the application's Application ID back as oauth_client_id under [hosts.\""+rec.Host+"\"] in the config file")
	}
	if f := m.OAuthRecoveryFile(rec.Account); f != "" {
		return verdict(Warning, stateRecoveryFile, "a refreshed token waits in "+f+" (the keychain refused it)",
			"the next git command for "+hostOf(rec)+" stores it; if the keychain still refuses it, git-credential-glpat doctor says why")
	}
	switch {
	case st.State == HeldBack:
		return verdict(Warning, stateHeldBack,
			fmt.Sprintf("git's server refused its access token at %s though GitLab accepted it, so it is held back from git until %s", clockText(st.Since, now), clockText(st.Until, now)),
			"check the repository's URL and your access to it")
	case found.AccessRefused:
		return verdict(Warning, stateRefused, "GitLab no longer accepts its access token",
			"run git-credential-glpat rotate "+hostOf(rec)+" --force to refresh it now; if that fails, "+login)
	case st.Outcome == RotationFailed || rec.OAuth.RefreshError != "":
		return verdict(Warning, stateRefreshFailed, "the last refresh failed: "+rec.OAuth.RefreshError,
			"run git-credential-glpat rotate "+hostOf(rec)+" --force and read what it says")
	}
	access := "the access token"
	if !st.Expiry.IsZero() {
		access += " (until " + clockText(st.Expiry, now) + ")"
	}
	if st.Due {
		return verdict(OK, stateOK, access+" is due for a refresh: the next git command for "+hostOf(rec)+" refreshes it", "")
	}
	return verdict(OK, stateOK, "", "")
}

// Dead is the reason GitLab's refusal err gives for a token: expired,
// revoked, or (a 401 that says neither) refused.
func Dead(err error) store.Dead {
	tok := store.Token{}
	markDead(&tok, err, time.Time{})
	return tok.Dead
}
