package schedule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// A systemd user timer and the service it starts
// (https://www.freedesktop.org/software/systemd/man/latest/systemd.timer.html).

const (
	serviceUnit = Name + ".service"
	timerUnit   = Name + ".timer"
)

// unitDir is where systemd reads the user's own units:
// $XDG_CONFIG_HOME/systemd/user (systemd.unit(5), "User Unit Search Path").
func unitDir(o Options) string {
	base := o.ConfigHome
	if base == "" {
		base = filepath.Join(o.Home, ".config")
	}
	return filepath.Join(base, "systemd", "user")
}

// wantsLink is the symlink `systemctl --user enable` makes for the timer.
func wantsLink(o Options) string {
	return filepath.Join(unitDir(o), "timers.target.wants", timerUnit)
}

const header = "# Written by `git-credential-glpat schedule install`; `git-credential-glpat schedule remove` removes it.\n"

// systemdUnits returns the service and timer unit files.
func systemdUnits(o Options) (service, timer []byte) {
	var s strings.Builder
	s.WriteString(header)
	s.WriteString("[Unit]\n")
	s.WriteString("Description=Rotate the GitLab tokens of git-credential-glpat that are due\n")
	s.WriteString("Documentation=man:git-credential-glpat(1)\n")
	s.WriteString("\n[Service]\n")
	s.WriteString("Type=oneshot\n")
	fmt.Fprintf(&s, "ExecStart=%s rotate --all\n", systemdExecPath(o.Binary))
	for _, kv := range o.env() {
		fmt.Fprintf(&s, "Environment=%s\n", systemdEnvAssignment(kv[0], kv[1]))
	}

	var t strings.Builder
	t.WriteString(header)
	t.WriteString("[Unit]\n")
	t.WriteString("Description=Rotate the GitLab tokens of git-credential-glpat daily\n")
	t.WriteString("Documentation=man:git-credential-glpat(1)\n")
	t.WriteString("\n[Timer]\n")
	t.WriteString("OnCalendar=daily\n")
	// Spread the load on GitLab servers, and catch up at the next boot or
	// login when the machine was off at the time.
	t.WriteString("RandomizedDelaySec=1h\n")
	t.WriteString("Persistent=true\n")
	t.WriteString("\n[Install]\n")
	t.WriteString("WantedBy=timers.target\n")
	return []byte(s.String()), []byte(t.String())
}

// systemdExecPath quotes the program path of ExecStart=: "%" starts a
// specifier, so it is doubled; a path with spaces, quotes or backslashes
// is double-quoted with C-style escapes (systemd.service(5), "Command
// lines"). "$" stays as it is: systemd expands variables in the arguments,
// not in the program path (systemd-analyze verify shows it).
func systemdExecPath(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// systemdEnvAssignment quotes NAME=value for Environment=, where "%" is a
// specifier but "$" means nothing.
func systemdEnvAssignment(k, v string) string {
	kv := strings.ReplaceAll(k+"="+v, "%", "%%")
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(kv) + `"`
}

func installSystemd(ctx context.Context, o Options) (*Result, error) {
	r := &Result{Scheduler: "systemd"}
	dir := unitDir(o)
	service, timer := systemdUnits(o)
	for _, f := range []struct {
		name string
		data []byte
	}{{serviceUnit, service}, {timerUnit, timer}} {
		path := filepath.Join(dir, f.name)
		if err := writeFile(path, f.data); err != nil {
			return r, err
		}
		r.Files = append(r.Files, path)
	}

	enable := "systemctl --user daemon-reload && systemctl --user enable --now " + timerUnit
	if out, err := run(ctx, o, r, "systemctl", "--user", "daemon-reload"); err != nil {
		r.Notes = append(r.Notes,
			"the units are written, but systemctl --user cannot reach a systemd user manager here ("+commandError("systemctl", out, err)+"); in a login session, run: "+enable,
			"without systemd, add this line to your crontab (crontab -e) instead: "+CrontabLine(o)+" ("+KeychainNeeds(o.UID)+")")
		return r, nil
	}
	if out, err := run(ctx, o, r, "systemctl", "--user", "enable", "--now", timerUnit); err != nil {
		r.Notes = append(r.Notes, "the units are written, but enabling the timer failed ("+commandError("systemctl", out, err)+"); run: "+enable)
		return r, nil
	}
	r.Active = true
	r.Notes = append(r.Notes, "systemd rotates daily while you are logged in, and catches up at the next login after a missed day; `loginctl enable-linger` lets it run when you are not logged in")
	return r, nil
}

func removeSystemd(ctx context.Context, o Options) (*Result, error) {
	r := &Result{Scheduler: "systemd"}
	dir := unitDir(o)
	paths := []string{filepath.Join(dir, serviceUnit), filepath.Join(dir, timerUnit)}
	if !exists(paths[0]) && !exists(paths[1]) && !exists(wantsLink(o)) {
		r.Notes = append(r.Notes, "scheduled rotation is not installed (no "+timerUnit+" in "+dir+")")
		return r, nil
	}
	reachable := true
	_, linkErr := os.Lstat(wantsLink(o))
	enabled := linkErr == nil
	if out, err := run(ctx, o, r, "systemctl", "--user", "disable", "--now", timerUnit); err != nil {
		reachable = false
		switch {
		case errors.Is(err, exec.ErrNotFound):
			r.Notes = append(r.Notes, "systemctl --user could not disable the timer ("+commandError("systemctl", out, err)+"), so no systemd runs it here; its files are removed")
		case !enabled:
			// `enable` makes the wants link, and install never starts
			// the timer without it: a timer that was never enabled
			// has nothing that fires it, and its files are gone now.
			r.Notes = append(r.Notes, "the timer was never enabled (no "+wantsLink(o)+"), so nothing runs it; its files are removed")
		default:
			// A user manager this shell cannot reach (another
			// session's, say) may still fire the timer it loaded:
			// unknown is not "gone".
			r.Active = true
			r.Notes = append(r.Notes, "systemctl --user could not disable the timer ("+commandError("systemctl", out, err)+"); its files are removed, so systemd forgets it at the next login; to stop it now, in a login session run: systemctl --user stop "+timerUnit+" && systemctl --user daemon-reload")
		}
	}
	// `disable` removes the symlink; without a user manager, remove it
	// here, but only when it is the one `enable` made.
	if target, err := os.Readlink(wantsLink(o)); err == nil && filepath.Base(target) == timerUnit {
		if ok, err := removeFile(wantsLink(o)); err != nil {
			return r, err
		} else if ok {
			r.Files = append(r.Files, wantsLink(o))
		}
	}
	for _, p := range paths {
		ok, err := removeFile(p)
		if err != nil {
			return r, err
		}
		if ok {
			r.Files = append(r.Files, p)
		}
	}
	if reachable {
		run(ctx, o, r, "systemctl", "--user", "daemon-reload")
	}
	return r, nil
}

// enabledState maps an answer of `systemctl is-enabled` (systemctl(1)) to
// "enabled" or "disabled". (A switch, not a map: a map literal is built at
// start-up by every process.)
func enabledState(word string) (string, bool) {
	switch word {
	case "enabled", "enabled-runtime", "static", "indirect", "alias", "generated":
		return "enabled", true
	case "linked", "linked-runtime", "disabled", "masked", "masked-runtime", "not-found":
		return "disabled", true
	}
	return "", false
}

func statusSystemd(ctx context.Context, o Options) (Status, error) {
	st := Status{Scheduler: "systemd"}
	dir := unitDir(o)
	service, timer := systemdUnits(o)
	sp, tp := filepath.Join(dir, serviceUnit), filepath.Join(dir, timerUnit)
	for _, p := range []string{sp, tp} {
		if exists(p) {
			st.Files = append(st.Files, p)
		}
	}
	if len(st.Files) == 0 {
		st.Detail = "not installed"
		st.noUserManager(ctx, o)
		return st, nil
	}
	st.Installed = true
	st.Current = sameContent(sp, service) && sameContent(tp, timer)

	// is-enabled exits non-zero for "disabled"; what counts is its word.
	// Without systemctl or a user manager it prints none of them.
	out, _ := run(ctx, o, nil, "systemctl", "--user", "is-enabled", timerUnit)
	word := strings.TrimSpace(firstLine(string(out)))
	switch s, known := enabledState(word); {
	case known:
		st.State = s
	case exists(wantsLink(o)):
		st.State = "enabled"
	default:
		st.State = "unknown"
	}

	if st.State != "enabled" {
		st.noUserManager(ctx, o)
	}
	st.Detail = "systemd user timer " + timerUnit + " in " + dir + ", " + st.State
	if st.State == "unknown" {
		st.Detail = "systemd user timer " + timerUnit + " in " + dir + " (systemctl --user cannot say whether it is enabled)"
	}
	if len(st.Files) < 2 {
		st.Detail += "; incomplete, run `git-credential-glpat schedule install` again"
	} else if !st.Current {
		st.Detail += "; it does not run " + o.Binary + " with the current settings, run `git-credential-glpat schedule install` again"
	}
	return st, nil
}

// noUserManager sets NoScheduler and Crontab when no systemd user
// manager runs for this user here (a container, an SSH login without
// lingering): `systemctl --user is-system-running` says "offline", or
// cannot run at all. (is-enabled answers from the unit files even then.)
func (st *Status) noUserManager(ctx context.Context, o Options) {
	out, err := run(ctx, o, nil, "systemctl", "--user", "is-system-running")
	word := strings.TrimSpace(firstLine(string(out)))
	switch {
	case errors.Is(err, exec.ErrNotFound):
		st.NoScheduler = "systemctl is not installed, so no systemd user manager runs here"
	case word == "offline" || err != nil && word == "":
		st.NoScheduler = "systemctl --user reaches no systemd user manager from here (" + commandError("systemctl", out, err) + ")"
	default:
		return
	}
	st.Crontab = CrontabLine(o)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
