package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/glpat-dev/git-credential-glpat/internal/cli"
	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/doctor"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
	"github.com/glpat-dev/git-credential-glpat/internal/schedule"
)

func runDoctor(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := cli.NewFlags("doctor", c.usage(), ui)
	asJSON := fs.Bool("json", false, "")
	pos, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
	if !cli.NoArgs(ui, "doctor", pos) {
		return 2
	}
	e, err := openSession(false, ui)
	var np *safefile.NotPrivateError
	if errors.As(err, &np) {
		// Nothing else is checked over files others may have written.
		doctor.WriteText(stdout, []doctor.Check{{Name: "state and config", Status: doctor.StatusFail,
			Detail: np.Error(), Fix: "run " + np.Fix}}, cli.Color(stdout))
		return 1
	}
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	defer e.Close()
	bin, _ := selfPath()
	ctx, cancel := cli.Interruptible()
	defer cancel()
	env := doctor.Env{
		Secrets:  e.Store.Secrets,
		Accounts: e.AccountsForDoctor(),
		Binary:   bin,
		Schedule: func(ctx context.Context) (schedule.Status, error) { return schedule.QueryBinary(ctx, bin) },
	}
	stop := cli.Progress(ui, "checking")
	checks := doctor.Run(ctx, env)
	stop()
	if *asJSON {
		doctor.WriteJSON(stdout, checks)
	} else {
		doctor.WriteTextWidth(stdout, checks, cli.Color(stdout), cli.TerminalWidth(stdout, doctor.DefaultWidth))
	}
	if doctor.NeedsAction(checks) {
		return 1
	}
	return 0
}

func runSchedule(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := cli.NewFlags("schedule", c.usage(), ui)
	pos, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
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
	ctx, cancel := cli.Interruptible()
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
		cli.WriteSchedule(stdout, ui, res, verb, inactive, left)
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

func runCompletion(c *call) int {
	shell, ok := c.word(c.args)
	if !ok {
		return 2
	}
	s, err := completion.Script(shell)
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
