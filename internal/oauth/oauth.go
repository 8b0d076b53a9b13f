// Package oauth talks to GitLab's OAuth 2.0 provider: the browser login
// (authorization code with PKCE over a loopback redirect, RFC 8252), the
// device login (RFC 8628), refresh, revocation and token info. It uses
// golang.org/x/oauth2 over the helper's own HTTP client (the system's CAs
// plus ca_file, TLS 1.2+, redirects never followed, a deadline), and never
// logs a token.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
)

// Scopes are what Git needs and no more: clone and fetch, push
// (https://docs.gitlab.com/integration/oauth_provider/).
var Scopes = []string{"read_repository", "write_repository"}

// RedirectURI is what a person registers as the application's redirect
// URI. The helper listens on 127.0.0.1 at a port the system gives it, and
// GitLab accepts any port of a registered loopback URI (RFC 8252 §7.3;
// Doorkeeper's URIChecker.matches?).
const RedirectURI = "http://127.0.0.1" + redirectPath

const redirectPath = "/callback"

// httpTimeout bounds one request that its context does not (x/oauth2 makes
// the device authorization request without the context).
const httpTimeout = 30 * time.Second

// Errors that carry meaning to callers; an *Error wraps one of them.
var (
	// ErrUnknownClient: GitLab does not know the client ID as a public
	// (non-confidential) application (invalid_client).
	ErrUnknownClient = errors.New("GitLab does not know this OAuth application")
	// ErrInvalidGrant: the code, device code or refresh token is not (or
	// no longer) valid for this application: a refresh token that was
	// used, revoked, or issued to another application (invalid_grant).
	ErrInvalidGrant = errors.New("GitLab refuses the grant")
	// ErrDenied: the person declined in the browser (access_denied).
	ErrDenied = errors.New("the authorization was declined")
	// ErrExpired: the device code expired before it was confirmed
	// (expired_token), or the browser never came back in time.
	ErrExpired = errors.New("the authorization expired before it was confirmed")
	// ErrScope: the application may not ask for the scopes (invalid_scope).
	ErrScope = errors.New("the application may not ask for these scopes")
	// ErrUnreachable: no answer, and the request never left (DNS,
	// connect, TLS): GitLab cannot be acting on it.
	ErrUnreachable = errors.New("GitLab unreachable")
	// ErrNoAnswer: the request was sent and no usable answer came back
	// (none, a 5xx, garbage, the deadline): whether GitLab acted on it is
	// unknown.
	ErrNoAnswer = errors.New("the request was sent but no usable answer came back")
	// ErrRefused: any other answer GitLab gives to refuse a request.
	ErrRefused = errors.New("GitLab refused the request")
)

// Error is a failed call to the OAuth provider. It never holds a token.
type Error struct {
	Op     string // "refresh", "exchange the code", …
	Status int    // HTTP status; 0 without an answer
	// Code is the OAuth error code (invalid_grant, …).
	Code string
	Kind error
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "oauth: %s: %v", e.Op, e.Kind)
	switch {
	case e.Status != 0 && e.Code != "":
		fmt.Fprintf(&b, " (HTTP %d: %s)", e.Status, e.Code)
	case e.Status != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// Pair is an access token and the refresh token that replaces it.
type Pair struct {
	Access, Refresh string
	// Expiry is when the access token stops working.
	Expiry time.Time
	Scopes []string
}

// Info is what GitLab says about an access token (GET /oauth/token/info).
type Info struct {
	UserID int64
	Scopes []string
	// ExpiresIn is how long the access token has left, in seconds.
	ExpiresIn int64
	// App is the client ID of the application it was issued to.
	App string
}

// Client is one GitLab's OAuth provider, for one application.
type Client struct {
	// BaseURL is GitLab's web root (https://gitlab.com, or with a
	// relative URL root https://host/gitlab).
	BaseURL  string
	ClientID string
	HTTP     *http.Client
	// now is the clock a new pair's expiry is reckoned by: the caller's
	// (the store's, store.Store.Clock), so that what the lifecycle
	// compares it with is the same clock.
	now func() time.Time
}

// New returns a client for the GitLab whose API is at apiURL, over the
// same HTTP client the API calls use (ca_file, TLS, no redirects), whose
// expiry times are by the clock now.
func New(apiURL, caFile, clientID string, now func() time.Time) (*Client, error) {
	api, err := gitlabapi.New(apiURL, caFile)
	if err != nil {
		return nil, err
	}
	hc := *api.HTTP
	hc.Timeout = httpTimeout
	return &Client{BaseURL: config.WebURL(apiURL), ClientID: clientID, HTTP: &hc, now: now}, nil
}

// config is the x/oauth2 configuration of the application. The client ID
// goes in the form (AuthStyleInParams): a public client has no secret, and
// x/oauth2's auto-detection would otherwise send each request twice when
// the first fails, once with HTTP Basic and once in the form
// (internal.RetrieveToken), a refresh token among them.
func (c *Client) config(redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       c.BaseURL + "/oauth/authorize",
			TokenURL:      c.BaseURL + "/oauth/token",
			DeviceAuthURL: c.BaseURL + "/oauth/authorize_device",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect,
		Scopes:      Scopes,
	}
}

// call is one request's record: whether it was written to the connection,
// and the status of the answer, if one came.
type call struct {
	mu     sync.Mutex
	wrote  bool
	status int
}

func (k *call) sent() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.wrote
}

// traced returns ctx for one request through x/oauth2: our HTTP client, and
// a record of whether the request left and what came back.
func (c *Client) traced(ctx context.Context, observe func(*http.Response)) (context.Context, *call) {
	k := &call{}
	hc := *c.HTTP
	base := c.HTTP.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = roundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		if resp != nil {
			k.mu.Lock()
			k.status = resp.StatusCode
			k.mu.Unlock()
			if observe != nil {
				observe(resp)
			}
		}
		return resp, err
	})
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		// The request has been handed to the connection (or failed on
		// the way): from now on GitLab may have it.
		WroteRequest: func(httptrace.WroteRequestInfo) {
			k.mu.Lock()
			k.wrote = true
			k.mu.Unlock()
		},
	})
	return context.WithValue(ctx, oauth2.HTTPClient, &hc), k
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// classify turns what x/oauth2 returned for a token request into an
// *Error. An OAuth error answer (4xx with an error code) comes from
// Doorkeeper's validations, which run before anything is written
// (lib/doorkeeper/oauth/base_request.rb): nothing was done. Anything else
// that was sent (no answer, a 5xx, a 2xx without a token) may have been
// carried out.
func classify(op string, k *call, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 300 && re.Response.StatusCode < 400 {
		// Not GitLab's token endpoint (it never redirects), and not
		// followed: nothing was done.
		return &Error{Op: op, Status: re.Response.StatusCode, Kind: ErrRefused}
	}
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
		e := &Error{Op: op, Status: re.Response.StatusCode, Code: re.ErrorCode, Kind: ErrRefused}
		switch re.ErrorCode {
		case "invalid_client":
			e.Kind = ErrUnknownClient
		case "invalid_grant":
			e.Kind = ErrInvalidGrant
		case "access_denied":
			e.Kind = ErrDenied
		case "expired_token":
			e.Kind = ErrExpired
		case "invalid_scope":
			e.Kind = ErrScope
		}
		return e
	}
	e := &Error{Op: op, Kind: ErrNoAnswer}
	if re != nil && re.Response != nil {
		e.Status = re.Response.StatusCode
	} else if !k.sent() {
		e.Kind, e.Err = ErrUnreachable, scrub(err)
	} else {
		e.Err = scrub(err)
	}
	return e
}

// scrub keeps an error's message from ever quoting a request: x/oauth2 and
// net/http errors name URLs, never forms, but a body could echo one.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, ue.URL, ue.Err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return errors.New(strings.SplitN(err.Error(), "\n", 2)[0])
}

// pair turns x/oauth2's token into a Pair, its expiry from expires_in and
// our clock.
func (c *Client) pair(t *oauth2.Token, start time.Time) (*Pair, error) {
	if t.AccessToken == "" || t.RefreshToken == "" {
		return nil, errors.New("the answer has no access token or no refresh token")
	}
	p := &Pair{Access: t.AccessToken, Refresh: t.RefreshToken, Expiry: t.Expiry}
	if t.ExpiresIn > 0 {
		// From when the request was made: the answer may have taken a
		// while, and an expiry a little early is the safe side.
		p.Expiry = start.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	if s, ok := t.Extra("scope").(string); ok {
		p.Scopes = strings.Fields(s)
	}
	return p, nil
}

// Refresh trades refreshToken for a new pair (grant_type refresh_token),
// exactly once: GitLab revokes the refresh token (and its access token)
// in the transaction that makes the new pair, so an answer that is lost
// loses the pair. The caller journals before calling and never calls
// again with the same token unless GitLab is known to be done with the
// first request.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Pair, error) {
	start := c.now()
	tctx, k := c.traced(ctx, nil)
	t, err := c.config("").TokenSource(tctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, classify("refresh", k, err)
	}
	p, err := c.pair(t, start)
	if err != nil {
		// Sent and answered 2xx, without a usable pair: GitLab made one
		// and its answer is as good as lost.
		return nil, &Error{Op: "refresh", Kind: ErrNoAnswer, Err: err}
	}
	return p, nil
}

// Info asks GitLab about accessToken. An access token GitLab does not
// accept (expired, revoked or unknown: GitLab's token info answers 400
// invalid_request for all three, app/controllers/oauth/token_info_controller.rb;
// Doorkeeper's own controller, 401 invalid_token) is ErrInvalidGrant. A 400
// or 401 without an OAuth error in its body is not that answer (a gateway
// or maintenance page in front of GitLab gives one) and says nothing about
// the token: ErrRefused.
func (c *Client) Info(ctx context.Context, accessToken string) (*Info, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/oauth/token/info", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, &Error{Op: "token info", Kind: ErrUnreachable, Err: scrub(err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized) && oauthErrorCode(body) != "":
		return nil, &Error{Op: "token info", Status: resp.StatusCode, Code: oauthErrorCode(body), Kind: ErrInvalidGrant}
	case resp.StatusCode != http.StatusOK:
		return nil, &Error{Op: "token info", Status: resp.StatusCode, Kind: ErrRefused}
	}
	var j struct {
		Owner     int64    `json:"resource_owner_id"`
		Scope     []string `json:"scope"`
		ExpiresIn int64    `json:"expires_in"`
		App       struct {
			UID string `json:"uid"`
		} `json:"application"`
	}
	if err := json.Unmarshal(body, &j); err != nil || j.Owner == 0 {
		return nil, &Error{Op: "token info", Status: resp.StatusCode, Kind: ErrRefused, Err: errors.New("the answer is not GitLab's token info")}
	}
	return &Info{UserID: j.Owner, Scopes: j.Scope, ExpiresIn: j.ExpiresIn, App: j.App.UID}, nil
}

// oauthErrorCode is the error of an OAuth error answer's body (RFC 6749
// 5.2, as Doorkeeper writes it), "" when body is not one.
func oauthErrorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error
}

// Revoke revokes token (an access or a refresh token: either revokes the
// pair) at POST /oauth/revoke (RFC 7009). GitLab answers 200 also for a
// token it does not know.
func (c *Client) Revoke(ctx context.Context, token string) error {
	form := url.Values{"token": {token}, "client_id": {c.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/oauth/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return &Error{Op: "revoke", Kind: ErrUnreachable, Err: scrub(err)}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return &Error{Op: "revoke", Status: resp.StatusCode, Kind: ErrRefused}
	}
	return nil
}
