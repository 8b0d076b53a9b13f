package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/schedule"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
)

// checkConfig loads the config file. It returns the defaults when the file
// cannot be used, so that the other checks still run.
func checkConfig(e *Env) (Check, *config.Config) {
	c := Check{Name: "config"}
	path, err := e.ConfigPath()
	if err != nil {
		c.Status, c.Detail = StatusFail, err.Error()
		c.Fix = "set GLPAT_CONFIG to an absolute path, or unset it"
		return c, config.Default()
	}
	if _, err := e.Stat(path); errors.Is(err, fs.ErrNotExist) {
		d := config.Default()
		c.Status = StatusOK
		c.Detail = fmt.Sprintf("no config file at %s; using the defaults (%s)", path, settings(d))
		return c, d
	}
	cfg, err := config.Load(path)
	if err != nil {
		// The check's name already says "config".
		c.Status, c.Detail = StatusFail, strings.TrimPrefix(err.Error(), "config: ")
		var ce *config.Error
		switch {
		case errors.As(err, &ce) && ce.Key != "" && ce.Line > 0:
			c.Fix = fmt.Sprintf("edit %s line %d: correct or remove %s", ce.File, ce.Line, ce.Key)
		case errors.As(err, &ce) && ce.Line > 0:
			c.Fix = fmt.Sprintf("fix the TOML syntax in %s at line %d", ce.File, ce.Line)
		default:
			c.Fix = "make " + path + " a readable TOML file, or remove it to use the defaults"
		}
		c.Fix += "; until then git-credential-glpat rotates with the default settings"
		return c, config.Default()
	}
	hosts := "no hosts"
	if hs := cfg.Hosts(); len(hs) > 0 {
		hosts = termtext.Plural(len(hs), "host") + " (" + strings.Join(hs, ", ") + ")"
	}
	c.Status = StatusOK
	c.Detail = fmt.Sprintf("%s: %s; %s", path, hosts, settings(cfg))
	return c, cfg
}

func settings(c *config.Config) string {
	return fmt.Sprintf("backend %s, rotate_before %s, lifetime %s, auto_rotate %t", c.Backend, c.RotateBefore, c.Lifetime, c.AutoRotate)
}

// platform is what the fix texts for the keychain depend on.
type platform struct {
	goos    string
	wsl     bool // Windows Subsystem for Linux
	ssh     bool // a session over SSH without a display
	display bool // a graphical session (DISPLAY or WAYLAND_DISPLAY)
	uid     int
}

func detectPlatform(e *Env) platform {
	p := platform{goos: e.GOOS, uid: e.Getuid(), display: e.Getenv("DISPLAY") != "" || e.Getenv("WAYLAND_DISPLAY") != ""}
	if p.goos == "linux" {
		// WSL's kernels name themselves "…-microsoft-standard-WSL2" (WSL 2)
		// or "…-Microsoft" (WSL 1)
		// (https://learn.microsoft.com/windows/wsl/troubleshooting).
		if b, err := e.ReadFile("/proc/sys/kernel/osrelease"); err == nil && strings.Contains(strings.ToLower(string(b)), "microsoft") {
			p.wsl = true
		}
	}
	p.ssh = e.Getenv("SSH_CONNECTION") != "" && e.Getenv("DISPLAY") == "" && e.Getenv("WAYLAND_DISPLAY") == ""
	return p
}

// checkSecrets asks the storage backend whether it answers, as status
// does (backend.Check: a harmless read), and names it as status does
// (backend.Describe, backend.Ready).
func checkSecrets(ctx context.Context, e *Env, kind config.Backend) Check {
	p := detectPlatform(e)
	if kind == "" {
		kind = config.DefaultBackend
	}
	c := Check{Name: "keychain"}
	if kind != config.BackendKeyring {
		c.Name = "storage (" + string(kind) + ")"
	}
	err := backend.Check(ctx, e.Secrets)
	if err == nil {
		c.Status = StatusOK
		c.Detail = backend.Describe(e.Secrets) + ": " + backend.Ready(e.Secrets)
		return c
	}
	// The check is named after the keychain, and the probe is a get: the
	// error's own "keychain: get: " would say both again.
	c.Status, c.Detail = StatusFail, strings.TrimPrefix(err.Error(), "keychain: get: ")
	if kind != config.BackendKeyring {
		c.Fix = otherBackendFix(kind, err)
		return c
	}
	c.Fix = keyringFix(err, p)
	return c
}

func otherBackendFix(kind config.Backend, err error) string {
	switch {
	case errors.Is(err, secrets.ErrLocked):
		return "run `git-credential-glpat unlock` (once per boot)"
	case kind == config.BackendEncryptedFile && errors.Is(err, secrets.ErrUnavailable):
		return "run `git-credential-glpat init` to create the encrypted file, or move to another backend with `git-credential-glpat migrate --to keyring`"
	case kind == config.BackendKernel:
		return "the kernel keyring needs Linux with keyctl (some containers forbid it); `git-credential-glpat migrate --to encrypted-file` moves the secrets elsewhere"
	}
	return "see `git-credential-glpat help`, or move to another backend with `git-credential-glpat migrate --to keyring`"
}

// The fix texts for the OS keychain, by what is wrong and where. They name
// the commands to run, because the people who meet these are often on a
// server or in WSL with no desktop to click through.
const (
	fixRunInSession = "git-credential-glpat never starts dbus-launch itself"
	fixDBusRun      = "`dbus-run-session -- $SHELL` starts a private session bus for one shell; inside it, start and unlock a keyring with `gnome-keyring-daemon --replace --unlock --components=secrets` (type the keyring password, then Ctrl-D)"
	fixHeadless     = "on a machine without a desktop, the encrypted-file backend (unlocked once per boot) fits better: run `git-credential-glpat init`, then `git-credential-glpat migrate --to encrypted-file`"
)

func keyringFix(err error, p platform) string {
	switch {
	case errors.Is(err, keychain.ErrNoSessionBus):
		switch {
		case p.wsl:
			return "WSL has no desktop session bus by default. Either enable systemd in WSL 2 (`[boot]` `systemd=true` in /etc/wsl.conf, then `wsl --shutdown` from Windows) so that a user bus exists at /run/user/$UID/bus, and install gnome-keyring; or " + fixDBusRun + "; or " + fixHeadless
		case p.ssh:
			return "this is an SSH session without a desktop, so there is no session bus (no DISPLAY or WAYLAND_DISPLAY, SSH_CONNECTION set). Log in to the desktop too, or enable pam_systemd so logind makes /run/user/$UID/bus for SSH logins; or " + fixDBusRun + "; or " + fixHeadless + "; " + fixRunInSession
		}
		return "run git inside your desktop login, whose session bus is at /run/user/" + strconv.Itoa(p.uid) + "/bus (`su` and containers have none); " +
			schedule.KeychainNeeds(p.uid) + "; or " + fixDBusRun + "; " + fixRunInSession
	case errors.Is(err, keychain.ErrNoSecretService):
		install := "install and start a Secret Service: gnome-keyring (`sudo apt install gnome-keyring`, then log out and in), KeePassXC (Settings › Secret Service Integration) or KWallet"
		switch {
		case p.wsl:
			return "WSL starts no keyring: `sudo apt install gnome-keyring`, then start it on this bus with `gnome-keyring-daemon --replace --unlock --components=secrets` (type the keyring password, then Ctrl-D); or " + fixHeadless
		case p.ssh:
			return "nothing provides a Secret Service on this SSH session's bus: start one with `gnome-keyring-daemon --replace --unlock --components=secrets` (type the keyring password, then Ctrl-D), or " + install + "; or " + fixHeadless
		}
		return install
	case errors.Is(err, secrets.ErrLocked):
		switch {
		case p.goos == "darwin" && p.ssh:
			return "over SSH macOS cannot show the unlock dialog: run `security unlock-keychain ~/Library/Keychains/login.keychain-db` in this shell, then retry"
		case p.goos == "darwin":
			return "unlock the login keychain: `security unlock-keychain ~/Library/Keychains/login.keychain-db`, or open Keychain Access and unlock \"login\""
		case p.wsl || p.ssh || !p.display:
			return "no unlock prompt can reach you here: unlock the login keyring from this shell with `gnome-keyring-daemon --replace --unlock --components=secrets` (type the keyring password, then Ctrl-D), or log in to the desktop"
		}
		return "unlock the keyring: open Passwords and Keys (Seahorse) and unlock \"Login\", or lock the screen and unlock it again; then retry"
	case errors.Is(err, secrets.ErrTimeout):
		if p.ssh || p.wsl {
			return "an unlock prompt may be waiting on a desktop you cannot see from here: unlock the keyring (`gnome-keyring-daemon --replace --unlock --components=secrets`), or raise GLPAT_KEYCHAIN_TIMEOUT (default 10s)"
		}
		return "an unlock prompt may be waiting on the desktop: answer it, then retry; or raise GLPAT_KEYCHAIN_TIMEOUT (default 10s) if the keychain is slow"
	case errors.Is(err, secrets.ErrUnavailable):
		return "this system has no keychain git-credential-glpat can use; " + fixHeadless
	}
	return "check that the keychain works (`secret-tool search service git-credential-glpat` on Linux), then retry"
}

// checkTokens reports each stored credential. It returns the entries for
// the checks that follow.
func checkTokens(ctx context.Context, e *Env, cfg *config.Config) ([]account.Entry, []Check) {
	entries, err := e.Accounts.Status(ctx, hostarg.Host{}, account.StatusOptions{Offline: e.Offline})
	var checks []Check
	if err != nil {
		checks = append(checks, Check{
			Name: "tokens", Status: StatusFail,
			Detail: "cannot list every stored credential: " + err.Error(),
			Fix:    "fix what the keychain or state directory check says, then run `git-credential-glpat status`",
		})
	}
	var plain []string
	for _, en := range entries {
		if !en.Managed && en.Level != lifecycle.OK {
			// Stored elsewhere, or its secret cannot be read.
			checks = append(checks, verdictCheck("credential "+hostarg.Format(en.Protocol, en.Host)+" ("+en.Username+")", en))
			continue
		}
		if !en.Managed {
			plain = append(plain, hostarg.Format(en.Protocol, en.Host)+" ("+en.Username+")")
			continue
		}
		if en.Kind == "oauth" {
			checks = append(checks, oauthCheck(en, cfg)) // oauth.go
			continue
		}
		checks = append(checks, tokenCheck(en, cfg))
	}
	if len(plain) > 0 {
		checks = append(checks, Check{
			Name: "other credentials", Status: StatusInfo,
			Detail: "stored as a plain storage helper, not managed GitLab tokens: " + strings.Join(plain, ", "),
		})
	}
	if err == nil && len(entries) == 0 {
		checks = append(checks, Check{
			Name: "tokens", Status: StatusInfo,
			Detail: "no credentials stored; `git-credential-glpat login [HOST]` adds a GitLab token",
		})
	}
	return entries, checks
}

func tokenCheck(en account.Entry, cfg *config.Config) Check {
	host := hostarg.Format(en.Protocol, en.Host)
	who := host + " (" + en.Username + ")"
	if en.Path != "" {
		who = host + "/" + en.Path + " (" + en.Username + ")"
	}
	c := verdictCheck("token "+who, en)
	if en.Level != lifecycle.OK {
		return c
	}
	// OK: what it is, and how it will rotate.
	name := "token"
	if en.TokenName != "" {
		name = fmt.Sprintf("token %q", en.TokenName)
	}
	hc := cfg.Host(en.Host)
	detail := name + " never expires"
	if en.ExpiresAt != "" {
		detail = name + " expires " + en.ExpiresAt + " (00:00 UTC)"
		if en.DaysLeft != nil && *en.DaysLeft >= 0 {
			detail += ", " + termtext.Plural(*en.DaysLeft, "day") + " left"
		}
		switch {
		case en.RotationDue || !en.CanRotate:
		case en.AutoRotate:
			detail += fmt.Sprintf("; rotates itself when less than %s is left", hc.RotateBefore)
		default:
			detail += fmt.Sprintf("; rotates only when `git-credential-glpat rotate %s` runs (auto_rotate = false), %s before expiry", host, hc.RotateBefore)
		}
	}
	c.Detail = joinClauses(detail, c.Detail)
	return c
}

// verdictCheck is the check of an entry named name: the verdict every
// command gives it (lifecycle.Describe), at the doctor's statuses. GitLab
// not reached is not the credential's state: worth knowing only.
func verdictCheck(name string, en account.Entry) Check {
	c := Check{Name: name, Detail: en.Problem, Fix: en.Fix}
	switch en.Level {
	case lifecycle.ActionNeeded:
		c.Status = StatusFail
	case lifecycle.Warning:
		c.Status = StatusWarn
	default:
		c.Status, c.Detail = StatusOK, en.Note
		if en.APIError != "" {
			c.Status = StatusInfo
			c.Detail = joinClauses(c.Detail, "could not ask GitLab about it, so its state is as last known: "+en.APIError)
			c.Fix = "check the network, and api_url and ca_file for [hosts.\"" + en.Host + "\"] in the config file"
		}
	}
	if en.Answers != "" {
		c.Detail = joinClauses(c.Detail, "git gets it where the URL names no account")
	}
	return c
}

// joinClauses joins the clauses that are not empty with "; ".
func joinClauses(clauses ...string) string {
	var out []string
	for _, c := range clauses {
		if c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, "; ")
}

// checkClock compares this machine's clock with the first GitLab host that
// answers, asked where its tokens are sent (config.TokenAPIURL).
func checkClock(ctx context.Context, e *Env, cfg *config.Config, hosts []hostarg.Host) Check {
	c := Check{Name: "clock"}
	var errs []string
	for _, h := range hosts {
		apiURL := cfg.TokenAPIURL(h.Name)
		cctx, cancel := context.WithTimeout(ctx, clockTimeout)
		before := e.Now()
		server, err := e.ServerTime(cctx, apiURL, cfg.Host(h.Name).CAFile)
		after := e.Now()
		cancel()
		if err != nil {
			errs = append(errs, h.String()+": "+err.Error())
			continue
		}
		// The Date header has whole seconds, taken somewhere between
		// sending and receiving: compare with the middle.
		local := before.Add(after.Sub(before) / 2)
		skew := local.Sub(server.Add(500 * time.Millisecond))
		abs := skew
		if abs < 0 {
			abs = -abs
		}
		if abs <= MaxClockSkew {
			c.Status = StatusOK
			c.Detail = fmt.Sprintf("within %s of %s's clock", roundSkew(abs), h)
			return c
		}
		dir := "ahead of"
		if skew < 0 {
			dir = "behind"
		}
		c.Status = StatusWarn
		c.Detail = fmt.Sprintf("this machine's clock is %s %s %s's: token expiry and rotation are reckoned from 00:00 UTC, so around midnight UTC this machine may serve a token GitLab has expired, or rotate a day late", roundSkew(abs), dir, h)
		c.Fix = clockFix(detectPlatform(e))
		return c
	}
	c.Status = StatusInfo
	c.Detail = "could not compare the clock with a GitLab server: " + strings.Join(errs, "; ")
	return c
}

func roundSkew(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

func clockFix(p platform) string {
	switch {
	case p.wsl:
		return "WSL's clock drifts after Windows sleeps: run `sudo hwclock -s`, or `wsl --shutdown` from Windows and start WSL again"
	case p.goos == "darwin":
		return "turn on System Settings › General › Date & Time › Set time and date automatically"
	case p.goos == "windows":
		return "open Settings › Time & language › Date & time and press Sync now"
	}
	return "turn on time synchronisation: `timedatectl set-ntp true` (or install chrony or ntp)"
}

// checkSchedule reports whether tokens rotate without git activity.
func checkSchedule(ctx context.Context, e *Env, cfg *config.Config, entries []account.Entry) Check {
	c := Check{Name: "scheduled rotation"}
	st, err := e.Schedule(ctx)
	if err != nil {
		c.Status, c.Detail = StatusInfo, "cannot tell whether it is installed: "+err.Error()
		return c
	}
	if st.Installed {
		c.Detail = st.Detail
		switch {
		case !st.Active() && st.NoScheduler != "":
			// Installing again would fail the same way.
			c.Status = StatusWarn
			c.Detail += ": it does not run, and cannot here: " + st.NoScheduler
			c.Fix = cronFix(e, cfg, st) + "; then run `git-credential-glpat schedule remove`"
		case !st.Current:
			c.Status = StatusWarn
			c.Fix = "run `git-credential-glpat schedule install` again"
		case !st.Active():
			c.Status = StatusWarn
			c.Detail += ": it does not run"
			c.Fix = "run `git-credential-glpat schedule install` again to enable it, or `git-credential-glpat schedule remove`"
		default:
			c.Status = StatusOK
		}
		return c
	}
	var manual []string
	for _, en := range entries {
		if en.Managed && !en.AutoRotate && en.Token.State.Served() {
			manual = append(manual, en.Host)
		}
	}
	install, daily := "run `git-credential-glpat schedule install`", "; `git-credential-glpat schedule install` rotates daily"
	if st.NoScheduler != "" {
		install, daily = cronFix(e, cfg, st), "; "+st.NoScheduler+", so a crontab line rotates daily"
	}
	if len(manual) > 0 {
		c.Status = StatusWarn
		c.Detail = "not installed, and auto_rotate is off for " + strings.Join(manual, ", ") + ": those tokens rotate only when someone runs `git-credential-glpat rotate --all`"
		if st.NoScheduler != "" {
			c.Detail += "; " + st.NoScheduler
		}
		c.Fix = install
		return c
	}
	c.Status = StatusInfo
	c.Detail = fmt.Sprintf("not installed: tokens rotate when git asks for them, so a token git does not use while it has less than %s left still expires", cfg.RotateBefore) + daily
	if st.NoScheduler != "" {
		c.Fix = install
	}
	return c
}

// cronFix is what schedules the rotation where the system's scheduler
// cannot: the crontab line, and with the OS keychain what cron needs to
// reach it.
func cronFix(e *Env, cfg *config.Config, st schedule.Status) string {
	fix := "add this line to your crontab (crontab -e): " + st.Crontab
	if cfg.Backend == "" || cfg.Backend == config.BackendKeyring {
		fix += " (" + schedule.KeychainNeeds(e.Getuid()) + ")"
	}
	return fix
}
