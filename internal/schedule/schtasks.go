package schedule

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// A task of the Windows Task Scheduler, made with schtasks.exe
// (https://learn.microsoft.com/windows-server/administration/windows-commands/schtasks-create).
// Without /RU it runs as the current user, only while that user is logged
// on, which is what Credential Manager needs.

// maxTaskRun is the longest /TR that schtasks accepts.
const maxTaskRun = 261

// taskRun is the command the task runs: the program, quoted, and its
// arguments.
func taskRun(o Options) string {
	return `"` + o.Binary + `" rotate --all`
}

// schtasksCreate is the argument list of the schtasks call that creates
// (or, with /F, replaces) the task.
func schtasksCreate(o Options) []string {
	return []string{"/Create", "/F", "/SC", "DAILY", "/ST", fmt.Sprintf("%02d:%02d", dailyHour, dailyMinute), "/TN", Name, "/TR", taskRun(o)}
}

func installSchtasks(ctx context.Context, o Options) (*Result, error) {
	r := &Result{Scheduler: "schtasks"}
	if tr := taskRun(o); len(tr) > maxTaskRun {
		return r, fmt.Errorf("schedule: the task command %q is longer than the %d characters schtasks accepts; install git-credential-glpat in a shorter path", tr, maxTaskRun)
	}
	if out, err := run(ctx, o, r, "schtasks", schtasksCreate(o)...); err != nil {
		return r, fmt.Errorf("schedule: %s", commandError("schtasks", out, err))
	}
	r.Active = true
	r.Notes = append(r.Notes, fmt.Sprintf("the Task Scheduler rotates daily at %02d:%02d while you are logged on; a day the computer is off is skipped, and git's own use rotates a token that is due", dailyHour, dailyMinute))
	if len(o.Env) > 0 {
		var names []string
		for _, kv := range o.env() {
			names = append(names, kv[0])
		}
		r.Notes = append(r.Notes, "the task does not see "+strings.Join(names, ", ")+" from this shell; make them user environment variables (setx NAME VALUE) so that it finds the same config and state")
	}
	return r, nil
}

func removeSchtasks(ctx context.Context, o Options) (*Result, error) {
	r := &Result{Scheduler: "schtasks"}
	if _, err := run(ctx, o, nil, "schtasks", "/Query", "/TN", Name); err != nil {
		r.Notes = append(r.Notes, "scheduled rotation is not installed (no task "+Name+")")
		return r, nil
	}
	if out, err := run(ctx, o, r, "schtasks", "/Delete", "/F", "/TN", Name); err != nil {
		return r, fmt.Errorf("schedule: %s", commandError("schtasks", out, err))
	}
	return r, nil
}

func statusSchtasks(ctx context.Context, o Options) (Status, error) {
	st := Status{Scheduler: "schtasks"}
	if readTaskXML == nil {
		return st, errors.New("schedule: reading a scheduled task is built only into Windows binaries")
	}
	out, err := run(ctx, o, nil, "schtasks", "/Query", "/TN", Name, "/XML")
	if err != nil {
		st.Detail = "not installed"
		return st, nil
	}
	st.Installed = true
	st.State = "unknown"
	if enabled, cmd, args, err := readTaskXML(out); err == nil {
		st.State = "enabled"
		if !enabled {
			st.State = "disabled"
		}
		cmd = strings.Trim(strings.TrimSpace(cmd), `"`)
		st.Current = strings.EqualFold(cmd, o.Binary) && strings.TrimSpace(args) == "rotate --all"
	}
	st.Detail = "Windows scheduled task " + Name + ", " + st.State
	if !st.Current {
		st.Detail += "; it does not run " + o.Binary + " rotate --all, run `git-credential-glpat schedule install` again"
	}
	return st, nil
}
