package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/editdist"
)

// Flags is a command's flag set: -h prints the command's usage to stdout
// (exit 0); a flag error is one line naming the flag, and the nearest
// flag when one is close (exit 2), instead of Go's message and the usage.
type Flags struct {
	*flag.FlagSet
	usage string
	ui    *UI
}

func NewFlags(name, usage string, ui *UI) *Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &Flags{FlagSet: fs, usage: usage, ui: ui}
}

// Parse parses flags that may come before or after positional arguments,
// as people type them.
func (f *Flags) Parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.FlagSet.Parse(args); err != nil {
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

// Exit reports a parse error and returns the exit status: 0 for -h, 2
// otherwise.
func (f *Flags) Exit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(f.ui.Out, f.usage)
		return 0
	}
	f.ui.Errorf("%s", f.explain(err))
	return 2
}

// explain rewrites the flag package's messages into one line.
func (f *Flags) explain(err error) string {
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
func (f *Flags) nearest(name string) string {
	best, bestD := "", 3
	if len(name) <= 3 {
		bestD = 2
	}
	f.VisitAll(func(fl *flag.Flag) {
		if d := editdist.Distance(strings.ToLower(name), fl.Name); d < bestD || (d == bestD && best == "" && strings.HasPrefix(fl.Name, name)) {
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
