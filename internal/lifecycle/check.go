package lifecycle

import (
	"context"
	"errors"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// Check asks GitLab about rec's token (one not known dead), whose secret is sec (GET
// .../personal_access_tokens/self, by ask's rule for a 401), and records
// what GitLab said, so that every command acts on it alike: a token GitLab
// calls revoked or expired is dead for get and rotate too, and one it
// confirms is no longer unverified. It returns the record as stored now,
// and GitLab's answer (nil with the error when GitLab did not describe the
// token). status and doctor check each token this way.
//
// While a rotation of the token is unfinished, GitLab's refusal is not
// recorded: the next get or rotate settles the rotation (and finds its
// successor, if any) first.
func (m *Manager) Check(ctx context.Context, rec *store.Record, sec *store.Secret) (*store.Record, *gitlabapi.Token, error) {
	api, err := m.api(rec)
	if err != nil {
		return rec, nil, err
	}
	asked, info, err := m.ask(ctx, api, rec, sec.Password)
	upd, tok := copyRecord(asked)
	switch {
	case err == nil:
		applyInfo(tok, info)
		tok.Unverified = false
		tok.CheckedAt = m.now().UTC()
		upd.ExpiryUTC = expiryUnix(tok)
		upd.SetDigest(sec.Password) // GitLab has confirmed it is a token
	case errors.Is(err, errNotAToken) && rec.Token.Unverified:
		// Never confirmed, and GitLab does not know it as a token (see
		// verify): a plain credential.
		upd.Token = nil
	case errors.Is(err, gitlabapi.ErrUnauthorized) && !m.pending(rec.Account):
		markDead(tok, err, m.now())
	case asked == rec:
		return rec, nil, err // nothing learned
	}
	m.Store.UpdateRecord(ctx, upd)
	return upd, info, err
}
