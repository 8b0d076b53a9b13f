package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// service opens the store and config for an interactive command.
// The caller closes the session.
func service(ui *tty.UI) (*account.Service, *session.Session, bool) {
	s, err := openSession(true, ui)
	if err != nil {
		ui.Errorf("%v", err)
		return nil, nil, false
	}
	svc, err := s.Accounts()
	if err != nil {
		s.Close()
		ui.Errorf("%v", err)
		return nil, nil, false
	}
	return svc, s, true
}

const loginUsage = `Usage: git-credential-glpat login [HOST] [--username U] [--token-stdin | --web] [--api-url URL] [--ca-file FILE]
       git-credential-glpat login [HOST] --create-url
       git-credential-glpat login [HOST] --oauth [--flow browser|device] [--username U]

Checks a GitLab personal access token against HOST's API, shows its name,
scopes and expiry, and stores it in the keychain. The token is read from a
hidden prompt, or from stdin with --token-stdin; never from argv. Without
HOST: the GitLab host that the config and the stored tokens name, else
gitlab.com (with several, give HOST).

With --oauth it logs in through GitLab's OAuth provider instead, with the
application whose Application ID is oauth_client_id under [hosts."HOST"] in
the config: in the browser, or over SSH and without a browser with a code to
confirm on another device. The access token is refreshed before it expires.

Options:
    --username U     the account (Git username) to store it under (default: the
                     account that holds a token of the same GitLab user, else
                     the config, else the token's user when it may read it,
                     else oauth2); never an account of another GitLab user
    --token-stdin    read the token from stdin
    --web            open the page that creates a least-privilege token in the
                     browser (or print it), then wait at the hidden prompt
    --api-url URL    the API base URL (default: the config's api_url, else
                     https://HOST/api/v4); another one is written into the
                     config as the host's api_url, where rotations look
    --ca-file FILE   a PEM file of the CA that signs the API's certificate
                     (an organisation's own CA), trusted besides the system's;
                     written into the config as the host's ca_file
    --create-url     only print the page that creates a least-privilege token
    --oauth          log in with GitLab's OAuth instead of a token
    --flow FLOW      browser or device (default: device over SSH, without a
                     graphical session or without a terminal, else browser)

Examples:
    $ git-credential-glpat login
    $ git-credential-glpat login gitlab.example.com --username alice
    $ git-credential-glpat login gitlab.example.com --token-stdin < token.txt
    $ git-credential-glpat login gitlab.com --oauth
`

var loginCommand = command{
	name: "login", summary: "check a GitLab token and store it", usage: loginUsage, args: completion.ArgHost,
	bind: func(fs *flagSet) runFunc {
		o := new(loginOptions)
		fs.stringVar(&o.username, "username", "U", "the Git username to store it under")
		fs.boolVar(&o.tokenStdin, "token-stdin", "read the token from stdin")
		fs.stringVar(&o.apiURL, "api-url", "URL", "the API base URL")
		fs.fileVar(&o.caFile, "ca-file", "FILE", "a CA certificate (PEM) to trust for the API")
		fs.boolVar(&o.web, "web", "open the page that creates a least-privilege token")
		fs.boolVar(&o.createURL, "create-url", "print the page that creates a least-privilege token")
		fs.boolVar(&o.oauth, "oauth", "log in with GitLab's OAuth instead of a token")
		fs.choiceVar(&o.flow, "flow", "FLOW", []string{"browser", "device"}, "the OAuth login's flow (default: browser, device over SSH)")
		return o.run
	},
}

// loginOptions are login's flags.
type loginOptions struct {
	username, apiURL, caFile, flow    string
	tokenStdin, web, createURL, oauth bool
}

// loginHost is the host login means: HOST, else the one GitLab host the
// helper knows (hostarg.Known), by its name: the config says where its
// API is.
func loginHost(svc *account.Service, host hostarg.Host, ui *tty.UI) (hostarg.Host, bool) {
	if !host.IsZero() {
		return host, true
	}
	h, err := hostarg.One(svc.KnownHosts())
	if err != nil {
		argError(ui, "login", "%v", err)
		return h, false
	}
	return hostarg.Host{Name: h.Name}, true
}

func (o *loginOptions) run(c *call, pos []string) int {
	stdin, stdout, ui := c.stdin, c.stdout, c.ui
	host, ok := oneHost("login", pos, hostarg.Host{}, ui)
	if !ok {
		return 2
	}
	if o.oauth || o.flow != "" {
		if o.tokenStdin || o.web || o.createURL {
			ui.Errorf("login: --oauth logs in through GitLab's OAuth provider, without a token: it excludes --token-stdin, --web and --create-url")
			return 2
		}
		return runLoginOAuth(c, host, o.username, o.apiURL, o.flow) // oauth.go
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	if host, ok = loginHost(svc, host, ui); !ok {
		return 2
	}
	hostAPI, err := svc.APIURL(host, o.apiURL)
	if err != nil {
		return argError(ui, "login", "%v", err)
	}
	create := svc.CreateTokenURL(hostAPI)
	if o.createURL {
		fmt.Fprintln(stdout, create)
		return 0
	}
	var token string
	var choose func([]string, string) (string, error)
	var stopProgress func()
	var ctx context.Context // Ctrl-C caught, once the token is read
	f, isTerminal := tty.Terminal(stdin)
	atTerminal := !o.tokenStdin && isTerminal
	if o.web && o.tokenStdin {
		return argError(ui, "login", "--web and --token-stdin exclude each other (--web waits at a hidden prompt for the token)")
	}
	if o.web && !atTerminal {
		return argError(ui, "login", "--web waits at a hidden prompt for the token, and stdin is not a terminal (use --token-stdin)")
	}
	if atTerminal {
		// Before a person creates and pastes a token: is the API there?
		apiCtx, apiCancel := tty.Interruptible()
		stop := tty.Progress(ui.W, "looking for GitLab's API at "+hostAPI)
		err := svc.CheckAPI(apiCtx, host.Name, hostAPI, o.caFile)
		stop()
		apiCancel()
		if err != nil {
			ui.Errorf("%v", err)
			reachHint(ui, host, err, e.ConfigPath)
			return 1
		}
		b, err := promptToken(f, ui, host.String(), create, o.web, account.LeastPrivilegeScopes)
		if code, stop := promptEnded(err, ui); stop {
			return code
		}
		if err != nil {
			ui.Errorf("reading the token: %v", err)
			return 1
		}
		token = b
		choose = func(accounts []string, def string) (string, error) {
			// The question and its answer are not the place for the
			// progress line (it would be written after the question and
			// erased with it).
			stopProgress()
			stopProgress = func() {}
			return askAccountUntil(ctx, f, ui, host.String(), accounts, def)
		}
	} else {
		if token, err = tty.ReadLine(stdin); err != nil {
			ui.Errorf("reading the token from stdin: %v", err)
			return 1
		}
	}
	ctx, cancel := tty.Interruptible()
	defer cancel()
	stopProgress = tty.Progress(ui.W, "checking the token with "+host.String())
	res, err := svc.Login(ctx, account.LoginOptions{Host: host.Name, Username: o.username, APIURL: hostAPI, CAFile: o.caFile, Token: token, Choose: choose})
	stopProgress()
	if code, stop := promptEnded(err, ui); stop {
		return code
	}
	if err != nil {
		ui.Errorf("%s", explain(err))
		switch {
		case errors.Is(err, gitlabapi.ErrUnauthorized), errors.Is(err, gitlabapi.ErrUnrecognized): // GitLab does not accept the token
			ui.Hintf("create a token at %s", create)
		case errors.Is(err, account.ErrOtherUser):
			var ou *account.OtherUserError
			if errors.As(err, &ou) && ou.Account != "" {
				ui.Hintf("run %s, the account of this token's user", lifecycle.Login(host, ou.Account, false))
			} else {
				ui.Hintf("run %s with the account of this token's user (a new name adds one)", lifecycle.Login(host, "NAME", false))
			}
		case errors.As(err, new(*account.ReachError)):
			reachHint(ui, host, err, e.ConfigPath)
		case errors.Is(err, gitlabapi.ErrUnreachable), errors.Is(err, gitlabapi.ErrServer):
			apiURLHint(ui, host.Name, hostAPI, e.ConfigPath)
		case errors.Is(err, secrets.ErrUnavailable) && e.Kind == config.BackendKeyring:
			// No desktop keychain here (SSH, WSL, a build host): say
			// what else there is; nothing falls back on its own.
			fmt.Fprint(ui.W, noKeychainHelp)
		}
		return 1
	}
	writeLogin(stdout, ui, res, svc.Lifecycle.SettingsFor(res.Record), svc.Lifecycle.State(res.Record).Due, e.ConfigPath)
	return 0
}

// promptEnded reports (stop) whether the person cancelled or interrupted
// at a prompt, with the exit status: nothing was changed, which is all
// there is to say.
func promptEnded(err error, ui *tty.UI) (code int, stop bool) {
	switch {
	case errors.Is(err, tty.ErrCancelled):
		fmt.Fprintln(ui.W, "git-credential-glpat: cancelled; nothing was changed")
		return 1, true
	case errors.Is(err, tty.ErrInterrupted):
		fmt.Fprintln(ui.W, "git-credential-glpat: interrupted; nothing was changed")
		return 130, true
	}
	return 0, false
}

const logoutUsage = `Usage: git-credential-glpat logout [HOST] [--username U] [--revoke [--yes]]

Forgets the credentials stored for HOST (without HOST: the GitLab host that
the config and the stored tokens name; with several, give HOST), of account U
only with --username. With --revoke, each GitLab token is first revoked on
GitLab, so it can never be used again; when that is more than one token,
logout lists them and asks first (--yes: do not ask, for scripts).

Examples:
    $ git-credential-glpat logout
    $ git-credential-glpat logout gitlab.example.com --username alice --revoke
    $ git-credential-glpat logout gitlab.example.com --revoke --yes
`

var logoutCommand = command{
	name: "logout", summary: "forget a host's credentials", usage: logoutUsage, args: completion.ArgHost,
	bind: func(fs *flagSet) runFunc {
		o := new(logoutOptions)
		fs.stringVar(&o.username, "username", "U", "only this user's credential")
		fs.boolVar(&o.revoke, "revoke", "revoke the tokens on GitLab first")
		fs.boolVar(&o.yes, "yes", "do not ask before revoking several tokens")
		return o.run
	},
}

// logoutOptions are logout's flags.
type logoutOptions struct {
	username    string
	revoke, yes bool
}

func (o *logoutOptions) run(c *call, pos []string) int {
	stdin, stdout, ui := c.stdin, c.stdout, c.ui
	host, ok := oneHost("logout", pos, hostarg.Host{}, ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	if host.IsZero() {
		var err error
		if host, err = hostarg.One(svc.KnownHosts()); err != nil {
			return argError(ui, "logout", "%v", err)
		}
	}
	if o.revoke && !o.yes {
		recs, _ := svc.LogoutPlan(host, o.username) // an error: Logout reports it
		ok, err := confirmRevoke(ui, stdin, recs)
		var needYes *needYesError
		switch {
		case errors.As(err, &needYes):
			return argError(ui, "logout", "%v", err)
		case err != nil:
			code, _ := promptEnded(err, ui)
			return code
		case !ok:
			fmt.Fprintln(ui.W, "git-credential-glpat: nothing was revoked or forgotten")
			return 1
		}
	}
	ctx, cancel := tty.Interruptible()
	defer cancel()
	stop := tty.Progress(ui.W, "revoking")
	removed, err := svc.Logout(ctx, host, o.username, o.revoke)
	stop()
	writeLogout(stdout, removed)
	if err != nil {
		ui.Errorf("%s", explain(err))
		return 1
	}
	switch {
	case len(removed) == 0 && o.username != "":
		ui.Warningf("nothing is stored for %s on %s (git-credential-glpat status %s lists its accounts)", o.username, host, host)
	case len(removed) == 0:
		ui.Warningf("nothing is stored for %s", host)
	}
	return 0
}

const statusUsage = `Usage: git-credential-glpat status [HOST] [--json] [--offline]

Shows every stored credential: host, user, token name, scopes, expiry, days
left, whether rotation is due or impossible, and (from GitLab, unless
--offline) when and from which IP addresses the token was last used.
Exit status 1 when a token needs action.

Examples:
    $ git-credential-glpat status
    $ git-credential-glpat status gitlab.com --json | jq '.[].days_left'
`

var statusCommand = command{
	name: "status", summary: "show stored credentials, expiry and rotation state", usage: statusUsage, args: completion.ArgHost,
	bind: func(fs *flagSet) runFunc {
		o := new(statusOptions)
		fs.boolVar(&o.json, "json", "print JSON")
		fs.boolVar(&o.offline, "offline", "do not ask GitLab")
		return o.run
	},
}

// statusOptions are status's flags.
type statusOptions struct{ json, offline bool }

func (o *statusOptions) run(c *call, pos []string) int {
	stdout, ui := c.stdout, c.ui
	host, ok := oneHost("status", pos, hostarg.Host{}, ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	ctx, cancel := tty.Interruptible()
	defer cancel()
	// A backend that cannot be read is the first thing to say: every row
	// would look fine while git gets nothing.
	backendErr := e.CheckSecrets(ctx)
	stop := tty.Progress(ui.W, "asking GitLab about the stored tokens")
	// Unreadable secrets cannot be shown to GitLab either: every row says
	// that git gets nothing for it.
	entries, err := svc.Status(ctx, host, account.StatusOptions{Offline: o.offline, SecretsErr: backendErr})
	stop()
	if err != nil {
		ui.Warningf("%s", explain(err))
	}
	r := statusReport{Host: host.String(), Entries: entries, NeedAction: needAction(entries), Now: svc.Now,
		Width: tty.Width(stdout, statusWidth)}
	if backendErr != nil && len(entries) == 0 {
		// No row says it.
		r.NeedAction++
	}
	if !o.json {
		if len(entries) == 0 && !host.IsZero() {
			r.Records, _ = e.Store.List()
		}
		r.Secrets, r.SecretsState, r.StateDir = backend.Describe(e.Store.Secrets), backendState(e, backendErr), e.StateDir
		r.Schedule = scheduleLine(ctx)
	}
	writeStatusReport(stdout, r, o.json)
	if r.NeedAction > 0 {
		return 1
	}
	return 0
}

// backendState says whether the secrets can be read now (backend.Ready,
// as doctor says it), else what is wrong and how to fix it.
func backendState(e *session.Session, err error) string {
	switch {
	case err == nil:
		return backend.Ready(e.Store.Secrets)
	case errors.Is(err, agefile.ErrLocked):
		return "locked, so git gets no credentials: run git-credential-glpat unlock"
	}
	return "cannot be read, so git gets no credentials: " + explain(err)
}

const rotateUsage = `Usage: git-credential-glpat rotate [HOST | --all] [--force] [--json]

Rotates the stored GitLab tokens of HOST (without HOST: of the GitLab hosts
that the config and the stored tokens name), or of every host with --all,
that are due (less than rotate_before left). --force rotates
them even when they are not due. This is what a daily cron job or systemd
timer runs, so that tokens nobody uses still never expire.

Examples:
    $ git-credential-glpat rotate --all
    $ git-credential-glpat rotate gitlab.example.com --force
`

var rotateCommand = command{
	name: "rotate", summary: "rotate the tokens that are due", usage: rotateUsage, args: completion.ArgHost,
	bind: func(fs *flagSet) runFunc {
		o := new(rotateOptions)
		fs.boolVar(&o.all, "all", "every host")
		fs.boolVar(&o.force, "force", "rotate even tokens that are not due")
		fs.boolVar(&o.json, "json", "print JSON")
		return o.run
	},
}

// rotateOptions are rotate's flags.
type rotateOptions struct{ all, force, json bool }

func (o *rotateOptions) run(c *call, pos []string) int {
	stdout, ui := c.stdout, c.ui
	if o.all && len(pos) > 0 {
		return argError(ui, "rotate", "give a HOST or --all, not both")
	}
	host, ok := oneHost("rotate", pos, hostarg.Host{}, ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	// Without HOST, the GitLab hosts the helper knows: every stored token
	// is on one of them, so that is all of them, as with --all.
	if host.IsZero() && !o.all {
		if known := svc.KnownHosts(); len(known) == 1 {
			host = known[0]
		}
	}
	ctx, cancel := tty.Interruptible()
	defer cancel()
	stop := tty.Progress(ui.W, "rotating")
	results, err := svc.Rotate(ctx, host, o.force)
	stop()
	writeRotate(stdout, results, host.String(), o.json, err)
	if err != nil {
		ui.Errorf("%s", explain(err))
		return 1
	}
	if rotateFailed(results) > 0 {
		return 1
	}
	return 0
}
