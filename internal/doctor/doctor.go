// Package doctor checks what git-credential-glpat depends on (git, Git's helper configuration, the keychain, the config file, the stored tokens, the clock) and says how to fix what is wrong.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabapi"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/schedule"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
)

// The statuses of a Check. Any fail or warn means a person should act.
const (
	StatusOK   = "ok"   // works as it should
	StatusInfo = "info" // worth knowing; nothing to do
	StatusWarn = "warn" // works now, but will break or leak: act soon
	StatusFail = "fail" // does not work: act now
)

// Check is the outcome of one check. Fix is empty unless there is
// something to do.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// AccountReporter reports the stored credentials; *account.Service is one.
type AccountReporter interface {
	Status(ctx context.Context, host hostarg.Host, o account.StatusOptions) ([]account.Entry, error)
}

// Env is what the checks look at. Every field may be left zero: a nil
// function means the real thing (os.Getenv, os.ReadFile, …), and a nil
// Secrets, Accounts or Schedule skips that check.
type Env struct {
	// Git runs git; nil means gitconfig.Exec{}: git from PATH, in the
	// current directory (inside a repository its config counts too).
	Git gitconfig.Runner
	// Secrets is the configured storage backend, probed with
	// backend.Check, as status does.
	Secrets secrets.Store
	// Accounts reports the stored credentials and their tokens.
	Accounts AccountReporter
	// Schedule reports whether scheduled rotation is installed;
	// schedule.Query with main's options.
	Schedule func(ctx context.Context) (schedule.Status, error)
	// ServerTime returns the Date of a GitLab API's answer; nil asks the
	// API with gitlabapi.
	ServerTime func(ctx context.Context, apiURL, caFile string) (time.Time, error)
	// ConfigPath returns where the config file is; nil means
	// config.ConfigPath.
	ConfigPath func() (string, error)
	// Binary is this program's absolute path, to tell it apart from
	// other copies that git may run.
	Binary string
	// Offline skips everything that asks GitLab: token state and the
	// clock.
	Offline bool

	GOOS     string // runtime.GOOS when empty
	Now      func() time.Time
	Getenv   func(string) string
	Getuid   func() int
	ReadFile func(string) ([]byte, error)
	Stat     func(string) (fs.FileInfo, error)
	LookPath func(string) (string, error)
}

// Time limits. A doctor that hangs is no help.
const (
	gitTimeout   = 10 * time.Second
	clockTimeout = 10 * time.Second
)

// MaxClockSkew is how far the local clock may be from the server's before
// the doctor warns. Expiry is a date: a token stops working at 00:00 UTC,
// and rotation is due a whole number of days before, so minutes do not
// matter; a clock that is hours off does, around midnight UTC.
const MaxClockSkew = 5 * time.Minute

func (e Env) withDefaults() *Env {
	if e.Git == nil {
		e.Git = gitconfig.Exec{}
	}
	if e.ServerTime == nil {
		e.ServerTime = gitlabServerTime
	}
	if e.ConfigPath == nil {
		e.ConfigPath = config.ConfigPath
	}
	if e.GOOS == "" {
		e.GOOS = runtime.GOOS
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.Getuid == nil {
		e.Getuid = os.Getuid
	}
	if e.ReadFile == nil {
		e.ReadFile = os.ReadFile
	}
	if e.Stat == nil {
		e.Stat = os.Stat
	}
	if e.LookPath == nil {
		e.LookPath = exec.LookPath
	}
	return &e
}

func gitlabServerTime(ctx context.Context, apiURL, caFile string) (time.Time, error) {
	c, err := gitlabapi.New(apiURL, caFile)
	if err != nil {
		return time.Time{}, err
	}
	return c.ServerTime(ctx)
}

// Run runs every check and returns them in the order a person should read
// them: git, the config file, the keychain, Git's helpers for each GitLab
// host, each stored token, the clock, scheduled rotation.
func Run(ctx context.Context, env Env) []Check {
	e := env.withDefaults()
	var checks []Check

	gctx, cancel := context.WithTimeout(ctx, gitTimeout)
	gitCheck, version, gitOK := checkGit(gctx, e)
	cancel()
	checks = append(checks, gitCheck)

	cfgCheck, cfg := checkConfig(e)
	checks = append(checks, cfgCheck)

	if e.Secrets != nil {
		checks = append(checks, checkSecrets(ctx, e, cfg.Backend))
	}

	var entries []account.Entry
	var tokenChecks []Check
	if e.Accounts != nil {
		entries, tokenChecks = checkTokens(ctx, e, cfg)
	}
	hosts := gitlabHosts(cfg, entries)

	if gitOK {
		checks = append(checks, checkAllHelpers(ctx, e, version, hosts)...)
	}
	checks = append(checks, tokenChecks...)
	if !e.Offline {
		checks = append(checks, checkClock(ctx, e, cfg, hosts))
	}
	if e.Schedule != nil {
		checks = append(checks, checkSchedule(ctx, e, cfg, entries))
	}
	return checks
}

// gitlabHosts are the GitLab hosts the doctor checks, those every command
// given no HOST means (hostarg.Known): the config's, then those of stored
// GitLab credentials; gitlab.com when there are none.
func gitlabHosts(cfg *config.Config, entries []account.Entry) []hostarg.Host {
	var stored []hostarg.Host
	for _, en := range entries {
		if en.Managed {
			stored = append(stored, hostarg.Host{Protocol: en.Protocol, Name: en.Host})
		}
	}
	return hostarg.Known(cfg, stored)
}

func checkAllHelpers(ctx context.Context, e *Env, v gitconfig.Version, hosts []hostarg.Host) []Check {
	partial := v.AtLeast(gitconfig.PartialURLs)
	gctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	entries, err := gitconfig.ListCredential(gctx, e.Git, partial)
	if err != nil {
		return []Check{{
			Name: "git helpers", Status: StatusFail,
			Detail: "cannot read git's credential settings: " + err.Error(),
			Fix:    "fix the git config file git names; until then git cannot ask any credential helper",
		}}
	}
	var checks []Check
	for _, h := range hosts {
		t := gitconfig.Target{Protocol: h.Protocol, Host: h.Name}
		setupHost := h.String()
		name := "helpers for " + h.Protocol + "://" + h.Name
		checks = append(checks, checkHelpers(e, gitconfig.Helpers(entries, t, partial), t, name, setupHost))
		// Keys like credential.https://alice@gitlab.com or
		// credential.https://gitlab.com/group apply only to some
		// remotes; report those only when they go wrong.
		for _, n := range gitconfig.NarrowerTargets(entries, t, partial) {
			nc := checkHelpers(e, gitconfig.Helpers(entries, n, partial), n, "helpers for "+n.String(), setupHost)
			if nc.Status != StatusOK {
				checks = append(checks, nc)
			}
		}
	}
	return checks
}

// NeedsAction reports whether any check failed or warns: the exit status
// of `doctor` is 1 then.
func NeedsAction(checks []Check) bool {
	for _, c := range checks {
		if c.Status == StatusFail || c.Status == StatusWarn {
			return true
		}
	}
	return false
}

// WriteJSON writes the checks as a JSON array, for scripts.
func WriteJSON(w io.Writer, checks []Check) error {
	if checks == nil {
		checks = []Check{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(checks)
}

// WriteText writes the checks for a person, one line each, with the fix
// on the line below, then a summary line. With color, the status is
// coloured (for a terminal, when NO_COLOR is unset).
func WriteText(w io.Writer, checks []Check, color bool) error {
	return WriteTextWidth(w, checks, color, DefaultWidth)
}

// DefaultWidth is the width doctor wraps at when it does not write to a
// terminal.
const DefaultWidth = 100

// WriteTextWidth is WriteText with lines wrapped at width columns: a
// check's detail under its name, its fix under "fix:". Words longer than
// a line (paths, URLs, commands) are never broken.
func WriteTextWidth(w io.Writer, checks []Check, color bool, width int) error {
	var fails, warns int
	for _, c := range checks {
		tag := fmt.Sprintf("%-6s", "["+c.Status+"]")
		lines := termtext.Wrap(c.Name+": "+c.Detail, width-7)
		if color {
			tag = termtext.Paint(statusColor(c.Status), tag)
		}
		if _, err := fmt.Fprintf(w, "%s %s\n", tag, lines[0]); err != nil {
			return err
		}
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "       %s\n", l)
		}
		if c.Fix != "" {
			fix := termtext.Wrap(c.Fix, width-12)
			fmt.Fprintf(w, "       fix: %s\n", fix[0])
			for _, l := range fix[1:] {
				fmt.Fprintf(w, "            %s\n", l)
			}
		}
		switch c.Status {
		case StatusFail:
			fails++
		case StatusWarn:
			warns++
		}
	}
	var parts []string
	if fails > 0 {
		parts = append(parts, termtext.Plural(fails, "failure"))
	}
	if warns > 0 {
		parts = append(parts, termtext.Plural(warns, "warning"))
	}
	var err error
	switch {
	case len(parts) == 0:
		_, err = fmt.Fprintln(w, "\nno problems found")
	case fails+warns == 1:
		_, err = fmt.Fprintf(w, "\n%s needs action\n", parts[0])
	default:
		_, err = fmt.Fprintf(w, "\n%s need action\n", strings.Join(parts, " and "))
	}
	return err
}

// statusColor is the colour of a check's status. A switch, not a map: a
// map literal is built at init, in every process.
func statusColor(status string) string {
	switch status {
	case StatusOK:
		return termtext.Green
	case StatusInfo:
		return termtext.Cyan
	case StatusWarn:
		return termtext.Yellow
	case StatusFail:
		return termtext.Red
	}
	return ""
}
