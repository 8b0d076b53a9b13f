package schedule

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"unicode/utf16"
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

// taskXML is the part of a task's XML (schtasks /Query /XML) that says
// what it runs and whether it is enabled.
type taskXML struct {
	Settings struct {
		Enabled *bool `xml:"Enabled"`
	} `xml:"Settings"`
	Exec struct {
		Command   string `xml:"Command"`
		Arguments string `xml:"Arguments"`
	} `xml:"Actions>Exec"`
}

func statusSchtasks(ctx context.Context, o Options) (Status, error) {
	st := Status{Scheduler: "schtasks"}
	out, err := run(ctx, o, nil, "schtasks", "/Query", "/TN", Name, "/XML")
	if err != nil {
		st.Detail = "not installed"
		return st, nil
	}
	st.Installed = true
	st.State = "unknown"
	var t taskXML
	if err := decodeTaskXML(out, &t); err == nil {
		st.State = "enabled"
		if t.Settings.Enabled != nil && !*t.Settings.Enabled {
			st.State = "disabled"
		}
		cmd := strings.Trim(strings.TrimSpace(t.Exec.Command), `"`)
		st.Current = strings.EqualFold(cmd, o.Binary) && strings.TrimSpace(t.Exec.Arguments) == "rotate --all"
	}
	st.Detail = "Windows scheduled task " + Name + ", " + st.State
	if !st.Current {
		st.Detail += "; it does not run " + o.Binary + " rotate --all, run `git-credential-glpat schedule install` again"
	}
	return st, nil
}

// decodeTaskXML reads schtasks' XML, which it writes as UTF-16 when its
// output is not a console.
func decodeTaskXML(b []byte, t *taskXML) error {
	if len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] != 0 && b[1] == 0) {
		b = bytes.TrimPrefix(b, []byte{0xff, 0xfe})
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		b = []byte(string(utf16.Decode(u)))
	}
	// The declaration says UTF-16 even when the bytes no longer are.
	if i := bytes.Index(b, []byte("?>")); bytes.HasPrefix(bytes.TrimSpace(b), []byte("<?xml")) && i >= 0 {
		b = b[i+2:]
	}
	return xml.Unmarshal(b, t)
}
