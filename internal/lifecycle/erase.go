package lifecycle

import (
	"context"
	"errors"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
)

// eraseCheckTimeout bounds the one API call of an erase: Git is waiting
// to report a failed login, so it must be short.
const eraseCheckTimeout = 5 * time.Second

// GitRefused handles Git's erase of a managed token, which Git sends after
// its server refused the token. The token is never dropped on Git's word
// alone: GitLab is asked once (GET /personal_access_tokens/self, the only
// network call an erase makes). A token GitLab refuses stays listed as
// revoked or expired (not served; login replaces it). A token GitLab still
// accepts, or one GitLab could not be asked about, is kept and held back
// from Git for the back-off period, so that Git does not earn the user a
// failed-login ban by retrying it. One line says which.
func (m *Manager) GitRefused(ctx context.Context, rec *store.Record, sec *store.Secret) {
	upd, tok := copyRecord(rec)
	now := m.now()
	api, err := m.api(rec)
	var info *gitlabapi.Token
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, eraseCheckTimeout)
		info, err = api.Self(actx, sec.Password)
		cancel()
	}
	switch {
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		markDead(tok, err, now)
		m.warn("GitLab no longer accepts the token for %s (%s); it stays listed as %s: run %s", rec.Host, tok.Dead, tok.Dead, m.LoginCommand(rec))
	case err == nil:
		applyInfo(tok, info)
		tok.Unverified = false
		upd.SetDigest(sec.Password) // GitLab has confirmed it is a token
		upd.ExpiryUTC = expiryUnix(tok)
		tok.CheckedAt = now.UTC()
		tok.GitRefusedAt = now.UTC()
		m.warn("the server refused the token for %s, but GitLab still accepts it (check the repository's URL and your access to it); it is kept and not handed to Git again for %s", rec.Host, termtext.Plural(int(retryAfter/time.Minute), "minute"))
	default:
		tok.GitRefusedAt = now.UTC()
		m.warn("the server refused the token for %s and GitLab could not be asked about it (%v); it is kept and not handed to Git again for %s", rec.Host, err, termtext.Plural(int(retryAfter/time.Minute), "minute"))
	}
	m.Store.UpdateRecord(ctx, upd)
}
