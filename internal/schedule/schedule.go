// Package schedule installs, reports and removes the daily job that runs `git-credential-glpat rotate --all`, so that tokens rotate even when git does not ask for them.
package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
)

// Name names the job everywhere: the systemd units, the launchd label and
// the Windows task.
const Name = "git-credential-glpat-rotate"

// The daily time on macOS and Windows, local time, when a laptop is likely
// to be awake. systemd runs the timer daily instead, at a random moment in
// the hour after midnight, and catches up at boot (Persistent=true).
const (
	dailyHour   = 12
	dailyMinute = 0
)

// commandTimeout bounds each systemctl, launchctl or schtasks call.
const commandTimeout = 10 * time.Second

// passedEnv are the variables that decide where git-credential-glpat finds
// its config, state and keychain. A job started by systemd, launchd or
// cron does not inherit the login shell's environment, so the values set
// when the job is installed are written into it.
var passedEnv = []string{
	"GLPAT_CONFIG", "GLPAT_STATE_DIR", "GLPAT_KEYCHAIN_TIMEOUT",
	"XDG_CONFIG_HOME", "XDG_STATE_HOME",
}

// Runner runs a program and returns its combined output. A program that
// cannot be found returns an error that errors.Is exec.ErrNotFound.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs programs with os/exec.
type ExecRunner struct{}

// Run runs name with args.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

// Options say what to schedule and where. Tests point every path at a
// temporary directory and pass a fake Runner, so they never touch the real
// user's units, agents or tasks.
type Options struct {
	// Binary is the absolute path of git-credential-glpat that the job
	// runs. Prefer the path people run (a package manager's stable
	// symlink) to the file it resolves to, which moves on upgrade.
	Binary string
	// GOOS picks the scheduler: systemd on linux, launchd on darwin,
	// the Task Scheduler on windows.
	GOOS string
	// Home is the user's home directory.
	Home string
	// ConfigHome is $XDG_CONFIG_HOME, where systemd looks for user units
	// (systemd/user under it); empty means Home/.config.
	ConfigHome string
	// UID is the user's id, for launchctl's gui/UID domain.
	UID int
	// Env holds NAME=value pairs the job must see; see DefaultOptions.
	Env []string
	// Run runs systemctl, launchctl and schtasks.
	Run Runner
}

// DefaultOptions returns the options for this user and system: binary,
// the home directory, $XDG_CONFIG_HOME, the uid, and the values of the
// variables that say where the config, state and keychain are.
func DefaultOptions(binary string) (Options, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Options{}, fmt.Errorf("schedule: %w", err)
	}
	o := Options{Binary: binary, GOOS: runtime.GOOS, Home: home, UID: os.Getuid(), Run: ExecRunner{}}
	if x := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		o.ConfigHome = x
	}
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			o.Env = append(o.Env, k+"="+v)
		}
	}
	return o, nil
}

func (o Options) check() error {
	if !isAbs(o.Binary, o.GOOS) {
		return fmt.Errorf("schedule: the program path %q is not absolute", o.Binary)
	}
	if strings.ContainsAny(o.Binary, "\x00\n\r") {
		return fmt.Errorf("schedule: the program path %q contains a line break or NUL", o.Binary)
	}
	if o.Home == "" && o.GOOS != "windows" {
		return errors.New("schedule: no home directory")
	}
	if o.Run == nil {
		return errors.New("schedule: no command runner")
	}
	for _, kv := range o.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(kv, "\x00\n\r") || strings.ContainsAny(k, " \t\"'") {
			return fmt.Errorf("schedule: bad environment entry %q", kv)
		}
	}
	return nil
}

// isAbs is filepath.IsAbs for the target system, so that tests can build
// every system's files on any system.
func isAbs(p, goos string) bool {
	if goos == "windows" {
		return len(p) >= 3 && (p[1] == ':' && (p[2] == '\\' || p[2] == '/')) || strings.HasPrefix(p, `\\`)
	}
	return strings.HasPrefix(p, "/")
}

// env returns the entries of o.Env sorted by name, so that the files
// written do not depend on the order of the environment.
func (o Options) env() [][2]string {
	var kvs [][2]string
	for _, kv := range o.Env {
		k, v, _ := strings.Cut(kv, "=")
		kvs = append(kvs, [2]string{k, v})
	}
	sort.SliceStable(kvs, func(i, j int) bool { return kvs[i][0] < kvs[j][0] })
	return kvs
}

// Result says what Install or Remove did, for main to print.
type Result struct {
	// Scheduler is "systemd", "launchd" or "schtasks".
	Scheduler string `json:"scheduler"`
	// Files written by Install, or removed by Remove.
	Files []string `json:"files,omitempty"`
	// Commands run, as a person would type them, whether or not they
	// succeeded.
	Commands []string `json:"commands,omitempty"`
	// Failed[i] reports whether Commands[i] failed (or did not answer).
	Failed []bool `json:"failed,omitempty"`
	// Active reports whether the job is scheduled now: after Install, it
	// will run without anything more to do; after Remove, it may still
	// run (a scheduler that could not be told to drop it).
	Active bool `json:"active"`
	// Notes are what a person should know or do next, one sentence each.
	Notes []string `json:"notes,omitempty"`
}

// Status says whether the job is installed.
type Status struct {
	Scheduler string `json:"scheduler"`
	// Installed reports whether the job's files (or task) exist.
	Installed bool `json:"installed"`
	// State is what the scheduler says: "enabled", "disabled", "loaded",
	// "not loaded", or "unknown" when it cannot be asked (no systemd user
	// bus, say); empty when not installed.
	State string `json:"state,omitempty"`
	// Current reports whether what is installed is what Install writes
	// now: the same program path and environment. A job that runs a
	// program which moved needs installing again.
	Current bool `json:"current"`
	// Files are the job's files that exist.
	Files []string `json:"files,omitempty"`
	// Detail is one line for a person.
	Detail string `json:"detail"`
	// NoScheduler says why the scheduler cannot run the job here (no
	// systemd user manager runs for this user), when it is not enabled;
	// empty when it can, or cannot be told.
	NoScheduler string `json:"no_scheduler,omitempty"`
	// Crontab is the line that schedules the job with cron instead, when
	// NoScheduler is set.
	Crontab string `json:"crontab,omitempty"`
}

// Active reports whether the job will run: installed, and enabled or
// loaded (or the scheduler could not be asked).
func (s Status) Active() bool {
	return s.Installed && (s.State == "enabled" || s.State == "loaded" || s.State == "unknown")
}

// Line is the line `status` prints about scheduled rotation.
func (s Status) Line() string {
	switch {
	case !s.Installed && s.NoScheduler != "":
		return "scheduled rotation: not installed, and " + s.NoScheduler + "; git-credential-glpat doctor gives a crontab line instead"
	case !s.Installed:
		return "scheduled rotation: not installed (git-credential-glpat schedule install)"
	case !s.Active() && s.NoScheduler != "":
		return "scheduled rotation: " + s.Detail + ", and " + s.NoScheduler + "; git-credential-glpat doctor gives a crontab line instead"
	}
	return "scheduled rotation: " + s.Detail
}

// Install writes and enables the daily job. Installing again replaces
// what is there with the current program path and environment.
func Install(ctx context.Context, o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	switch o.GOOS {
	case "linux":
		return installSystemd(ctx, o)
	case "darwin":
		return installLaunchd(ctx, o)
	case "windows":
		return installSchtasks(ctx, o)
	}
	return nil, fmt.Errorf("schedule: no scheduler support on %s; add this line to your crontab (crontab -e): %s", o.GOOS, CrontabLine(o))
}

// Remove disables and removes what Install wrote, and nothing else.
func Remove(ctx context.Context, o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	switch o.GOOS {
	case "linux":
		return removeSystemd(ctx, o)
	case "darwin":
		return removeLaunchd(ctx, o)
	case "windows":
		return removeSchtasks(ctx, o)
	}
	return nil, fmt.Errorf("schedule: no scheduler support on %s; remove the line that runs %s from your crontab (crontab -e)", o.GOOS, o.Binary)
}

// Query reports whether the job is installed and enabled.
func Query(ctx context.Context, o Options) (Status, error) {
	if err := o.check(); err != nil {
		return Status{}, err
	}
	switch o.GOOS {
	case "linux":
		return statusSystemd(ctx, o)
	case "darwin":
		return statusLaunchd(ctx, o)
	case "windows":
		return statusSchtasks(ctx, o)
	}
	return Status{}, fmt.Errorf("schedule: no scheduler support on %s", o.GOOS)
}

// CrontabLine is a crontab(5) entry that runs the rotation daily, for
// systems where Install cannot schedule it. cron runs it with /bin/sh and
// almost no environment: on Linux the line names the session bus of the
// user's desktop login, where the OS keychain answers (KeychainNeeds).
func CrontabLine(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d * * * ", dailyMinute, dailyHour)
	env := o.env()
	if o.GOOS == "linux" && !slices.ContainsFunc(env, func(kv [2]string) bool { return kv[0] == "DBUS_SESSION_BUS_ADDRESS" }) {
		env = append([][2]string{{"DBUS_SESSION_BUS_ADDRESS", SessionBus(o.UID)}}, env...)
	}
	for _, kv := range env {
		b.WriteString(kv[0] + "=" + shellQuote(kv[1]) + " ")
	}
	b.WriteString(shellQuote(o.Binary) + " rotate --all")
	return b.String()
}

// SessionBus is the address of the session bus that systemd-logind gives
// the user's logins (pam_systemd(8): $XDG_RUNTIME_DIR is /run/user/UID),
// where a desktop's Secret Service answers.
func SessionBus(uid int) string {
	return "unix:path=/run/user/" + strconv.Itoa(uid) + "/bus"
}

// KeychainNeeds says what a job that cron (or another scheduler outside
// the desktop session) starts needs to reach the OS keychain, for every
// message that advises such a job.
func KeychainNeeds(uid int) string {
	return "the OS keychain answers only on the session bus of your desktop login, there while you are logged in: a cron job needs DBUS_SESSION_BUS_ADDRESS=" +
		SessionBus(uid) + "; where nobody is logged in, use a backend that needs no desktop: " +
		"git-credential-glpat migrate --to kernel, or git-credential-glpat init, then migrate --to encrypted-file"
}

// shellQuote quotes s for /bin/sh; crontab(5) also gives "%" a meaning,
// so it is escaped.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:,@") == "" {
		return s
	}
	q := "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	return strings.ReplaceAll(q, "%", `\%`)
}

// run runs a command with a deadline and records it in r.
func run(ctx context.Context, o Options, r *Result, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	out, err := o.Run.Run(ctx, name, args...)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%s: no answer after %v", name, commandTimeout)
	}
	if r != nil {
		r.Commands = append(r.Commands, commandLine(name, args))
		r.Failed = append(r.Failed, err != nil)
	}
	return out, err
}

// commandLine writes a command as a person would type it in a POSIX shell.
func commandLine(name string, args []string) string {
	parts := []string{shellQuote(name)}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// commandError describes a failed command with the first line it printed.
func commandError(name string, out []byte, err error) string {
	if errors.Is(err, exec.ErrNotFound) {
		return name + " is not installed"
	}
	msg := strings.TrimSpace(string(out))
	if msg == "" {
		msg = err.Error()
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return name + ": " + msg
}

// writeFile writes data to name atomically, 0600, creating missing parent
// directories 0700.
func writeFile(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	if err := atomicfile.WriteFile(name, data, 0o600); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	return nil
}

// sameContent reports whether the file holds exactly data.
func sameContent(name string, data []byte) bool {
	b, err := os.ReadFile(name)
	return err == nil && bytes.Equal(b, data)
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// removeFile removes name; a file that is not there is not an error.
func removeFile(name string) (bool, error) {
	err := os.Remove(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("schedule: %w", err)
	}
	return true, nil
}

// QueryBinary is Query with the DefaultOptions of the program at bin.
func QueryBinary(ctx context.Context, bin string) (Status, error) {
	o, err := DefaultOptions(bin)
	if err != nil {
		return Status{}, err
	}
	return Query(ctx, o)
}
