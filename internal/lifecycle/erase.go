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
// its server refused the token (401; git's http.c rejects a credential on
// 401 only, never on a 403). The token is never dropped on Git's word
// alone: GitLab is asked once (GET /personal_access_tokens/self, the only
// network call an erase makes), and one line says what follows:
//
//   - GitLab refuses it: it stays listed as revoked or expired (not served;
//     login replaces it).
//   - GitLab accepts it: the refusal is about the repository, not the
//     token. GitLab's API and Git check a person's account alike
//     (Gitlab::UserAccess), but Git also refuses a project or group
//     token's bot on a project it cannot read, with a 401 that counts as a
//     failed login (Gitlab::Auth#personal_access_token_check,
//     lib/gitlab/auth.rb), while the token works on its own repositories;
//     and least-privilege bot tokens cannot tell that they are bots (GET
//     /user needs read_user). So the token is held back from that
//     repository alone when Git says which (path, sent with
//     credential.useHttpPath), so that Git does not earn the user an IP
//     ban by retrying it there, and stays served when Git does not, the
//     line saying what each retry costs and how to have it held back.
//   - GitLab answers a bare 401, or could not be asked: it is kept and held
//     back from Git for the back-off period, every repository (the token
//     may be dead).
func (m *Manager) GitRefused(ctx context.Context, rec *store.Record, sec *store.Secret, path string) {
	now := m.now()
	api, err := m.api(rec)
	var info *gitlabapi.Token
	asked := rec
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, eraseCheckTimeout)
		asked, info, err = m.ask(actx, api, rec, sec.Password)
		cancel()
	}
	minutes := termtext.Plural(int(retryAfter/time.Minute), "minute")
	upd, tok := copyRecord(asked)
	switch {
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		markDead(tok, err, now)
		m.warnDead(upd, now)
	case err == nil:
		applyInfo(tok, info)
		tok.Unverified = false
		upd.SetDigest(sec.Password) // GitLab has confirmed it is a token
		upd.ExpiryUTC = expiryUnix(tok)
		tok.CheckedAt = now.UTC()
		if path != "" {
			paths := map[string]time.Time{path: now.UTC()}
			for p, at := range tok.GitRefusedPaths {
				if p != path && now.Sub(at) < retryAfter {
					paths[p] = at
				}
			}
			tok.GitRefusedPaths = paths
			m.warn("the server refused the token for %s on %s, but GitLab still accepts it, so its account cannot read that repository (a project or group token reaches only its own); it is not handed to Git for %s for %s, and still is for the others", hostOf(rec), path, path, minutes)
			break
		}
		m.warn("the server refused the token for %s, but GitLab still accepts it, so its account cannot read that repository (a project or group token reaches only its own; check the URL); it is still handed to Git for the others, and each refused try counts toward GitLab's limit of failed logins from this address (git config --global credential.%s://%s.useHttpPath true holds it back from a refused repository alone)", hostOf(rec), rec.Protocol, rec.Host)
	case errors.Is(err, gitlabapi.ErrUnrecognized):
		tok.GitRefusedAt = now.UTC()
		m.warn("the server refused the token for %s, and GitLab's API answered 401 without saying that it is revoked or expired (GitLab answers so for a token it does not know, and so may something in front of GitLab); it is kept and not handed to Git again for %s", hostOf(rec), minutes)
	default:
		tok.GitRefusedAt = now.UTC()
		m.warn("the server refused the token for %s and GitLab could not be asked about it (%v); it is kept and not handed to Git again for %s", hostOf(rec), err, minutes)
	}
	m.Store.UpdateRecord(ctx, upd)
}

// storedAgainTimeout bounds the API calls of StoredAgain: Git is waiting
// (the push already succeeded).
const storedAgainTimeout = 5 * time.Second

// StoredAgain handles Git's store of the very token rec holds while rec
// says it is dead or unverified. Git stores a credential after its server
// has accepted it, so this is no unchanged store: the token worked a moment
// ago. It is checked with GitLab (by ask's rule), and one that GitLab
// accepts is served again. An unverified one is checked as get checks it
// (verify, at most once per retryAfter: get serves it meanwhile, and a
// GitLab that cannot be reached must not cost every push a network
// timeout). Nothing is written to the backend: the secret is the same.
func (m *Manager) StoredAgain(ctx context.Context, rec *store.Record, sec *store.Secret) {
	actx, cancel := context.WithTimeout(ctx, storedAgainTimeout)
	defer cancel()
	if rec.Token.Dead == "" {
		m.verify(ctx, actx, rec, sec, m.now())
		return
	}
	api, err := m.api(rec)
	if err != nil {
		return
	}
	asked, info, err := m.ask(actx, api, rec, sec.Password)
	if err != nil {
		// Dead by GitLab's word, or still not known: it stays dead
		// until GitLab accepts it (login replaces it).
		m.keep(ctx, rec, asked)
		return
	}
	upd, tok := copyRecord(asked)
	applyInfo(tok, info)
	tok.Unverified = false
	tok.Dead, tok.DeadAt, tok.GitRefusedAt, tok.WarnedAt = "", time.Time{}, time.Time{}, time.Time{}
	tok.CheckedAt = m.now().UTC()
	upd.ExpiryUTC = expiryUnix(tok)
	upd.SetDigest(sec.Password) // GitLab has confirmed it is a token
	m.Store.UpdateRecord(ctx, upd)
}
