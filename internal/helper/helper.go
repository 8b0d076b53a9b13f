// Package helper answers Git's credential helper requests (get, store,
// erase) over a credential store.
package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// Helper serves Git's requests. Only main builds one; tests build theirs
// with a fake clock and a private keychain.
type Helper struct {
	Store *store.Store
	// Warn receives messages for a person (one line each, without the
	// program prefix). Nil discards them. It is only used when a person must
	// act: on success Git's helpers stay silent.
	Warn func(format string, args ...any)
	// Config returns the configuration. It is called only when a request
	// needs it (a managed token), so a plain get never reads the file. Nil
	// means all defaults.
	Config func() (*config.Config, error)
	// Lifecycle serves managed GitLab tokens; nil serves them as stored.
	Lifecycle *lifecycle.Manager
	// NewAPI makes the client that checks tokens Git stores; nil means
	// gitlabapi.New.
	NewAPI func(apiURL, caFile string) (TokenChecker, error)
}

// ErrBadRequest is wrapped by errors about requests that cannot be served
// whatever is stored (missing protocol or host).
var ErrBadRequest = errors.New("bad request")

// Run reads one request from in and performs op. Operations Git may add in
// the future are ignored, as gitcredentials(7) asks of helpers.
func (h *Helper) Run(ctx context.Context, op string, in io.Reader, out io.Writer) error {
	switch op {
	case "get", "store", "erase":
	default:
		return nil
	}
	req, err := credential.Read(in)
	if err != nil {
		return err
	}
	if err := validate(req); err != nil {
		return err
	}
	switch op {
	case "get":
		return h.get(ctx, req, out)
	case "store":
		return h.store(ctx, req)
	default:
		return h.erase(ctx, req)
	}
}

// validate refuses requests that name no protocol or host. Git sends a
// request without a host only for a client certificate's passphrase
// (protocol=cert with the file in path), which is served like any other.
func validate(c *credential.Credential) error {
	switch {
	case c.Protocol == "":
		return fmt.Errorf("%w: no protocol in request", ErrBadRequest)
	case c.Host == "" && !(c.Protocol == "cert" && c.Path != ""):
		return fmt.Errorf("%w: no host in request", ErrBadRequest)
	}
	return nil
}

// now is the time by the store's clock, the one clock (store.Store.Clock).
func (h *Helper) now() time.Time { return h.Store.Now() }

func (h *Helper) warn(format string, args ...any) {
	if h.Warn != nil {
		h.Warn(format, args...)
	}
}

func (h *Helper) get(ctx context.Context, req *credential.Credential, out io.Writer) error {
	recs, err := candidates(h.Store, req, h.config)
	if err != nil {
		return err
	}
	capable := req.HasCapability("authtype")
	if first := firstCandidate(recs, h.now()); h.Lifecycle != nil && (h.Lifecycle.Refuses(first, req.Path) || h.Lifecycle.RefusesOAuth(first)) {
		return nil
	}
	rec, sec, err := h.Store.First(ctx, recs)
	if err != nil {
		return err
	}
	if rec == nil {
		return nil
	}
	if rec.Token != nil && h.Lifecycle != nil {
		got, err := h.Lifecycle.Serve(ctx, rec, sec)
		if err != nil || got.Refused != lifecycle.NotRefused {
			return err
		}
		rec, sec = got.Record, got.Secret
	}
	if rec.OAuth != nil && h.Lifecycle != nil {
		got, err := h.Lifecycle.ServeOAuth(ctx, rec, sec)
		if err != nil || got.Refused != lifecycle.NotRefused {
			return err
		}
		rec, sec = got.Record, got.Secret
	}
	ans := &credential.Credential{
		Username:          rec.Username,
		Password:          sec.Password,
		PasswordExpiryUTC: rec.ExpiryUTC,
		OAuthRefreshToken: sec.OAuthRefreshToken,
	}
	if rec.OAuth != nil {
		// The refresh token never leaves the helper: Git would hand it
		// to its other helpers (git-credential-store writes it in plain
		// text), and only this helper may use it, once.
		ans.OAuthRefreshToken = ""
	}
	if rec.AuthType != "" && capable {
		ans.AuthType, ans.Credential = rec.AuthType, sec.Credential
		ans.HasUsername = !rec.CredentialOnly || rec.Username != ""
		ans.HasPassword = !rec.CredentialOnly
	}
	return credential.WriteAnswer(out, ans)
}

func (h *Helper) store(ctx context.Context, req *credential.Credential) error {
	// Git's own storage helpers store only complete credentials (a
	// username and password, or a pre-encoded credential of an authtype),
	// and nothing that Git marked as valid for this one request.
	credentialOnly := !req.HasUsername || !req.HasPassword
	if req.Ephemeral || (credentialOnly && (req.AuthType == "" || req.Credential == "")) {
		return nil
	}
	if req.PasswordExpiryUTC != 0 && req.PasswordExpiryUTC <= h.now().Unix() {
		return nil
	}
	same, stored, err := h.sameAsStored(ctx, req)
	switch {
	case errors.Is(err, store.ErrCorruptIndex):
		// Put moves the damaged index aside and starts a new one.
	case err != nil:
		return err
	case same && h.Lifecycle != nil && stored.Token != nil && (stored.Token.Dead != "" || stored.Token.Unverified):
		// Git stores what its server has just accepted: a token the
		// record calls dead or unverified is checked with GitLab, and
		// served again once GitLab accepts it. Read as get reads it:
		// a compared record's API URL is the index's, never used to
		// reach GitLab.
		rec, sec, err := h.Store.Lookup(ctx, stored.Protocol, stored.Host, stored.Account)
		if err != nil || rec == nil || rec.Token == nil || sec.Password != req.Password {
			return err
		}
		h.Lifecycle.StoredAgain(ctx, rec, sec)
		return nil
	case same:
		return nil
	}
	if keep, err := h.keepsOAuth(req); err != nil || keep {
		return err
	}
	rec := &store.Record{
		Protocol:        req.Protocol,
		Host:            req.Host,
		Path:            req.Path,
		Username:        req.Username,
		ExpiryUTC:       req.PasswordExpiryUTC,
		HasRefreshToken: req.OAuthRefreshToken != "",
		AuthType:        req.AuthType,
		CredentialOnly:  credentialOnly,
	}
	if req.AuthType == "" || req.Credential == "" {
		req.AuthType, req.Credential, rec.AuthType = "", "", ""
	}
	if credentialOnly {
		return h.Store.Put(ctx, rec, &store.Secret{Credential: req.Credential, OAuthRefreshToken: req.OAuthRefreshToken})
	}
	tok, err := h.gitlabToken(ctx, req)
	if errors.Is(err, errRefusedToken) {
		return nil // nothing to store; what is stored stays
	}
	if err != nil {
		return err
	}
	if tok != nil && tok.Unverified {
		if keep, err := h.keepsManagedToken(ctx, rec, req.Password); err != nil || keep {
			return err
		}
	}
	sec := &store.Secret{Password: req.Password, OAuthRefreshToken: req.OAuthRefreshToken, Credential: req.Credential}
	if tok != nil {
		// A GitLab token is good for every repository of its account.
		rec.Path = ""
		rec.Token = tok
		if exp, ok := tok.Expiry(); ok {
			rec.ExpiryUTC = exp.Unix()
		}
		if !tok.Unverified {
			sec.UserID = tok.UserID // GitLab's answer, just now
		}
	}
	return h.Store.Put(ctx, rec, sec)
}

// erase removes what matches req, except managed GitLab tokens: Git erases
// after its server refused a credential, and for a managed token the
// lifecycle asks GitLab first (GitRefused) and keeps the record, listed as
// dead or held back. Plain credentials are erased as Git's helpers do.
func (h *Helper) erase(ctx context.Context, req *credential.Credential) error {
	if h.Lifecycle == nil {
		_, err := h.Store.Erase(ctx, req)
		return err
	}
	recs, err := h.Store.Find(req)
	if err != nil {
		return err
	}
	stale := map[string]bool{}
	for i := range recs {
		r := &recs[i]
		if !r.Managed() {
			continue
		}
		sec, err := h.Store.ReadSecret(ctx, r)
		switch {
		case errors.Is(err, secrets.ErrNotFound):
			stale[r.Account] = true // nothing left to keep
			continue
		case err != nil:
			return err
		case req.HasPassword && sec.Password != req.Password:
			continue
		case r.OAuth != nil:
			if r.OAuth.Dead == "" {
				h.Lifecycle.OAuthGitRefused(ctx, r, sec)
			}
			continue
		case r.Token.Dead != "":
			continue
		}
		h.Lifecycle.GitRefused(ctx, r, sec, req.Path)
	}
	_, err = h.Store.EraseWhere(ctx, req, func(r *store.Record) bool { return !r.Managed() || stale[r.Account] })
	return err
}

// keepsOAuth reports whether Git is storing a credential for an account
// that holds an OAuth credential of this helper's, which such a store must
// not replace: its password is an access token that another process has
// refreshed since, or another helper's, and its oauth_refresh_token (if
// any) is not trusted over the stored one. login replaces it. It reads the
// index only.
func (h *Helper) keepsOAuth(req *credential.Credential) (bool, error) {
	recs, err := h.Store.FindToCompare(&credential.Credential{Protocol: req.Protocol, Host: req.Host, Username: req.Username, HasUsername: true})
	if errors.Is(err, store.ErrCorruptIndex) {
		return false, nil // Put moves the damaged index aside, as store says
	}
	if err != nil {
		return false, err
	}
	for _, r := range recs {
		if r.OAuth != nil && r.Path == "" {
			return true, nil
		}
	}
	return false, nil
}

// candidates are the records that may answer req, in the order get tries
// them: those that match, most recently stored first, less what this Git
// cannot use, and of several GitLab accounts the one the config picks.
// cfg is called only when there are several.
func candidates(s *store.Store, req *credential.Credential, cfg func() (*config.Config, error)) ([]store.Record, error) {
	recs, err := s.Find(req)
	if err != nil {
		return nil, err
	}
	if !req.HasCapability("authtype") {
		// A pre-encoded credential without a username and password
		// answers only a Git that can use it (git-credential-cache).
		recs = slices.DeleteFunc(recs, func(r store.Record) bool { return r.CredentialOnly })
	}
	return pickAccount(req, recs, cfg)
}

// Answering is the record whose credential get would answer req from, by
// get's own rule (candidates, then the first that is not past its expiry),
// without reading a secret or asking GitLab; nil when none would. login
// uses it to say which account git gets.
func Answering(s *store.Store, req *credential.Credential, cfg func() (*config.Config, error), now time.Time) (*store.Record, error) {
	recs, err := candidates(s, req, cfg)
	if err != nil {
		return nil, err
	}
	if r := firstCandidate(recs, now); r.Account != "" {
		return r, nil
	}
	return nil, nil
}

// firstCandidate is the record Store.First would try first
// (store.Record.Servable), or an empty one.
func firstCandidate(recs []store.Record, now time.Time) *store.Record {
	for i := range recs {
		if recs[i].Servable(now) {
			return &recs[i]
		}
	}
	return &store.Record{}
}
