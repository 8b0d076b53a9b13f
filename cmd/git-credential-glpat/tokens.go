package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/cli"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
)

// service opens the store and config for an interactive command.
// The caller closes the session.
func service(ui *cli.UI) (*account.Service, *session.Session, bool) {
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

func runLogin(c *call) int {
	args, stdin, stdout, ui := c.args, c.stdin, c.stdout, c.ui
	fs := cli.NewFlags("login", c.usage(), ui)
	username := fs.String("username", "", "")
	tokenStdin := fs.Bool("token-stdin", false, "")
	apiURL := fs.String("api-url", "", "")
	caFile := fs.String("ca-file", "", "")
	createURL := fs.Bool("create-url", false, "")
	web := fs.Bool("web", false, "")
	withOAuth := fs.Bool("oauth", false, "")
	flow := fs.String("flow", "", "")
	pos, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
	host, ok := cli.OneHost("login", pos, account.DefaultHost, ui)
	if !ok {
		return 2
	}
	if *withOAuth || *flow != "" {
		if *tokenStdin || *web || *createURL {
			ui.Errorf("login: --oauth logs in through GitLab's OAuth provider, without a token: it excludes --token-stdin, --web and --create-url")
			return 2
		}
		return runLoginOAuth(c, host, *username, *apiURL, *flow) // oauth.go
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	create := svc.CreateTokenURL(svc.APIURL(host, *apiURL))
	if *createURL {
		fmt.Fprintln(stdout, create)
		return 0
	}
	var token string
	var choose func([]string, string) (string, error)
	var stopProgress func()
	var ctx context.Context // Ctrl-C caught, once the token is read
	f, isFile := stdin.(*os.File)
	atTerminal := !*tokenStdin && isFile && term.IsTerminal(int(f.Fd()))
	if *web && *tokenStdin {
		return ui.ArgError("login", "--web and --token-stdin exclude each other (--web waits at a hidden prompt for the token)")
	}
	if *web && !atTerminal {
		return ui.ArgError("login", "--web waits at a hidden prompt for the token, and stdin is not a terminal (use --token-stdin)")
	}
	if atTerminal {
		// Before a person creates and pastes a token: is the API there?
		apiCtx, apiCancel := cli.Interruptible()
		stop := cli.Progress(ui, "looking for GitLab's API at "+svc.APIURL(host, *apiURL))
		err := svc.CheckAPI(apiCtx, host, *apiURL, *caFile)
		stop()
		apiCancel()
		if err != nil {
			ui.Errorf("%v", err)
			cli.ReachHint(ui, host, err, e.ConfigPath)
			return 1
		}
		b, err := cli.PromptToken(f, ui, host, create, *web, account.LeastPrivilegeScopes)
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
			return cli.AskAccountUntil(ctx, f, ui, host, accounts, def)
		}
	} else {
		if token, err = cli.ReadLine(stdin); err != nil {
			ui.Errorf("reading the token from stdin: %v", err)
			return 1
		}
	}
	ctx, cancel := cli.Interruptible()
	defer cancel()
	stopProgress = cli.Progress(ui, "checking the token with "+host)
	res, err := svc.Login(ctx, account.LoginOptions{Host: host, Username: *username, APIURL: *apiURL, CAFile: *caFile, Token: token, Choose: choose})
	stopProgress()
	if code, stop := promptEnded(err, ui); stop {
		return code
	}
	if err != nil {
		ui.Errorf("%s", cli.Explain(err))
		switch {
		case errors.Is(err, gitlabapi.ErrUnauthorized), errors.Is(err, gitlabapi.ErrUnrecognized): // GitLab does not accept the token
			ui.Hintf("create a token at %s", create)
		case errors.Is(err, account.ErrOtherUser):
			var ou *account.OtherUserError
			if errors.As(err, &ou) && ou.Account != "" {
				ui.Hintf("run git-credential-glpat login %s --username %s, the account of this token's user", host, ou.Account)
			} else {
				ui.Hintf("run git-credential-glpat login %s --username NAME with the account of this token's user (a new name adds one)", host)
			}
		case errors.As(err, new(*account.ReachError)):
			cli.ReachHint(ui, host, err, e.ConfigPath)
		case errors.Is(err, gitlabapi.ErrUnreachable), errors.Is(err, gitlabapi.ErrServer):
			cli.APIURLHint(ui, host, svc.APIURL(host, *apiURL), e.ConfigPath)
		case errors.Is(err, secrets.ErrUnavailable) && e.Kind == config.BackendKeyring:
			// No desktop keychain here (SSH, WSL, a build host): say
			// what else there is; nothing falls back on its own.
			fmt.Fprint(ui.W, cli.NoKeychainHelp)
		}
		return 1
	}
	cli.WriteLogin(stdout, ui, res, svc.Lifecycle.SettingsFor(res.Record), svc.Lifecycle.State(res.Record).Due, e.ConfigPath)
	return 0
}

// promptEnded reports (stop) whether the person cancelled or interrupted
// at a prompt, with the exit status: nothing was changed, which is all
// there is to say.
func promptEnded(err error, ui *cli.UI) (code int, stop bool) {
	switch {
	case errors.Is(err, cli.ErrCancelled):
		fmt.Fprintln(ui.W, "git-credential-glpat: cancelled; nothing was changed")
		return 1, true
	case errors.Is(err, cli.ErrInterrupted):
		fmt.Fprintln(ui.W, "git-credential-glpat: interrupted; nothing was changed")
		return 130, true
	}
	return 0, false
}

func runLogout(c *call) int {
	args, stdin, stdout, ui := c.args, c.stdin, c.stdout, c.ui
	fs := cli.NewFlags("logout", c.usage(), ui)
	username := fs.String("username", "", "")
	revoke := fs.Bool("revoke", false, "")
	yes := fs.Bool("yes", false, "")
	pos, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
	host, ok := cli.OneHost("logout", pos, account.DefaultHost, ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	if *revoke && !*yes {
		recs, _ := svc.LogoutPlan(host, *username) // an error: Logout reports it
		ok, err := cli.ConfirmRevoke(ui, stdin, recs)
		var needYes *cli.NeedYesError
		switch {
		case errors.As(err, &needYes):
			return ui.ArgError("logout", "%v", err)
		case err != nil:
			code, _ := promptEnded(err, ui)
			return code
		case !ok:
			fmt.Fprintln(ui.W, "git-credential-glpat: nothing was revoked or forgotten")
			return 1
		}
	}
	ctx, cancel := cli.Interruptible()
	defer cancel()
	stop := cli.Progress(ui, "revoking")
	removed, err := svc.Logout(ctx, host, *username, *revoke)
	stop()
	cli.WriteLogout(stdout, removed)
	if err != nil {
		ui.Errorf("%s", cli.Explain(err))
		return 1
	}
	switch {
	case len(removed) == 0 && *username != "":
		ui.Warningf("nothing is stored for %s on %s (git-credential-glpat status %s lists its accounts)", *username, host, host)
	case len(removed) == 0:
		ui.Warningf("nothing is stored for %s", host)
	}
	return 0
}

func runStatus(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := cli.NewFlags("status", c.usage(), ui)
	asJSON := fs.Bool("json", false, "")
	offline := fs.Bool("offline", false, "")
	pos, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
	host, ok := cli.OneHost("status", pos, "", ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	ctx, cancel := cli.Interruptible()
	defer cancel()
	// A backend that cannot be read is the first thing to say: every row
	// would look fine while git gets nothing.
	backendErr := e.CheckSecrets(ctx)
	stop := cli.Progress(ui, "asking GitLab about the stored tokens")
	// Unreadable secrets cannot be shown to GitLab either: every row says
	// that git gets nothing for it.
	entries, err := svc.Status(ctx, host, account.StatusOptions{Offline: *offline, SecretsErr: backendErr})
	stop()
	if err != nil {
		ui.Warningf("%v", err)
	}
	r := cli.StatusReport{Host: host, Entries: entries, NeedAction: cli.NeedAction(entries), Now: svc.Now,
		Width: cli.TerminalWidth(stdout, cli.StatusWidth)}
	if backendErr != nil && len(entries) == 0 {
		// No row says it.
		r.NeedAction++
	}
	if !*asJSON {
		if len(entries) == 0 && host != "" {
			r.Records, _ = e.Store.List()
		}
		r.Secrets, r.SecretsState, r.StateDir = backend.Describe(e.Store.Secrets), backendState(e, backendErr), e.StateDir
		r.Schedule = scheduleLine(ctx)
	}
	cli.WriteStatusReport(stdout, r, *asJSON)
	if r.NeedAction > 0 {
		return 1
	}
	return 0
}

// backendState says whether the secrets can be read now: "unlocked" or
// "answers", else what is wrong and how to fix it.
func backendState(e *session.Session, err error) string {
	switch {
	case err == nil && e.Kind == config.BackendEncryptedFile:
		return "unlocked"
	case err == nil:
		return "answers"
	case errors.Is(err, agefile.ErrLocked):
		return "locked, so git gets no credentials: run git-credential-glpat unlock"
	}
	return "cannot be read, so git gets no credentials: " + cli.Explain(err)
}

func runRotate(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := cli.NewFlags("rotate", c.usage(), ui)
	all := fs.Bool("all", false, "")
	force := fs.Bool("force", false, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
	if *all && len(pos) > 0 {
		return ui.ArgError("rotate", "give a HOST or --all, not both")
	}
	def := account.DefaultHost
	if *all {
		def = ""
	}
	host, ok := cli.OneHost("rotate", pos, def, ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	ctx, cancel := cli.Interruptible()
	defer cancel()
	stop := cli.Progress(ui, "rotating")
	results, err := svc.Rotate(ctx, host, *force)
	stop()
	cli.WriteRotate(stdout, results, host, *asJSON, err)
	if err != nil {
		ui.Errorf("%s", cli.Explain(err))
		return 1
	}
	if cli.RotateFailed(results) > 0 {
		return 1
	}
	return 0
}
