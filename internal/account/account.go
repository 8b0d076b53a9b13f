// Package account implements the human-facing work on stored GitLab tokens:
// log in, log out, report their state and rotate them on demand.
package account

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// DefaultHost is the host commands use when none is given.
const DefaultHost = "gitlab.com"

// apiTimeout bounds each API call of an interactive command.
const apiTimeout = 20 * time.Second

// LeastPrivilegeScopes are the scopes a token for Git needs, and no more:
// clone and fetch, push, and rotating itself (GitLab 17.9+).
var LeastPrivilegeScopes = []string{"read_repository", "write_repository", "self_rotate"}

// Service does the work; main wires it.
type Service struct {
	Store     *store.Store
	Config    *config.Config
	Lifecycle *lifecycle.Manager
	Now       func() time.Time
	// NewAPI returns a client; nil means gitlabapi.New.
	NewAPI func(apiURL, caFile string) (*gitlabapi.Client, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) api(apiURL, caFile string) (*gitlabapi.Client, error) {
	if s.NewAPI != nil {
		return s.NewAPI(apiURL, caFile)
	}
	return gitlabapi.New(apiURL, caFile)
}

// APIURL is the API base URL for host: the flag, else the config, else
// https://HOST/api/v4.
func (s *Service) APIURL(host, flagURL string) string {
	if flagURL != "" {
		return strings.TrimRight(flagURL, "/")
	}
	if u := s.Config.Host(host).APIURL; u != "" {
		return u
	}
	return config.DefaultAPIURL("https", host)
}

// CreateTokenURL is GitLab's page for a new personal access token, pre-filled
// with a name and the least-privilege scopes
// (https://docs.gitlab.com/user/profile/personal_access_tokens/#prefill-personal-access-token-name-and-scopes).
func (s *Service) CreateTokenURL(host, apiURL string) string {
	base := "https://" + host
	if u, err := url.Parse(apiURL); err == nil && u.Host != "" {
		base = u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/api/v4")
	}
	q := url.Values{}
	hostname, _ := os.Hostname()
	name := "git-credential-glpat"
	if hostname != "" {
		name += " on " + hostname
	}
	q.Set("name", name)
	q.Set("scopes", strings.Join(LeastPrivilegeScopes, ","))
	return base + "/-/user_settings/personal_access_tokens?" + q.Encode()
}

// ValidateHost refuses host values that cannot be a Git host.
func ValidateHost(host string) error {
	if host == "" || strings.ContainsAny(host, "/@ \t\r\n\\?#") {
		return fmt.Errorf("%q is not a host name (write it like gitlab.example.com or gitlab.example.com:8443)", host)
	}
	return nil
}

// LoginOptions are login's inputs.
type LoginOptions struct {
	Host     string
	Username string
	APIURL   string
	Token    string
}

// LoginResult says what was stored.
type LoginResult struct {
	Record    *store.Record
	Info      *gitlabapi.Token
	CanRotate bool
	// UsernameFrom says where the username came from: "flag", "config",
	// "api" or "default".
	UsernameFrom string
}

// Login checks token against the host's API and stores it as a managed
// credential. A token the API does not accept is not stored.
func (s *Service) Login(ctx context.Context, o LoginOptions) (*LoginResult, error) {
	if err := ValidateHost(o.Host); err != nil {
		return nil, err
	}
	o.Token = strings.TrimSpace(o.Token)
	if o.Token == "" {
		return nil, errors.New("no token given")
	}
	if strings.ContainsAny(o.Token, " \t\r\n\x00") {
		return nil, errors.New("the token contains spaces or control characters; paste only the token")
	}
	hc := s.Config.Host(o.Host)
	apiURL := s.APIURL(o.Host, o.APIURL)
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("api url %q is not an http(s) URL", apiURL)
	}
	api, err := s.api(apiURL, hc.CAFile)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	info, err := api.Self(actx, o.Token)
	if err != nil {
		if errors.Is(err, gitlabapi.ErrUnauthorized) {
			return nil, fmt.Errorf("GitLab at %s does not accept this token: %w", apiURL, err)
		}
		return nil, fmt.Errorf("checking the token at %s: %w", apiURL, err)
	}
	if info.Revoked || (!info.Active && info.ExpiresAt != "") {
		return nil, fmt.Errorf("GitLab says this token is not active (revoked or expired)")
	}
	res := &LoginResult{Info: info}
	username, from := o.Username, "flag"
	if username == "" && hc.Username != "" {
		username, from = hc.Username, "config"
	}
	kind, ownerID := gitlabapi.KindPersonal, int64(0)
	// Least-privilege tokens may not read /user (403): not an error.
	if user, err := api.CurrentUser(actx, o.Token); err == nil && user.Username != "" {
		if username == "" {
			username, from = user.Username, "api"
		}
		if user.Bot {
			// GET /user's "bot" says whose token this is; the name
			// says which project or group.
			kind, ownerID = botKind(user.Username)
		}
	}
	if username == "" {
		// Any non-empty username works with a token over HTTPS.
		username, from = "oauth2", "default"
	}
	res.UsernameFrom = from
	tok := &store.Token{
		ID: info.ID, Name: info.Name, Scopes: info.Scopes, ExpiresAt: info.ExpiresAt,
		APIURL: apiURL, Kind: kind, OwnerID: ownerID, UserID: info.UserID, CheckedAt: s.now().UTC(),
	}
	rec := &store.Record{Protocol: u.Scheme, Host: o.Host, Username: username, Token: tok}
	if exp, ok := tok.Expiry(); ok {
		rec.ExpiryUTC = exp.Unix()
	}
	if err := s.Store.Put(ctx, rec, &store.Secret{Password: o.Token}); err != nil {
		return nil, err
	}
	res.Record = rec
	res.CanRotate = tok.CanRotateItself()
	return res, nil
}

// botKind recognises the bot user of a project or group access token by the
// name GitLab gives it (app/services/resource_access_tokens/create_service.rb):
// project_<id>_bot_<hex> and group_<id>_bot_<hex> today, project_<id>_bot
// and project_<id>_bot<N> (N counting up for the same project) before 16.x,
// so that the token rotates through its own self-rotate endpoint. A bot
// whose name is none of these (GET /user says "bot": true) rotates at the
// personal endpoint, which GitLab opens to bots' tokens as well.
func botKind(username string) (kind string, ownerID int64) {
	for _, k := range []string{gitlabapi.KindProject, gitlabapi.KindGroup} {
		rest, ok := strings.CutPrefix(username, k+"_")
		if !ok {
			continue
		}
		id, tail, ok := strings.Cut(rest, "_bot")
		if n, err := strconv.ParseInt(id, 10, 64); ok && err == nil && n > 0 && botSuffix(tail) {
			return k, n
		}
	}
	return gitlabapi.KindPersonal, 0
}

// botSuffix reports whether tail (what follows "_bot") is one of GitLab's
// forms: nothing, a counter, or "_" and a random part.
func botSuffix(tail string) bool {
	if tail == "" || (strings.HasPrefix(tail, "_") && len(tail) > 1) {
		return true
	}
	_, err := strconv.ParseUint(tail, 10, 32)
	return err == nil
}

// Entry is one stored credential as status reports it.
type Entry struct {
	Host        string     `json:"host"`
	Protocol    string     `json:"protocol"`
	Path        string     `json:"path,omitempty"`
	Username    string     `json:"username"`
	Managed     bool       `json:"managed"`
	TokenID     int64      `json:"token_id,omitempty"`
	TokenName   string     `json:"token_name,omitempty"`
	Scopes      []string   `json:"scopes,omitempty"`
	ExpiresAt   string     `json:"expires_at,omitempty"`
	Expiry      *time.Time `json:"expiry,omitempty"`
	DaysLeft    *int       `json:"days_left,omitempty"`
	RotationDue bool       `json:"rotation_due"`
	CanRotate   bool       `json:"can_rotate"`
	AutoRotate  bool       `json:"auto_rotate"`
	RotatedAt   *time.Time `json:"rotated_at,omitempty"`
	// State is "ok", "expiring", "expired", "revoked", "unverified" or
	// "plain" (not a managed GitLab token).
	State       string     `json:"state"`
	Problem     string     `json:"problem,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	LastUsedIPs []string   `json:"last_used_ips,omitempty"`
	APIError    string     `json:"api_error,omitempty"`
	// Backend holds the secret ("keyring", "encrypted-file", "kernel");
	// empty when an earlier version stored it. State is "elsewhere" when
	// it is not the backend the config names.
	Backend string `json:"backend,omitempty"`
	// RecoveryFile holds a rotated token the keychain refused, if any.
	RecoveryFile string `json:"recovery_file,omitempty"`
}

// Status reports every stored credential (of host, if not empty). Unless
// offline, it asks GitLab about each managed token (when and from where it
// was last used, whether it is still active).
func (s *Service) Status(ctx context.Context, host string, offline bool) ([]Entry, error) {
	recs, listErr := s.Store.List()
	now := s.now()
	var out []Entry
	for i := range recs {
		r := &recs[i]
		if host != "" && !strings.EqualFold(r.Host, host) {
			continue
		}
		e := Entry{Host: r.Host, Protocol: r.Protocol, Path: r.Path, Username: r.Username, State: "plain", Backend: r.Backend}
		if s.Store.Elsewhere(r) {
			e.State, e.Problem = "elsewhere", s.Store.ElsewhereProblem(r)
			out = append(out, e)
			continue
		}
		if r.Token == nil {
			if r.ExpiryUTC != 0 {
				t := time.Unix(r.ExpiryUTC, 0).UTC()
				e.Expiry = &t
			}
			out = append(out, e)
			continue
		}
		s.describe(ctx, &e, r, now, offline)
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, listErr
}

func (s *Service) describe(ctx context.Context, e *Entry, r *store.Record, now time.Time, offline bool) {
	t := r.Token
	set := s.Lifecycle.SettingsFor(r)
	e.Managed = true
	e.TokenID, e.TokenName, e.Scopes, e.ExpiresAt = t.ID, t.Name, t.Scopes, t.ExpiresAt
	e.CanRotate = t.CanRotateItself()
	e.AutoRotate = set.AutoRotate
	if !t.RotatedAt.IsZero() {
		ra := t.RotatedAt
		e.RotatedAt = &ra
	}
	e.State = "ok"
	if exp, ok := t.Expiry(); ok {
		e.Expiry = &exp
		days := int(exp.Sub(now).Hours() / 24)
		if exp.Before(now) {
			days = -int(now.Sub(exp).Hours()/24) - 1
		}
		e.DaysLeft = &days
		e.RotationDue = lifecycle.Due(r, set, now)
		switch {
		case !now.Before(exp):
			e.State, e.Problem = "expired", "expired; run git-credential-glpat login "+r.Host
		case e.RotationDue && !e.CanRotate:
			e.State, e.Problem = "expiring", "cannot rotate itself (needs the self_rotate or api scope); create a new token and log in again"
		case e.RotationDue:
			e.State = "expiring"
		}
	}
	if t.Unverified {
		e.State = "unverified"
	}
	if t.Dead != "" {
		e.State, e.Problem = "revoked", t.Dead+"; run git-credential-glpat login "+r.Host
	}
	if t.NoSelfRotation != "" && e.Problem == "" {
		// Found by lifecycle: this GitLab has no self-rotate endpoint.
		e.CanRotate = false
		e.Problem = t.NoSelfRotation
	}
	if t.RotateError != "" && e.Problem == "" {
		e.Problem = "last rotation failed: " + t.RotateError
	}
	if s.Lifecycle.HasLeftovers(r.Account) {
		if sec, err := s.Store.ReadSecret(ctx, r); err == nil {
			s.Lifecycle.Tidy(r, sec)
		}
	}
	if f := filepath.Join(s.Lifecycle.RecoveryDir(), store.EscapeName(r.Account)+".token"); fileExists(f) {
		e.RecoveryFile = f
		e.Problem = "a rotated token waits in " + f + "; run git-credential-glpat login " + r.Host + " --token-stdin < " + f
	}
	if offline || t.Dead != "" {
		return
	}
	sec, err := s.Store.ReadSecret(ctx, r)
	if err != nil {
		e.APIError = err.Error()
		return
	}
	api, err := s.api(t.APIURL, set.CAFile)
	if err != nil {
		e.APIError = err.Error()
		return
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	info, err := api.Self(actx, sec.Password)
	switch {
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		e.State, e.Problem = "revoked", "GitLab no longer accepts this token; run git-credential-glpat login "+r.Host
	case err != nil:
		e.APIError = err.Error()
	default:
		e.LastUsedAt, e.LastUsedIPs = info.LastUsedAt, info.LastUsedIPs
		if info.Name != "" {
			e.TokenName = info.Name
		}
		e.Scopes = info.Scopes
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// RotateResult is the outcome for one token.
type RotateResult struct {
	Host      string `json:"host"`
	Username  string `json:"username"`
	Outcome   string `json:"outcome"` // "rotated", "not due", "failed", "dead"
	ExpiresAt string `json:"expires_at,omitempty"`
}

// Rotate rotates the managed tokens of host (all hosts when host is
// empty) that are due, or all of them with force.
func (s *Service) Rotate(ctx context.Context, host string, force bool) ([]RotateResult, error) {
	recs, err := s.Store.List()
	if err != nil && len(recs) == 0 {
		return nil, err
	}
	var out []RotateResult
	now := s.now()
	for i := range recs {
		r := &recs[i]
		if r.Token == nil || (host != "" && !strings.EqualFold(r.Host, host)) {
			continue
		}
		res := RotateResult{Host: r.Host, Username: r.Username, ExpiresAt: r.Token.ExpiresAt}
		if !force && !lifecycle.Due(r, s.Lifecycle.SettingsFor(r), now) {
			res.Outcome = "not due"
			out = append(out, res)
			continue
		}
		sec, err := s.Store.ReadSecret(ctx, r)
		if err != nil {
			return out, err
		}
		nr, _, err := s.Lifecycle.Rotate(ctx, r, sec, force)
		switch {
		case err != nil:
			return out, err
		case nr == nil:
			res.Outcome = "dead"
		case nr.Token.ID != r.Token.ID:
			res.Outcome, res.ExpiresAt = "rotated", nr.Token.ExpiresAt
		default:
			res.Outcome = "failed"
		}
		out = append(out, res)
	}
	return out, nil
}

// Logout forgets the credentials of host (of username only, when given) and,
// with revoke, revokes managed tokens on GitLab first. It returns the
// records removed.
func (s *Service) Logout(ctx context.Context, host, username string, revoke bool) ([]store.Record, error) {
	recs, err := s.Store.List()
	if err != nil && len(recs) == 0 {
		return nil, err
	}
	var removed []store.Record
	for i := range recs {
		r := &recs[i]
		if !strings.EqualFold(r.Host, host) || (username != "" && r.Username != username) {
			continue
		}
		if revoke && r.Token != nil && r.Token.Dead == "" {
			sec, err := s.Store.ReadSecret(ctx, r)
			if err != nil {
				return removed, err
			}
			api, err := s.api(r.Token.APIURL, s.Lifecycle.SettingsFor(r).CAFile)
			if err != nil {
				return removed, err
			}
			actx, cancel := context.WithTimeout(ctx, apiTimeout)
			err = api.RevokeSelf(actx, sec.Password)
			cancel()
			if err != nil && !errors.Is(err, gitlabapi.ErrUnauthorized) {
				return removed, fmt.Errorf("revoking the token for %s (nothing was removed): %w", r.Host, err)
			}
		}
		req := &credential.Credential{Protocol: r.Protocol, Host: r.Host, Path: r.Path, Username: r.Username, HasUsername: true}
		if _, err := s.Store.Erase(ctx, req); err != nil {
			return removed, err
		}
		removed = append(removed, *r)
	}
	return removed, nil
}
