package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/schedule"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// writeLogin writes what login stored, and how the token will rotate;
// set are the token's settings; due: rotation is due now. A token that cannot rotate itself gets a
// warning.
func writeLogin(w io.Writer, ui *tty.UI, res *account.LoginResult, set lifecycle.Settings, due bool, configPath string) {
	name, t := res.Record.Host, res.Record.Token
	host := hostarg.Format(res.Record.Protocol, name)
	exp := "never"
	if t.ExpiresAt != "" {
		exp = t.ExpiresAt + " (00:00 UTC)"
	}
	fmt.Fprintf(w, "Logged in to %s as %s\n", host, res.Record.Username)
	if res.UsernameFrom == "default" {
		// Least-privilege tokens may not read GET /user; over HTTPS GitLab
		// takes any username with a token.
		fmt.Fprintf(w, "  username oauth2: no --username, no username in the config, and the token may not read\n"+
			"           its user (GET /user needs read_user, read_api or api); GitLab accepts any username\n"+
			"           with a token. To name the account: login %s --username U, or username = \"U\"\n"+
			"           under [hosts.%q] in the config\n", host, name)
	}
	if res.APIURLWritten {
		fmt.Fprintf(w, "  api url  %s, now api_url under [hosts.%q] in %s (rotations use it)\n", t.APIURL, name, configPath)
	}
	if res.CAFileWritten {
		fmt.Fprintf(w, "  ca file  now ca_file under [hosts.%q] in %s (rotations trust it too)\n", name, configPath)
	}
	if res.HostAdded {
		fmt.Fprintf(w, "  config   [hosts.%q] added to %s: a token for %s typed at git's prompt is managed too\n", name, configPath, host)
	}
	if res.HostNotAdded != nil {
		ui.Warningf("cannot add [hosts.%q] to the config: %v; a token for %s with a prefix of its instance's own, typed at git's prompt, is stored unmanaged until the config names the host", name, res.HostNotAdded, host)
	}
	fmt.Fprintf(w, "  token    %s (id %d)\n", t.Name, t.ID)
	if t.Kind != "" && t.Kind != "personal" {
		fmt.Fprintf(w, "  kind     %s access token of %s %d (rotates through its own endpoint)\n", t.Kind, t.Kind, t.OwnerID)
	}
	fmt.Fprintf(w, "  scopes   %s\n", strings.Join(t.Scopes, ", "))
	switch {
	case t.GitUnusable():
		ui.Warningf("this token is stored, but %s; create one with read_repository and write_repository", lifecycle.NoGitAccess(t.Scopes))
	case !t.CanPush():
		fmt.Fprintf(w, "  git      fetch only: a push gets 403 (the token lacks write_repository)\n")
	}
	fmt.Fprintf(w, "  expires  %s\n", exp)
	switch {
	case res.CanRotate && due && set.AutoRotate:
		fmt.Fprintf(w, "  rotation due now (less than %s left): the next git command that uses it rotates it, or run git-credential-glpat rotate %s\n", config.Duration(set.RotateBefore), host)
	case res.CanRotate && due:
		fmt.Fprintf(w, "  rotation due now (less than %s left), and auto_rotate is off: run git-credential-glpat rotate %s\n", config.Duration(set.RotateBefore), host)
	case res.CanRotate && set.AutoRotate:
		fmt.Fprintf(w, "  rotation automatic, %s before expiry\n", config.Duration(set.RotateBefore))
	case res.CanRotate:
		fmt.Fprintf(w, "  rotation by git-credential-glpat rotate only (auto_rotate is off), %s before expiry\n", config.Duration(set.RotateBefore))
	default:
		fmt.Fprintf(w, "  rotation not possible: the token needs the self_rotate (or api) scope\n")
		ui.Warningf("this token cannot rotate itself; it will stop working on %s", exp)
	}
	writeAnswering(w, ui, res, configPath)
}

// writeAnswering says, when the host has several accounts, which one git
// gets for what; and warns when this login took over the requests another
// account answered (the most recently stored answers), with how to choose.
func writeAnswering(w io.Writer, ui *tty.UI, res *account.LoginResult, configPath string) {
	if len(res.Accounts) < 2 {
		return
	}
	name := res.Record.Host
	host := hostarg.Format(res.Record.Protocol, name)
	names := make([]string, len(res.Accounts))
	for i, a := range res.Accounts {
		names[i] = a.Username
	}
	fmt.Fprintf(w, "  accounts %s\n", strings.Join(names, ", "))
	every := "every URL"
	for _, a := range res.Accounts {
		if len(a.Paths) > 0 {
			every = "every other URL"
		}
	}
	for _, a := range res.Accounts {
		var line string
		switch {
		case a.Username == res.Answering && res.ByConfig:
			line = a.Username + " answers " + every + " that names no account (the config's username)"
		case a.Username == res.Answering:
			line = a.Username + " answers " + every + " that names no account (the most recently stored)"
		case len(a.Paths) > 0:
			line = a.Username + " answers the repositories under " + strings.Join(a.Paths, ", ") + " (paths in the config) and URLs that name it"
		default:
			line = fmt.Sprintf("%s answers only URLs that name it: %s://%s@%s/…", a.Username, res.Record.Protocol, a.Username, name)
		}
		fmt.Fprintf(w, "           %s\n", line)
	}
	if res.Answered == "" || res.Answered == res.Answering || res.Answering != res.Record.Username {
		return
	}
	ui.Warningf("%s now answers git for %s in place of %s: where the URL names no account, the most recently stored account answers", res.Answering, host, res.Answered)
	ui.Hintf("to keep %s: username = %q under [hosts.%q] in %s; to give %s only some repositories: paths under [[hosts.%q.accounts]], then git-credential-glpat setup %s; or log in again with --username to store the token under another account",
		res.Answered, res.Answered, name, configPath, res.Answering, name, host)
}

// needYesError: logout --revoke would revoke several tokens, and there is
// no terminal to ask at.
type needYesError struct{ Live []string }

func (e *needYesError) Error() string {
	return fmt.Sprintf("--revoke would revoke %d tokens on GitLab (%s); add --yes to revoke them all, or --username U for one", len(e.Live), strings.Join(e.Live, "; "))
}

// confirmRevoke asks before logout revokes the tokens of recs, when they
// are more than one live token: at a terminal (stdin) it lists them and
// asks; elsewhere it returns a *needYesError. ok is false when the person
// said no; tty.ErrCancelled when they ended the input.
func confirmRevoke(ui *tty.UI, stdin io.Reader, recs []store.Record) (ok bool, err error) {
	var live []string
	for _, r := range recs {
		if r.Token != nil && r.Token.Dead == "" {
			live = append(live, fmt.Sprintf("%s (%s): token %q, id %d", hostarg.Format(r.Protocol, r.Host), r.Username, r.Token.Name, r.Token.ID))
		}
		if r.OAuth != nil && r.OAuth.Dead == "" {
			live = append(live, fmt.Sprintf("%s (%s): OAuth login", hostarg.Format(r.Protocol, r.Host), r.Username))
		}
	}
	if len(live) < 2 {
		return true, nil
	}
	f, ok := tty.Terminal(stdin)
	if !ok {
		return false, &needYesError{Live: live}
	}
	fmt.Fprintf(ui.W, "This revokes %d tokens on GitLab, for good:\n", len(live))
	for _, l := range live {
		fmt.Fprintf(ui.W, "    %s\n", l)
	}
	fmt.Fprint(ui.W, "Revoke them all? [y/N] ")
	line, err := bufio.NewReader(io.LimitReader(f, 1024)).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(ui.W)
		return false, tty.ErrCancelled
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// rotateFailed counts the results that need a person.
func rotateFailed(results []account.RotateResult) int {
	failed := 0
	for _, r := range results {
		if r.NeedsPerson() {
			failed++
		}
	}
	return failed
}

// rotateWidth keeps each of rotate's outcome lines whole: the daily job's
// log is read by grep as much as by people.
const rotateWidth = 1 << 20

// writeRotate writes rotate's results for host ("" for every host); err
// is what stopped rotate, if anything.
func writeRotate(w io.Writer, results []account.RotateResult, host string, asJSON bool, err error) {
	if asJSON {
		if results == nil {
			results = []account.RotateResult{}
		}
		writeJSON(w, results)
		return
	}
	for _, r := range results {
		who := hostarg.Format(r.Protocol, r.Host)
		switch {
		case r.Outcome == account.OutcomeRotated:
			fmt.Fprintf(w, "%s (%s): rotated; the new token expires %s\n", who, r.Username, r.ExpiresAt)
		case r.Outcome == account.OutcomeRefreshed:
			fmt.Fprintf(w, "%s (%s): refreshed; the new OAuth access token expires %s\n", who, r.Username, r.ExpiresAt)
		case r.Outcome == account.OutcomeNotDue:
			fmt.Fprintf(w, "%s (%s): not due (expires %s): %s\n", who, r.Username, r.ExpiresAt, r.Reason)
		case r.Outcome == account.OutcomeUnknown:
			writeWrapped(w, fmt.Sprintf("%s (%s): outcome not known: %s", who, r.Username, r.Reason), rotateWidth)
		case r.Reason != "":
			writeWrapped(w, fmt.Sprintf("%s (%s): %s: %s", who, r.Username, r.Outcome, r.Reason), rotateWidth)
		default:
			fmt.Fprintf(w, "%s (%s): %s\n", who, r.Username, r.Outcome)
		}
	}
	if len(results) == 0 && err == nil {
		if host != "" {
			host = " for " + host
		}
		fmt.Fprintln(w, "no GitLab tokens stored"+host)
	}
}

// statusReport is what status shows.
type statusReport struct {
	Host    string // "" for every host
	Entries []account.Entry
	Records []store.Record // every stored credential, to name the other hosts
	// NeedAction counts the entries that need a person, and a backend
	// that cannot be read.
	NeedAction int
	// Secrets describes the backend; SecretsState says whether it answers.
	Secrets, SecretsState string
	StateDir              string
	Schedule              string    // the scheduled rotation's line, if known
	Now                   time.Time // the time the table speaks from
	// Width is the width to fit: the terminal's, else statusWidth.
	Width int
}

// needAction counts the entries that need a person: those whose level
// is a warning or more (lifecycle.Describe).
func needAction(entries []account.Entry) int {
	n := 0
	for _, en := range entries {
		if en.Level >= lifecycle.Warning {
			n++
		}
	}
	return n
}

// writeStatusReport writes status's output: JSON, or the table and the
// lines under it.
func writeStatusReport(w io.Writer, r statusReport, asJSON bool) {
	if asJSON {
		if r.Entries == nil {
			r.Entries = []account.Entry{}
		}
		writeJSON(w, r.Entries)
		return
	}
	var elsewhere []string
	if len(r.Entries) == 0 && r.Host != "" {
		elsewhere = storedHosts(r.Records)
	}
	width := r.Width
	if width <= 0 {
		width = statusWidth
	}
	if len(elsewhere) > 0 {
		writeWrapped(w, fmt.Sprintf("Nothing is stored for %s; git-credential-glpat status shows the credentials stored for %s.", r.Host, strings.Join(elsewhere, ", ")), width)
	} else {
		writeStatus(w, r.Entries, r.Now, width)
	}
	switch r.NeedAction {
	case 0:
		fmt.Fprintf(w, "\n%s stored; nothing needs action\n", termtext.Plural(len(r.Entries), "credential"))
	case 1:
		fmt.Fprintf(w, "\n%s stored; 1 problem needs action\n", termtext.Plural(len(r.Entries), "credential"))
	default:
		fmt.Fprintf(w, "\n%s stored; %d problems need action\n", termtext.Plural(len(r.Entries), "credential"), r.NeedAction)
	}
	writeWrapped(w, fmt.Sprintf("secrets: %s: %s", r.Secrets, r.SecretsState), width)
	writeWrapped(w, "state:   "+r.StateDir, width)
	if r.Schedule != "" {
		writeWrapped(w, r.Schedule, width)
	}
}

// storedHosts lists the hosts that have credentials stored, for a status
// of a host that has none, as every command prints and takes them
// (hostarg.Format).
func storedHosts(recs []store.Record) []string {
	var hosts []string
	seen := map[string]bool{}
	for _, r := range recs {
		h := hostarg.Format(r.Protocol, r.Host)
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeSchedule writes what schedule install or remove (verb "wrote" or
// "removed") did: "ran" a command that succeeded, "tried" one that
// failed. inactive: an install that left nothing scheduled; left: a
// remove that may have left the job scheduled.
func writeSchedule(w io.Writer, ui *tty.UI, res *schedule.Result, verb string, inactive, left bool) {
	for _, f := range res.Files {
		fmt.Fprintf(w, "%s %s\n", verb, f)
	}
	for i, c := range res.Commands {
		if i < len(res.Failed) && res.Failed[i] {
			fmt.Fprintf(w, "tried %s\n", c)
		} else {
			fmt.Fprintf(w, "ran %s\n", c)
		}
	}
	if inactive {
		ui.Errorf("scheduled rotation is not active: the %s scheduler did not take the job", res.Scheduler)
	}
	if left {
		ui.Errorf("scheduled rotation may still run: the %s scheduler did not drop the job", res.Scheduler)
	}
	for _, n := range res.Notes {
		ui.Hintf("%s", n)
	}
}

// oneHost is the optional HOST argument of a command (hostarg.Parse): def
// when absent.
func oneHost(cmd string, pos []string, def hostarg.Host, ui *tty.UI) (hostarg.Host, bool) {
	switch {
	case len(pos) > 1:
		argError(ui, cmd, "unexpected argument %q (%s takes one HOST)", pos[1], cmd)
		return hostarg.Host{}, false
	case len(pos) == 1:
		h, err := hostarg.Parse(pos[0])
		if err != nil {
			argError(ui, cmd, "%v", err)
			return hostarg.Host{}, false
		}
		return h, true
	}
	return def, true
}

// apiURLHint says how to point login at the host's API, when what answers
// at apiURL is not GitLab's API; its examples keep apiURL's scheme.
func apiURLHint(ui *tty.UI, host, apiURL, configPath string) {
	scheme := "https"
	if u, err := url.Parse(apiURL); err == nil && u.Scheme == "http" {
		scheme = "http"
	}
	ui.Hintf("if GitLab is served under a path (such as %s://%s/gitlab), pass --api-url URL (like %s://%s/gitlab/api/v4), or set api_url under [hosts.%q] in %s", scheme, host, scheme, host, host, configPath)
}

// reachHint says what to do about err, a login that did not reach GitLab's
// API (*account.ReachError), in one line; other errors get none.
func reachHint(ui *tty.UI, host hostarg.Host, err error, configPath string) {
	var re *account.ReachError
	if !errors.As(err, &re) {
		return
	}
	u, _ := url.Parse(re.APIURL)
	switch re.Failure {
	case gitlabapi.NoDNS:
		ui.Hintf("check the host name (as in git's remote URL) and the network, or the VPN whose DNS knows %s", u.Hostname())
	case gitlabapi.NoRoute:
		ui.Hintf("connect to the network (or VPN) that reaches %s, then run %s again", u.Hostname(), lifecycle.Login(host, "", false))
	case gitlabapi.ConnRefused:
		ui.Hintf("if GitLab answers on another port, pass --api-url URL (like %s://%s:PORT%s)", u.Scheme, u.Hostname(), u.Path)
	case gitlabapi.UnknownAuthority:
		ui.Hintf("if %s's certificate comes from your organisation's own CA, pass --ca-file FILE with that CA's PEM certificate (written as ca_file under [hosts.%q] in %s)", u.Host, host.Name, configPath)
	case gitlabapi.BadCertificate:
		ui.Hintf("check the host name (as in git's remote URL); a certificate that is expired or for other names is fixed on the server, by its administrator")
	case gitlabapi.PlainHTTP:
		ui.Hintf("for a GitLab that serves plain http (a local test instance: the token travels unencrypted), pass --api-url http://%s%s", u.Host, u.Path)
	case gitlabapi.TLSFailure:
		ui.Hintf("check that %s serves https on that port, or pass --api-url URL with the address GitLab answers at", u.Host)
	case gitlabapi.TimedOut:
		ui.Hintf("check the network and any proxy (HTTPS_PROXY, NO_PROXY), then run %s again", lifecycle.Login(host, "", false))
	default:
		apiURLHint(ui, host.Name, re.APIURL, configPath)
	}
}

// noKeychainHelp says what there is when no OS keychain answers.
const noKeychainHelp = `
There is no OS keychain to store the token in. Move to another backend, then
log in again:
    git-credential-glpat init && git-credential-glpat migrate --to encrypted-file
                                 encrypted at rest; "git-credential-glpat unlock"
                                 once per boot
    git-credential-glpat migrate --to kernel
                                 the kernel keyring: never on disk, lost at reboot
or start a session with a Secret Service (e.g. gnome-keyring) and D-Bus for
the desktop keychain.
`

// writeLogout says what logout did with each credential it removed.
func writeLogout(w io.Writer, removed []account.Removed) {
	for _, r := range removed {
		switch {
		case r.RevokedRecovered:
			fmt.Fprintf(w, "revoked and forgot the credential of %s on %s (with the new token a rotation left in a recovery file)\n", r.Username, hostarg.Format(r.Protocol, r.Host))
		case r.Revoked:
			fmt.Fprintf(w, "revoked and forgot the credential of %s on %s\n", r.Username, hostarg.Format(r.Protocol, r.Host))
		case r.NotSent:
			fmt.Fprintf(w, "forgot the credential of %s on %s (not sent to GitLab: %s)\n", r.Username, hostarg.Format(r.Protocol, r.Host), r.Dead.Problem)
		case r.Dead.Label != "":
			fmt.Fprintf(w, "forgot the credential of %s on %s (GitLab says it was already %s)\n", r.Username, hostarg.Format(r.Protocol, r.Host), r.Dead.Label)
		default:
			fmt.Fprintf(w, "forgot the credential of %s on %s\n", r.Username, hostarg.Format(r.Protocol, r.Host))
		}
		if r.Successor != "" {
			fmt.Fprintf(w, "%s now answers git for %s where the URL names no account\n", r.Successor, hostarg.Format(r.Protocol, r.Host))
		}
	}
}
