package gitlabtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Answers GitLab gives, with where they come from.
const (
	// lib/api/api_guard.rb (oauth2_bearer_token_error_handler), rendered by
	// rack-oauth2's Bearer::Unauthorized: JSON {error, error_description}
	// plus a WWW-Authenticate challenge.
	descExpired = "Token is expired. You can either do re-authorization or token refresh."
	descRevoked = "Token was revoked. You have to re-authorize from the user."
	// rack-oauth2 Resource::ErrorMethods::DEFAULT_DESCRIPTION[:insufficient_scope],
	// which api_guard.rb passes to Bearer::Forbidden (no WWW-Authenticate:
	// see the FIXME there).
	descInsufficientScope = "The request requires higher privileges than provided by the access token."
	// rack-oauth2 Resource::DEFAULT_REALM: api_guard.rb builds its errors
	// without a realm, so the challenge carries the library's default.
	bearerRealm = "Protected by OAuth 2.0"
	// The message of Gitlab::Auth::DpopValidationError for a request
	// without a DPoP header (lib/gitlab/auth/dpop_token.rb).
	descDPoP = "DPoP validation error: DPoP header is missing"

	// PersonalAccessTokens::RotateService::EXPIRATION_PERIOD: a rotated
	// token expires one week after rotation unless expires_at is given
	// (https://docs.gitlab.com/api/personal_access_tokens/#rotate-a-personal-access-token).
	defaultRotateDays = 7
	// PersonalAccessToken::MAX_PERSONAL_ACCESS_TOKEN_LIFETIME_IN_DAYS: the
	// model refuses expires_at later than today + 365 days ("Expiration date
	// must be before <date>"). GitLab's buffered_token_expiration_limit
	// feature flag raises this to 400 days; the fake keeps the default.
	maxLifetimeDays = 365
)

// Scopes that may use an endpoint, in the order GitLab lists them.
var (
	// lib/api/personal_access_tokens/self_rotation.rb and
	// lib/api/resource_access_tokens/self_rotation.rb:
	// allow_access_with_scope :api, :self_rotate.
	rotateScopes = []string{"api", "self_rotate"}
	// GET /user: read_user (Users API) plus api and read_api, which API::API
	// allows for every GET.
	userScopes = []string{"read_user", "api", "read_api"}
	// GET /personal_access_tokens/:id: the API-wide api and read_api.
	readTokenScopes = []string{"api", "read_api"}
	// DELETE /personal_access_tokens/:id: the API-wide api.
	writeTokenScopes = []string{"api"}
)

// reply is an API answer, computed under the lock and written after it.
type reply struct {
	status int
	header http.Header
	body   any    // marshalled as JSON; nil writes no body (or text)
	text   string // a body that is not JSON, with the header's Content-Type
}

func send(w http.ResponseWriter, rep reply) {
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	if rep.text != "" {
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.text)
		return
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	b, err := json.Marshal(rep.body)
	if err != nil {
		panic(fmt.Sprintf("gitlabtest: marshal answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	w.Write(b)
}

// message is GitLab's render_api_error! shape: {"message": "401 Unauthorized"}.
func message(status int, msg string) reply {
	return reply{status: status, body: map[string]string{"message": msg}}
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	send(w, message(status, msg))
}

// invalidToken is the 401 answer for an expired or revoked token.
func invalidToken(desc string) reply {
	h := http.Header{}
	h.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="invalid_token", error_description=%q`, bearerRealm, desc))
	return reply{
		status: http.StatusUnauthorized,
		header: h,
		body:   map[string]string{"error": "invalid_token", "error_description": desc},
	}
}

// insufficientScope is the 403 answer for a live token without a scope the
// endpoint accepts; "scope" lists the scopes that would do.
func insufficientScope(scopes []string) reply {
	return reply{
		status: http.StatusForbidden,
		body: map[string]string{
			"error":             "insufficient_scope",
			"error_description": descInsufficientScope,
			"scope":             strings.Join(scopes, " "),
		},
	}
}

// requestToken finds the token of an API request the way GitLab's
// AuthFinders#extract_personal_access_token does: the private_token
// parameter, then the PRIVATE-TOKEN header, then "Authorization: Bearer".
func requestToken(r *http.Request) string {
	if v := r.URL.Query().Get("private_token"); v != "" {
		return v
	}
	if v := r.Header.Get("Private-Token"); v != "" {
		return v
	}
	if scheme, v, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(v)
	}
	return ""
}

// authLocked authenticates an API request, as AuthFinders#
// validate_and_save_access_token! does: expiry is checked first, then
// revocation, then scopes (allowed nil means any scope). It returns the token,
// or nil and the answer to give.
//
// On a rotate path, a revoked token revokes its token family first: GitLab's
// automatic reuse detection
// (https://docs.gitlab.com/api/personal_access_tokens/#automatic-reuse-detection;
// revoke_token_family in lib/gitlab/auth/auth_finders.rb, which only acts on
// paths matching access_tokens/(\d+|self)/rotate). An expired token is refused
// as expired before revocation is looked at, so it never triggers this.
func (s *Server) authLocked(r *http.Request, allowed []string, rotation bool) (*token, reply) {
	secret := requestToken(r)
	t, ok := s.bySecret[secret]
	if secret == "" || !ok {
		return nil, message(http.StatusUnauthorized, "401 Unauthorized")
	}
	if s.expiredLocked(t) {
		return nil, invalidToken(descExpired)
	}
	if t.revoked {
		if rotation {
			s.revokeFamilyLocked(t)
		}
		return nil, invalidToken(descRevoked)
	}
	if s.dpopUsers[t.user.username] {
		// Auth::DpopAuthenticationService raises DpopValidationError,
		// which api_guard.rb answers as a Bearer 401 with its message.
		h := http.Header{}
		h.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="dpop_error", error_description=%q`, bearerRealm, descDPoP))
		return nil, reply{status: http.StatusUnauthorized, header: h, body: map[string]string{"error": "dpop_error", "error_description": descDPoP}}
	}
	if allowed != nil && !slices.ContainsFunc(t.scopes, func(sc string) bool { return slices.Contains(allowed, sc) }) {
		return nil, insufficientScope(allowed)
	}
	s.markUsedLocked(t, r)
	return t, reply{}
}

// revokeFamilyLocked revokes the active tokens rotated (directly or not) from
// t, as PersonalAccessTokens::RevokeTokenFamilyService does
// (pat_family.active.update_all(revoked: true)): descendants only, and
// expired ones are left as they are.
func (s *Server) revokeFamilyLocked(t *token) {
	for id := t.next; id != 0; id = s.tokens[id].next {
		d := s.tokens[id]
		if !d.revoked && !s.expiredLocked(d) {
			d.revoked = true
		}
	}
}

// markUsedLocked records use of t, as PersonalAccessTokens::LastUsedService
// does (GitLab throttles these writes; the fake records every use). GitLab
// keeps the five most recent distinct IP addresses.
func (s *Server) markUsedLocked(t *token, r *http.Request) {
	t.lastUsedAt = s.now()
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	if !slices.Contains(t.lastUsedIPs, ip) {
		t.lastUsedIPs = append(t.lastUsedIPs, ip)
		if len(t.lastUsedIPs) > 5 {
			t.lastUsedIPs = t.lastUsedIPs[1:]
		}
	}
}

// tokenJSON is GitLab's API::Entities::PersonalAccessToken, with the extra
// fields of the entities that extend it.
type tokenJSON struct {
	ID          int      `json:"id"`
	Name        string   `json:"name"`
	Revoked     bool     `json:"revoked"`
	CreatedAt   string   `json:"created_at"`
	Description *string  `json:"description"`
	Scopes      []string `json:"scopes"`
	UserID      int      `json:"user_id"`
	LastUsedAt  *string  `json:"last_used_at"`
	Active      bool     `json:"active"`
	ExpiresAt   *string  `json:"expires_at"`
	// PersonalAccessTokenWithLastUsedIps (GET self, GET :id).
	LastUsedIPs *[]string `json:"last_used_ips,omitempty"`
	// ResourceAccessTokenWithToken (project and group rotate).
	AccessLevel *int `json:"access_level,omitempty"`
	// PersonalAccessTokenWithToken (rotate).
	Token string `json:"token,omitempty"`
}

func (s *Server) tokenJSONLocked(t *token) *tokenJSON {
	j := &tokenJSON{
		ID:        t.id,
		Name:      t.name,
		Revoked:   t.revoked,
		CreatedAt: s.timestampLocked(t.createdAt),
		Scopes:    slices.Clone(t.scopes),
		UserID:    t.user.id,
		Active:    !t.revoked && !s.expiredLocked(t),
	}
	if t.description != "" {
		d := t.description
		j.Description = &d
	}
	if !t.lastUsedAt.IsZero() {
		u := s.timestampLocked(t.lastUsedAt)
		j.LastUsedAt = &u
	}
	if !t.expiresAt.IsZero() {
		e := t.expiresAt.String()
		j.ExpiresAt = &e
	}
	return j
}

func (s *Server) tokenWithIPsLocked(t *token) *tokenJSON {
	j := s.tokenJSONLocked(t)
	ips := slices.Clone(t.lastUsedIPs)
	if ips == nil {
		ips = []string{}
	}
	j.LastUsedIPs = &ips
	return j
}

// serveAPI routes a request under /api/v4/; rest is the escaped path after it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	var segs []string
	for _, seg := range strings.Split(rest, "/") {
		u, err := url.PathUnescape(seg)
		if err != nil {
			writeMessage(w, http.StatusNotFound, "404 Not Found")
			return
		}
		segs = append(segs, u)
	}
	method := r.Method
	switch {
	case len(segs) == 2 && segs[0] == "personal_access_tokens" && segs[1] == "self" && method == http.MethodGet:
		s.handleSelf(w, r)
	case len(segs) == 2 && segs[0] == "personal_access_tokens" && segs[1] == "self" && method == http.MethodDelete:
		s.handleRevoke(w, r, "self")
	case len(segs) == 3 && segs[0] == "personal_access_tokens" && segs[1] == "self" && segs[2] == "rotate" && method == http.MethodPost:
		s.handleRotate(w, r, Personal, "")
	case len(segs) == 2 && segs[0] == "personal_access_tokens" && isID(segs[1]) && method == http.MethodGet:
		s.handleToken(w, r, segs[1])
	case len(segs) == 2 && segs[0] == "personal_access_tokens" && isID(segs[1]) && method == http.MethodDelete:
		s.handleRevoke(w, r, segs[1])
	case len(segs) == 5 && segs[0] == "projects" && segs[2] == "access_tokens" && segs[3] == "self" && segs[4] == "rotate" && method == http.MethodPost:
		s.handleRotate(w, r, ProjectToken, segs[1])
	case len(segs) == 5 && segs[0] == "groups" && segs[2] == "access_tokens" && segs[3] == "self" && segs[4] == "rotate" && method == http.MethodPost:
		s.handleRotate(w, r, GroupToken, segs[1])
	case len(segs) == 1 && segs[0] == "user" && method == http.MethodGet:
		s.handleUser(w, r)
	case len(segs) == 1 && segs[0] == "version" && method == http.MethodGet:
		s.handleVersion(w, r)
	default:
		if s.proxied(w) {
			return
		}
		// lib/api/api.rb: route :any, '*path' answers error!('404 Not Found', 404).
		notFoundRoute(w)
	}
}

// proxied answers for ProxyUnauthorized on the API routes that Calls does
// not count (arrive answers for the others), and reports whether it did.
func (s *Server) proxied(w http.ResponseWriter) bool {
	s.mu.Lock()
	on := s.proxy401
	s.mu.Unlock()
	if on {
		writeMessage(w, http.StatusUnauthorized, "401 Unauthorized")
	}
	return on
}

// notFoundRoute is the API's catch-all answer for a path it has no route
// for: {"error":"404 Not Found"} (lib/api/api.rb), unlike not_found! of a
// missing resource, {"message":"404 Project Not Found"}.
func notFoundRoute(w http.ResponseWriter) {
	send(w, reply{status: http.StatusNotFound, body: map[string]string{"error": "404 Not Found"}})
}

// newestVersion is what GET /version reports when no version was set.
const newestVersion = "18.6.0"

// versionAtLeast reports whether the server's version is at least
// major.minor.
func (s *Server) versionAtLeastLocked(major, minor int) bool {
	if s.version == "" {
		return true
	}
	var ma, mi int
	fmt.Sscanf(s.version, "%d.%d", &ma, &mi)
	return ma > major || (ma == major && mi >= minor)
}

// handleVersion serves GET /version (lib/api/version.rb): authenticated,
// with read_user, read_api or api.
func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	if s.proxied(w) {
		return
	}
	s.mu.Lock()
	t, rep := s.authLocked(r, userScopes, false)
	if t != nil {
		v := s.version
		if v == "" {
			v = newestVersion
		}
		rep = reply{status: http.StatusOK, body: map[string]any{"version": v, "revision": "0123abcd", "kas": map[string]any{"enabled": false}, "enterprise": false}}
	}
	s.mu.Unlock()
	send(w, rep)
}

func isID(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0
}

// handleSelf serves GET /personal_access_tokens/self: any scope may read its
// own token (lib/api/personal_access_tokens/self_information.rb allows
// Gitlab::Auth.all_available_scopes).
func (s *Server) handleSelf(w http.ResponseWriter, r *http.Request) {
	if !s.arrive(w, r, EndpointSelf) {
		return
	}
	s.mu.Lock()
	t, rep := s.authLocked(r, nil, false)
	if t != nil {
		rep = reply{status: http.StatusOK, body: s.tokenWithIPsLocked(t)}
	}
	s.mu.Unlock()
	s.holdSelfAnswer(r)
	send(w, rep)
}

// handleToken serves GET /personal_access_tokens/:id. A user may read only
// their own tokens; anything else is 401 for a non-administrator
// (https://docs.gitlab.com/api/personal_access_tokens/#get-details-on-a-personal-access-token).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, idStr string) {
	if !s.arrive(w, r, EndpointToken) {
		return
	}
	id, _ := strconv.Atoi(idStr)
	s.mu.Lock()
	t, rep := s.authLocked(r, readTokenScopes, false)
	if t != nil {
		if other, ok := s.tokens[id]; ok && other.user == t.user {
			rep = reply{status: http.StatusOK, body: s.tokenWithIPsLocked(other)}
		} else {
			rep = message(http.StatusUnauthorized, "401 Unauthorized")
		}
	}
	s.mu.Unlock()
	send(w, rep)
}

// handleRevoke serves DELETE /personal_access_tokens/self (any scope) and
// /personal_access_tokens/:id (api scope; a missing token is 404, another
// user's token 400, as find_token and RevokeService answer).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request, which string) {
	if !s.arrive(w, r, EndpointRevoke) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if which == "self" {
		t, rep := s.authLocked(r, nil, false)
		if t == nil {
			send(w, rep)
			return
		}
		t.revoked = true
		send(w, reply{status: http.StatusNoContent})
		return
	}
	t, rep := s.authLocked(r, writeTokenScopes, false)
	if t == nil {
		send(w, rep)
		return
	}
	id, _ := strconv.Atoi(which)
	target, ok := s.tokens[id]
	switch {
	case !ok:
		send(w, message(http.StatusNotFound, "404 Not found"))
	case target.user != t.user:
		send(w, message(http.StatusBadRequest, "400 Bad request"))
	default:
		target.revoked = true
		send(w, reply{status: http.StatusNoContent})
	}
}

// userJSON is the part of GitLab's API::Entities::UserPublic that a
// credential helper may use.
type userJSON struct {
	ID        int    `json:"id"`
	Username  string `json:"username"`
	Name      string `json:"name"`
	State     string `json:"state"`
	Locked    bool   `json:"locked"`
	AvatarURL string `json:"avatar_url"`
	WebURL    string `json:"web_url"`
	CreatedAt string `json:"created_at"`
	Bot       bool   `json:"bot"`
	Email     string `json:"email"`
}

// handleUser serves GET /user, which needs read_user, read_api or api
// (https://docs.gitlab.com/api/users/).
func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	if !s.arrive(w, r, EndpointUser) {
		return
	}
	s.mu.Lock()
	t, rep := s.authLocked(r, userScopes, false)
	if t != nil {
		u := t.user
		email := u.username + "@example.com"
		if u.bot {
			email = u.username + "@noreply.example.com"
		}
		rep = reply{status: http.StatusOK, body: userJSON{
			ID:        u.id,
			Username:  u.username,
			Name:      u.name,
			State:     "active",
			AvatarURL: "",
			WebURL:    s.URL + "/" + u.username,
			CreatedAt: s.timestampLocked(u.createdAt),
			Bot:       u.bot,
			Email:     email,
		}}
	}
	s.mu.Unlock()
	send(w, rep)
}

// expiresAtParam reads the optional expires_at parameter of a rotate
// request from the JSON body (what client-go sends), a form body or the
// query string; Grape merges all three. It returns the zero Date when the
// parameter is absent or empty.
func expiresAtParam(r *http.Request) (d Date, err error) {
	raw := r.URL.Query().Get("expires_at")
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var body map[string]any
		b, rerr := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if rerr != nil {
			return Date{}, rerr
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				return Date{}, err
			}
		}
		if v, ok := body["expires_at"]; ok {
			switch v := v.(type) {
			case string:
				raw = v
			case nil:
				raw = ""
			default:
				return Date{}, fmt.Errorf("expires_at is not a string")
			}
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
			return Date{}, err
		}
		if vs, ok := r.PostForm["expires_at"]; ok && len(vs) > 0 {
			raw = vs[0]
		}
	}
	if raw == "" {
		return Date{}, nil
	}
	// Grape coerces with Ruby's Date.parse, which also takes other spellings;
	// the fake takes only the documented YYYY-MM-DD.
	return ParseDate(raw)
}

// handleRotate serves the self-rotate endpoints. kind is Personal for
// /personal_access_tokens/self/rotate, else the kind of resource named by
// resourceID (/projects/:id/... or /groups/:id/...).
//
// Order of checks, as GitLab runs them: authentication (with reuse
// detection) and scopes in the before filter, parameter validation by Grape,
// then the endpoint body, then RotateService, whose revoke and create share
// one transaction (app/services/personal_access_tokens/rotate_service.rb).
func (s *Server) handleRotate(w http.ResponseWriter, r *http.Request, kind Kind, resourceID string) {
	if !s.arrive(w, r, EndpointRotate) {
		return
	}
	s.mu.Lock()
	if rep, ok := s.throttledLocked(RackAttack); ok {
		// Rack::Attack answers before the application sees anything.
		s.mu.Unlock()
		send(w, rep)
		return
	}
	if st := s.failRotate; st != 0 {
		s.mu.Unlock()
		writeMessage(w, st, fmt.Sprintf("%d %s", st, http.StatusText(st)))
		return
	}
	route := s.rotateRouteLocked(kind)
	reset, cut, late := s.resetRotate, s.cutRotate, s.lateCommit
	s.mu.Unlock()

	// Read the body before taking the lock; its errors count only once the
	// request has authenticated.
	exp, paramErr := expiresAtParam(r)
	if reset {
		dropConnection(w)
		return
	}
	if route == noRoute {
		// The catch-all route: no authentication at all.
		notFoundRoute(w)
		return
	}
	if late > 0 {
		timer := time.NewTimer(late)
		select {
		case <-timer.C:
		case <-s.done:
			timer.Stop()
			return
		}
	}

	s.mu.Lock()
	old, rep := s.authLocked(r, rotateScopes, true)
	if old == nil {
		s.mu.Unlock()
		send(w, rep)
		return
	}
	if rep, ok := s.throttledLocked(ApplicationLimiter); ok {
		s.mu.Unlock()
		send(w, rep)
		return
	}
	if route == byIDRoute {
		// The rotate-by-id routes authenticate first (before {
		// authenticate! }), then find no token "self".
		rep := s.noTokenSelfLocked(old, kind)
		s.mu.Unlock()
		send(w, rep)
		return
	}
	rep, drop := s.rotateLocked(old, kind, resourceID, exp, paramErr)
	committed, release := s.committed, s.heldRelease
	s.mu.Unlock()
	if committed != nil && rep.status == http.StatusOK {
		if !s.holdAfterCommit(r, committed, release) {
			return
		}
	}
	if drop {
		dropConnection(w)
		return
	}
	if cut && rep.status == http.StatusOK {
		cutAnswer(w, rep)
		return
	}
	send(w, rep)
}

// rotateRoute is the route a POST to a self-rotate path reaches.
type rotateRoute int

const (
	selfRoute rotateRoute = iota // the self-rotate endpoint itself
	byIDRoute                    // a rotate-by-id route, with id "self" (16.0+)
	noRoute                      // the API's catch-all 404 (before 16.0)
)

// rotateRouteLocked is the route POST .../self/rotate of kind reaches on
// the server's version (see SetVersion).
func (s *Server) rotateRouteLocked(kind Kind) rotateRoute {
	major, minor := 16, 10
	if kind != Personal {
		major, minor = 17, 9
	}
	switch {
	case s.versionAtLeastLocked(major, minor):
		return selfRoute
	case s.versionAtLeastLocked(16, 0):
		return byIDRoute
	}
	return noRoute
}

// noTokenSelfLocked is the answer of a rotate-by-id route of GitLab
// 16.0–16.9 (personal) or 16.0–17.8 (project, group) to the id "self",
// for an authenticated token t. GitLab 16.8.1 was seen answering a user
// 401 {"message":"401 Unauthorized"} and an administrator 404
// {"message":"404 Not found"} at the personal path
// (https://gitlab.com/gitlab-org/gitlab/-/issues/442317): the token lookup
// of "self" finds nothing, a user is then not allowed to manage it
// (unauthorized!), and an administrator's lookup raises RecordNotFound,
// which lib/api/api.rb answers {"message":"404 Not found"}. The project
// and group paths answer 401 the same way up to 17.8. The 16.x source of
// lib/api/personal_access_tokens.rb and lib/api/resource_access_tokens.rb
// is not in the index searched for this fake: this follows that issue and
// the rescue_from in lib/api/api.rb.
func (s *Server) noTokenSelfLocked(t *token, kind Kind) reply {
	if kind == Personal && s.more.admins[t.user.username] {
		return message(http.StatusNotFound, "404 Not found")
	}
	return message(http.StatusUnauthorized, "401 Unauthorized")
}

// cutAnswer sends rep's head and its body up to just after the token's
// value, then closes the connection.
func cutAnswer(w http.ResponseWriter, rep reply) {
	b, _ := json.Marshal(rep.body)
	i := strings.Index(string(b), `"token":"`)
	end := len(b) / 2
	if i >= 0 {
		end = i + len(`"token":"`) + strings.IndexByte(string(b[i+len(`"token":"`):]), '"') + 1
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(rep.status)
	w.Write(b[:end])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	dropConnection(w)
}

func (s *Server) rotateLocked(old *token, kind Kind, resourceID string, exp Date, paramErr error) (rep reply, drop bool) {
	if paramErr != nil {
		// Grape's validation error shape.
		return reply{status: http.StatusBadRequest, body: map[string]string{"error": "expires_at is invalid"}}, false
	}
	if kind != Personal {
		// lib/api/resource_access_tokens/self_rotation.rb: not_allowed!
		// unless current_user.project_bot? (group bots are project_bot
		// users too).
		if !old.user.bot {
			return message(http.StatusMethodNotAllowed, "405 Method Not Allowed"), false
		}
		// find_source then find_token(resource, access_token.id). The fake
		// answers 404 whenever the resource is not the token's own.
		if old.kind != kind || !s.resourceMatchesLocked(kind, resourceID, old.ownerID) {
			// A resource the bot can see (it exists; the fake does not
			// model visibility) but whose token this is not:
			// find_token returns nil and the endpoint answers
			// unauthorized!. One it cannot find is not_found!.
			if s.resourceExistsLocked(kind, resourceID) {
				return message(http.StatusUnauthorized, "401 Unauthorized"), false
			}
			if kind == ProjectToken {
				return message(http.StatusNotFound, "404 Project Not Found"), false
			}
			return message(http.StatusNotFound, "404 Group Not Found"), false
		}
	}

	// RotateService#execute, before its transaction.
	if s.legacyRotationRefusedLocked(old) {
		return message(http.StatusBadRequest, "400 Bad request - "+legacyRotationDisabled), false
	}

	// "Today" is the instance's (Date.current, see SetTimeZone).
	today := s.todayLocked()
	if exp.IsZero() {
		exp = today.AddDays(defaultRotateDays)
	} else {
		// The model's validations, in the order they are declared:
		// PersonalAccessToken#expires_at_before_instance_max_expiry_date
		// (365 days, app/models/personal_access_token.rb), then the
		// EE module's expires_at_before_max_expiry_date of an instance
		// or group policy (ee/app/models/ee/personal_access_token.rb).
		// Each fails only when expires_at > its date, and every one
		// that fails adds its message; rotate_token reports them
		// through bad_request!.
		var caps []Date
		if d := today.AddDays(maxLifetimeDays); exp.After(d) {
			caps = append(caps, d)
		}
		if s.maxLifetime > 0 {
			if d := today.AddDays(s.maxLifetime); exp.After(d) {
				caps = append(caps, d)
			}
		}
		if len(caps) > 0 {
			return message(http.StatusBadRequest, "400 Bad request - "+s.capMessageLocked(old.user, caps)), false
		}
		if !exp.After(DateOf(s.now())) {
			// Not in GitLab's source: it has no such check, and would
			// create a token that is dead on arrival. The fake refuses a
			// date whose midnight has passed, so that no test can rely on
			// GitLab to catch a wrong date.
			return message(http.StatusBadRequest, "400 Bad request - Expiration date must be in the future"), false
		}
	}

	// One transaction: revoke the old token, create its successor.
	old.revoked = true
	nt := &token{
		name:        old.name,
		description: old.description,
		kind:        old.kind,
		ownerID:     old.ownerID,
		accessLevel: old.accessLevel,
		user:        old.user,
		scopes:      slices.Clone(old.scopes),
		createdAt:   s.now(),
		expiresAt:   exp,
		previous:    old.id,
	}
	s.addTokenLocked(nt)
	old.next = nt.id

	j := s.tokenJSONLocked(nt)
	j.Token = nt.secret
	if kind != Personal {
		al := nt.accessLevel
		j.AccessLevel = &al
	}
	return reply{status: http.StatusOK, body: j}, s.dropRotate
}

// resourceExistsLocked reports whether the :id of a projects/ or groups/
// path names a project or group of the fake.
func (s *Server) resourceExistsLocked(kind Kind, resourceID string) bool {
	n, err := strconv.Atoi(resourceID)
	if kind == ProjectToken {
		for p, repo := range s.repos {
			if repo != nil && (p == resourceID || (err == nil && repo.ID == n)) {
				return true
			}
		}
		return false
	}
	for p, id := range s.groups {
		if p == resourceID || (err == nil && id == n) {
			return true
		}
	}
	return false
}

// resourceMatchesLocked reports whether the :id of a projects/ or groups/
// path (a number or a full path) names the resource with id ownerID.
func (s *Server) resourceMatchesLocked(kind Kind, resourceID string, ownerID int) bool {
	if n, err := strconv.Atoi(resourceID); err == nil {
		return n == ownerID
	}
	if kind == ProjectToken {
		repo, ok := s.repos[resourceID]
		return ok && repo != nil && repo.ID == ownerID
	}
	id, ok := s.groups[resourceID]
	return ok && id == ownerID
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// holdAfterCommit tells the test (committed) that a request was committed,
// then holds its answer until the client gives up (or is killed), the test
// ends, or the test says to answer (AnswerHeld, release). It reports
// whether the answer is still to be sent.
func (s *Server) holdAfterCommit(r *http.Request, committed chan struct{}, release <-chan struct{}) bool {
	select {
	case committed <- struct{}{}:
	default:
	}
	select {
	case <-r.Context().Done():
		return false
	case <-s.done:
		return false
	case <-release:
		return true
	}
}
