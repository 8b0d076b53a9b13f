package gitlabtest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// GitLab's OAuth 2.0 provider, as GitLab runs it: Doorkeeper configured by
// config/initializers/doorkeeper.rb, GitLab's controllers under
// app/controllers/oauth/, and the device grant of the
// doorkeeper-device_authorization_grant gem
// (https://docs.gitlab.com/api/oauth2/). Served at these paths under
// Server.URL:
//
//	GET  /oauth/authorize         authorization code (with PKCE), as the signed-in user of SetOAuthConsent
//	POST /oauth/authorize_device  device authorization (RFC 8628)
//	GET  /oauth/device            the page where a person enters a user code (verification_uri_complete)
//	POST /oauth/token             grant_type authorization_code, refresh_token, device_code
//	POST /oauth/revoke            RFC 7009 revocation
//	GET  /oauth/token/info        token info (Bearer)
//
// What the fake takes from GitLab's source:
//
//   - Access tokens live two hours (access_token_expires_in 7200) and come
//     with a refresh token (use_refresh_token); tokens are random hex
//     (default_generator_method :hex).
//   - A refresh token is revoked the moment it is used: GitLab's
//     oauth_access_tokens table has no previous_refresh_token column
//     (db/structure.sql), so Doorkeeper's refresh_token_revoked_on_use? is
//     false, and RefreshTokenRequest#before_successful_response
//     (lib/doorkeeper/oauth/refresh_token_request.rb) locks the old row,
//     answers invalid_grant if it is revoked, revokes it (its access token
//     with it) and creates the new pair, in one transaction. A spent
//     refresh token gets invalid_grant and nothing else happens: there is
//     no reuse detection that revokes the new pair (unlike a personal
//     access token's rotation).
//   - A public (non-confidential) application authenticates with its
//     client_id alone (Doorkeeper's by_uid_and_secret); an unknown client_id
//     gets 401 invalid_client; a token issued to another application gets
//     invalid_grant (validate_client_match).
//   - PKCE (S256 or plain): a code issued with a code_challenge needs the
//     matching code_verifier; codes live ten minutes and are single use.
//   - Loopback redirect URIs match whatever their port (RFC 8252 §7.3,
//     Doorkeeper's URIChecker.matches?).
//   - The device grant: authorization_pending until the user confirms,
//     slow_down when polled within the interval, expired_token once the
//     device code expired (the grant is destroyed), access_denied when the
//     user declined (doc/api/oauth2.md). Defaults: interval 5 s, 300 s to
//     live (the gem's config.rb).
//   - GitLab's /oauth/token/info answers 400 invalid_request for a token
//     that is not accessible, expired and revoked alike
//     (app/controllers/oauth/token_info_controller.rb).
//   - Git over HTTP takes an access token as the password with any
//     username ("oauth2" by convention; doc/api/oauth2.md), with the
//     abilities of its scopes (lib/gitlab/auth.rb).
//
// A person's steps in the browser (signing in, the consent page, typing the
// user code) are one request each: GET /oauth/authorize answers at once
// with the redirect the consent page would give, and GET /oauth/device
// confirms (or declines) the code, both as SetOAuthConsent says.

// Endpoint names of the OAuth provider, for Calls, Delay and Garbage.
const (
	// EndpointOAuthToken is POST /oauth/token, every grant type.
	EndpointOAuthToken = "oauth-token"
	// EndpointOAuthRefresh counts the POST /oauth/token requests of
	// grant_type refresh_token (they also count as EndpointOAuthToken).
	// Only Calls accepts it.
	EndpointOAuthRefresh = "oauth-refresh"
	// EndpointOAuthDevice is POST /oauth/authorize_device.
	EndpointOAuthDevice = "oauth-device"
	// EndpointOAuthRevoke is POST /oauth/revoke.
	EndpointOAuthRevoke = "oauth-revoke"
	// EndpointOAuthInfo is GET /oauth/token/info.
	EndpointOAuthInfo = "oauth-info"
)

// OAuthLoopbackRedirect is the redirect URI OAuthApp registers by default:
// a native application's loopback redirect (RFC 8252 §7.3), any port.
const OAuthLoopbackRedirect = "http://127.0.0.1/callback"

// Doorkeeper's defaults that GitLab keeps.
const (
	// config/initializers/doorkeeper.rb: access_token_expires_in 7200.
	oauthAccessLifetime = 7200 * time.Second
	// Doorkeeper's authorization_code_expires_in default (10 minutes).
	oauthCodeLifetime = 10 * time.Minute
	// doorkeeper-device_authorization_grant's config.rb defaults.
	deviceInterval = 5 * time.Second
	deviceLifetime = 300 * time.Second
)

// The error descriptions of Doorkeeper's config/locales/en.yml and the
// device grant gem's.
var oauthErrorText = map[string]string{
	"invalid_request":        "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
	"invalid_client":         "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
	"invalid_grant":          "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
	"unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
	"invalid_scope":          "The requested scope is invalid, unknown, or malformed.",
	"access_denied":          "The resource owner or authorization server denied the request.",
	"authorization_pending":  "The authorization request is still pending as the end user hasn't yet completed the user-interaction steps.",
	"slow_down":              "A variant of 'authorization_pending', the authorization request is still pending and polling should continue, but the interval MUST be increased by 5 seconds for this and all subsequent requests.",
	"expired_token":          "The \"device_code\" has expired, and the device authorization session has concluded.",
}

// OAuthApp describes an application registered on the fake, as a user does
// under User settings > Applications.
type OAuthApp struct {
	// Name of the application; default "git-credential-glpat".
	Name string
	// RedirectURI, one per line as GitLab's form takes them; default
	// OAuthLoopbackRedirect.
	RedirectURI string
	// Scopes the application may ask for; default read_repository and
	// write_repository.
	Scopes []string
	// Confidential applications must authenticate with their secret; a
	// native client cannot keep one, so git-credential-glpat needs a
	// non-confidential application.
	Confidential bool
}

// OAuthTokenState is a snapshot of one OAuth access token (a row of
// oauth_access_tokens: the access token and its refresh token). It never
// holds either value.
type OAuthTokenState struct {
	ID       int
	App      string // the application's client_id
	Username string
	UserID   int
	Scopes   []string
	// Expiry is when the access token stops working.
	Expiry  time.Time
	Revoked bool
	// Expired is judged with the server clock when the snapshot is taken.
	Expired bool
	// RefreshedFrom is the id of the row whose refresh token made this
	// one, 0 for one issued by a login.
	RefreshedFrom int
	// RefreshRequests counts the refresh requests that carried this row's
	// refresh token, successful or not.
	RefreshRequests int
	// Redeemed counts the refresh requests that got a new pair for it (at
	// most one, as Doorkeeper's row lock makes it).
	Redeemed int
	// Fingerprint identifies the access token without revealing it.
	Fingerprint string
}

// OAuthPair is an access token and its refresh token, made by
// CreateOAuthToken.
type OAuthPair struct {
	Access, Refresh string
	Expiry          time.Time
	ID              int
}

type oauthApp struct {
	uid, secret, name string
	redirects         []string
	scopes            []string
	confidential      bool
}

type oauthToken struct {
	id              int
	app             *oauthApp
	user            *user
	scopes          []string
	access, refresh string
	createdAt       time.Time
	lifetime        time.Duration
	revoked         bool
	previous        int
	refreshRequests int
	redeemed        int
}

type oauthCode struct {
	app               *oauthApp
	user              *user
	redirect, scope   string
	challenge, method string
	expires           time.Time
	used              bool
}

type deviceGrant struct {
	app         *oauthApp
	scopes      string
	userCode    string
	created     time.Time
	lastPolling time.Time
	user        *user // set when the user confirmed the code
	denied      bool
}

// oauthState is the provider's part of Server; guarded by Server.mu.
type oauthState struct {
	apps      map[string]*oauthApp // by uid
	tokens    map[int]*oauthToken
	byAccess  map[string]*oauthToken
	byRefresh map[string]*oauthToken
	codes     map[string]*oauthCode
	devices   map[string]*deviceGrant // by device_code
	nextID    int

	consentUser  string // the user signed in to the fake's browser
	consentAllow bool
	lifetime     time.Duration // of new access tokens
	interval     time.Duration // device polling interval
	deviceTTL    time.Duration
	slowDowns    int // device polls still to be answered slow_down

	// faults of POST /oauth/token with grant_type refresh_token
	dropRefresh bool
	committed   chan struct{}
}

func (s *Server) oauthLocked() *oauthState {
	if s.oauth == nil {
		s.oauth = &oauthState{
			apps:      map[string]*oauthApp{},
			tokens:    map[int]*oauthToken{},
			byAccess:  map[string]*oauthToken{},
			byRefresh: map[string]*oauthToken{},
			codes:     map[string]*oauthCode{},
			devices:   map[string]*deviceGrant{},
			nextID:    1,
			lifetime:  oauthAccessLifetime,
			interval:  deviceInterval,
			deviceTTL: deviceLifetime,
		}
	}
	return s.oauth
}

// RegisterOAuthApp registers an application and returns its client_id
// (GitLab's "Application ID").
func (s *Server) RegisterOAuthApp(app OAuthApp) string {
	if app.Name == "" {
		app.Name = "git-credential-glpat"
	}
	if app.RedirectURI == "" {
		app.RedirectURI = OAuthLoopbackRedirect
	}
	if app.Scopes == nil {
		app.Scopes = []string{"read_repository", "write_repository"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	a := &oauthApp{uid: randomHex(64), secret: "gloas-" + randomHex(64), name: app.Name,
		redirects: strings.Fields(app.RedirectURI), scopes: slices.Clone(app.Scopes), confidential: app.Confidential}
	o.apps[a.uid] = a
	return a.uid
}

// SetOAuthConsent says who is signed in to GitLab in the browser the test
// plays, and whether they authorize (allow) or deny an application that
// asks: for the consent page of GET /oauth/authorize and the device page of
// GET /oauth/device. With no user, GET /oauth/authorize sends the browser
// to the sign-in page.
func (s *Server) SetOAuthConsent(username string, allow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	o.consentUser, o.consentAllow = username, allow
}

// SetOAuthTokenLifetime sets how long access tokens issued from now on
// live; 0 restores GitLab's two hours. GitLab's is fixed; tests that must
// stand just after an expiry shorten it.
func (s *Server) SetOAuthTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == 0 {
		d = oauthAccessLifetime
	}
	s.oauthLocked().lifetime = d
}

// SetDeviceGrant sets the polling interval and lifetime of device codes
// issued from now on; zero values restore the gem's defaults (5 s, 300 s).
func (s *Server) SetDeviceGrant(interval, lifetime time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	if interval == 0 {
		interval = deviceInterval
	}
	if lifetime == 0 {
		lifetime = deviceLifetime
	}
	o.interval, o.deviceTTL = interval, lifetime
}

// SlowDownDevicePolls answers the next n device polls slow_down, as GitLab
// does to a client that polls within the interval.
func (s *Server) SlowDownDevicePolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().slowDowns = n
}

// DropAfterRefreshCommit makes refresh requests commit (the old pair
// revoked, the new one live) and then close the connection without an
// answer: a refresh whose answer was lost.
func (s *Server) DropAfterRefreshCommit(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().dropRefresh = on
}

// HoldAfterRefreshCommit makes refresh requests commit and then never
// answer: each commit sends on ch (if it has room), and the request waits
// until the client goes away or the test ends, or AnswerHeld. A nil ch
// switches it off.
func (s *Server) HoldAfterRefreshCommit(ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthLocked().committed = ch
	if ch != nil && s.heldRelease == nil {
		s.heldRelease = make(chan struct{})
	}
}

// CreateOAuthToken issues an access token and refresh token to username for
// the application clientID, as a completed login would, and returns them.
// They are secrets: do not log them.
func (s *Server) CreateOAuthToken(clientID, username string, scopes []string) OAuthPair {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	app, ok := o.apps[clientID]
	if !ok {
		s.tb.Fatalf("gitlabtest: CreateOAuthToken: no application %q", clientID)
	}
	if scopes == nil {
		scopes = app.scopes
	}
	t := s.issueLocked(app, s.userLocked(username, s.now()), scopes, 0)
	return OAuthPair{Access: t.access, Refresh: t.refresh, Expiry: t.createdAt.Add(t.lifetime), ID: t.id}
}

// RevokeOAuthToken revokes the OAuth access token with this id (and its
// refresh token), as a user who revokes the application's access does.
func (s *Server) RevokeOAuthToken(id int) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.oauthLocked().tokens[id]
	if !ok {
		s.tb.Fatalf("gitlabtest: RevokeOAuthToken: no token %d", id)
	}
	t.revoked = true
}

// OAuthTokens returns the state of every OAuth access token, by id.
func (s *Server) OAuthTokens() []OAuthTokenState {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	out := make([]OAuthTokenState, 0, len(o.tokens))
	for _, t := range o.tokens {
		out = append(out, s.oauthStateLocked(t))
	}
	slices.SortFunc(out, func(a, b OAuthTokenState) int { return a.ID - b.ID })
	return out
}

// OAuthTokenByValue returns the state of the OAuth access token tok.
func (s *Server) OAuthTokenByValue(tok string) (OAuthTokenState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.oauthLocked().byAccess[tok]
	if !ok {
		return OAuthTokenState{}, false
	}
	return s.oauthStateLocked(t), true
}

func (s *Server) oauthStateLocked(t *oauthToken) OAuthTokenState {
	return OAuthTokenState{
		ID: t.id, App: t.app.uid, Username: t.user.username, UserID: t.user.id,
		Scopes: slices.Clone(t.scopes), Expiry: t.createdAt.Add(t.lifetime),
		Revoked: t.revoked, Expired: s.oauthExpiredLocked(t), RefreshedFrom: t.previous,
		RefreshRequests: t.refreshRequests, Redeemed: t.redeemed, Fingerprint: "…" + t.access[len(t.access)-4:],
	}
}

func (s *Server) oauthExpiredLocked(t *oauthToken) bool {
	return !s.now().Before(t.createdAt.Add(t.lifetime))
}

// accessible is Doorkeeper's AccessToken#accessible?: neither expired nor
// revoked.
func (s *Server) accessibleLocked(t *oauthToken) bool {
	return t != nil && !t.revoked && !s.oauthExpiredLocked(t)
}

// issueLocked creates an access token row (find_or_create_access_token
// always creates one: reuse_access_token is off in GitLab's config).
func (s *Server) issueLocked(app *oauthApp, u *user, scopes []string, previous int) *oauthToken {
	o := s.oauthLocked()
	t := &oauthToken{id: o.nextID, app: app, user: u, scopes: slices.Clone(scopes), createdAt: s.now(),
		lifetime: o.lifetime, previous: previous}
	o.nextID++
	for t.access == "" || o.byAccess[t.access] != nil {
		t.access = randomHex(64)
	}
	for t.refresh == "" || o.byRefresh[t.refresh] != nil {
		t.refresh = randomHex(64)
	}
	o.tokens[t.id] = t
	o.byAccess[t.access] = t
	o.byRefresh[t.refresh] = t
	return t
}

// oauthGitTokenLocked is the token Git over HTTP authenticates with when
// its password is an accessible OAuth access token (lib/gitlab/auth.rb,
// oauth_access_token_check): a stand-in with the user and scopes, for
// serveGit's checks; nil when it is not one.
func (s *Server) oauthGitTokenLocked(password string) *token {
	if s.oauth == nil {
		return nil
	}
	t := s.oauth.byAccess[password]
	if !s.accessibleLocked(t) {
		return nil
	}
	return &token{kind: Personal, user: t.user, scopes: t.scopes}
}

// serveOAuth routes /oauth/... requests.
func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == "/oauth/authorize" && r.Method == http.MethodGet:
		s.handleAuthorize(w, r)
	case path == "/oauth/authorize_device" && r.Method == http.MethodPost:
		s.handleDeviceAuthorization(w, r)
	case path == "/oauth/device" && r.Method == http.MethodGet:
		s.handleDevicePage(w, r)
	case path == "/oauth/token" && r.Method == http.MethodPost:
		s.handleOAuthToken(w, r)
	case path == "/oauth/revoke" && r.Method == http.MethodPost:
		s.handleOAuthRevoke(w, r)
	case path == "/oauth/token/info" && r.Method == http.MethodGet:
		s.handleTokenInfo(w, r)
	default:
		plain(w, http.StatusNotFound, "404 Not Found")
	}
}

// oauthError is Doorkeeper's ErrorResponse: JSON {error,
// error_description}, 401 for invalid_client (with a Bearer challenge),
// 400 for the rest.
func oauthError(code string) reply {
	rep := reply{status: http.StatusBadRequest, body: map[string]string{"error": code, "error_description": oauthErrorText[code]}}
	if code == "invalid_client" {
		rep.status = http.StatusUnauthorized
		rep.header = http.Header{}
		rep.header.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="Doorkeeper", error="invalid_client", error_description=%q`, oauthErrorText[code]))
	}
	return rep
}

// clientLocked authenticates the client of a token, device or revoke
// request from its parameters, as Doorkeeper's by_uid_and_secret does: a
// public application by its client_id alone, a confidential one only with
// its secret.
func (s *Server) clientLocked(r *http.Request) *oauthApp {
	id, secret := r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
	}
	app := s.oauthLocked().apps[id]
	switch {
	case app == nil:
		return nil
	case secret == "" && !app.confidential:
		return app
	case secret != "" && secret == app.secret:
		return app
	}
	return nil
}

// scopesAllowed reports whether every scope of requested (space
// separated; empty asks for all the application's) is one the application
// may ask for, and returns them.
func scopesAllowed(app *oauthApp, requested string) ([]string, bool) {
	if requested == "" {
		return slices.Clone(app.scopes), true
	}
	scopes := strings.Fields(requested)
	for _, sc := range scopes {
		if !slices.Contains(app.scopes, sc) {
			return nil, false
		}
	}
	return scopes, true
}

// redirectMatches is Doorkeeper's URIChecker.matches?: the same string, or
// two loopback URIs that differ only in their port.
func redirectMatches(got, registered string) bool {
	if got == registered {
		return true
	}
	a, errA := url.Parse(got)
	b, errB := url.Parse(registered)
	if errA != nil || errB != nil || !loopback(a.Hostname()) || !loopback(b.Hostname()) {
		return false
	}
	return a.Scheme == b.Scheme && a.User.String() == b.User.String() && a.Hostname() == b.Hostname() &&
		a.Path == b.Path && a.RawQuery == b.RawQuery && a.Fragment == b.Fragment
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// handleAuthorize serves the authorization endpoint. A client_id or
// redirect_uri that does not check out is an error page in the browser
// (RFC 6749 §4.1.2.1: never a redirect to an unchecked URI); everything
// after is a redirect to the client, with a code or an error.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	if o.consentUser == "" {
		// resource_owner_authenticator in config/initializers/doorkeeper.rb.
		http.Redirect(w, r, s.URL+"/users/sign_in", http.StatusFound)
		return
	}
	app := o.apps[q.Get("client_id")]
	if app == nil {
		errorPage(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.ContainsFunc(app.redirects, func(reg string) bool { return redirectMatches(redirect, reg) }) {
		errorPage(w, http.StatusBadRequest, "invalid_redirect_uri")
		return
	}
	back := func(v url.Values) {
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		sep := "?"
		if strings.Contains(redirect, "?") {
			sep = "&"
		}
		http.Redirect(w, r, redirect+sep+v.Encode(), http.StatusFound)
	}
	fail := func(code string) { back(url.Values{"error": {code}, "error_description": {oauthErrorText[code]}}) }
	scopes, ok := scopesAllowed(app, q.Get("scope"))
	method := q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type")
	case !ok:
		fail("invalid_scope")
	case q.Get("code_challenge") != "" && method != "" && method != "S256" && method != "plain":
		fail("invalid_request")
	case !o.consentAllow:
		fail("access_denied")
	default:
		code := randomHex(64)
		o.codes[code] = &oauthCode{app: app, user: s.userLocked(o.consentUser, s.now()), redirect: redirect,
			scope: strings.Join(scopes, " "), challenge: q.Get("code_challenge"), method: method, expires: s.now().Add(oauthCodeLifetime)}
		back(url.Values{"code": {code}})
	}
}

// errorPage is Doorkeeper's authorizations/error view.
func errorPage(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><body><h1>An error has occurred</h1><p>%s</p></body></html>\n", code)
}

// handleDeviceAuthorization serves POST /oauth/authorize_device
// (DeviceAuthorizationRequest of the device grant gem).
func (s *Server) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if !s.arrive(w, r, EndpointOAuthDevice) {
		return
	}
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	app := s.clientLocked(r)
	if app == nil {
		send(w, oauthError("invalid_client"))
		return
	}
	scopes, ok := scopesAllowed(app, r.PostFormValue("scope"))
	if !ok {
		send(w, oauthError("invalid_scope"))
		return
	}
	deviceCode := randomHex(64)
	g := &deviceGrant{app: app, scopes: strings.Join(scopes, " "), userCode: strings.ToUpper(randomHex(8)), created: s.now()}
	o.devices[deviceCode] = g
	verify := s.URL + "/oauth/device"
	send(w, reply{status: http.StatusOK, body: map[string]any{
		"device_code":               deviceCode,
		"user_code":                 g.userCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(g.userCode),
		"expires_in":                int(o.deviceTTL / time.Second),
		"interval":                  int(o.interval / time.Second),
	}})
}

// handleDevicePage is a person at verification_uri_complete confirming
// the code (or declining), as the user of SetOAuthConsent.
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("user_code")
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	if o.consentUser == "" {
		http.Redirect(w, r, s.URL+"/users/sign_in", http.StatusFound)
		return
	}
	for _, g := range o.devices {
		if g.userCode != code || code == "" {
			continue
		}
		if s.now().After(g.created.Add(o.deviceTTL)) {
			plain(w, http.StatusOK, "The code has expired.")
			return
		}
		if !o.consentAllow {
			g.denied = true
			plain(w, http.StatusOK, "Authorization denied.")
			return
		}
		g.user = s.userLocked(o.consentUser, s.now())
		plain(w, http.StatusOK, "The device is now authorized.")
		return
	}
	plain(w, http.StatusOK, "The code is not valid.")
}

// handleOAuthToken serves POST /oauth/token (Oauth::TokensController over
// Doorkeeper's token strategies).
func (s *Server) handleOAuthToken(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	grant := r.PostFormValue("grant_type")
	if grant == "refresh_token" {
		s.mu.Lock()
		s.calls[EndpointOAuthRefresh]++ // on arrival, as Calls counts
		s.mu.Unlock()
	}
	if !s.arrive(w, r, EndpointOAuthToken) {
		return
	}
	s.mu.Lock()
	var rep reply
	var issued *oauthToken
	switch grant {
	case "authorization_code":
		rep, issued = s.codeGrantLocked(r)
	case "refresh_token":
		rep, issued = s.refreshGrantLocked(r)
	case "urn:ietf:params:oauth:grant-type:device_code":
		rep, issued = s.deviceGrantLocked(r)
	default:
		rep = oauthError("unsupported_grant_type")
	}
	if issued != nil {
		rep = reply{status: http.StatusOK, body: map[string]any{
			"access_token":  issued.access,
			"token_type":    "Bearer",
			"expires_in":    int(issued.lifetime / time.Second),
			"refresh_token": issued.refresh,
			"scope":         strings.Join(issued.scopes, " "),
			"created_at":    issued.createdAt.Unix(),
		}}
		// Doorkeeper answers tokens with no caching (RFC 6749 §5.1).
		rep.header = http.Header{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
	}
	o := s.oauthLocked()
	drop, committed, release := o.dropRefresh, o.committed, s.heldRelease
	s.mu.Unlock()
	if grant == "refresh_token" && issued != nil {
		if committed != nil && !s.holdAfterCommit(r, committed, release) {
			return
		}
		if drop {
			dropConnection(w)
			return
		}
	}
	send(w, rep)
}

// codeGrantLocked is AuthorizationCodeRequest: client, then the code
// (unknown, used, expired, another client's, another redirect_uri), then
// PKCE.
func (s *Server) codeGrantLocked(r *http.Request) (reply, *oauthToken) {
	o := s.oauthLocked()
	app := s.clientLocked(r)
	if app == nil {
		return oauthError("invalid_client"), nil
	}
	c := o.codes[r.PostFormValue("code")]
	if c == nil || c.used || s.now().After(c.expires) || c.app != app || c.redirect != r.PostFormValue("redirect_uri") {
		return oauthError("invalid_grant"), nil
	}
	if c.challenge != "" {
		v := r.PostFormValue("code_verifier")
		want := v
		if c.method == "S256" {
			sum := sha256.Sum256([]byte(v))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if v == "" || want != c.challenge {
			return oauthError("invalid_grant"), nil
		}
	}
	c.used = true
	return reply{}, s.issueLocked(app, c.user, strings.Fields(c.scope), 0)
}

// refreshGrantLocked is RefreshTokenRequest with refresh tokens revoked on
// use: the old row is revoked and the new one made in one step (see the
// package comment of this file).
func (s *Server) refreshGrantLocked(r *http.Request) (reply, *oauthToken) {
	o := s.oauthLocked()
	old := o.byRefresh[r.PostFormValue("refresh_token")]
	if old != nil {
		old.refreshRequests++
	}
	switch {
	case r.PostFormValue("refresh_token") == "":
		return oauthError("invalid_request"), nil
	case old == nil || old.revoked:
		return oauthError("invalid_grant"), nil
	}
	app := s.clientLocked(r)
	if app == nil && (r.PostFormValue("client_id") != "" || r.Header.Get("Authorization") != "") {
		return oauthError("invalid_client"), nil
	}
	if app != old.app {
		return oauthError("invalid_grant"), nil
	}
	scopes := old.scopes
	if sc := r.PostFormValue("scope"); sc != "" {
		for _, x := range strings.Fields(sc) {
			if !slices.Contains(old.scopes, x) {
				return oauthError("invalid_scope"), nil
			}
		}
		scopes = strings.Fields(sc)
	}
	old.revoked = true
	old.redeemed++
	return reply{}, s.issueLocked(app, old.user, scopes, old.id)
}

// deviceGrantLocked is the gem's DeviceCodeRequest: expiry first, then
// the polling interval, then whether the user confirmed.
func (s *Server) deviceGrantLocked(r *http.Request) (reply, *oauthToken) {
	o := s.oauthLocked()
	app := s.clientLocked(r)
	if app == nil {
		return oauthError("invalid_client"), nil
	}
	code := r.PostFormValue("device_code")
	g := o.devices[code]
	if g == nil || g.app != app {
		return oauthError("invalid_grant"), nil
	}
	now := s.now()
	if !now.Before(g.created.Add(o.deviceTTL)) {
		delete(o.devices, code)
		return oauthError("expired_token"), nil
	}
	if o.slowDowns > 0 || (!g.lastPolling.IsZero() && g.lastPolling.After(now.Add(-o.interval))) {
		if o.slowDowns > 0 {
			o.slowDowns--
		}
		return oauthError("slow_down"), nil
	}
	g.lastPolling = now
	if g.denied {
		delete(o.devices, code)
		return oauthError("access_denied"), nil
	}
	if g.user == nil {
		return oauthError("authorization_pending"), nil
	}
	delete(o.devices, code)
	return reply{}, s.issueLocked(app, g.user, strings.Fields(g.scopes), 0)
}

// handleOAuthRevoke serves POST /oauth/revoke (Doorkeeper's
// TokensController#revoke, RFC 7009): the access token or refresh token
// given revokes its row; 200 with {} also for a token it does not know. A
// public client needs its client_id (GitLab's validate_presence_of_client).
func (s *Server) handleOAuthRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.arrive(w, r, EndpointOAuthRevoke) {
		return
	}
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.oauthLocked()
	app := s.clientLocked(r)
	if app == nil {
		send(w, reply{status: http.StatusForbidden, body: map[string]string{"error": "unauthorized_client",
			"error_description": "You are not authorized to revoke this token"}})
		return
	}
	tok := r.PostFormValue("token")
	t := o.byAccess[tok]
	if t == nil {
		t = o.byRefresh[tok]
	}
	if t != nil && t.app == app {
		t.revoked = true
	}
	send(w, reply{status: http.StatusOK, body: map[string]any{}})
}

// handleTokenInfo serves GET /oauth/token/info: the token's owner, scopes,
// time left and application, or 400 invalid_request for a token that is
// not accessible (app/controllers/oauth/token_info_controller.rb).
func (s *Server) handleTokenInfo(w http.ResponseWriter, r *http.Request) {
	if !s.arrive(w, r, EndpointOAuthInfo) {
		return
	}
	tok := r.URL.Query().Get("access_token")
	if scheme, v, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.oauthLocked().byAccess[tok]
	if !s.accessibleLocked(t) {
		send(w, oauthError("invalid_request"))
		return
	}
	left := int(t.createdAt.Add(t.lifetime).Sub(s.now()) / time.Second)
	send(w, reply{status: http.StatusOK, body: map[string]any{
		"resource_owner_id":  t.user.id,
		"scope":              t.scopes,
		"expires_in":         left,
		"application":        map[string]string{"uid": t.app.uid},
		"created_at":         t.createdAt.Unix(),
		"scopes":             t.scopes,
		"expires_in_seconds": left,
	}})
}
