// Package account implements the human-facing work on stored GitLab tokens:
// log in, log out, report their state and rotate them on demand.
package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	"github.com/glpat-dev/git-credential-glpat/internal/helper"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
)

// apiTimeout bounds each API call of an interactive command.
const apiTimeout = 20 * time.Second

// LeastPrivilegeScopes are the scopes a token for Git needs, and no more:
// clone and fetch, push, and rotating itself (GitLab 17.9+).
var LeastPrivilegeScopes = []string{"read_repository", "write_repository", "self_rotate"}

// Service does the work; main wires it.
type Service struct {
	Store  *store.Store
	Config *config.Config
	// ConfigPath is the file Config was read from: login --api-url writes
	// the host's api_url there.
	ConfigPath string
	Lifecycle  *lifecycle.Manager
	Now        func() time.Time
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

// APIURL is the API base URL a login reaches host at: the --api-url flag,
// else where the host's tokens are sent (config.TokenAPIURL). A HOST
// written http://HOST names plain http: without a flag or api_url it is
// http://HOST/api/v4, as if --api-url said so (a local test instance).
// The URL's scheme must be the protocol HOST names, because the
// credential is stored for the API URL's (git asks for that one).
func (s *Service) APIURL(host hostarg.Host, flagURL string) (string, error) {
	switch host.Protocol {
	case "", "https", "http":
	default:
		return "", fmt.Errorf("%s is not a GitLab host: GitLab is reached over https or http", host)
	}
	u := s.apiURL(host.Name, flagURL)
	if host.Protocol != "" && flagURL == "" && s.Config.Host(host.Name).APIURL == "" {
		u = config.DefaultAPIURL(host.Protocol, host.Name)
	}
	if host.Protocol != "" && !strings.HasPrefix(strings.ToLower(u), host.Protocol+"://") {
		where := "the config's api_url"
		if flagURL != "" {
			where = "--api-url"
		}
		return "", fmt.Errorf("%s names %s, but %s is %s; name the host as %s, or give another API URL", host, host.Protocol, where, u, hostarg.Host{Name: host.Name})
	}
	return u, nil
}

// apiURL is the API base URL for host: the flag, else where the host's
// tokens are sent.
func (s *Service) apiURL(host, flagURL string) string {
	if flagURL != "" {
		return strings.TrimRight(flagURL, "/")
	}
	return s.Config.TokenAPIURL(host)
}

// CreateTokenURL is GitLab's page for a new personal access token, pre-filled
// with a name and the least-privilege scopes
// (https://docs.gitlab.com/user/profile/personal_access_tokens/#prefill-personal-access-token-name-and-scopes).
func (s *Service) CreateTokenURL(apiURL string) string {
	base := config.WebURL(apiURL)
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

// validateHost refuses a host name that cannot be Git's host attribute.
func validateHost(name string) error {
	h, err := hostarg.Parse(name)
	if err == nil && h.Protocol != "" {
		err = fmt.Errorf("%q is a URL; the host is %s", name, h.Name)
	}
	return err
}

// ErrNoAPI is wrapped by a *ReachError whose server answered, but not as
// GitLab's API does.
var ErrNoAPI = errors.New("no GitLab API there")

// ReachError says why login could not talk to GitLab's API at APIURL: the
// network, DNS, the port, TLS (gitlabapi.Unreached), or a server that
// answered but not as GitLab's API (Failure is gitlabapi.Answered). Each
// has its own fix, which main gives as a hint.
type ReachError struct {
	APIURL  string
	Failure gitlabapi.Failure
	// Detail is the failure in words (the certificate's problem).
	Detail string
	Err    error
}

func (e *ReachError) Error() string {
	u, _ := url.Parse(e.APIURL)
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	switch e.Failure {
	case gitlabapi.NoDNS:
		return fmt.Sprintf("cannot look up %s: %s (offline, or a typo in the host name?)", host, e.Detail)
	case gitlabapi.NoRoute:
		return fmt.Sprintf("cannot reach %s: %s (offline?)", host, e.Detail)
	case gitlabapi.ConnRefused:
		return fmt.Sprintf("%s refused the connection on port %s: nothing listens there", host, port)
	case gitlabapi.UnknownAuthority, gitlabapi.BadCertificate:
		return fmt.Sprintf("TLS with %s failed: %s", u.Host, e.Detail)
	case gitlabapi.PlainHTTP:
		return fmt.Sprintf("%s answers plain http on port %s, not https", host, port)
	case gitlabapi.TLSFailure:
		return fmt.Sprintf("TLS with %s failed: %s", u.Host, e.Detail)
	case gitlabapi.TimedOut:
		return fmt.Sprintf("no answer from %s within %s", u.Host, apiTimeout)
	}
	return fmt.Sprintf("%s answers, but not as GitLab's API at %s (%v)", u.Host, e.APIURL, e.Err)
}

func (e *ReachError) Unwrap() []error {
	if e.Failure == gitlabapi.Answered {
		return []error{ErrNoAPI, e.Err}
	}
	return []error{e.Err}
}

// reachError is err as a *ReachError when it says that the API at apiURL
// was not reached, or that what answered is not GitLab's API; nil when it
// is about something else (the token, a GitLab that failed).
func reachError(apiURL string, err error) error {
	if f, detail := gitlabapi.Unreached(err); f != gitlabapi.Answered {
		return &ReachError{APIURL: apiURL, Failure: f, Detail: detail, Err: err}
	}
	if errors.Is(err, gitlabapi.ErrNotFound) || errors.Is(err, gitlabapi.ErrBadAnswer) {
		return &ReachError{APIURL: apiURL, Err: err}
	}
	return nil
}

// CAFile is the CA file for host: the flag, else the config's ca_file.
func (s *Service) CAFile(host, flagCA string) string {
	if flagCA != "" {
		return flagCA
	}
	return s.Config.Host(host).CAFile
}

// CheckAPI makes sure a GitLab API answers at the host's API URL before a
// person is asked for a token: a request without a token that GitLab
// answers 401 (lib/api/api_guard.rb), where an HTTPS URL for an HTTP server,
// or a GitLab under a relative URL root, answers something else or nothing.
// Its error is a *ReachError, or the ca_file's.
func (s *Service) CheckAPI(ctx context.Context, host, flagURL, flagCA string) error {
	apiURL := s.apiURL(host, flagURL)
	api, err := s.api(apiURL, s.CAFile(host, flagCA))
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	_, err = api.Self(actx, "")
	if ae := (*gitlabapi.Error)(nil); errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		return nil
	}
	if err == nil {
		err = errors.New("it answered a request without a token")
	}
	if re := reachError(apiURL, err); re != nil {
		return re
	}
	return &ReachError{APIURL: apiURL, Err: err}
}

// LoginOptions are login's inputs.
type LoginOptions struct {
	Host     string
	Username string
	APIURL   string
	// CAFile is --ca-file: a PEM file of the CA that signs the API's
	// certificate, written as the host's ca_file when the config gives
	// another.
	CAFile string
	Token  string
	// Choose, when set (a person is at the terminal), picks the account
	// among the host's accounts when there are several and no Username
	// was given; def is the one offered.
	Choose func(accounts []string, def string) (string, error)
}

// LoginResult says what was stored.
type LoginResult struct {
	Record    *store.Record
	Info      *gitlabapi.Token
	CanRotate bool
	// UsernameFrom says where the username came from: "flag", "config",
	// "api" or "default".
	UsernameFrom string
	// APIURLWritten: the config did not give the API URL login was told,
	// and now does (api_url of the host in ConfigPath). CAFileWritten: the
	// same for the CA file (ca_file).
	APIURLWritten bool
	CAFileWritten bool
	// HostAdded: the config did not name the host, and now does (an empty
	// table [hosts."HOST"] in ConfigPath); HostNotAdded is why it could
	// not, when it could not.
	HostAdded    bool
	HostNotAdded error
	// Answering is the account git gets for the host when a request names
	// none (no user in the URL, no path the config maps), after this
	// login, as get decides it (helper.Answering); Answered is the one it
	// got before ("" when none).
	Answering, Answered string
	// ByConfig: the config's username for the host decides Answering;
	// otherwise the most recently stored account does.
	ByConfig bool
	// Accounts are the host's GitLab accounts after this login, each with
	// the repository path prefixes the config gives it.
	Accounts []AccountPaths
}

// AccountPaths is an account on a host and the repository path prefixes
// ("acme/team") the config gives it.
type AccountPaths struct {
	Username string
	Paths    []string
}

// Login checks token against the host's API and stores it as a managed
// credential. A token the API does not accept is not stored.
func (s *Service) Login(ctx context.Context, o LoginOptions) (*LoginResult, error) {
	if err := validateHost(o.Host); err != nil {
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
	apiURL := s.apiURL(o.Host, o.APIURL)
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("api url %q is not an http(s) URL", apiURL)
	}
	if o.CAFile != "" {
		// The config must not depend on the directory login ran in.
		if o.CAFile, err = filepath.Abs(o.CAFile); err != nil {
			return nil, err
		}
	}
	caFile := s.CAFile(o.Host, o.CAFile)
	api, err := s.api(apiURL, caFile)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	info, err := api.Self(actx, o.Token)
	if err != nil {
		// A bare 401 (ErrUnrecognized) is most often a token cut short
		// or from another instance; its text says a proxy may have
		// answered instead.
		if errors.Is(err, gitlabapi.ErrUnauthorized) || errors.Is(err, gitlabapi.ErrUnrecognized) {
			return nil, fmt.Errorf("GitLab at %s does not accept this token: %w", apiURL, err)
		}
		if re := reachError(apiURL, err); re != nil {
			return nil, re
		}
		return nil, fmt.Errorf("checking the token at %s: %w", apiURL, err)
	}
	if info.Revoked || (!info.Active && info.ExpiresAt != "") {
		return nil, fmt.Errorf("GitLab says this token is not active (revoked or expired)")
	}
	res := &LoginResult{Info: info}
	// Least-privilege tokens may not read /user (403): not an error.
	kind, ownerID, apiUser := gitlabapi.KindPersonal, int64(0), ""
	if user, err := api.CurrentUser(actx, o.Token); err == nil && user.Username != "" {
		apiUser = user.Username
		if user.Bot {
			// GET /user's "bot" says whose token this is; the name
			// says which project or group.
			kind, ownerID = botKind(user.Username)
		}
	}
	accounts, err := s.accounts(u.Scheme, o.Host)
	if err != nil {
		return nil, err
	}
	username, from, err := pickAccount(o, hc.Username, apiUser, info.UserID, accounts)
	if err != nil {
		return nil, err
	}
	res.UsernameFrom = from
	tok := lifecycle.NewToken(info, apiURL, s.now())
	tok.Kind, tok.OwnerID = kind, ownerID
	rec := &store.Record{Protocol: u.Scheme, Host: o.Host, Username: username, Token: tok}
	if exp, ok := tok.Expiry(); ok {
		rec.ExpiryUTC = exp.Unix()
	}
	// A managed token's API URL comes only from the config (see
	// config.TokenAPIURL): one given with --api-url goes there, or every
	// rotation would go to another address than the one just checked.
	if apiURL != s.Config.TokenAPIURL(o.Host) {
		if err := config.SetAPIURL(s.ConfigPath, o.Host, apiURL); err != nil {
			return nil, fmt.Errorf("cannot write api_url = %q for %s into the config, where rotations find it: %w; nothing was stored", apiURL, o.Host, err)
		}
		res.APIURLWritten = true
	}
	// The same for the CA file the API was trusted with.
	if caFile != hc.CAFile {
		if err := config.SetCAFile(s.ConfigPath, o.Host, caFile); err != nil {
			return nil, fmt.Errorf("cannot write ca_file = %q for %s into the config, where rotations find it: %w; nothing was stored", caFile, o.Host, err)
		}
		res.CAFileWritten = true
	}
	if !hc.Known && !res.APIURLWritten && !res.CAFileWritten {
		// Named in the config, the host is a GitLab host: a token
		// typed at git's prompt for it later is managed whatever
		// prefix its instance gives it. Not needed for this login, so
		// not a reason to refuse it.
		if err := config.AddHost(s.ConfigPath, o.Host); err != nil {
			res.HostNotAdded = err
		} else {
			res.HostAdded = true
		}
	}
	// Which account git gets for the host, before and after: a new
	// account is the most recently stored, and may take over what another
	// answered.
	if r := s.Answering(u.Scheme, o.Host); r != nil {
		res.Answered = r.Username
	}
	if err := s.Store.Put(ctx, rec, &store.Secret{Password: o.Token, UserID: info.UserID}); err != nil {
		return nil, err
	}
	res.Record = rec
	res.CanRotate = tok.CanRotateItself()
	if r := s.Answering(u.Scheme, o.Host); r != nil {
		res.Answering = r.Username
	}
	res.ByConfig = hc.Username != "" && hc.Username == res.Answering
	if accounts, err := s.accounts(u.Scheme, o.Host); err == nil {
		for _, a := range accounts {
			ap := AccountPaths{Username: a.username}
			for _, ca := range hc.Accounts {
				if ca.Username == a.username {
					ap.Paths = append(ap.Paths, ca.Paths...)
				}
			}
			res.Accounts = append(res.Accounts, ap)
		}
	}
	return res, nil
}

// account is one GitLab account stored for a host: its Git username and
// the GitLab user id of its token (0 when not known).
type account struct {
	username string
	userID   int64
}

// accounts lists the managed tokens' accounts stored for protocol and host.
func (s *Service) accounts(protocol, host string) ([]account, error) {
	recs, err := s.Store.Find(&credential.Credential{Protocol: protocol, Host: host})
	if err != nil {
		return nil, err
	}
	var out []account
	for _, r := range recs {
		if a, ok := oauthAccount(&r); ok {
			out = append(out, a) // oauth.go
			continue
		}
		if r.Token == nil || r.Path != "" {
			continue
		}
		out = append(out, account{r.Username, r.Token.UserID})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].username < out[j].username })
	return out, nil
}

// ErrOtherUser is wrapped by a login refused because the account holds a
// token of another GitLab user.
var ErrOtherUser = errors.New("the account holds a token of another GitLab user")

// pickAccount chooses the account a new token of GitLab user userID is
// stored under: --username, else the account already holding a token of the
// same user, else the config's default account, else the token's own
// username (GET /user), else oauth2. It never picks an account whose token
// belongs to another GitLab user (user_id from GET /personal_access_tokens/self).
func pickAccount(o LoginOptions, configUser, apiUser string, userID int64, accounts []account) (username, from string, err error) {
	holder := func(name string) (account, bool) {
		for _, a := range accounts {
			if a.username == name {
				return a, true
			}
		}
		return account{}, false
	}
	otherUser := func(name string) bool {
		a, ok := holder(name)
		return ok && a.userID != 0 && userID != 0 && a.userID != userID
	}
	owner := ""
	for _, a := range accounts {
		if userID != 0 && a.userID == userID {
			owner = a.username
			break
		}
	}
	switch {
	case o.Username != "":
		username, from = o.Username, "flag"
	case owner != "":
		username, from = owner, "account"
	case configUser != "" && !otherUser(configUser):
		username, from = configUser, "config"
	case apiUser != "" && !otherUser(apiUser):
		username, from = apiUser, "api"
	case configUser == "" && apiUser == "" && !otherUser("oauth2"):
		// Any non-empty username works with a token over HTTPS.
		username, from = "oauth2", "default"
	}
	if o.Username == "" && o.Choose != nil && len(accounts) > 1 {
		names := make([]string, len(accounts))
		for i, a := range accounts {
			names[i] = a.username
		}
		chosen, err := o.Choose(names, username)
		if err != nil {
			return "", "", err
		}
		if chosen != "" && chosen != username {
			username, from = chosen, "flag"
		}
	}
	if username == "" || otherUser(username) {
		err := otherUserError(username, o.Host, userID, accounts)
		// The account to use, when it is known: the one holding a token
		// of this user, else the user's own name.
		switch {
		case owner != "":
			err.Account = owner
		case apiUser != "" && !otherUser(apiUser):
			err.Account = apiUser
		}
		return "", "", err
	}
	return username, from, nil
}

func otherUserError(username, host string, userID int64, accounts []account) *OtherUserError {
	var list []string
	what := "has no account of its own on " + host
	for _, a := range accounts {
		if a.userID != 0 {
			list = append(list, fmt.Sprintf("%s (GitLab user %d)", a.username, a.userID))
		} else {
			list = append(list, a.username)
		}
		if a.username == username {
			what = fmt.Sprintf("the account %s on %s holds a token of another GitLab user (%d)", username, host, a.userID)
		}
	}
	return &OtherUserError{msg: fmt.Sprintf("this token belongs to GitLab user %d and %s; nothing was changed (accounts on %s: %s)",
		userID, what, host, strings.Join(list, ", "))}
}

// OtherUserError is ErrOtherUser with the accounts it is about; the command
// says what to run (login HOST --username Account).
type OtherUserError struct {
	msg string
	// Account is the account the token belongs in, when it is known: the
	// one holding a token of the same GitLab user, else that user's
	// username (GET /user); empty otherwise.
	Account string
}

func (e *OtherUserError) Error() string        { return e.msg }
func (e *OtherUserError) Is(target error) bool { return target == ErrOtherUser }

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

// Entry is one stored credential as status reports it: what the index and
// GitLab say of it, and the verdict on it (lifecycle.Describe), which is
// what every command says of it.
type Entry struct {
	Host     string `json:"host"`
	Protocol string `json:"protocol"`
	Path     string `json:"path,omitempty"`
	Username string `json:"username"`
	Managed  bool   `json:"managed"`
	// Kind is "oauth" for an OAuth credential (login --oauth), empty for
	// a token.
	Kind        string     `json:"kind,omitempty"`
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
	// AccessExpiry is when an OAuth credential's access token expires
	// (it is refreshed before; the credential itself has no expiry).
	AccessExpiry *time.Time `json:"access_token_expiry,omitempty"`
	// Verdict is the state in words ("state", "level", "problem", "fix",
	// "note" in --json).
	lifecycle.Verdict
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	LastUsedIPs []string   `json:"last_used_ips,omitempty"`
	// APIError says why GitLab could not be asked about the token; its
	// state is then as last known.
	APIError string `json:"api_error,omitempty"`
	// Backend holds the secret ("keyring", "encrypted-file", "kernel");
	// empty when an earlier version stored it.
	Backend string `json:"backend,omitempty"`
	// GitAccess is what the token's scopes let Git do over HTTP: "fetch,
	// push", "fetch" or "none" (GitLab answers the rest with 403); empty
	// while its scopes are not known.
	GitAccess string `json:"git_access,omitempty"`
	// HeldBackPaths are the repositories a bot's token is not handed to
	// Git for, for a while: Git's server refused it there.
	HeldBackPaths []lifecycle.PathHold `json:"held_back_paths,omitempty"`
	// Token is the lifecycle's state of a managed token, which the
	// verdict words.
	Token lifecycle.TokenState `json:"-"`
	// Answers says, of the several accounts stored for its host, why git
	// gets this one where the URL names no account ("the config's
	// username", "the most recently stored": Service.Answering); empty for
	// the others.
	Answers string `json:"answers,omitempty"`
}

// Answering is the stored record git gets for protocol and host when the
// URL names no account (no user, no path the config maps): get's own rule
// (helper.Answering), which login, status, doctor and logout say. Nil when
// none answers or the index cannot be read.
func (s *Service) Answering(protocol, host string) *store.Record {
	cfg := func() (*config.Config, error) { return s.Config, nil }
	r, err := helper.Answering(s.Store, &credential.Credential{Protocol: protocol, Host: host}, cfg, s.now())
	if err != nil {
		return nil
	}
	return r
}

// markAnswering marks, on each host that holds several accounts, the
// credential git gets where the URL names no account (Answering).
func (s *Service) markAnswering(entries []Entry) {
	type key struct{ protocol, host string }
	users := map[key]map[string]bool{}
	for _, e := range entries {
		k := key{e.Protocol, strings.ToLower(e.Host)}
		if users[k] == nil {
			users[k] = map[string]bool{}
		}
		users[k][e.Username] = true
	}
	for k, names := range users {
		if len(names) < 2 {
			continue
		}
		r := s.Answering(k.protocol, k.host)
		if r == nil {
			continue
		}
		why := "the most recently stored"
		if u := s.Config.Host(r.Host).Username; u != "" && u == r.Username {
			why = "the config's username"
		}
		for i := range entries {
			e := &entries[i]
			if e.Protocol == r.Protocol && strings.EqualFold(e.Host, r.Host) && e.Username == r.Username && e.Path == r.Path {
				e.Answers = why
			}
		}
	}
}

// StatusOptions say how Status looks at the credentials.
type StatusOptions struct {
	// Offline: GitLab is not asked (and no secret read).
	Offline bool
	// SecretsErr is why the backend cannot be read, when the caller knows
	// it cannot (locked): no secret is read, and every credential says so.
	SecretsErr error
}

// Status reports every stored credential (of host, if not zero). Unless
// offline, it reads each managed token's secret and asks GitLab about it
// (when and from where it was last used, whether it is still active), and
// records what GitLab said of it (lifecycle.Check): a token GitLab no
// longer accepts is dead for every command from then on.
func (s *Service) Status(ctx context.Context, host hostarg.Host, o StatusOptions) ([]Entry, error) {
	recs, listErr := s.Store.List()
	now := s.now()
	var out []Entry
	for i := range recs {
		r := &recs[i]
		if !host.Matches(r.Protocol, r.Host) {
			continue
		}
		e := Entry{Host: r.Host, Protocol: r.Protocol, Path: r.Path, Username: r.Username, Backend: r.Backend}
		found := lifecycle.Found{SecretErr: o.SecretsErr}
		switch {
		case s.Store.Elsewhere(r):
		case r.OAuth != nil:
			r = s.describeOAuth(ctx, &e, r, now, o, &found) // oauth.go
		case r.Token != nil:
			r = s.describe(ctx, &e, r, now, o, &found)
		case r.ExpiryUTC != 0:
			t := time.Unix(r.ExpiryUTC, 0).UTC()
			e.Expiry = &t
		}
		e.Token = s.Lifecycle.StateAt(r, now)
		e.Verdict = s.Lifecycle.Describe(r, e.Token, found, now)
		out = append(out, e)
	}
	s.markAnswering(out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, listErr
}

// describe fills in e for r's managed token: from the index, and unless
// offline from GitLab, whose answer it records. It returns the record as
// stored now.
func (s *Service) describe(ctx context.Context, e *Entry, r *store.Record, now time.Time, o StatusOptions, found *lifecycle.Found) *store.Record {
	if !o.Offline && o.SecretsErr == nil && r.Token.Dead == "" {
		r = s.check(ctx, e, r, found)
	}
	if r.Token == nil {
		return r // a plain credential after all (lifecycle.Check)
	}
	if found.Secret == nil && found.SecretErr == nil && o.SecretsErr == nil && s.Lifecycle.HasLeftovers(r.Account) {
		// Offline too: whether a recovery file holds a successor or a
		// copy of the stored token is the backend's to say.
		if sec, err := s.Store.ReadSecret(ctx, r); err == nil {
			found.Secret = sec
		} else {
			found.SecretErr = err
		}
	}
	t := r.Token
	set := s.Lifecycle.SettingsFor(r)
	e.Managed = true
	e.TokenID, e.TokenName, e.ExpiresAt = t.ID, t.Name, t.ExpiresAt
	if e.Scopes == nil {
		e.Scopes = t.Scopes
	}
	e.CanRotate = t.CanRotateItself() && t.NoSelfRotation == ""
	e.AutoRotate = set.AutoRotate
	if !t.RotatedAt.IsZero() {
		ra := t.RotatedAt
		e.RotatedAt = &ra
	}
	switch {
	case len(t.Scopes) == 0:
		// Not known yet (stored while GitLab could not be asked).
	case t.GitUnusable():
		e.GitAccess = "none"
	case t.CanPush():
		e.GitAccess = "fetch, push"
	case t.CanFetch():
		e.GitAccess = "fetch"
	}
	e.HeldBackPaths = lifecycle.HeldBackPaths(r, now)
	if exp, ok := t.Expiry(); ok {
		e.Expiry = &exp
		days := int(exp.Sub(now).Hours() / 24)
		if exp.Before(now) {
			days = -int(now.Sub(exp).Hours()/24) - 1
		}
		e.DaysLeft = &days
		e.RotationDue = lifecycle.Due(r, set, now)
	}
	return r
}

// check reads r's secret and asks GitLab about its token, recording what
// GitLab says (lifecycle.Check); it returns the record as stored now.
func (s *Service) check(ctx context.Context, e *Entry, r *store.Record, found *lifecycle.Found) *store.Record {
	sec, err := s.Store.ReadSecret(ctx, r)
	if err != nil {
		found.SecretErr = err
		return r
	}
	found.Secret = sec
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	cur, info, err := s.Lifecycle.Check(actx, r, sec)
	switch {
	case errors.Is(err, gitlabapi.ErrUnauthorized):
		// Recorded: the verdict says it.
	case err != nil:
		e.APIError = err.Error()
	default:
		e.LastUsedAt, e.LastUsedIPs = info.LastUsedAt, info.LastUsedIPs
		e.Scopes = info.Scopes
	}
	return cur
}

// Outcomes of rotate.
const (
	OutcomeRotated = "rotated"
	OutcomeNotDue  = "not due"
	OutcomeDead    = "dead"
	// OutcomeCannotRotate: the token's scopes do not let it rotate
	// itself.
	OutcomeCannotRotate = "cannot rotate itself (needs self_rotate or api)"
	// OutcomeFailed: GitLab refused, or could not be reached; nothing
	// was rotated.
	OutcomeFailed = "failed"
	// OutcomeUnknown: a rotation was sent and whether GitLab carried it
	// out is not known yet.
	OutcomeUnknown = "unknown"
	// OutcomeNoSelfRotation: this GitLab does not rotate the token
	// itself (too old, or legacy tokens' rotation disabled).
	OutcomeNoSelfRotation = "no self-rotation"
)

// RotateResult is the outcome for one token.
type RotateResult struct {
	Host     string `json:"host"`
	Protocol string `json:"protocol"`
	Username string `json:"username"`
	// Outcome is one of the Outcome constants.
	Outcome   string `json:"outcome"`
	ExpiresAt string `json:"expires_at,omitempty"`
	// Reason says why, in words: when the token is due, why it failed
	// and when it is tried again, what is not known, what to do.
	Reason string `json:"reason,omitempty"`
}

// NeedsPerson reports whether the outcome is one a person must act on or
// look at again.
func (r RotateResult) NeedsPerson() bool {
	switch r.Outcome {
	case OutcomeRotated, OutcomeNotDue, OutcomeRefreshed: // OutcomeRefreshed: oauth.go
		return false
	}
	return true
}

// Rotate rotates the managed tokens of host (all hosts when host is
// zero) that are due, or all of them with force. It also removes what a
// finished rotation left in the state dir (lifecycle.Tidy).
func (s *Service) Rotate(ctx context.Context, host hostarg.Host, force bool) ([]RotateResult, error) {
	recs, err := s.Store.List()
	if err != nil && len(recs) == 0 {
		return nil, err
	}
	var out []RotateResult
	now := s.now()
	for i := range recs {
		r := &recs[i]
		if r.OAuth != nil && host.Matches(r.Protocol, r.Host) {
			res, err := s.rotateOAuth(ctx, r, force, now) // oauth.go
			if err != nil {
				return out, err
			}
			out = append(out, res)
			continue
		}
		if r.Token == nil || !host.Matches(r.Protocol, r.Host) {
			continue
		}
		res := RotateResult{Host: r.Host, Protocol: r.Protocol, Username: r.Username, ExpiresAt: r.Token.ExpiresAt}
		if st := s.Lifecycle.StateAt(r, now); !force && !st.Due {
			res.Outcome, res.Reason = OutcomeNotDue, notDueReason(st, s.Lifecycle.SettingsFor(r))
			if v := s.Lifecycle.Describe(r, st, lifecycle.Found{}, now); v.Level == lifecycle.ActionNeeded && !st.State.Served() {
				// Known dead (status says so) and no unfinished
				// rotation to recover: rotate must not report
				// success over it.
				res.Outcome, res.Reason = OutcomeDead, v.Line()
			}
			s.tidy(ctx, r)
			out = append(out, res)
			continue
		}
		sec, err := s.Store.ReadSecret(ctx, r)
		if err != nil {
			return out, fmt.Errorf("reading the token of %s (%s): %w", hostarg.Format(r.Protocol, r.Host), r.Username, err)
		}
		rot, err := s.Lifecycle.Rotate(ctx, r, sec, force)
		if err != nil {
			return out, err
		}
		s.rotateResult(&res, r, rot)
		if rot.Record != nil {
			s.tidy(ctx, rot.Record)
		}
		out = append(out, res)
	}
	return out, nil
}

// tidy removes what a finished rotation of r left in the state dir, when
// there is anything (lifecycle.Tidy): rotate is a command that changes
// things; status and doctor only say what they find.
func (s *Service) tidy(ctx context.Context, r *store.Record) {
	if !s.Lifecycle.HasLeftovers(r.Account) {
		return
	}
	if sec, err := s.Store.ReadSecret(ctx, r); err == nil {
		s.Lifecycle.Tidy(r, sec)
	}
}

// rotateResult fills in res with what the rotation of r came to (rot).
func (s *Service) rotateResult(res *RotateResult, r *store.Record, rot lifecycle.Rotation) {
	now := s.now()
	nr := rot.Record
	if rot.Dead() {
		res.Outcome = OutcomeDead
		cur := s.record(r.Account)
		if cur == nil || cur.Token == nil {
			cur = r
		}
		st := s.Lifecycle.StateAt(cur, now)
		if st.State.Served() {
			// Recorded as the rotation found it, or not at all (the
			// index could not be written): GitLab refused it.
			st.State = lifecycle.Revoked
		}
		res.Reason = s.Lifecycle.Describe(cur, st, lifecycle.Found{}, now).Line()
		return
	}
	if nr.Token.ID != r.Token.ID {
		res.Outcome, res.ExpiresAt = OutcomeRotated, nr.Token.ExpiresAt
		res.Reason = "the new token expires " + nr.Token.ExpiresAt
		if nr.Token.ExpiresAt == "" {
			// An answer cut short: its metadata is read on the next call.
			res.Reason = "the new token's expiry is read from GitLab on the next call"
		}
		return
	}
	st := s.Lifecycle.StateAt(nr, now)
	v := s.Lifecycle.Describe(nr, st, lifecycle.Found{}, now)
	switch {
	case st.Outcome == lifecycle.OutcomeUnknown:
		res.Outcome, res.Reason = OutcomeUnknown, st.OutcomeText(now)
	case !nr.Token.CanRotateItself():
		res.Outcome, res.Reason = OutcomeCannotRotate, "create a token with the self_rotate or api scope and run "+s.Lifecycle.LoginCommand(r)
		if st.State == lifecycle.CannotRotateItself {
			res.Reason = v.Line() // what status says of it
		}
	case nr.Token.NoSelfRotation != "" && !nr.Token.NoSelfRotationAt.Before(now.Add(-time.Minute)):
		// Found by this rotation.
		res.Outcome, res.Reason = OutcomeNoSelfRotation, lifecycle.NoSelfRotationText(nr.Token)+"; create a new token before it expires and run "+s.Lifecycle.LoginCommand(r)
		if st.State == lifecycle.NoSelfRotation {
			res.Reason = v.Line()
		}
	default:
		res.Outcome, res.Reason = OutcomeFailed, st.OutcomeText(now)
		if res.Reason == "" {
			res.Reason = "not rotated: " + nr.Token.RotateError
		}
		if res.Reason == "not rotated: " {
			res.Reason = v.Line()
		}
	}
}

// notDueReason says when a token that is not due will be.
func notDueReason(st lifecycle.TokenState, set lifecycle.Settings) string {
	if st.Expiry.IsZero() {
		return "it never expires"
	}
	return fmt.Sprintf("due from %s, %s before it expires", st.Expiry.Add(-set.RotateBefore).UTC().Format(time.DateOnly), termtext.Plural(int(set.RotateBefore/(24*time.Hour)), "day"))
}

// record is the stored record of account, nil when there is none.
func (s *Service) record(account string) *store.Record {
	recs, _ := s.Store.List()
	for i := range recs {
		if recs[i].Account == account {
			return &recs[i]
		}
	}
	return nil
}

// LogoutPlan lists the records Logout(host, username) would remove.
func (s *Service) LogoutPlan(host hostarg.Host, username string) ([]store.Record, error) {
	if host.IsZero() {
		return nil, errNoHost
	}
	recs, err := s.Store.List()
	var out []store.Record
	for _, r := range recs {
		if host.Matches(r.Protocol, r.Host) && (username == "" || r.Username == username) {
			out = append(out, r)
		}
	}
	return out, err
}

// KnownHosts are the GitLab hosts a command given no HOST means
// (hostarg.Known): the config's, then those of stored GitLab credentials.
func (s *Service) KnownHosts() []hostarg.Host {
	recs, _ := s.Store.List() // what cannot be listed is not known
	return hostarg.Known(s.Config, ManagedHosts(recs))
}

// ManagedHosts are the protocols and hosts of recs' GitLab credentials.
func ManagedHosts(recs []store.Record) []hostarg.Host {
	var hosts []hostarg.Host
	for _, r := range recs {
		if r.Managed() {
			hosts = append(hosts, hostarg.Host{Protocol: r.Protocol, Name: r.Host})
		}
	}
	return hosts
}

// errNoHost: logout forgets the credentials of one host, which it is given.
var errNoHost = errors.New("logout: no host given")

// Removed is a credential Logout forgot, and what became of its token.
type Removed struct {
	store.Record
	// Revoked: GitLab revoked the token on this request.
	Revoked bool
	// Dead is the verdict on a token that was already dead when it was
	// not revoked now (Label "" otherwise): known dead (then NotSent: it
	// was not sent to GitLab), or refused by GitLab just now.
	Dead    lifecycle.Verdict
	NotSent bool
	// RevokedRecovered: GitLab revoked, on this request, the new token
	// (or OAuth pair) that a rotation left in the account's recovery file.
	RevokedRecovered bool
	// Successor is the account git gets now for the record's host where
	// the URL names no account (Answering), when Logout of one account
	// removed the one that answered there and another is left; ""
	// otherwise.
	Successor string
}

// Logout forgets the credentials of host (of username only, when given) and,
// with revoke, revokes managed tokens on GitLab first. It returns the
// records removed. It holds the rotation lock and the refresh locks of the
// host's OAuth logins, so that a rotation or refresh under way cannot store
// its new token after the credential was forgotten, and it forgets (with
// revoke, revokes) a new token a rotation left in a recovery file too.
func (s *Service) Logout(ctx context.Context, host hostarg.Host, username string, revoke bool) (removed []Removed, err error) {
	if host.IsZero() {
		return nil, errNoHost
	}
	plan, _ := s.LogoutPlan(host, username)
	var oauthAccounts []string
	for _, r := range plan {
		if r.OAuth != nil {
			oauthAccounts = append(oauthAccounts, r.Account)
		}
	}
	lerr := s.Lifecycle.Exclusive(ctx, oauthAccounts, func() error {
		removed, err = s.logout(ctx, host, username, revoke)
		return nil
	})
	if lerr != nil {
		return nil, fmt.Errorf("logout of %s (nothing was removed): %w", host, lerr)
	}
	return removed, err
}

func (s *Service) logout(ctx context.Context, host hostarg.Host, username string, revoke bool) ([]Removed, error) {
	recs, err := s.Store.List()
	if err != nil && len(recs) == 0 {
		return nil, err
	}
	var removed []Removed
	for i := range recs {
		r := &recs[i]
		if !host.Matches(r.Protocol, r.Host) || (username != "" && r.Username != username) {
			continue
		}
		rm := Removed{Record: *r}
		if revoke {
			// First, so that a failure leaves everything as it was.
			ok, err := s.revokeRecovered(ctx, r)
			if err != nil {
				return removed, err
			}
			rm.RevokedRecovered = ok
		}
		known := (r.OAuth != nil && r.OAuth.Dead != "") || (r.Token != nil && r.Token.Dead != "")
		now := s.now()
		if revoke && known {
			rm.Dead, rm.NotSent = s.Lifecycle.Describe(r, s.Lifecycle.StateAt(r, now), lifecycle.Found{}, now), true
		} else if revoke && r.OAuth != nil {
			if err := s.revokeOAuth(ctx, r); err != nil { // oauth.go
				return removed, err
			}
			rm.Revoked = true
		}
		if revoke && r.Token != nil && r.Token.Dead == "" {
			sec, err := s.Store.ReadSecret(ctx, r)
			if err != nil {
				return removed, fmt.Errorf("reading the token of %s (%s) to revoke it (nothing was removed): %w", hostarg.Format(r.Protocol, r.Host), r.Username, err)
			}
			api, err := s.api(r.Token.APIURL, s.Lifecycle.SettingsFor(r).CAFile)
			if err != nil {
				return removed, err
			}
			actx, cancel := context.WithTimeout(ctx, apiTimeout)
			err = api.RevokeSelf(actx, sec.Password)
			cancel()
			if err != nil && !errors.Is(err, gitlabapi.ErrUnauthorized) {
				return removed, fmt.Errorf("revoking the token for %s (nothing was removed): %w", hostarg.Format(r.Protocol, r.Host), err)
			}
			rm.Revoked = err == nil
			if err != nil {
				// 401: the token is not valid (lib/api/api_guard.rb), so
				// GitLab revoked nothing now.
				dead := *r
				tok := *r.Token
				tok.Dead, dead.Token = lifecycle.Dead(err), &tok
				rm.Dead = s.Lifecycle.Describe(&dead, s.Lifecycle.StateAt(&dead, now), lifecycle.Found{}, now)
			}
		}
		var answered *store.Record
		if username != "" { // a host's other accounts stay
			answered = s.Answering(r.Protocol, r.Host)
		}
		req := &credential.Credential{Protocol: r.Protocol, Host: r.Host, Path: r.Path, Username: r.Username, HasUsername: true}
		if _, err := s.Store.Erase(ctx, req); err != nil {
			return removed, err
		}
		s.Lifecycle.Forget(r.Account)
		if answered != nil && answered.Account == r.Account {
			if now := s.Answering(r.Protocol, r.Host); now != nil && now.Username != r.Username {
				rm.Successor = now.Username
			}
		}
		removed = append(removed, rm)
	}
	return removed, nil
}

// revokeRecovered revokes the new token (or OAuth pair) that a rotation of
// r left in its recovery file, when that is not the stored one: logout
// --revoke leaves no live token behind. A token GitLab refuses (401) was
// not live. It reports whether GitLab revoked one now.
func (s *Service) revokeRecovered(ctx context.Context, r *store.Record) (bool, error) {
	actx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if tok, ok := s.Lifecycle.RecoveredToken(r.Account); ok && r.Token != nil {
		if sec, err := s.Store.ReadSecret(ctx, r); err == nil && sec.Password == tok {
			return false, nil // the stored token: revoked as such
		}
		api, err := s.api(r.Token.APIURL, s.Lifecycle.SettingsFor(r).CAFile)
		if err != nil {
			return false, err
		}
		switch err := api.RevokeSelf(actx, tok); {
		case err == nil:
			return true, nil
		case errors.Is(err, gitlabapi.ErrUnauthorized):
			return false, nil
		default:
			return false, fmt.Errorf("revoking the token that a rotation left in %s for %s (nothing was removed): %w", s.Lifecycle.RecoveryFile(r.Account, false), hostarg.Format(r.Protocol, r.Host), err)
		}
	}
	if refresh, ok := s.Lifecycle.RecoveredOAuthRefreshToken(r.Account); ok && r.OAuth != nil {
		if sec, err := s.Store.ReadSecret(ctx, r); err == nil && sec.OAuthRefreshToken == refresh {
			return false, nil
		}
		c, err := s.OAuthClient(r.Host, r.OAuth.APIURL)
		if err != nil {
			return false, err
		}
		if err := c.Revoke(actx, refresh); err != nil {
			return false, fmt.Errorf("revoking the OAuth token that a refresh left in %s for %s (nothing was removed): %w", s.Lifecycle.RecoveryFile(r.Account, true), hostarg.Format(r.Protocol, r.Host), err)
		}
		return true, nil
	}
	return false, nil
}
