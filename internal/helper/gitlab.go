package helper

import (
	"context"
	"errors"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/gltoken"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// storeCheckTimeout bounds the API check of a token that Git stores: Git
// is waiting (the push already succeeded), so it must be short. When it
// fires the token is stored unverified and checked on a later call.
const storeCheckTimeout = 5 * time.Second

// TokenChecker reads what GitLab knows about a token.
type TokenChecker interface {
	Self(ctx context.Context, token string) (*gitlabapi.Token, error)
}

// gitlabToken decides whether a credential Git stores is a GitLab token to
// manage: the host is named in the config (setup and login name it), so
// that any password is asked about whatever the instance's token prefix,
// or the password has the shape of an access token of any instance
// (gltoken.MayBeAccessToken: "glpat-", "<instance>-glpat-", routable). It
// asks the host's API (configured api_url, else https://HOST/api/v4) and
// returns the token's metadata, or nil for a plain credential.
func (h *Helper) gitlabToken(ctx context.Context, req *credential.Credential) (*store.Token, error) {
	if req.Protocol != "https" && req.Protocol != "http" {
		return nil, nil
	}
	cfg, err := h.config()
	if err != nil {
		return nil, err
	}
	hc := cfg.Host(req.Host)
	shaped := gltoken.MayBeAccessToken(req.Password)
	if !hc.Known && !shaped {
		return nil, nil
	}
	apiURL := cfg.TokenAPIURL(req.Host)
	api, err := h.newAPI(apiURL, hc.CAFile)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, storeCheckTimeout)
	defer cancel()
	info, err := api.Self(cctx, req.Password)
	now := h.now().UTC()
	switch {
	case err == nil:
		return lifecycle.NewToken(info, apiURL, now), nil
	case errors.Is(err, gitlabapi.ErrUnreachable), errors.Is(err, context.DeadlineExceeded),
		// A 401 that is not about the token (DPoP required for the API,
		// lib/api/api_guard.rb): GitLab's token all the same, checked
		// again later.
		errors.Is(err, gitlabapi.ErrRefused),
		// A bare 401: GitLab's answer for a token it does not know (a
		// password typed for a configured host gets it too) and a
		// proxy's alike, while Git's server has just accepted the
		// credential. Checked again later (lifecycle's ask decides when
		// it counts; a password then stays a plain credential).
		errors.Is(err, gitlabapi.ErrUnrecognized):
		return &store.Token{APIURL: apiURL, Kind: gitlabapi.KindPersonal, Unverified: true, CheckedAt: now}, nil
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		// GitLab's word that this token, whatever its prefix
		// (personal_access_token_prefix is an instance setting), is
		// revoked or expired: typically one Git used just before another
		// process rotated it. Storing it would replace the live successor
		// with a revoked token. (A password gets a bare 401, above.)
		return nil, errRefusedToken
	case errors.Is(err, gitlabapi.ErrNotFound) && hc.APIURL == "" && shaped:
		// A GitLab token, and a derived API URL without
		// personal_access_tokens/self (GitLab has had it since 15.5): most
		// likely GitLab is served under a path. Kept as a plain
		// credential, and the person told how to have it managed.
		h.warn("%s answers 404 for personal_access_tokens/self, so the token for %s is stored but not rotated: if GitLab is served under a path, set api_url (such as \"https://%s/gitlab/api/v4\") under [hosts.%q] in the config and store it again",
			apiURL, req.Host, req.Host, req.Host)
		return nil, nil
	default:
		// The API does not know it as a token (an account password, a
		// host that is not GitLab): keep it as a plain credential.
		return nil, nil
	}
}

// errRefusedToken makes store keep what is stored: GitLab refuses the token
// Git asked to store.
var errRefusedToken = errors.New("GitLab refuses this token")

// keepsManagedToken reports whether the account of rec already holds a
// managed token other than password. An incoming token that GitLab could
// not confirm must not replace it: it may be the revoked predecessor of the
// stored one (Git stores the token it used, after the push, and another
// process may have rotated it meanwhile).
func (h *Helper) keepsManagedToken(ctx context.Context, rec *store.Record, password string) (bool, error) {
	cur, sec, err := h.Store.Lookup(ctx, rec.Protocol, rec.Host, store.AccountName(rec.Protocol, rec.Host, "", rec.Username))
	if err != nil || cur == nil || cur.Token == nil || cur.Token.Dead != "" {
		return false, err
	}
	return sec.Password != password, nil
}

func (h *Helper) config() (*config.Config, error) {
	if h.Config == nil {
		return config.Default(), nil
	}
	return h.Config()
}

func (h *Helper) newAPI(apiURL, caFile string) (TokenChecker, error) {
	if h.NewAPI != nil {
		return h.NewAPI(apiURL, caFile)
	}
	return gitlabapi.New(apiURL, caFile)
}

// sameAsStored reports whether Git is storing back a credential that is
// already stored (Git "approves" every credential that worked, including
// the one we just gave it, after every authenticated operation). Such a
// store must not turn a managed token into a plain one, nor cost a keychain
// write on every push; for a managed token it costs no backend call at all:
// the index keeps the token's digest.
//
// Git before 2.40 sends no password_expiry_utc back, and before 2.41 no
// oauth_refresh_token (git's credential.c writes only the fields it knows),
// so a field the request lacks is taken as unchanged, not as erased.
//
// When it is the same, it returns the stored record that holds it.
func (h *Helper) sameAsStored(ctx context.Context, req *credential.Credential) (bool, *store.Record, error) {
	probe := *req
	probe.Path = "" // a managed token has no path; plain ones are compared below
	probe.HasPassword = false
	// Only compared: no API URL needed, so the config file is not read.
	recs, err := h.Store.FindToCompare(&probe)
	if err != nil || len(recs) == 0 {
		return false, nil, err
	}
	for i := range recs {
		r := &recs[i]
		if r.Path != req.Path && (!r.Managed() || r.Path != "") {
			// It would not answer this request (Record.Matches): a
			// managed token under a path (planted or edited) answers
			// only that path, and must not stand in for this one.
			continue
		}
		if !r.Managed() && req.PasswordExpiryUTC != 0 && r.ExpiryUTC != req.PasswordExpiryUTC {
			continue
		}
		if !r.Managed() && r.Expired(h.now()) {
			// Never served again (Store.First): the same password,
			// sent without an expiry, must be written anew.
			continue
		}
		if h.Store.Elsewhere(r) {
			continue // stored in another backend: store it in this one
		}
		if r.Token != nil && r.Token.Dead == "" && (lifecycle.IsHeldBack(r, h.now()) || lifecycle.IsHeldBackFrom(r, req.Path, h.now())) {
			// Held back from Git since its server refused it; Git
			// stores it again because the server took it now: stored
			// anew (checked with GitLab), it is served again.
			continue
		}
		if same, known := r.SameSecret(req.Password); known && req.OAuthRefreshToken == "" &&
			req.Credential == "" && r.AuthType == req.AuthType &&
			(req.PasswordExpiryUTC == 0 || req.PasswordExpiryUTC == r.ExpiryUTC) {
			if same {
				return true, r, nil
			}
			// Otherwise the backend decides, as without a digest: the
			// index may be older than the secret (a crash between the
			// two writes of Store.Put).
		}
		sec, err := h.Store.ReadSecret(ctx, r)
		if errors.Is(err, secrets.ErrNotFound) {
			continue // a person deleted it: store it again
		}
		if err != nil {
			return false, nil, err
		}
		if sec.Password == req.Password && (req.OAuthRefreshToken == "" || sec.OAuthRefreshToken == req.OAuthRefreshToken) &&
			sec.Credential == req.Credential && r.AuthType == req.AuthType {
			if old := r.SecretSHA256; r.Token != nil {
				// An index written before digests were kept, or whose
				// digest is not of the stored token (edited in the
				// keychain by hand): record it now (best effort), so
				// the next store is free.
				if r.SetDigest(sec.Password); r.SecretSHA256 != old && r.SecretSHA256 != "" {
					h.Store.UpdateRecord(ctx, r)
				}
			}
			return true, r, nil
		}
	}
	return false, nil, nil
}

// pickAccount chooses among several GitLab accounts on one host when Git did
// not name a user: the config maps repository path prefixes to accounts
// ([[hosts."gitlab.com".accounts]] username = "alice-work", paths = ["acme"]),
// else the host's default username applies. The config is read only in that
// case, so the common one-account get never opens it.
func pickAccount(req *credential.Credential, recs []store.Record, config func() (*config.Config, error)) ([]store.Record, error) {
	if req.HasUsername || !severalAccounts(recs) {
		return recs, nil
	}
	cfg, err := config()
	if err != nil {
		return nil, err
	}
	user, ok := cfg.AccountFor(req.Host, req.Path)
	if !ok {
		return recs, nil
	}
	var picked []store.Record
	for _, r := range recs {
		if r.Username == user {
			picked = append(picked, r)
		}
	}
	return picked, nil
}

func severalAccounts(recs []store.Record) bool {
	for _, r := range recs[min(1, len(recs)):] {
		if r.Managed() && r.Username != recs[0].Username {
			return true
		}
	}
	return false
}
