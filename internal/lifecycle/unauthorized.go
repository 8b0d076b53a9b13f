package lifecycle

import (
	"context"
	"errors"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// confirmUnrecognizedAfter is how long a bare 401 from GET .../self must
// last, with no answer accepting the token in between, before it counts as
// GitLab's word that it does not know the token. A token GitLab has deleted
// never comes back (GitLab finds a token by its digest,
// PersonalAccessToken.find_by_token, and its row went with its user:
// has_many :personal_access_tokens, dependent: :destroy in
// app/models/user.rb), while a gateway's or maintenance page's 401 ends
// with the deploy, restart or failover behind it; an hour outlasts those.
// Meanwhile a token GitLab did delete costs at most one refused git command
// per hold-back (retryAfter, see GitRefused), far below GitLab's ban for
// failed logins, 30 in 3 minutes from one address
// (https://docs.gitlab.com/rate_limits/abuse_bans/).
const confirmUnrecognizedAfter = time.Hour

// errNotAToken is ask's conclusion that GitLab does not know the secret as
// a token: a bare 401 that lasted, confirmed by another endpoint. It is a
// gitlabapi.ErrUnauthorized.
var errNotAToken error = notATokenError{}

// notATokenError is errNotAToken's type (a value built at init costs get's
// hot path).
type notATokenError struct{}

func (notATokenError) Error() string {
	return "GitLab does not know the token (GET .../personal_access_tokens/self has answered 401 for over an hour with no answer accepting it in between, and GET /user agrees)"
}

func (notATokenError) Unwrap() error { return gitlabapi.ErrUnauthorized }

// ask asks GitLab about a token (GET .../personal_access_tokens/self) and
// is the one place that decides what a 401 says about it. SPEC: a token is
// dead only on GitLab's own word, never on a 401 a proxy can give.
//
//   - 401 invalid_token is GitLab's own word: lib/api/api_guard.rb answers
//     it (with error_description and a WWW-Authenticate challenge) only for
//     a token it found and found expired, revoked, or an impersonation
//     token while impersonation is disabled. The token is dead:
//     gitlabapi.ErrUnauthorized, returned as is.
//   - A bare 401 {"message":"401 Unauthorized"} is what GitLab answers for a
//     token it does not know at all (unauthorized! in lib/api/helpers.rb
//     when AuthFinders#find_personal_access_token finds none: deleted with
//     its user, or a password that never was a token), and, word for word,
//     what a gateway or maintenance page in front of GitLab can answer for
//     a while. It counts only when it lasts: first seen at least
//     confirmUnrecognizedAfter ago with no answer accepting the token since
//     (Token.UnrecognizedSince), and now GET /user, another endpoint,
//     answers the same bare 401 (GitLab answers a token it knows there with
//     200, or 403 insufficient_scope when it lacks read_user). Then the
//     answer is errNotAToken, which is a gitlabapi.ErrUnauthorized; until
//     then it is gitlabapi.ErrUnrecognized: unknown.
//   - Any other 401 (dpop_error, a page that is not GitLab's) is not about
//     the token: gitlabapi.ErrRefused.
//
// Unknown is not "no": a token whose check is unknown stays what it was. One
// that was served is served while its expiry allows, because withholding a
// working token locks the person out of every git command, while serving
// one GitLab may have deleted costs at most one refused git command per
// hold-back (Git erases it after its server refused it, and GitRefused holds
// it back). Nothing is sent to the rotate endpoint on such an answer:
// rotateLocked rotates only after a 200.
//
// ask returns rec with UnrecognizedSince brought up to date (a copy when it
// changed), for the caller to store with whatever else it records.
func (m *Manager) ask(ctx context.Context, api API, rec *store.Record, token string) (*store.Record, *gitlabapi.Token, error) {
	actx, cancel := m.apiContext(ctx)
	info, err := api.Self(actx, token)
	cancel()
	now := m.now()
	since := rec.Token.UnrecognizedSince
	switch {
	case err == nil:
		return withUnrecognizedSince(rec, time.Time{}), info, nil
	case !errors.Is(err, gitlabapi.ErrUnrecognized):
		return rec, nil, err
	case since.IsZero() || since.After(now):
		// The first one (a time ahead of the clock is no history).
		return withUnrecognizedSince(rec, now.UTC()), nil, err
	case now.Sub(since) < confirmUnrecognizedAfter:
		return rec, nil, err
	}
	actx, cancel = m.apiContext(ctx)
	_, uerr := api.CurrentUser(actx, token)
	cancel()
	var ue *gitlabapi.Error
	switch {
	case errors.As(uerr, &ue) && ue.Unrecognized():
		return rec, nil, errNotAToken
	case uerr == nil || (ue != nil && ue.InsufficientScope()):
		// GitLab knows the token: the 401s of .../self were not its
		// answer. They count from the next one, if any.
		return withUnrecognizedSince(rec, time.Time{}), nil, err
	}
	return rec, nil, err
}

// withUnrecognizedSince returns rec with Token.UnrecognizedSince at t: rec
// itself when it is already, else a copy.
func withUnrecognizedSince(rec *store.Record, t time.Time) *store.Record {
	if rec.Token.UnrecognizedSince.Equal(t) {
		return rec
	}
	upd, tok := copyRecord(rec)
	tok.UnrecognizedSince = t
	return upd
}
