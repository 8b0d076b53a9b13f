// Package gitlabapi calls the few GitLab REST endpoints that manage the token
// making the call: read it, rotate it, revoke it, and read its user.
//
// It is written on net/http rather than GitLab's client-go on purpose: the
// helper runs on every git fetch, and client-go's package graph (and its
// go-retryablehttp transport, which retries POST requests by default, the
// one thing a rotation must never do) would be linked into that hot path.
// Each call here is made exactly once, under the caller's deadline.
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
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// maxBody bounds how much of an answer is read; GitLab's answers for these
// endpoints are a few hundred bytes.
const maxBody = 1 << 20

// Errors that carry meaning to callers. An *Error wraps one of them.
var (
	// ErrUnauthorized: the token is expired, revoked or unknown (HTTP 401).
	ErrUnauthorized = errors.New("token not accepted")
	// ErrForbidden: the token lacks the scope for this call (HTTP 403).
	ErrForbidden = errors.New("token lacks the scope for this call")
	// ErrUnreachable: no answer at all (DNS, connect, TLS, timeout).
	ErrUnreachable = errors.New("GitLab API unreachable")
	// ErrLostAnswer: the request was sent but its answer never arrived,
	// so whether the server acted on it is unknown.
	ErrLostAnswer = errors.New("the request was sent but no answer arrived")
	// ErrBadAnswer: an answer that is not what GitLab sends.
	ErrBadAnswer = errors.New("GitLab API answered something unexpected")
	// ErrServer: an HTTP error other than 401/403.
	ErrServer = errors.New("GitLab API error")
)

// Error describes a failed call. It never contains the token.
type Error struct {
	Op     string // "get token", "rotate token", …
	Status int    // HTTP status, 0 when there was no answer
	// Reason is GitLab's error_description or message, when it gave one.
	Reason string
	Kind   error // one of the Err* values above
	Err    error // underlying transport error, if any
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
	// Token is the secret, only in the answer to a rotation.
	Token string `json:"token,omitempty"`
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
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
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
		pem, err := os.ReadFile(caFile)
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
			Transport: tr,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}, nil
}

// Self reads the token used for the call: GET /personal_access_tokens/self
// (GitLab 15.5+, any scope;
// https://docs.gitlab.com/api/personal_access_tokens/#using-a-request-header).
// A revoked or expired token gets ErrUnauthorized.
func (c *Client) Self(ctx context.Context, token string) (*Token, error) {
	var t Token
	if err := c.do(ctx, "get token", http.MethodGet, "/personal_access_tokens/self", token, nil, &t); err != nil {
		return nil, err
	}
	if t.ID == 0 {
		return nil, &Error{Op: "get token", Status: 200, Kind: ErrBadAnswer, Reason: "no token id in the answer"}
	}
	return &t, nil
}

// Kinds of tokens, each with its own self-rotation endpoint.
const (
	KindPersonal = "personal"
	KindProject  = "project"
	KindGroup    = "group"
)

// Rotate rotates the token used for the call and returns the new one
// (GitLab 16.10+; https://docs.gitlab.com/api/personal_access_tokens/#rotate-a-personal-access-token).
// GitLab revokes the old token in the same transaction, and a rotation
// authenticated with an already rotated token revokes the whole token family
// (reuse detection), so the request is made exactly once and never retried.
// ErrLostAnswer means it may have succeeded.
//
// kind selects the endpoint: personal tokens rotate at
// /personal_access_tokens/self/rotate, project and group access tokens at
// /projects/:id/access_tokens/self/rotate and /groups/:id/access_tokens/self/rotate.
func (c *Client) Rotate(ctx context.Context, token, kind string, ownerID int64, expiresAt time.Time) (*Token, error) {
	path := "/personal_access_tokens/self/rotate"
	switch kind {
	case KindProject:
		path = fmt.Sprintf("/projects/%d/access_tokens/self/rotate", ownerID)
	case KindGroup:
		path = fmt.Sprintf("/groups/%d/access_tokens/self/rotate", ownerID)
	}
	body := map[string]string{"expires_at": expiresAt.UTC().Format(time.DateOnly)}
	var t Token
	err := c.do(ctx, "rotate token", http.MethodPost, path, token, body, &t)
	var ae *Error
	if errors.As(err, &ae) && ae.Status >= 200 && ae.Status < 300 && ae.raw != nil {
		// GitLab rotated (2xx) but the answer did not decode as a whole:
		// the new token in it is the only copy, keep it.
		var only struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(ae.raw, &only) == nil && only.Token != "" {
			return &Token{Token: only.Token}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if t.Token == "" {
		// The server may have rotated: treat as a lost answer, not as a
		// failure that allows another try with the old token.
		return nil, &Error{Op: "rotate token", Status: 200, Kind: ErrLostAnswer, Reason: "answer has no new token"}
	}
	return &t, nil
}

// CurrentUser reads GET /user. Least-privilege tokens (no api, read_api or
// read_user scope) get ErrForbidden, which is not a problem with the token.
func (c *Client) CurrentUser(ctx context.Context, token string) (*User, error) {
	var u User
	if err := c.do(ctx, "get user", http.MethodGet, "/user", token, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// RevokeSelf revokes the token used for the call:
// DELETE /personal_access_tokens/self.
func (c *Client) RevokeSelf(ctx context.Context, token string) error {
	return c.do(ctx, "revoke token", http.MethodDelete, "/personal_access_tokens/self", token, nil, nil)
}

// ServerTime makes an unauthenticated request to the API and returns the
// server's Date header, to compare clocks.
func (c *Client) ServerTime(ctx context.Context) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.BaseURL+"/version", nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return time.Time{}, &Error{Op: "read server time", Kind: ErrUnreachable, Err: scrub(err)}
	}
	resp.Body.Close()
	return http.ParseTime(resp.Header.Get("Date"))
}

func (c *Client) do(ctx context.Context, op, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return fmt.Errorf("gitlab: %s: %w", op, err)
	}
	req.Header.Set("PRIVATE-TOKEN", token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "git-credential-glpat")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// http.Client never retries a POST; GetBody left nil makes sure the
	// transport cannot replay the body on a reused connection either.
	req.GetBody = nil
	resp, err := c.HTTP.Do(req)
	if err != nil {
		kind := ErrUnreachable
		if method == http.MethodPost && sent(err) {
			kind = ErrLostAnswer
		}
		return &Error{Op: op, Kind: kind, Err: scrub(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		kind := ErrUnreachable
		if method == http.MethodPost {
			kind = ErrLostAnswer
		}
		return &Error{Op: op, Status: resp.StatusCode, Kind: kind, Err: scrub(err)}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return &Error{Op: op, Status: resp.StatusCode, Kind: ErrUnauthorized, Reason: reason(data)}
	case resp.StatusCode == http.StatusForbidden:
		return &Error{Op: op, Status: resp.StatusCode, Kind: ErrForbidden, Reason: reason(data)}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return &Error{Op: op, Status: resp.StatusCode, Kind: ErrBadAnswer,
			Reason: "redirect to " + redactURL(resp.Header.Get("Location")) + " not followed; set api_url to the API's real address"}
	case resp.StatusCode >= 400:
		// For a rotation, a 5xx does not prove that nothing was
		// committed (a proxy may time out after GitLab did it); the
		// caller checks the old token before deciding.
		return &Error{Op: op, Status: resp.StatusCode, Kind: ErrServer, Reason: reason(data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		kind := ErrBadAnswer
		if method == http.MethodPost {
			kind = ErrLostAnswer
		}
		return &Error{Op: op, Status: resp.StatusCode, Kind: kind, Reason: "answer is not the expected JSON", raw: data}
	}
	return nil
}

// sent reports whether a transport error happened after the request was
// written (the server may have acted on it) rather than while connecting.
func sent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return false
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return false
	}
	if strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") {
		return false
	}
	return true
}

// reason extracts GitLab's error text: {"error_description": …} for OAuth
// style errors, {"message": …} or {"error": …} otherwise.
func reason(body []byte) string {
	var e struct {
		Error       any    `json:"error"`
		Description string `json:"error_description"`
		Message     any    `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	s := e.Description
	if s == "" {
		s = fmt.Sprint(firstNonNil(e.Message, e.Error))
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func firstNonNil(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			if m, ok := v.(map[string]any); ok {
				b, _ := json.Marshal(m)
				return string(b)
			}
			return v
		}
	}
	return ""
}

// scrub removes URLs' query strings and user info from transport errors.
// Tokens travel in a header, never in a URL, but be safe.
func scrub(err error) error {
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
