package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// State is what a managed token is now, in the order get decides it: the
// first that holds is the state. get, status, doctor and rotate all ask
// Manager.State (or Refuses, its hot-path part) instead of working it out
// from the record's fields themselves.
type State int

const (
	// Active: served; not due for rotation.
	Active State = iota
	// DueForRotation: served; less than rotate_before is left, and get
	// (with auto_rotate) or rotate rotates it.
	DueForRotation
	// CannotRotateItself: served; due, but its scopes (or GitLab's answer
	// to a rotation) do not let it rotate itself: it needs self_rotate or
	// api.
	CannotRotateItself
	// NoSelfRotation: served; due, and its GitLab was found to have no
	// self-rotate endpoint (older than 16.10, or 17.9 for project and
	// group tokens), or to refuse rotating legacy tokens (fine-grained
	// tokens enforced), less than recheckNoSelfRotation ago.
	NoSelfRotation
	// Unverified: served; stored while GitLab could not be reached, and
	// not checked since.
	Unverified
	// HeldBack: not served until Until: Git's server refused it and
	// GitLab could not be asked whether it still accepts it (or answered
	// a bare 401), see GitRefused.
	HeldBack
	// Expired: not served: its expiry has passed, or GitLab said so.
	Expired
	// Revoked: not served: GitLab no longer accepts it (revoked, refused,
	// or rotated with the answer that held its successor lost).
	Revoked
	// StoredElsewhere: not served: its secret is in another backend than
	// the one the config names.
	StoredElsewhere
)

var stateNames = [...]string{"active", "due for rotation", "cannot rotate itself", "no self-rotation", "unverified", "held back", "expired", "revoked", "stored elsewhere"}

// String names s for diagnostics and tests; what a person is told of a
// state is Describe's.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown state"
}

// Served reports whether get hands a token in state s to Git (or rotates
// it first) when no rotation is unfinished.
func (s State) Served() bool { return s < HeldBack }

// Outcome is what became of the last rotation of a token.
type Outcome int

const (
	// NoRotation: none attempted, or the last one succeeded.
	NoRotation Outcome = iota
	// RotationFailed: the last attempt failed and proved nothing was
	// committed (Why says how); none is tried again before RetryAt.
	RotationFailed
	// OutcomeUnknown: a rotation is unfinished (its journal is there):
	// GitLab may have rotated, or may yet, so get settles it before it
	// refuses the token (Why says how it ended, if it did).
	OutcomeUnknown
	// AnswerLost: a rotation's answer with the new token was lost, and
	// GitLab no longer accepts the old token: GitLab may have rotated it
	// (or it was revoked meanwhile; which, the helper cannot tell), or the
	// new token that GitLab did send could not be saved anywhere.
	AnswerLost
)

// answerLost reports whether dead says a rotation's new token is nowhere.
func answerLost(dead store.Dead) bool {
	return dead == store.DeadAnswerLost || dead == store.DeadUnsaved
}

// TokenState is State's answer for one token.
type TokenState struct {
	State   State
	Outcome Outcome
	// Due: less than rotate_before is left (true for an expired token).
	Due bool
	// CanRotate: its scopes let it rotate itself (store.Token.CanRotateItself).
	CanRotate bool
	// Expiry is when the token stops working; zero when it never expires.
	Expiry time.Time
	// Since is when the state began: when GitLab refused it, when Git's
	// server refused it, when GitLab was found without self-rotation, the
	// expiry. Zero when not known or not meaningful (Active).
	Since time.Time
	// Until is when a hold-back ends by itself.
	Until time.Time
	// RetryAt, when not zero, is when the back-off after a failed (or
	// unknown) rotation ends: no rotation is attempted before it.
	RetryAt time.Time
	// Why is the reason in words, as stored: why the token is dead, why
	// its GitLab cannot rotate it, why the last rotation failed.
	Why string
	// SentAt is when the unfinished rotation of an OutcomeUnknown was
	// sent, and SettlesAt when GitLab can no longer be acting on it;
	// zero when not known (State reads them, assess does not).
	SentAt, SettlesAt time.Time
}

// OutcomeText says in words what became of the token's last rotation,
// read at now: why it failed and when it is tried again, or what is not
// known of it. It is "" for NoRotation.
func (st TokenState) OutcomeText(now time.Time) string {
	switch st.Outcome {
	case OutcomeUnknown:
		if !st.SentAt.IsZero() && now.Before(st.SettlesAt) {
			return fmt.Sprintf("a rotation sent at %s may still be in progress at GitLab; try again after %s", clockText(st.SentAt, now), clockText(st.SettlesAt, now))
		}
		s := "a rotation got no answer, so whether GitLab rotated the token is not known yet"
		if !st.SentAt.IsZero() {
			s = fmt.Sprintf("a rotation sent at %s got no answer, so whether GitLab rotated the token is not known yet", clockText(st.SentAt, now))
		}
		if st.RetryAt.After(now) {
			return s + "; GitLab is asked after " + clockText(st.RetryAt, now)
		}
		return s + "; the next get or rotate asks GitLab"
	case AnswerLost:
		return st.Why
	case RotationFailed:
		s := "the last rotation failed: " + st.Why
		if st.RetryAt.After(now) {
			s += "; tried again after " + clockText(st.RetryAt, now)
		}
		return s
	}
	return ""
}

// State reports what rec's token is now.
func (m *Manager) State(rec *store.Record) TokenState {
	return m.StateAt(rec, m.now())
}

// StateAt reports what rec's token is at now, for a caller whose decision
// has read the clock already.
func (m *Manager) StateAt(rec *store.Record, now time.Time) TokenState {
	elsewhere := m.Store != nil && m.Store.Elsewhere(rec)
	switch {
	case rec.OAuth != nil:
		return m.oauthState(rec, now) // oauth.go
	case rec.Token == nil && elsewhere:
		return TokenState{State: StoredElsewhere}
	case rec.Token == nil:
		return TokenState{} // a plain credential: served as stored
	}
	j, pending := m.readJournal(rec.Account)
	// A journal naming a token that is no longer the stored one is what a
	// finished rotation left (Tidy removes it): nothing is unsettled.
	pending = pending && !journalFinished(rec, j)
	st := assess(rec, m.settings(rec), pending, elsewhere, now)
	if pending && !j.StartedAt.IsZero() {
		st.SentAt, st.SettlesAt = j.StartedAt, settled(j)
	}
	return st
}

// assess is State over its inputs: the record, its host's settings, whether
// a rotation of it is unfinished, whether its secret is in another backend.
func assess(rec *store.Record, s Settings, pending, elsewhere bool, now time.Time) TokenState {
	t := rec.Token
	st := refusal(rec, now)
	st.CanRotate = t.CanRotateItself()
	st.Due = Due(rec, s, now)
	if backingOff(rec, now) {
		st.RetryAt = retryAt(t)
	}
	switch {
	case pending:
		st.Outcome = OutcomeUnknown
	case answerLost(t.Dead):
		st.Outcome = AnswerLost
	case !st.RetryAt.IsZero():
		st.Outcome = RotationFailed
	}
	if st.Outcome != AnswerLost && st.Why == "" {
		st.Why = t.RotateError
	}
	switch {
	case elsewhere:
		st.State = StoredElsewhere
	case st.State != Active:
		// Refused by refusal: dead, expired or held back.
	case t.Unverified:
		st.State = Unverified
	case st.Due && !st.CanRotate:
		st.State = CannotRotateItself
	case st.Due && noSelfRotation(rec, now):
		st.State, st.Since, st.Why = NoSelfRotation, t.NoSelfRotationAt, NoSelfRotationText(t)
	case st.Due:
		st.State = DueForRotation
	}
	return st
}

// refusal is the part of State that keeps a token from Git, from the
// record alone (no settings, no file): get asks it on every call (Refuses).
// It is Active when nothing does.
func refusal(rec *store.Record, now time.Time) TokenState {
	t := rec.Token
	var st TokenState
	exp, hasExpiry := t.Expiry()
	if hasExpiry {
		st.Expiry = exp
	}
	switch {
	case t.Dead == store.DeadExpired:
		st.State, st.Since, st.Why = Expired, t.DeadAt, deadProblem(t.Dead)
	case t.Dead != "":
		st.State, st.Since, st.Why = Revoked, t.DeadAt, deadProblem(t.Dead)
	case hasExpiry && !now.Before(exp):
		st.State, st.Since = Expired, exp
	case heldBack(rec, now):
		st.State, st.Since, st.Until = HeldBack, t.GitRefusedAt, t.GitRefusedAt.Add(retryAfter)
	}
	return st
}

// IsHeldBack reports whether the managed token of rec is held back from
// Git at now (state HeldBack, whatever else is true of it).
func IsHeldBack(rec *store.Record, now time.Time) bool { return rec.Token != nil && heldBack(rec, now) }

// heldBack reports whether Git's server refused rec's token less than
// retryAfter ago (see GitRefused).
func heldBack(rec *store.Record, now time.Time) bool {
	return !rec.Token.GitRefusedAt.IsZero() && now.Sub(rec.Token.GitRefusedAt) < retryAfter
}

// IsHeldBackFrom reports whether the managed token of rec is held back from
// Git for the repository path only: Git's server refused the bot's token
// there less than retryAfter ago, while GitLab accepted it (GitRefused).
func IsHeldBackFrom(rec *store.Record, path string, now time.Time) bool {
	if rec.Token == nil || path == "" {
		return false
	}
	at, ok := rec.Token.GitRefusedPaths[path]
	return ok && now.Sub(at) < retryAfter
}

// HeldBackPaths lists the repositories rec's token is held back from at
// now (IsHeldBackFrom), sorted, with when each hold ends.
func HeldBackPaths(rec *store.Record, now time.Time) []PathHold {
	var out []PathHold
	for p, at := range rec.Token.GitRefusedPaths {
		if now.Sub(at) < retryAfter {
			out = append(out, PathHold{Path: p, Until: at.Add(retryAfter)})
		}
	}
	slices.SortFunc(out, func(a, b PathHold) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// PathHold is a repository a token is held back from, until Until.
type PathHold struct {
	Path  string    `json:"path"`
	Until time.Time `json:"until"`
}
