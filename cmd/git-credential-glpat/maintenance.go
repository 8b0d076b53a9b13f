package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/doctor"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
	"github.com/glpat-dev/git-credential-glpat/internal/schedule"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

const doctorUsage = `Usage: git-credential-glpat doctor [--json]

Checks what git-credential-glpat depends on and says how to fix what is
wrong: git and its version, which helpers git asks for each GitLab host and
in which order, the keychain, the config file, each stored token, the clock
and scheduled rotation. Exit status 1 when a check failed or warns.

Examples:
    $ git-credential-glpat doctor
    $ git-credential-glpat doctor --json | jq '.[] | select(.status != "ok")'
`

var doctorCommand = command{
	name: "doctor", summary: "check what the helper depends on and say how to fix it", usage: doctorUsage,
	bind: func(fs *flagSet) runFunc {
		o := new(doctorOptions)
		fs.boolVar(&o.json, "json", "print JSON")
		return o.run
	},
}

// doctorOptions are doctor's flags.
type doctorOptions struct{ json bool }

func (o *doctorOptions) run(c *call, pos []string) int {
	stdout, ui := c.stdout, c.ui
	if !c.noArgs(pos) {
		return 2
	}
	e, err := openSession(false, ui)
	var np *safefile.NotPrivateError
	if errors.As(err, &np) {
		// Nothing else is checked over files others may have written.
		doctor.WriteText(stdout, []doctor.Check{{Name: "state and config", Status: doctor.StatusFail,
			Detail: np.Error(), Fix: "run " + np.Fix}}, tty.Color(stdout))
		return 1
	}
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	defer e.Close()
	bin, _ := selfPath()
	ctx, cancel := tty.Interruptible()
	defer cancel()
	env := doctor.Env{
		Secrets:  e.Store.Secrets,
		Accounts: e.AccountsForDoctor(),
		Binary:   bin,
		Schedule: func(ctx context.Context) (schedule.Status, error) { return schedule.QueryBinary(ctx, bin) },
	}
	stop := tty.Progress(ui.W, "checking")
	checks := doctor.Run(ctx, env)
	stop()
	if o.json {
		doctor.WriteJSON(stdout, checks)
	} else {
		doctor.WriteTextWidth(stdout, checks, tty.Color(stdout), tty.Width(stdout, doctor.DefaultWidth))
	}
	if doctor.NeedsAction(checks) {
		return 1
	}
	return 0
}

const scheduleUsage = `Usage: git-credential-glpat schedule install|remove|status

Rotates the tokens daily even when git does not use them, by running
"git-credential-glpat rotate --all" from the system's scheduler: a systemd
user timer on Linux, a launchd agent on macOS, a scheduled task on Windows.
install writes and enables it (run it again after moving this program);
remove undoes exactly that; status says whether it is installed.

Examples:
    $ git-credential-glpat schedule install
    $ git-credential-glpat schedule status
`

var scheduleCommand = command{
	name: "schedule", summary: "rotate daily from the system's scheduler", usage: scheduleUsage,
	args: completion.ArgWord, noun: "action", words: []completion.Word{
		{Name: "install", Help: "write and enable the daily job"},
		{Name: "remove", Help: "disable and remove the daily job"},
		{Name: "status", Help: "say whether the daily job is installed"},
	},
	bind: func(*flagSet) runFunc { return runSchedule },
}

func runSchedule(c *call, pos []string) int {
	stdout, ui := c.stdout, c.ui
	action, ok := c.word(pos)
	if !ok {
		return 2
	}
	bin, err := selfPath()
	if err != nil {
		ui.Errorf("cannot tell where this program is: %v", err)
		return 1
	}
	opts, err := schedule.DefaultOptions(bin)
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	ctx, cancel := tty.Interruptible()
	defer cancel()
	var res *schedule.Result
	verb := "wrote"
	switch action {
	case "install":
		res, err = schedule.Install(ctx, opts)
	case "remove":
		res, err = schedule.Remove(ctx, opts)
		verb = "removed"
	case "status":
		st, err := schedule.Query(ctx, opts)
		if err != nil {
			ui.Errorf("%v", err)
			return 1
		}
		fmt.Fprintln(stdout, st.Line())
		return 0
	}
	// An install that leaves nothing scheduled (no systemd user manager
	// here: a container, an SSH login without lingering) is a failure: the
	// tokens would not rotate, whatever the files say.
	inactive := err == nil && res != nil && action == "install" && !res.Active
	// A remove the scheduler did not take may leave the job running.
	left := err == nil && res != nil && action == "remove" && res.Active
	if res != nil {
		writeSchedule(stdout, ui, res, verb, inactive, left)
	}
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	if inactive || left {
		return 1
	}
	return 0
}

const completionUsage = `Usage: git-credential-glpat completion bash|zsh|fish

Prints the shell completion script (install.sh installs it).

Examples:
    $ source <(git-credential-glpat completion bash)
    $ git-credential-glpat completion fish > ~/.config/fish/completions/git-credential-glpat.fish
`

var completionCommand = command{
	name: "completion", summary: "print a shell completion script", usage: completionUsage,
	args: completion.ArgWord, noun: "shell", words: []completion.Word{
		{Name: "bash", Help: "bash completion"},
		{Name: "zsh", Help: "zsh completion"},
		{Name: "fish", Help: "fish completion"},
	},
	bind: func(*flagSet) runFunc { return runCompletion },
}

func runCompletion(c *call, pos []string) int {
	shell, ok := c.word(pos)
	if !ok {
		return 2
	}
	s, err := completion.Script(shell, c.commands.completion())
	if err != nil {
		c.ui.Errorf("%v", err)
		return 1
	}
	fmt.Fprint(c.stdout, s)
	return 0
}

// scheduleLine is status's line about scheduled rotation; empty when it
// cannot be told.
func scheduleLine(ctx context.Context) string {
	bin, err := selfPath()
	if err != nil {
		return ""
	}
	st, err := schedule.QueryBinary(ctx, bin)
	if err != nil {
		return ""
	}
	return st.Line()
}
