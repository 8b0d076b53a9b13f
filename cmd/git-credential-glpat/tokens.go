package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
)

// flags is a command's flag set: -h prints the command's usage to stdout
// (exit 0); a flag error is one line naming the flag, and the nearest
// flag when one is close (exit 2), instead of Go's message and the usage.
type flags struct {
	*flag.FlagSet
	usage string
	ui    *ui
}

func newFlags(name, usage string, ui *ui) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, usage: usage, ui: ui}
}

// parse parses flags that may come before or after positional arguments,
// as people type them.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, err
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// exit reports a parse error and returns the exit status: 0 for -h, 2
// otherwise.
func (f *flags) exit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(f.ui.out, f.usage)
		return 0
	}
	f.ui.errorf("%s", f.explain(err))
	return 2
}

// explain rewrites the flag package's messages into one line.
func (f *flags) explain(err error) string {
	msg := err.Error()
	cmd := f.Name()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		if near := f.nearest(name); near != "" {
			return fmt.Sprintf("%s: unknown flag --%s (did you mean --%s?)", cmd, name, near)
		}
		return fmt.Sprintf("%s: unknown flag --%s (git-credential-glpat %s -h lists its flags)", cmd, name, cmd)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Sprintf("%s: --%s needs a value", cmd, strings.TrimLeft(name, "-"))
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		// invalid value "x" for flag -name: reason
		if _, reason, ok := strings.Cut(rest, ": "); ok && strings.HasPrefix(reason, "--") {
			return cmd + ": " + reason
		}
	}
	return cmd + ": " + strings.ReplaceAll(msg, " -", " --")
}

// nearest is the defined flag closest to a mistyped one, if any is close.
func (f *flags) nearest(name string) string {
	best, bestD := "", 3
	if len(name) <= 3 {
		bestD = 2
	}
	f.VisitAll(func(fl *flag.Flag) {
		if d := completion.EditDistance(strings.ToLower(name), fl.Name); d < bestD || (d == bestD && best == "" && strings.HasPrefix(fl.Name, name)) {
			best, bestD = fl.Name, d
		}
	})
	if best == "" {
		f.VisitAll(func(fl *flag.Flag) {
			if best == "" && len(name) >= 2 && strings.HasPrefix(fl.Name, name) {
				best = fl.Name
			}
		})
	}
	return best
}

// oneHost is the optional HOST argument of a command: def when absent.
func oneHost(cmd string, pos []string, def string, ui *ui) (string, bool) {
	switch {
	case len(pos) > 1:
		ui.errorf("%s takes one HOST, got %d", cmd, len(pos))
		return "", false
	case len(pos) == 1:
		if err := account.ValidateHost(pos[0]); err != nil {
			ui.errorf("%v", err)
			return "", false
		}
		return pos[0], true
	}
	return def, true
}

// service opens the store and config for an interactive command.
// The caller closes the session.
func service(ui *ui) (*account.Service, *session.Session, bool) {
	s, err := openSession(true, ui)
	if err != nil {
		ui.errorf("%v", err)
		return nil, nil, false
	}
	svc, err := s.Accounts()
	if err != nil {
		s.Close()
		ui.errorf("%v", err)
		return nil, nil, false
	}
	return svc, s, true
}

func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func runLogin(c *call) int {
	args, stdin, stdout, ui := c.args, c.stdin, c.stdout, c.ui
	fs := newFlags("login", c.usage(), ui)
	username := fs.String("username", "", "")
	tokenStdin := fs.Bool("token-stdin", false, "")
	apiURL := fs.String("api-url", "", "")
	createURL := fs.Bool("create-url", false, "")
	web := fs.Bool("web", false, "")
	pos, err := fs.parse(args)
	if err != nil {
		return fs.exit(err)
	}
	host, ok := oneHost("login", pos, account.DefaultHost, ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	create := svc.CreateTokenURL(host, svc.APIURL(host, *apiURL))
	if *createURL {
		fmt.Fprintln(stdout, create)
		return 0
	}
	var token string
	var choose func([]string, string) (string, error)
	f, isFile := stdin.(*os.File)
	atTerminal := !*tokenStdin && isFile && term.IsTerminal(int(f.Fd()))
	if *web && !atTerminal {
		ui.errorf("login --web waits at a hidden prompt for the token, and stdin is not a terminal; use --token-stdin")
		return 2
	}
	if atTerminal {
		// Before a person creates and pastes a token: is the API there?
		ctx, cancel := interruptible()
		stop := progress(ui, "looking for GitLab's API at "+svc.APIURL(host, *apiURL))
		err := svc.CheckAPI(ctx, host, *apiURL)
		stop()
		cancel()
		if err != nil {
			ui.errorf("%v", err)
			apiURLHint(ui, host)
			return 1
		}
		if *web {
			if openBrowser(create) == nil {
				fmt.Fprintf(ui.w, "Opened the page that creates a token with the scopes %s:\n    %s\n",
					strings.Join(account.LeastPrivilegeScopes, ", "), create)
			} else {
				fmt.Fprintf(ui.w, "No browser found; open this page to create a token with the scopes %s:\n    %s\n",
					strings.Join(account.LeastPrivilegeScopes, ", "), create)
			}
		} else {
			fmt.Fprintf(ui.w, "Create a token with the scopes %s at\n    %s\n",
				strings.Join(account.LeastPrivilegeScopes, ", "), create)
		}
		b, err := readHidden(f, ui.w, fmt.Sprintf("Token for %s (input is hidden): ", host))
		fmt.Fprintln(ui.w)
		if code, stop := promptEnded(err, ui); stop {
			return code
		}
		if err != nil {
			ui.errorf("reading the token: %v", err)
			return 1
		}
		token = b
		choose = func(accounts []string, def string) (string, error) {
			return askAccount(f, ui, host, accounts, def)
		}
	} else {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			ui.errorf("reading the token from stdin: %v", err)
			return 1
		}
		token = line
	}
	ctx, cancel := interruptible()
	defer cancel()
	stop := progress(ui, "checking the token with "+host)
	res, err := svc.Login(ctx, account.LoginOptions{Host: host, Username: *username, APIURL: *apiURL, Token: token, Choose: choose})
	stop()
	if err != nil {
		ui.errorf("%s", explain(err))
		switch {
		case strings.Contains(err.Error(), "does not accept"):
			ui.hintf("create a token at %s", create)
		case errors.Is(err, gitlabapi.ErrUnreachable), errors.Is(err, gitlabapi.ErrBadAnswer), errors.Is(err, gitlabapi.ErrServer):
			apiURLHint(ui, host)
		case errors.Is(err, secrets.ErrUnavailable) && e.Kind == config.BackendKeyring:
			// No desktop keychain here (SSH, WSL, a build host): say
			// what else there is; nothing falls back on its own.
			fmt.Fprint(ui.w, noKeychainHelp)
		}
		return 1
	}
	t := res.Record.Token
	exp := "never"
	if t.ExpiresAt != "" {
		exp = t.ExpiresAt + " (00:00 UTC)"
	}
	fmt.Fprintf(stdout, "Logged in to %s as %s\n", host, res.Record.Username)
	if res.UsernameFrom == "default" {
		// Least-privilege tokens may not read GET /user; over HTTPS GitLab
		// takes any username with a token.
		fmt.Fprintf(stdout, "  username oauth2: no --username, no username in the config, and the token may not read\n"+
			"           its user (GET /user needs read_user, read_api or api); GitLab accepts any username\n"+
			"           with a token. To name the account: login %s --username U, or username = \"U\"\n"+
			"           under [hosts.%q] in the config\n", host, host)
	}
	if res.APIURLWritten {
		fmt.Fprintf(stdout, "  api url  %s, now api_url under [hosts.%q] in %s (rotations use it)\n", t.APIURL, host, e.ConfigPath)
	}
	fmt.Fprintf(stdout, "  token    %s (id %d)\n", t.Name, t.ID)
	if t.Kind != "" && t.Kind != "personal" {
		fmt.Fprintf(stdout, "  kind     %s access token of %s %d (rotates through its own endpoint)\n", t.Kind, t.Kind, t.OwnerID)
	}
	fmt.Fprintf(stdout, "  scopes   %s\n", strings.Join(t.Scopes, ", "))
	fmt.Fprintf(stdout, "  expires  %s\n", exp)
	set := svc.Lifecycle.SettingsFor(res.Record)
	switch {
	case res.CanRotate && lifecycle.Due(res.Record, set, time.Now()) && set.AutoRotate:
		fmt.Fprintf(stdout, "  rotation due now (less than %s left): the next git command that uses it rotates it, or run git-credential-glpat rotate %s\n", config.Duration(set.RotateBefore), host)
	case res.CanRotate && lifecycle.Due(res.Record, set, time.Now()):
		fmt.Fprintf(stdout, "  rotation due now (less than %s left), and auto_rotate is off: run git-credential-glpat rotate %s\n", config.Duration(set.RotateBefore), host)
	case res.CanRotate && set.AutoRotate:
		fmt.Fprintf(stdout, "  rotation automatic, %s before expiry\n", config.Duration(set.RotateBefore))
	case res.CanRotate:
		fmt.Fprintf(stdout, "  rotation by git-credential-glpat rotate only (auto_rotate is off), %s before expiry\n", config.Duration(set.RotateBefore))
	default:
		fmt.Fprintf(stdout, "  rotation not possible: the token needs the self_rotate (or api) scope\n")
		ui.warningf("this token cannot rotate itself; it will stop working on %s", exp)
	}
	return 0
}

// askAccount asks the person at the terminal f which of the host's
// accounts a new token is for; an empty answer takes def.
func askAccount(f *os.File, ui *ui, host string, accounts []string, def string) (string, error) {
	fmt.Fprintf(ui.w, "Accounts on %s: %s\n", host, strings.Join(accounts, ", "))
	if def != "" {
		fmt.Fprintf(ui.w, "Store the token under which account (a new name adds one)? [%s] ", def)
	} else {
		fmt.Fprintf(ui.w, "Store the token under which account (a new name adds one)? ")
	}
	line, err := bufio.NewReader(io.LimitReader(f, 1024)).ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", errCancelled
	}
	name := strings.TrimSpace(line)
	if name == "" {
		return def, nil
	}
	if strings.ContainsAny(name, " \t/@:") {
		return "", fmt.Errorf("%q is not a username", name)
	}
	return name, nil
}

// apiURLHint says how to point login at the host's API.
func apiURLHint(ui *ui, host string) {
	where := "the config file"
	if p, err := config.ConfigPath(); err == nil {
		where = p
	}
	ui.hintf("if GitLab's API is elsewhere (plain http, or GitLab under a path such as https://%s/gitlab), pass --api-url URL (like https://%s/gitlab/api/v4), or set api_url under [hosts.%q] in %s", host, host, host, where)
}

// openBrowser opens url in the desktop's browser, without waiting for it.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no graphical session")
		}
		cmd = exec.Command("xdg-open", url)
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

// promptEnded reports (stop) whether the person cancelled or interrupted
// at a prompt, with the exit status: nothing was changed, which is all
// there is to say.
func promptEnded(err error, ui *ui) (code int, stop bool) {
	switch {
	case errors.Is(err, errCancelled):
		fmt.Fprintln(ui.w, "git-credential-glpat: cancelled; nothing was changed")
		return 1, true
	case errors.Is(err, errInterrupted):
		fmt.Fprintln(ui.w, "git-credential-glpat: interrupted; nothing was changed")
		return 130, true
	}
	return 0, false
}

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

func runLogout(c *call) int {
	args, stdin, stdout, ui := c.args, c.stdin, c.stdout, c.ui
	fs := newFlags("logout", c.usage(), ui)
	username := fs.String("username", "", "")
	revoke := fs.Bool("revoke", false, "")
	yes := fs.Bool("yes", false, "")
	pos, err := fs.parse(args)
	if err != nil {
		return fs.exit(err)
	}
	host, ok := oneHost("logout", pos, account.DefaultHost, ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	if *revoke && !*yes {
		if code, stop := confirmRevoke(svc, host, *username, stdin, ui); stop {
			return code
		}
	}
	ctx, cancel := interruptible()
	defer cancel()
	stop := progress(ui, "revoking")
	removed, err := svc.Logout(ctx, host, *username, *revoke)
	stop()
	for _, r := range removed {
		verb := "forgot"
		if *revoke && r.Token != nil {
			verb = "revoked and forgot"
		}
		fmt.Fprintf(stdout, "%s the credential of %s on %s\n", verb, r.Username, r.Host)
	}
	if err != nil {
		ui.errorf("%s", explain(err))
		return 1
	}
	if len(removed) == 0 {
		ui.warningf("nothing is stored for %s", host)
	}
	return 0
}

// confirmRevoke asks before logout revokes more than one token: at a
// terminal it lists them and asks; elsewhere it wants --yes. stop is true
// when logout must not go on.
func confirmRevoke(svc *account.Service, host, username string, stdin io.Reader, ui *ui) (code int, stop bool) {
	recs, err := svc.LogoutPlan(host, username)
	if err != nil {
		return 0, false // Logout reports it
	}
	var live []string
	for _, r := range recs {
		if r.Token != nil && r.Token.Dead == "" {
			live = append(live, fmt.Sprintf("%s (%s): token %q, id %d", r.Host, r.Username, r.Token.Name, r.Token.ID))
		}
	}
	if len(live) < 2 {
		return 0, false
	}
	f, isFile := stdin.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		ui.errorf("logout --revoke would revoke %d tokens on GitLab (%s); add --yes to revoke them all, or --username U for one", len(live), strings.Join(live, "; "))
		return 2, true
	}
	fmt.Fprintf(ui.w, "This revokes %d tokens on GitLab, for good:\n", len(live))
	for _, l := range live {
		fmt.Fprintf(ui.w, "    %s\n", l)
	}
	fmt.Fprint(ui.w, "Revoke them all? [y/N] ")
	line, err := bufio.NewReader(io.LimitReader(f, 1024)).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(ui.w)
		return promptEnded(errCancelled, ui)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return 0, false
	}
	fmt.Fprintln(ui.w, "git-credential-glpat: nothing was revoked or forgotten")
	return 1, true
}

func runStatus(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := newFlags("status", c.usage(), ui)
	asJSON := fs.Bool("json", false, "")
	offline := fs.Bool("offline", false, "")
	pos, err := fs.parse(args)
	if err != nil {
		return fs.exit(err)
	}
	host, ok := oneHost("status", pos, "", ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	ctx, cancel := interruptible()
	defer cancel()
	// A backend that cannot be read is the first thing to say: every row
	// would look fine while git gets nothing.
	cctx, ccancel := context.WithTimeout(ctx, backendCheckTimeout)
	backendErr := backend.Check(cctx, e.Store.Secrets)
	ccancel()
	stop := progress(ui, "asking GitLab about the stored tokens")
	// Unreadable secrets cannot be shown to GitLab either.
	entries, err := svc.Status(ctx, host, *offline || backendErr != nil)
	stop()
	if err != nil {
		ui.warningf("%v", err)
	}
	needAction := 0
	if backendErr != nil {
		needAction++
	}
	for _, en := range entries {
		if en.Problem != "" || en.State == "expired" || en.State == "revoked" {
			needAction++
		}
	}
	if *asJSON {
		if entries == nil {
			entries = []account.Entry{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(entries)
	} else {
		var elsewhere []string
		if len(entries) == 0 && host != "" {
			elsewhere = storedHosts(e)
		}
		if len(elsewhere) > 0 {
			fmt.Fprintf(stdout, "Nothing is stored for %s; credentials are stored for %s (git-credential-glpat status shows them).\n", host, strings.Join(elsewhere, ", "))
		} else {
			printStatus(stdout, entries, e, svc.Now)
		}
		fmt.Fprintf(stdout, "\n%d credential(s), %d need action\n", len(entries), needAction)
		fmt.Fprintf(stdout, "secrets: %s: %s\nstate:   %s\n", backend.Describe(e.Store.Secrets), backendState(e, backendErr), e.StateDir)
		if line := scheduleLine(ctx); line != "" {
			fmt.Fprintln(stdout, line)
		}
	}
	if needAction > 0 {
		return 1
	}
	return 0
}

// backendCheckTimeout bounds status's check that the secrets can be read.
const backendCheckTimeout = 10 * time.Second

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
	return "cannot be read, so git gets no credentials: " + explain(err)
}

// storedHosts lists the hosts that have credentials stored, for a status
// of a host that has none.
func storedHosts(e *session.Session) []string {
	recs, _ := e.Store.List()
	var hosts []string
	for _, r := range recs {
		h := r.Host
		if r.Protocol != "https" {
			h = r.Protocol + "://" + h
		}
		if len(hosts) == 0 || hosts[len(hosts)-1] != h {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

func printStatus(w io.Writer, entries []account.Entry, e *session.Session, now func() time.Time) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "No credentials stored. Run git-credential-glpat login [HOST] to add a GitLab token.")
		return
	}
	t := time.Now()
	if now != nil {
		t = now()
	}
	// A wide column last: it is the one cut to fit.
	rows := [][]string{{"HOST", "USER", "TOKEN", "EXPIRES", "STATE", "LAST USED", "SCOPES"}}
	type long struct{ exp, used, scopes string }
	var longs []long
	for _, en := range entries {
		name, scopes, exp, used := "-", "-", "-", "-"
		l := long{"-", "-", "-"}
		if en.Managed {
			name = en.TokenName
			scopes = strings.Join(en.Scopes, ",")
			l.scopes = strings.Join(shortScopes(en.Scopes), ",")
		}
		if en.Expiry != nil {
			exp = en.Expiry.Format(time.DateOnly) + " (" + relative(*en.Expiry, t) + ")"
			l.exp = en.Expiry.Format(time.DateOnly) + " (" + shortRelative(*en.Expiry, t) + ")"
		}
		if en.LastUsedAt != nil {
			used = relative(*en.LastUsedAt, t)
			l.used = used
			if len(en.LastUsedIPs) > 0 {
				used += " from " + strings.Join(en.LastUsedIPs, ", ")
				if len(en.LastUsedIPs) > 1 {
					l.used += fmt.Sprintf(" from %s +%d", en.LastUsedIPs[0], len(en.LastUsedIPs)-1)
				} else {
					l.used += " from " + en.LastUsedIPs[0]
				}
			}
		}
		state := en.State
		if en.RotationDue && en.CanRotate && en.State == "expiring" {
			state = "rotation due"
		}
		host := en.Host
		if en.Protocol != "https" {
			host = en.Protocol + "://" + host
		}
		rows = append(rows, []string{host, en.Username, name, exp, state, used, scopes})
		longs = append(longs, l)
	}
	// Fit statusWidth columns (--json has everything): shorter forms
	// first, then columns that are empty in every row go.
	for step := 0; tableWidth(rows) > statusWidth && step < 3; step++ {
		for i, l := range longs {
			switch step {
			case 0:
				rows[i+1][6] = l.scopes
			case 1:
				rows[i+1][5] = l.used
			case 2:
				rows[i+1][3] = l.exp
			}
		}
	}
	rows, stateCol := dropEmptyColumns(rows, 4)
	// Then the scopes go (a token that cannot rotate itself says so in
	// its problem line), then long cells are cut.
	if col := slices.Index(rows[0], "SCOPES"); col >= 0 && tableWidth(rows) > statusWidth {
		for i := range rows {
			rows[i] = slices.Delete(rows[i], col, col+1)
		}
	}
	for _, name := range []string{"TOKEN", "USER", "LAST USED"} {
		over := tableWidth(rows) - statusWidth
		col := slices.Index(rows[0], name)
		if over <= 0 || col < 0 {
			continue
		}
		for _, r := range rows[1:] {
			r[col] = cut(r[col], max(10, columnWidth(rows, col)-over))
		}
	}
	writeTable(w, rows, stateCol, colorFor(w))
	for _, en := range entries {
		if en.Problem != "" {
			writeWrapped(w, fmt.Sprintf("%s (%s): %s", en.Host, en.Username, en.Problem))
		}
		if en.APIError != "" {
			writeWrapped(w, fmt.Sprintf("%s (%s): could not ask GitLab: %s", en.Host, en.Username, en.APIError))
		}
	}
}

// writeWrapped writes a sentence that is too long for statusWidth columns
// one clause (up to "; ") a line, the rest indented: commands and paths
// stay whole, to copy.
func writeWrapped(w io.Writer, s string) {
	if utf8.RuneCountInString(s) <= statusWidth {
		fmt.Fprintln(w, s)
		return
	}
	for i, l := range strings.SplitAfter(s, "; ") {
		if i > 0 {
			l = "    " + l
		}
		fmt.Fprintln(w, strings.TrimRight(l, " "))
	}
}

// shortRelative is relative in few columns: "11d", "5h", "3d ago".
func shortRelative(t, now time.Time) string {
	d := t.Sub(now)
	suffix := ""
	if d < 0 {
		d, suffix = -d, " ago"
	}
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm%s", int(d.Minutes()), suffix)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%s", int(d.Hours()), suffix)
	}
	return fmt.Sprintf("%dd%s", int(d.Hours()/24), suffix)
}

// statusWidth is the width status's table fits in.
const statusWidth = 100

// shortScopes abbreviates GitLab's long scope names for the table.
func shortScopes(scopes []string) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		s = strings.TrimSuffix(s, "sitory") // read_repository: read_repo
		out[i] = s
	}
	return out
}

func columnWidth(rows [][]string, col int) int {
	n := 0
	for _, r := range rows {
		n = max(n, utf8.RuneCountInString(r[col]))
	}
	return n
}

func tableWidth(rows [][]string) int {
	n := 0
	for i := range rows[0] {
		n += columnWidth(rows, i) + 2
	}
	return n - 2
}

// dropEmptyColumns removes the columns whose cells are "-" in every row;
// it returns the new index of column keep.
func dropEmptyColumns(rows [][]string, keep int) ([][]string, int) {
	var cols []int
	newKeep := keep
	for c := range rows[0] {
		empty := c != keep && len(rows) > 1
		for _, r := range rows[1:] {
			if r[c] != "-" {
				empty = false
			}
		}
		if empty {
			if c < keep {
				newKeep--
			}
			continue
		}
		cols = append(cols, c)
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, c := range cols {
			out[i] = append(out[i], r[c])
		}
	}
	return out, newKeep
}

// cut shortens s to n runes, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// writeTable aligns rows in columns two spaces apart. When color is on, the
// cells of column colorCol are coloured by their state after padding, so
// escape sequences do not disturb the alignment.
func writeTable(w io.Writer, rows [][]string, colorCol int, color bool) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for ri, r := range rows {
		var b strings.Builder
		for i, c := range r {
			cell := c
			if i < len(r)-1 {
				cell += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2)
			}
			if color && ri > 0 && i == colorCol {
				cell = paint(c, cell)
			}
			b.WriteString(cell)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// colorFor reports whether w gets colour: a terminal, and NO_COLOR unset
// (https://no-color.org).
func colorFor(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && term.IsTerminal(int(f.Fd()))
}

func paint(state, cell string) string {
	code := ""
	switch state {
	case "ok":
		code = "32" // green
	case "rotation due", "expiring", "unverified":
		code = "33" // yellow
	case "expired", "revoked":
		code = "31" // red
	default:
		return cell
	}
	return "\x1b[" + code + "m" + cell + "\x1b[0m"
}

// progress tells a person at a terminal that a network step is under way,
// once it has taken longer than a moment; stop clears the line.
func progress(ui *ui, what string) (stop func()) {
	f, ok := ui.w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	shown := make(chan bool, 1)
	go func() {
		select {
		case <-done:
			shown <- false
		case <-time.After(400 * time.Millisecond):
			fmt.Fprintf(ui.w, "%s…", what)
			<-done
			shown <- true
		}
	}()
	return func() {
		close(done)
		if <-shown {
			fmt.Fprint(ui.w, "\r\x1b[K")
		}
	}
}

// relative says how far t is from now, like "in 12 days" or "3 days ago".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		s = plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		s = plural(int(d.Hours()), "hour")
	default:
		s = plural(int(d.Hours()/24), "day")
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func runRotate(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := newFlags("rotate", c.usage(), ui)
	all := fs.Bool("all", false, "")
	force := fs.Bool("force", false, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := fs.parse(args)
	if err != nil {
		return fs.exit(err)
	}
	if *all && len(pos) > 0 {
		ui.errorf("give a HOST or --all, not both")
		return 2
	}
	def := account.DefaultHost
	if *all {
		def = ""
	}
	host, ok := oneHost("rotate", pos, def, ui)
	if !ok {
		return 2
	}
	svc, e, ok := service(ui)
	if !ok {
		return 1
	}
	defer e.Close()
	ctx, cancel := interruptible()
	defer cancel()
	stop := progress(ui, "rotating")
	results, err := svc.Rotate(ctx, host, *force)
	stop()
	failed := 0
	for _, r := range results {
		if r.Outcome == "failed" || r.Outcome == "dead" || r.Outcome == account.OutcomeCannotRotate {
			failed++
		}
	}
	if *asJSON {
		if results == nil {
			results = []account.RotateResult{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(results)
	} else {
		for _, r := range results {
			switch r.Outcome {
			case "rotated":
				fmt.Fprintf(stdout, "%s (%s): rotated; the new token expires %s\n", r.Host, r.Username, r.ExpiresAt)
			case "not due":
				fmt.Fprintf(stdout, "%s (%s): not due (expires %s)\n", r.Host, r.Username, r.ExpiresAt)
			default:
				fmt.Fprintf(stdout, "%s (%s): %s\n", r.Host, r.Username, r.Outcome)
			}
		}
		if len(results) == 0 && err == nil {
			fmt.Fprintln(stdout, "no GitLab tokens stored"+forHost(host))
		}
	}
	if err != nil {
		ui.errorf("%s", explain(err))
		return 1
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func forHost(host string) string {
	if host == "" {
		return ""
	}
	return " for " + host
}
