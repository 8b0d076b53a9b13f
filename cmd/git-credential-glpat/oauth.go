package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/oauth"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// runLoginOAuth is login --oauth: GitLab's OAuth provider instead of a
// pasted token, by the browser (PKCE, a loopback redirect) or, over SSH and
// where no browser runs, by a device code; --flow forces either.
func runLoginOAuth(c *call, host hostarg.Host, username, apiURL, flow string) int {
	ui := c.ui
	_, atTerminal := tty.Terminal(c.stdin)
	// Without a terminal nothing opens a browser: a script gets the
	// device code to pass on.
	device := !atTerminal || oauth.PreferDevice(os.Getenv, runtime.GOOS)
	switch flow {
	case "":
	case "browser":
		if !atTerminal {
			ui.Errorf("login --oauth --flow browser opens a browser and waits for it at a terminal, and stdin is not one; use --flow device")
			return 2
		}
		device = false
	case "device":
		device = true
	default:
		ui.Errorf("login: --flow %q: want browser or device", flow)
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	if host, ok = loginHost(svc, host, ui); !ok {
		return 2
	}
	apiURL, err := svc.APIURL(host, apiURL)
	if err != nil {
		return argError(ui, "login", "%v", err)
	}
	ctx, cancel := tty.Interruptible()
	defer cancel()
	say := func(format string, args ...any) { fmt.Fprintf(ui.W, format+"\n", args...) }
	res, err := svc.LoginOAuth(ctx, account.OAuthLoginOptions{
		Host: host.Name, Username: username, APIURL: apiURL, Device: device,
		Open: openBrowser, Say: say,
		Show: func(d oauth.DeviceCode) {
			say("To log in to %s, open %s and enter the code %s", host, d.URI, d.UserCode)
			say("(or open %s); waiting until %s (Ctrl-C to cancel)", d.Complete, d.Expiry.Local().Format(time.Kitchen))
		},
		SlowDown: func(every time.Duration) { say("GitLab asked to be asked less often; checking every %s", every) },
	})
	if err != nil {
		oauthLoginError(ui, err, host, device, e.ConfigPath, svc.Config.Host(host.Name).OAuthClientID)
		return 1
	}
	r := res.Record
	fmt.Fprintf(c.stdout, "Logged in to %s as %s with OAuth\n", host, r.Username)
	if res.UsernameFrom == "default" {
		fmt.Fprintf(c.stdout, "  username oauth2: GitLab takes an OAuth token with any username; to name the account: login %s --oauth --username U\n", host)
	}
	if res.APIURLWritten {
		fmt.Fprintf(c.stdout, "  api url  %s, now api_url under [hosts.%q] in %s (refreshes use it)\n", r.OAuth.APIURL, host.Name, e.ConfigPath)
	}
	fmt.Fprintf(c.stdout, "  scopes   %s\n", strings.Join(r.OAuth.Scopes, ", "))
	fmt.Fprintf(c.stdout, "  refresh  automatic: the access token lives two hours and is refreshed before it expires\n")
	return 0
}

// oauthLoginError says in one line why login --oauth stored nothing.
func oauthLoginError(ui *tty.UI, err error, host hostarg.Host, device bool, configPath, clientID string) {
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(ui.W, "git-credential-glpat: interrupted; nothing was changed")
	case errors.Is(err, account.ErrNoClientID):
		ui.Errorf("login --oauth: %v", err)
	case errors.Is(err, oauth.ErrUnknownClient):
		ui.Errorf("GitLab does not know oauth_client_id %q of [hosts.%q] in %s as a non-confidential application: check its Application ID, and that \"Confidential\" is not ticked in its settings on GitLab; nothing was stored", clientID, host.Name, configPath)
	case errors.Is(err, oauth.ErrDenied):
		ui.Errorf("the authorization was declined on GitLab; nothing was stored")
	case errors.Is(err, oauth.ErrScope):
		ui.Errorf("the OAuth application of oauth_client_id %q may not ask for %s: tick those scopes in its settings on GitLab; nothing was stored", clientID, strings.Join(oauth.Scopes, " and "))
	case errors.Is(err, oauth.ErrExpired) && device:
		ui.Errorf("the code expired before it was confirmed on GitLab; nothing was stored: run %s again", lifecycle.Login(host, "", true))
	case errors.Is(err, oauth.ErrExpired):
		ui.Errorf("the browser did not come back from GitLab within %s; nothing was stored (if GitLab showed an error about the redirect URI, register %s in the application's settings)", oauth.BrowserWait, oauth.RedirectURI)
	default:
		ui.Errorf("login --oauth to %s: %s; nothing was stored", host, explain(err))
	}
}

// openBrowser opens url in the person's browser: $BROWSER when set (the
// convention xdg-open and Python's webbrowser follow: a command that takes
// the URL), else the desktop's.
func openBrowser(url string) error {
	if b := os.Getenv("BROWSER"); b != "" {
		cmd := exec.Command(strings.Split(b, string(os.PathListSeparator))[0], url)
		if err := cmd.Start(); err != nil {
			return err
		}
		go cmd.Wait()
		return nil
	}
	return tty.OpenBrowser(url)
}
