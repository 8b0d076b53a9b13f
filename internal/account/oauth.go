package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/oauth"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// OAuthUsername is the username an OAuth credential is stored under when
// neither --username nor the config names one: GitLab takes an access
// token with any username, and documents oauth2
// (https://docs.gitlab.com/api/oauth2/#access-git-over-https-with-access-token).
const OAuthUsername = "oauth2"

// ErrNoClientID is wrapped by a login --oauth on a host whose config names
// no oauth_client_id.
var ErrNoClientID = errors.New("no oauth_client_id")

// OAuthLoginOptions are login --oauth's inputs.
type OAuthLoginOptions struct {
	Host     string
	Username string
	APIURL   string
	// Device chooses the device flow, else the browser flow.
	Device bool
	// Open opens a URL in the person's browser (browser flow).
	Open func(url string) error
	// Say tells the person something, one line without the prefix.
	Say func(format string, args ...any)
	// Show tells the person where to confirm the device code.
	Show func(oauth.DeviceCode)
	// SlowDown hears that GitLab asked to poll less often (device flow).
	SlowDown func(every time.Duration)
}

// OAuthLoginResult says what login --oauth stored.
type OAuthLoginResult struct {
	Record        *store.Record
	UsernameFrom  string // "flag", "config" or "default"
	APIURLWritten bool
}

// OAuthClient is the OAuth client for host, from the config's
// oauth_client_id; apiURL is where GitLab's API is.
func (s *Service) OAuthClient(host, apiURL string) (*oauth.Client, error) {
	hc := s.Config.Host(host)
	if hc.OAuthClientID == "" {
		return nil, fmt.Errorf("%w under [hosts.%q] in %s: register an OAuth application on GitLab (non-confidential, scopes read_repository and write_repository, redirect URI %s) and put its Application ID there as oauth_client_id = \"…\"",
			ErrNoClientID, host, s.ConfigPath, oauth.RedirectURI)
	}
	return oauth.New(apiURL, hc.CAFile, hc.OAuthClientID, s.now)
}

// LoginOAuth logs in to host with GitLab's OAuth provider (browser or
// device flow) and stores the pair as a managed OAuth credential. It never
// replaces the credential of an account that belongs to another GitLab
// user.
func (s *Service) LoginOAuth(ctx context.Context, o OAuthLoginOptions) (*OAuthLoginResult, error) {
	if err := validateHost(o.Host); err != nil {
		return nil, err
	}
	apiURL := s.apiURL(o.Host, o.APIURL)
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("api url %q is not an http(s) URL", apiURL)
	}
	c, err := s.OAuthClient(o.Host, apiURL)
	if err != nil {
		return nil, err
	}
	var p *oauth.Pair
	if o.Device {
		p, err = c.LoginDevice(ctx, o.Show, o.SlowDown)
	} else {
		p, err = c.LoginBrowser(ctx, o.Open, o.Say)
	}
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	info, err := c.Info(actx, p.Access)
	if err != nil {
		return nil, fmt.Errorf("checking the new OAuth token with GitLab: %w", err)
	}
	res := &OAuthLoginResult{}
	hc := s.Config.Host(o.Host)
	username := o.Username
	switch {
	case username != "":
		res.UsernameFrom = "flag"
	case hc.Username != "":
		username, res.UsernameFrom = hc.Username, "config"
	default:
		username, res.UsernameFrom = OAuthUsername, "default"
	}
	accounts, err := s.accounts(u.Scheme, o.Host)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		if a.username == username && a.userID != 0 && a.userID != info.UserID {
			return nil, otherUserError(username, o.Host, info.UserID, accounts)
		}
	}
	if apiURL != s.Config.TokenAPIURL(o.Host) {
		if err := config.SetAPIURL(s.ConfigPath, o.Host, apiURL); err != nil {
			return nil, fmt.Errorf("cannot write api_url = %q for %s into the config, where refreshes find it: %w; nothing was stored", apiURL, o.Host, err)
		}
		res.APIURLWritten = true
	}
	scopes := p.Scopes
	if scopes == nil {
		scopes = info.Scopes
	}
	rec := &store.Record{Protocol: u.Scheme, Host: o.Host, Username: username, ExpiryUTC: p.Expiry.Unix(),
		OAuth: &store.OAuth{APIURL: apiURL, ClientID: c.ClientID, Scopes: scopes, UserID: info.UserID, RefreshedAt: s.now().UTC()}}
	if err := s.Store.Put(ctx, rec, &store.Secret{Password: p.Access, OAuthRefreshToken: p.Refresh, UserID: info.UserID}); err != nil {
		// The pair exists at GitLab and nowhere here: revoke it rather
		// than leave it live and unknown.
		rctx, rcancel := context.WithTimeout(context.Background(), apiTimeout)
		c.Revoke(rctx, p.Refresh)
		rcancel()
		return nil, err
	}
	res.Record = rec
	return res, nil
}

// describeOAuth fills in status's entry for an OAuth credential, and
// unless offline asks GitLab whether its access token still works. It
// returns the record as stored now.
func (s *Service) describeOAuth(ctx context.Context, e *Entry, r *store.Record, now time.Time, o StatusOptions, found *lifecycle.Found) *store.Record {
	e.Managed, e.Kind = true, "oauth"
	e.TokenName = "OAuth"
	e.Scopes = r.OAuth.Scopes
	e.CanRotate, e.AutoRotate = true, true
	if !r.OAuth.RefreshedAt.IsZero() {
		ra := r.OAuth.RefreshedAt
		e.RotatedAt = &ra
	}
	exp := time.Unix(r.ExpiryUTC, 0).UTC()
	e.AccessExpiry = &exp
	if o.Offline || o.SecretsErr != nil || r.OAuth.Dead != "" {
		return r
	}
	sec, err := s.Store.ReadSecret(ctx, r)
	if err != nil {
		found.SecretErr = err
		return r
	}
	found.Secret = sec
	if now.Unix() >= r.ExpiryUTC {
		return r // the access token expired: the next git command refreshes it
	}
	c, err := s.OAuthClient(r.Host, r.OAuth.APIURL)
	if err != nil {
		e.APIError = err.Error()
		return r
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if _, err := c.Info(actx, sec.Password); errors.Is(err, oauth.ErrInvalidGrant) {
		found.AccessRefused = true
	} else if err != nil {
		e.APIError = err.Error()
	}
	return r
}

// OutcomeRefreshed is rotate's outcome for an OAuth credential it
// refreshed.
const OutcomeRefreshed = "refreshed"

// rotateOAuth is rotate for an OAuth credential: refresh it now (with
// force, or when a refresh is due).
func (s *Service) rotateOAuth(ctx context.Context, r *store.Record, force bool, now time.Time) (RotateResult, error) {
	res := RotateResult{Host: r.Host, Protocol: r.Protocol, Username: r.Username}
	access := time.Unix(r.ExpiryUTC, 0).UTC().Format("15:04 UTC")
	st := s.Lifecycle.StateAt(r, now)
	if st.State == lifecycle.Revoked && st.Outcome != lifecycle.OutcomeUnknown {
		res.Outcome, res.Reason = OutcomeDead, s.Lifecycle.Describe(r, st, lifecycle.Found{}, now).Line()
		return res, nil
	}
	if !force && !st.Due && st.Outcome != lifecycle.OutcomeUnknown {
		res.Outcome = OutcomeNotDue
		res.ExpiresAt = access
		res.Reason = "the OAuth access token is refreshed in its last minutes; --force refreshes it now"
		return res, nil
	}
	sec, err := s.Store.ReadSecret(ctx, r)
	if err != nil {
		return res, err
	}
	rot, err := s.Lifecycle.RefreshOAuth(ctx, r, sec, force)
	nr, nsec := rot.Record, rot.Secret
	switch {
	case err != nil:
		return res, err
	case rot.Dead():
		res.Outcome, res.Reason = OutcomeDead, "see the line above; run "+s.Lifecycle.LoginCommand(r)
	case rot.Refused != lifecycle.NotRefused:
		res.Outcome, res.Reason = OutcomeFailed, "not refreshed now (see the line above); the next git command tries again"
	case nsec.OAuthRefreshToken != sec.OAuthRefreshToken:
		res.Outcome = OutcomeRefreshed
		res.ExpiresAt = time.Unix(nr.ExpiryUTC, 0).UTC().Format("2006-01-02 15:04 UTC")
	case s.Lifecycle.StateAt(nr, s.now()).Outcome == lifecycle.OutcomeUnknown:
		res.Outcome, res.Reason = OutcomeUnknown, "a refresh got no answer; whether GitLab made a new pair is checked on the next git command"
	default:
		res.Outcome, res.Reason = OutcomeFailed, nr.OAuth.RefreshError
	}
	return res, nil
}

// revokeOAuth revokes r's pair at GitLab's /oauth/revoke (logout
// --revoke). GitLab answers 200 for a token it no longer knows as live
// (RFC 7009), so Revoked is true whenever GitLab answered.
func (s *Service) revokeOAuth(ctx context.Context, r *store.Record) error {
	sec, err := s.Store.ReadSecret(ctx, r)
	if err != nil {
		return err
	}
	c, err := s.OAuthClient(r.Host, r.OAuth.APIURL)
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	// The refresh token: revoking it revokes the row, its access token
	// with it (Doorkeeper's TokensController#revoke).
	if err := c.Revoke(actx, sec.OAuthRefreshToken); err != nil {
		return fmt.Errorf("revoking the OAuth token for %s (nothing was removed): %w", hostarg.Format(r.Protocol, r.Host), err)
	}
	return nil
}

// oauthAccount is r's account when r is an OAuth credential: its Git
// username and GitLab user.
func oauthAccount(r *store.Record) (account, bool) {
	if r.OAuth == nil || r.Path != "" {
		return account{}, false
	}
	return account{r.Username, r.OAuth.UserID}, true
}
