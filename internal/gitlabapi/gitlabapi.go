// Package gitlabapi calls the few GitLab REST endpoints that manage the token
// making the call: read it, rotate it, revoke it, and read its user.
//
// Every call goes through GitLab's own client, gitlab.com/gitlab-org/api/client-go,
// configured so that nothing is ever retried (WithoutRetries and a RetryMax
// of 0: a retried rotation re-uses a revoked token, which revokes the whole
// token family), over an http.Client of ours (proxy from the environment,
// TLS 1.2+, the system roots plus ca_file, redirects never followed), under
// a deadline, with nothing logged. What client-go does not give is kept on
// top of it: the raw body of every answer (so that a 2xx rotate answer that
// does not decode still yields the new token), whether a request was
// written before it failed (httptrace's WroteRequest: "sent but no answer"
// is not "never sent"), and last_used_ips.
package gitlabapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
)

// maxBody bounds how much of an answer is kept; GitLab's answers for these
// endpoints are a few hundred bytes.
const maxBody = 1 << 20

// maxCAFile bounds ca_file; a system's whole CA bundle is about 250 KB.
const maxCAFile = 16 << 20

// defaultTimeout bounds a call whose caller gave no deadline.
const defaultTimeout = 30 * time.Second

// Errors that carry meaning to callers. An *Error wraps one of them.
var (
	// ErrUnauthorized: GitLab's own word that the token is no longer
	// valid: HTTP 401 invalid_token, which lib/api/api_guard.rb answers for
	// an expired, a revoked or a disabled impersonation token (with the
	// reason in error_description and the WWW-Authenticate challenge).
	ErrUnauthorized = errors.New("token not accepted")
	// ErrUnrecognized: GET .../self answered a bare 401
	// {"message":"401 Unauthorized"}. GitLab answers so for a token it does
	// not know at all (one deleted with its user, or never one of its
	// tokens: unauthorized! in lib/api/helpers.rb, after
	// AuthFinders#find_personal_access_token found none), and so for a
	// request without a token; but nothing in the answer is GitLab's alone,
	// and a gateway or maintenance page in front of GitLab can give it
	// word for word. Alone it says nothing certain about the token
	// (lifecycle decides when it counts).
	ErrUnrecognized = errors.New("GitLab does not recognise the token, or something in front of GitLab refused the request")
	// ErrRefused: a 401 that is not GitLab's word about the token: DPoP
	// proof missing (dpop_error), a restricted client, a project/group
	// rotate endpoint whose resource the token's bot does not belong to,
	// or, from GET .../self, a 401 that is not GitLab's answer at all (a
	// proxy's page). The token may still work for Git.
	ErrRefused = errors.New("GitLab refused the request (not the token)")
	// ErrForbidden: HTTP 403. InsufficientScope tells a token that lacks
	// the scope from a blocked account, unaccepted terms or a proxy.
	ErrForbidden = errors.New("GitLab forbids this call")
	// ErrUnreachable: no answer, and the request was never sent (DNS,
	// connect, TLS, a deadline before the request was written), or it was
	// a request without effect (GET).
	ErrUnreachable = errors.New("GitLab API unreachable")
	// ErrLostAnswer: the request was sent but its answer never arrived,
	// so whether the server acted on it is unknown.
	ErrLostAnswer = errors.New("the request was sent but no answer arrived")
	// ErrBadAnswer: an answer that is not what GitLab sends.
	ErrBadAnswer = errors.New("GitLab API answered something unexpected")
	// ErrNotFound: HTTP 404 from a route that does not exist (an
	// endpoint this GitLab does not have, or a wrong API URL), 405, or
	// Grape's 400 for an id that is not one. See MissingEndpoint.
	ErrNotFound = errors.New("GitLab API has no such endpoint")
	// ErrServer: any other HTTP error.
	ErrServer = errors.New("GitLab API error")
)

// Error describes a failed call. It never contains the token.
type Error struct {
	Op     string // "get token", "rotate token", …
	Status int    // HTTP status, 0 when there was no answer
	// Code is the OAuth error code GitLab gave (invalid_token,
	// insufficient_scope, dpop_error, …), from the body or the
	// WWW-Authenticate challenge.
	Code string
	// Reason is GitLab's error_description or message, when it gave one
	// (shortened).
	Reason string
	// message is Reason in full.
	message string
	// retryAfter and retryAt are what a 429 said of when to ask again:
	// Retry-After in seconds (retryAfter) or as a date, and
	// RateLimit-Reset (both absolute, in retryAt, the later kept).
	retryAfter time.Duration
	retryAt    time.Time
	Kind       error // one of the Err* values above
	Err        error // underlying transport error, if any
	// Sent reports that the request was written to the connection.
	Sent bool
	// bare: a 401 whose body is exactly GitLab's {"message":"401
	// Unauthorized"}, with no OAuth error code (see Unrecognized).
	bare bool
	// raw is a 2xx body that did not decode; it may hold a new token, so
	// it never appears in Error().
	raw []byte
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("gitlab: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Reason != "" {
			b.WriteString(": ")
			b.WriteString(e.Reason)
		} else if e.Code != "" {
			b.WriteString(": ")
			b.WriteString(e.Code)
		}
		b.WriteString(")")
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// Expired reports whether GitLab said the token has expired.
func (e *Error) Expired() bool { return strings.Contains(strings.ToLower(e.Reason), "expired") }

// Revoked reports whether GitLab said the token was revoked.
func (e *Error) Revoked() bool { return strings.Contains(strings.ToLower(e.Reason), "revoked") }

// InvalidToken reports a 401 invalid_token: GitLab's api_guard.rb answers
// so for a token it does not know, an expired, a revoked or a disabled
// impersonation token.
func (e *Error) InvalidToken() bool {
	return e.Status == http.StatusUnauthorized && e.Code == "invalid_token"
}

// Unrecognized reports a bare 401 {"message":"401 Unauthorized"}, GitLab's
// answer (and a proxy's, word for word) for a request whose token GitLab
// does not know; see ErrUnrecognized.
func (e *Error) Unrecognized() bool { return e.bare }

// InsufficientScope reports a 403 insufficient_scope: the token lacks a
// scope the endpoint accepts (lib/api/api_guard.rb). Any other 403 (a
// blocked or locked account, terms not accepted, a proxy) is not about
// the token and may clear up.
func (e *Error) InsufficientScope() bool {
	return e.Status == http.StatusForbidden && e.Code == "insufficient_scope"
}

// MissingEndpoint reports an answer that means this GitLab has no such
// endpoint: 404 from the API's catch-all route ({"error":"404 Not Found"},
// or anything but GitLab's {"message": "404 … Not Found"} of a missing
// resource, such as a web server's page for a path outside GitLab's API),
// 405, or Grape's 400 "id is invalid" of a route whose Integer id got
// "self". GitLab 16.0–16.9 (17.8 for project and group tokens) route
// .../self/rotate to a rotate-by-id route that answers 401, or 404 with a
// message for an administrator: those are not missing endpoints by their
// answer alone; only GitLab's version tells (see lifecycle).
func (e *Error) MissingEndpoint() bool { return errors.Is(e.Kind, ErrNotFound) }

// isoDate finds the dates a lifetime refusal names: its validation
// message, format(_("must be before %{expiry_date}"), …) in
// app/models/personal_access_token.rb and its EE module, is translated
// into the user's language (lib/api/api.rb sets the locale from the
// current user), but the date is Date#to_s, ISO 8601 in every language.
// Compiled on first use: the hot path of get pays no package init for it.
var isoDate = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\b(\d{4}-\d{2}-\d{2})\b`)
})

// MaxExpiry reports the earliest date a 400 answer names, the latest
// expiry GitLab allows when the answer is a lifetime cap's: "Expiration
// date must be before D" (GitLab fails only when expires_at > D, so D is
// allowed). Two policies that both fail (GitLab's own 365 days, then an
// instance or group policy) give two messages joined into one sentence,
// and the earliest date is the one that binds. Whether the 400 is a
// lifetime cap's at all is the caller's to judge (every date must be
// before the date it asked for).
func (e *Error) MaxExpiry() (time.Time, bool) {
	if e.Status != http.StatusBadRequest {
		return time.Time{}, false
	}
	var earliest time.Time
	for _, m := range isoDate().FindAllString(e.message, -1) {
		d, err := time.Parse(time.DateOnly, m)
		if err == nil && (earliest.IsZero() || d.Before(earliest)) {
			earliest = d
		}
	}
	return earliest, !earliest.IsZero()
}

// Dates reports every date a 400 answer names, in its order.
func (e *Error) Dates() []time.Time {
	var out []time.Time
	for _, m := range isoDate().FindAllString(e.message, -1) {
		if d, err := time.Parse(time.DateOnly, m); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// LegacyRotationDisabled reports GitLab 18's refusal to rotate a legacy
// (not fine-grained) personal access token while fine-grained tokens are
// enforced: 400 "Rotation of legacy personal access tokens is disabled.
// Use a fine-grained token instead."
// (app/services/personal_access_tokens/rotate_service.rb, before its
// transaction). The text is s_('AccessTokens|…'), which the locale files
// read do not translate yet; a translation of it would not be recognised
// and is handled as any other 400.
func (e *Error) LegacyRotationDisabled() bool {
	return e.Status == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(e.message), "rotation of legacy personal access tokens is disabled")
}

// RateLimited reports a 429: a rate limiter refused the request before
// anything was done (Rack::Attack in front of the application,
// lib/gitlab/rack_attack.rb, or Gitlab::ApplicationRateLimiter in an
// endpoint, lib/api/helpers/rate_limiter.rb).
func (e *Error) RateLimited() bool { return e.Status == http.StatusTooManyRequests }

// RetryAt is when a 429 said to ask again, for an answer that came at now:
// the later of Retry-After (seconds, or a date) and RateLimit-Reset (Unix
// time), which Rack::Attack sends both of
// (Gitlab::RackAttack.throttled_response_headers); zero when it said
// nothing (the application limiter's JSON answer).
func (e *Error) RetryAt(now time.Time) time.Time {
	at := e.retryAt
	if e.retryAfter > 0 {
		if t := now.Add(e.retryAfter); t.After(at) {
			at = t
		}
	}
	if limit := now.Add(maxRetryAfter); at.After(limit) {
		// A clock far off, or a header gone wrong.
		at = limit
	}
	return at
}

// maxRetryAfter bounds how far off a 429 may put the next request, so
// that a header gone wrong cannot stop rotation for good.
const maxRetryAfter = 7 * 24 * time.Hour

// readRetryAfter reads a 429's Retry-After and RateLimit-Reset into e.
// The Date header, when there is one, anchors Retry-After's date form
// against this machine's clock.
func (e *Error) readRetryAfter(h http.Header) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			e.retryAfter = min(time.Duration(n)*time.Second, maxRetryAfter)
		} else if t, err := http.ParseTime(v); err == nil {
			if date, err := http.ParseTime(h.Get("Date")); err == nil {
				e.retryAfter = min(max(t.Sub(date), 0), maxRetryAfter)
			} else {
				e.retryAt = t
			}
		}
	}
	if v := strings.TrimSpace(h.Get("RateLimit-Reset")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			if t := time.Unix(n, 0); t.After(e.retryAt) {
				e.retryAt = t
			}
		}
	}
}

// Token is a token as GitLab describes it
// (https://docs.gitlab.com/api/personal_access_tokens/#get-a-single-personal-access-token).
type Token struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Revoked     bool       `json:"revoked"`
	Active      bool       `json:"active"`
	Scopes      []string   `json:"scopes"`
	UserID      int64      `json:"user_id"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	// LastUsedIPs is sent by GitLab 17.11 and later.
	LastUsedIPs []string `json:"last_used_ips"`
	// ExpiresAt is "YYYY-MM-DD", empty when the token does not expire.
	ExpiresAt string `json:"expires_at"`
	// Token is the secret, only in the answer to a rotation. It is never
	// marshalled.
	Token string `json:"-"`
	// Zone is the instance's time zone (gitlab_rails['time_zone'],
	// config/initializers/time_zone.rb) as the answer's timestamps show
	// it, nil when it has none. GitLab's "today" is that zone's
	// (Date.current): the lifetime cap and a rotation's default expiry
	// count from it.
	Zone *time.Location `json:"-"`
}

// zoneOf is the time zone GitLab wrote its timestamps in: Rails keeps
// them as ActiveSupport::TimeWithZone in Time.zone, whose JSON is
// xmlschema with that zone's offset ("…-08:00"; "Z" for UTC). The latest
// timestamp is taken, so that a change of daylight saving time since the
// token was created counts; a fixed offset is all an answer tells.
func zoneOf(ts ...*time.Time) *time.Location {
	var latest *time.Time
	for _, t := range ts {
		if t != nil && !t.IsZero() && (latest == nil || t.After(*latest)) {
			latest = t
		}
	}
	if latest == nil {
		return nil
	}
	name, off := latest.Zone()
	if off == 0 {
		return time.UTC
	}
	return time.FixedZone(name, off)
}

// User is the part of GET /user the helper uses.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Bot      bool   `json:"bot"`
}

// Client calls one GitLab instance's API.
type Client struct {
	// BaseURL is the API root, e.g. https://gitlab.com/api/v4.
	BaseURL string
	HTTP    *http.Client
}

// New returns a client for baseURL whose TLS trusts the system roots plus
// the PEM certificates in caFile (if not empty). It never follows
// redirects: a token is only ever sent to the URL it was configured for.
func New(baseURL, caFile string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("gitlab: api url %q is not an http(s) URL", baseURL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		// Bounded, never a FIFO (this is read on the path of get), and
		// private: whoever could write it could vouch for any server.
		pem, err := safefile.ReadPrivate(caFile, maxCAFile)
		if err != nil {
			return nil, fmt.Errorf("gitlab: ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("gitlab: ca_file %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"),
		HTTP: &http.Client{
			Transport: &recorder{base: tr},
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}, nil
}

// quiet is the logger client-go may warn on (a base URL it finds odd):
// nothing of ours is logged.
var quiet = sync.OnceValue(func() *slog.Logger { return slog.New(slog.DiscardHandler) })

// gitlab returns a client-go client that authenticates with token (none
// when empty). It is cheap; one is made per call, sharing c.HTTP.
func (c *Client) gitlab(token string) (*gitlab.Client, error) {
	opts := []gitlab.ClientOptionFunc{
		gitlab.WithBaseURL(c.BaseURL),
		gitlab.WithHTTPClient(c.HTTP),
		gitlab.WithoutRetries(),
		gitlab.WithCustomRetryMax(0),
		gitlab.WithUserAgent("git-credential-glpat"),
		gitlab.WithURLWarningLogger(quiet()),
	}
	if token == "" {
		return gitlab.NewAuthSourceClient(gitlab.Unauthenticated{}, opts...)
	}
	return gitlab.NewClient(token, opts...)
}

// Self reads the token used for the call: GET /personal_access_tokens/self
// (GitLab 15.5+, any scope;
// https://docs.gitlab.com/api/personal_access_tokens/#self-inform).
// A revoked or expired token gets ErrUnauthorized, a bare 401 (an unknown
// token, or a proxy) ErrUnrecognized; a 404 means the API URL is wrong (a
// GitLab served under a path needs api_url) or the GitLab is older than
// 15.5.
func (c *Client) Self(ctx context.Context, token string) (*Token, error) {
	const op = "get token"
	x, err := c.call(ctx, op, token, http.MethodGet, func(gl *gitlab.Client, opt gitlab.RequestOptionFunc, body io.Writer) (*gitlab.Response, error) {
		req, err := gl.NewRequest(http.MethodGet, "personal_access_tokens/self", nil, []gitlab.RequestOptionFunc{opt})
		if err != nil {
			return nil, err
		}
		return gl.Do(req, body)
	})
	if err != nil {
		return nil, selfError(err)
	}
	t, derr := decodeToken(x.body)
	if derr != nil || t.ID == 0 {
		return nil, &Error{Op: op, Status: x.status, Kind: ErrBadAnswer, Reason: "answer is not a token"}
	}
	return t, nil
}

// selfError sorts the 401s of GitLab's own token endpoint: invalid_token
// is ErrUnauthorized already (classify); a bare 401 is about the token if
// GitLab gave it, and may not be (ErrUnrecognized); the DPoP and client
// checks that api_guard.rb also answers with 401, and a 401 in any shape
// GitLab does not give, are not about the token (ErrRefused).
func selfError(err error) error {
	var ae *Error
	if errors.As(err, &ae) && errors.Is(ae.Kind, ErrRefused) && ae.bare && !notAboutToken(ae.Code) {
		ae.Kind = ErrUnrecognized
	}
	return err
}

// notAboutToken lists api_guard.rb's 401 codes that are about the request
// rather than the token: a DPoP proof (Gitlab::Auth::DpopValidationError)
// and a language-server client check.
func notAboutToken(code string) bool {
	return code == "dpop_error" || code == "restricted_language_server_client_error"
}

// Kinds of tokens, each with its own self-rotation endpoint.
const (
	KindPersonal = "personal"
	KindProject  = "project"
	KindGroup    = "group"
)

// RotatePath is the self-rotation endpoint of a token of kind, relative to
// the API root.
func RotatePath(kind string, ownerID int64) string {
	switch kind {
	case KindProject:
		return fmt.Sprintf("projects/%d/access_tokens/self/rotate", ownerID)
	case KindGroup:
		return fmt.Sprintf("groups/%d/access_tokens/self/rotate", ownerID)
	}
	return "personal_access_tokens/self/rotate"
}

// Rotate rotates the token used for the call and returns the new one
// (GitLab 16.10+ for personal tokens, 17.9+ for project and group tokens;
// https://docs.gitlab.com/api/personal_access_tokens/#self-rotate).
// GitLab revokes the old token in the same transaction, and a rotation
// authenticated with an already rotated token revokes the whole token family
// (reuse detection), so the request is made exactly once and never retried.
// ErrLostAnswer means it may have succeeded.
//
// kind selects the endpoint: personal tokens rotate at
// /personal_access_tokens/self/rotate, project and group access tokens at
// /projects/:id/access_tokens/self/rotate and /groups/:id/access_tokens/self/rotate
// (lib/api/resource_access_tokens/self_rotation.rb; GitLab also accepts a
// bot's token on the personal endpoint).
func (c *Client) Rotate(ctx context.Context, token, kind string, ownerID int64, expiresAt time.Time) (*Token, error) {
	const op = "rotate token"
	path := RotatePath(kind, ownerID)
	exp := gitlab.ISOTime(expiresAt.UTC())
	opt := &gitlab.RotatePersonalAccessTokenOptions{ExpiresAt: &exp}
	x, err := c.call(ctx, op, token, http.MethodPost, func(gl *gitlab.Client, ropt gitlab.RequestOptionFunc, body io.Writer) (*gitlab.Response, error) {
		req, err := gl.NewRequest(http.MethodPost, path, opt, []gitlab.RequestOptionFunc{ropt})
		if err != nil {
			return nil, err
		}
		return gl.Do(req, body)
	})
	var ae *Error
	if errors.As(err, &ae) && ae.raw != nil {
		// GitLab rotated (2xx) but the answer was cut short: the new
		// token in it is the only copy, keep it.
		if tok := tokenIn(ae.raw); tok != "" {
			return &Token{Token: tok}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	t, derr := decodeToken(x.body)
	if derr != nil || t.Token == "" {
		if tok := tokenIn(x.body); tok != "" {
			return &Token{Token: tok}, nil
		}
		// The server may have rotated: treat as a lost answer, not as a
		// failure that allows another try with the old token.
		return nil, &Error{Op: op, Status: x.status, Kind: ErrLostAnswer, Sent: true, Reason: "answer has no new token"}
	}
	return t, nil
}

// CurrentUser reads GET /user. Least-privilege tokens (no api, read_api or
// read_user scope) get ErrForbidden, which is not a problem with the token.
func (c *Client) CurrentUser(ctx context.Context, token string) (*User, error) {
	var u *gitlab.User
	_, err := c.call(ctx, "get user", token, http.MethodGet, func(gl *gitlab.Client, opt gitlab.RequestOptionFunc, _ io.Writer) (*gitlab.Response, error) {
		var resp *gitlab.Response
		var err error
		u, resp, err = gl.Users.CurrentUser(opt)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	return &User{ID: u.ID, Username: u.Username, Name: u.Name, Bot: u.Bot}, nil
}

// RevokeSelf revokes the token used for the call:
// DELETE /personal_access_tokens/self.
func (c *Client) RevokeSelf(ctx context.Context, token string) error {
	_, err := c.call(ctx, "revoke token", token, http.MethodDelete, func(gl *gitlab.Client, opt gitlab.RequestOptionFunc, _ io.Writer) (*gitlab.Response, error) {
		return gl.PersonalAccessTokens.RevokePersonalAccessTokenSelf(opt)
	})
	return err
}

// Version reads GET /version with token (which needs read_user, read_api
// or api; GitLab answers 401 or 403 otherwise).
func (c *Client) Version(ctx context.Context, token string) (string, error) {
	var v *gitlab.Version
	_, err := c.call(ctx, "get version", token, http.MethodGet, func(gl *gitlab.Client, opt gitlab.RequestOptionFunc, _ io.Writer) (*gitlab.Response, error) {
		var resp *gitlab.Response
		var err error
		v, resp, err = gl.Version.GetVersion(opt)
		return resp, err
	})
	if err != nil {
		return "", err
	}
	return v.Version, nil
}

// ServerTime makes an unauthenticated request to the API (HEAD /version,
// which answers 401 without a token) and returns the server's Date header,
// to compare clocks.
func (c *Client) ServerTime(ctx context.Context) (time.Time, error) {
	x, err := c.call(ctx, "read server time", "", http.MethodHead, func(gl *gitlab.Client, opt gitlab.RequestOptionFunc, _ io.Writer) (*gitlab.Response, error) {
		req, err := gl.NewRequest(http.MethodHead, "version", nil, []gitlab.RequestOptionFunc{opt})
		if err != nil {
			return nil, err
		}
		return gl.Do(req, nil)
	})
	if x == nil || x.status == 0 {
		return time.Time{}, err
	}
	t, perr := http.ParseTime(x.header.Get("Date"))
	if perr != nil {
		return time.Time{}, &Error{Op: "read server time", Status: x.status, Kind: ErrBadAnswer, Reason: "no Date header"}
	}
	return t, nil
}

// exchange is what the transport saw of one call: the answer's status,
// header and (bounded) body, and whether the request was written.
type exchange struct {
	mu     sync.Mutex
	status int
	header http.Header
	body   []byte
	wrote  bool
}

type exchangeKey struct{}

// recorder is the transport under client-go: it keeps, for the call whose
// context carries an *exchange, the answer's status, header and body as
// they pass (client-go drops a 404's body, and decodes bodies itself).
type recorder struct{ base http.RoundTripper }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x == nil || resp == nil {
		return resp, err
	}
	x.mu.Lock()
	x.status, x.header, x.body = resp.StatusCode, resp.Header, nil
	x.mu.Unlock()
	resp.Body = &teeBody{ReadCloser: resp.Body, x: x}
	return resp, err
}

// teeBody copies what is read of a body into its exchange, up to maxBody.
type teeBody struct {
	io.ReadCloser
	x *exchange
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.x.mu.Lock()
		if room := maxBody - len(t.x.body); room > 0 {
			t.x.body = append(t.x.body, p[:min(n, room)]...)
		}
		t.x.mu.Unlock()
	}
	return n, err
}

// call runs f (one client-go call) with an exchange recording it, under
// ctx's deadline (defaultTimeout when it has none), and turns its outcome
// into an *Error.
func (c *Client) call(ctx context.Context, op, token, method string, f func(*gitlab.Client, gitlab.RequestOptionFunc, io.Writer) (*gitlab.Response, error)) (*exchange, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	gl, err := c.gitlab(token)
	if err != nil {
		return nil, &Error{Op: op, Kind: ErrUnreachable, Err: err}
	}
	x := &exchange{}
	tctx := context.WithValue(ctx, exchangeKey{}, x)
	tctx = httptrace.WithClientTrace(tctx, &httptrace.ClientTrace{
		// Called once the request (headers and body) has been handed to
		// the connection, or failed on the way: from then on the server
		// may have it. A failed write still counts as sent; "unknown" is
		// the safe side.
		WroteRequest: func(httptrace.WroteRequestInfo) {
			x.mu.Lock()
			x.wrote = true
			x.mu.Unlock()
		},
	})
	var body bytes.Buffer
	_, err = f(gl, gitlab.WithContext(tctx), &body)
	x.mu.Lock()
	defer x.mu.Unlock()
	if err == nil && x.status >= 200 && x.status < 300 {
		return x, nil
	}
	return x, classify(op, method, x, err)
}

// classify turns a failed call into an *Error. x is locked.
func classify(op, method string, x *exchange, err error) error {
	post := method == http.MethodPost
	if x.status == 0 {
		// No answer at all.
		kind := ErrUnreachable
		if post && x.wrote {
			kind = ErrLostAnswer
		}
		return &Error{Op: op, Kind: kind, Err: scrub(err), Sent: x.wrote}
	}
	e := &Error{Op: op, Status: x.status, Sent: true}
	e.Code, e.message = reason(x.body)
	if x.status == http.StatusTooManyRequests {
		e.readRetryAfter(x.header)
		if e.message == "" {
			// Rack::Attack's answer is text/plain, "Retry later".
			e.message = plainText(x.header, x.body)
		}
	}
	e.Reason = shorten(e.message)
	if e.Code == "" {
		e.Code = challengeError(x.header.Get("WWW-Authenticate"))
	}
	switch {
	case x.status >= 200 && x.status < 300:
		// A 2xx whose body could not be read or decoded.
		e.Kind, e.Reason = ErrBadAnswer, "answer is not the expected JSON"
		if post {
			e.Kind = ErrLostAnswer
			e.raw = append([]byte(nil), x.body...)
		}
		if err != nil && !isDecodeError(err) {
			e.Err = scrub(err)
			if post {
				e.Kind = ErrLostAnswer
			}
		}
	case x.status == http.StatusUnauthorized:
		e.Kind = ErrRefused
		e.bare = e.Code == "" && isBare401(x.body)
		if e.Code == "invalid_token" {
			e.Kind = ErrUnauthorized
		}
	case x.status == http.StatusForbidden:
		e.Kind = ErrForbidden
	case x.status >= 300 && x.status < 400:
		e.Kind = ErrBadAnswer
		e.Reason = "redirect to " + redactURL(x.header.Get("Location")) + " not followed; set api_url to the API's real address"
	case x.status == http.StatusNotFound:
		e.Kind = ErrServer
		if !isMessage404(x.body) {
			e.Kind = ErrNotFound
		}
		if e.Reason == "" {
			e.Reason = "404 Not Found"
		}
	case x.status == http.StatusMethodNotAllowed:
		e.Kind = ErrNotFound
	case x.status == http.StatusBadRequest && strings.HasSuffix(e.Reason, "id is invalid"):
		e.Kind = ErrNotFound
	default:
		// For a rotation, a 5xx does not prove that nothing was
		// committed (a proxy may time out after GitLab did it); the
		// caller decides.
		e.Kind = ErrServer
	}
	return e
}

func isDecodeError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF)
}

// isBare401 reports GitLab's answer for a request it could not tie to a
// user, exactly: {"message":"401 Unauthorized"} (unauthorized! in
// lib/api/helpers.rb, rendered by render_api_error!). A 401 in any other
// shape (an HTML page, an empty body, other JSON) is not GitLab's API.
func isBare401(body []byte) bool {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || len(m) != 1 {
		return false
	}
	msg, ok := m["message"].(string)
	return ok && msg == "401 Unauthorized"
}

// isMessage404 reports GitLab's answer for a missing resource,
// {"message":"404 Project Not Found"} or {"message":"404 Not Found"}
// (not_found! in lib/api/helpers.rb),
// as opposed to the API's catch-all route, {"error":"404 Not Found"}
// (lib/api/api.rb), or a page that is not GitLab's API at all.
func isMessage404(body []byte) bool {
	var m struct {
		Message string `json:"message"`
	}
	return json.Unmarshal(body, &m) == nil && strings.HasPrefix(m.Message, "404 ")
}

// tokenJSON is the part of GitLab's token entities that client-go's
// PersonalAccessToken lacks: last_used_ips
// (API::Entities::PersonalAccessTokenWithLastUsedIps, GitLab 17.11+).
type tokenJSON struct {
	LastUsedIPs []string `json:"last_used_ips"`
}

// decodeToken decodes a token entity with client-go's type, plus ours.
func decodeToken(body []byte) (*Token, error) {
	var pt gitlab.PersonalAccessToken
	if err := json.Unmarshal(body, &pt); err != nil {
		return nil, err
	}
	var extra tokenJSON
	json.Unmarshal(body, &extra)
	t := &Token{
		ID: pt.ID, Name: pt.Name, Description: pt.Description, Revoked: pt.Revoked, Active: pt.Active,
		Scopes: pt.Scopes, UserID: pt.UserID, LastUsedAt: pt.LastUsedAt, LastUsedIPs: extra.LastUsedIPs,
		Token: pt.Token,
	}
	if pt.CreatedAt != nil {
		t.CreatedAt = *pt.CreatedAt
	}
	t.Zone = zoneOf(pt.CreatedAt, pt.LastUsedAt)
	if pt.ExpiresAt != nil {
		t.ExpiresAt = time.Time(*pt.ExpiresAt).Format(time.DateOnly)
	}
	return t, nil
}

// tokenField finds "token":"…" in a body that does not decode as a whole
// (cut short, or with a field of an unexpected type).
var tokenField = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`"token"\s*:\s*"([^"\\\s]{8,})"`)
})

func tokenIn(body []byte) string {
	var only struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(body, &only) == nil && only.Token != "" {
		return only.Token
	}
	if m := tokenField().FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}

// reason extracts GitLab's error code and text: {"error": code,
// "error_description": text} for OAuth style errors (api_guard.rb),
// {"message": …} or {"error": …} otherwise.
func reason(body []byte) (code, text string) {
	var e struct {
		Error       any `json:"error"`
		Description any `json:"error_description"`
		Message     any `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	desc := flatten(e.Description)
	errText := flatten(e.Error)
	if inner, ok := e.Message.(map[string]any); ok {
		// {"message": {"error": …}}: render_api_error! of a hash, as
		// the rate limiters answer (lib/api/helpers/rate_limiter.rb).
		if m, ok := inner["error"].(string); ok {
			e.Message = m
		}
	}
	if desc != "" {
		code, text = errText, desc
	} else if m := flatten(e.Message); m != "" {
		text = m
	} else {
		text = errText
	}
	if strings.ContainsAny(code, " ") {
		code = ""
	}
	return code, strings.Join(strings.Fields(text), " ")
}

// plainText is a short text/plain body, one line, or "".
func plainText(h http.Header, body []byte) string {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	if strings.TrimSpace(ct) != "text/plain" || len(body) > 200 || !utf8.Valid(body) {
		return ""
	}
	return strings.Join(strings.Fields(string(body)), " ")
}

// shorten bounds a reason for messages.
func shorten(text string) string {
	if len(text) > 200 {
		return strings.ToValidUTF8(text[:200], "") + "…"
	}
	return text
}

func flatten(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// challengeError reads error="…" from a Bearer WWW-Authenticate challenge.
func challengeError(h string) string {
	_, rest, ok := strings.Cut(h, `error="`)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, `"`)
	return code
}

// scrub removes URLs' query strings and user info from transport errors.
// Tokens travel in a header, never in a URL, but be safe.
func scrub(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
	}
	return err
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}
