package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/editdist"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// flagSet is a command's flags as its bind declares them: the flag.FlagSet
// that parses them, and each one as declared, for the completion scripts
// and for the tests that hold the usage and the man page to them.
type flagSet struct {
	set      *flag.FlagSet
	declared []completion.Flag
}

func newFlagSet(name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{set: fs}
}

// boolVar declares --name, a switch; help is completion's one line.
func (f *flagSet) boolVar(p *bool, name, help string) {
	f.set.BoolVar(p, name, false, "")
	f.declared = append(f.declared, completion.Flag{Name: name, Help: help})
}

// stringVar declares --name ARG.
func (f *flagSet) stringVar(p *string, name, arg, help string) {
	f.set.StringVar(p, name, "", "")
	f.declared = append(f.declared, completion.Flag{Name: name, Arg: arg, Help: help})
}

// fileVar declares --name ARG, whose value is a file name.
func (f *flagSet) fileVar(p *string, name, arg, help string) {
	f.set.StringVar(p, name, "", "")
	f.declared = append(f.declared, completion.Flag{Name: name, Arg: arg, File: true, Help: help})
}

// choiceVar declares --name ARG, which takes one of values. Completion
// offers them; the command checks the value, to say what is wrong with it
// in its own words.
func (f *flagSet) choiceVar(p *string, name, arg string, values []string, help string) {
	f.set.StringVar(p, name, "", "")
	f.declared = append(f.declared, completion.Flag{Name: name, Arg: arg, Values: values, Help: help})
}

// funcVar declares --name ARG, whose value set parses; an error it returns
// is the flag's error.
func (f *flagSet) funcVar(name, arg, help string, set func(string) error) {
	f.set.Func(name, "", set)
	f.declared = append(f.declared, completion.Flag{Name: name, Arg: arg, Help: help})
}

// parse parses flags that may come before or after positional arguments,
// as people type them, and returns the positional arguments.
func (f *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.set.Parse(args); err != nil {
			return nil, err
		}
		args = f.set.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagError reports a parse error of the command's flags, fs, and returns
// the exit status: the usage on stdout and 0 for -h; else one line naming
// the flag, and the nearest flag when one is close, and 2 (instead of Go's
// message and the usage).
func (c *call) flagError(fs *flagSet, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.stdout, c.cmd.usage)
		return 0
	}
	c.ui.Errorf("%s", fs.explain(err))
	return 2
}

// explain rewrites the flag package's messages into one line.
func (f *flagSet) explain(err error) string {
	msg := err.Error()
	cmd := f.set.Name()
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

// nearest is the flag closest to a mistyped one, if any is close.
func (f *flagSet) nearest(name string) string {
	best, bestD := "", 3
	if len(name) <= 3 {
		bestD = 2
	}
	f.set.VisitAll(func(fl *flag.Flag) {
		if d := editdist.Distance(strings.ToLower(name), fl.Name); d < bestD || (d == bestD && best == "" && strings.HasPrefix(fl.Name, name)) {
			best, bestD = fl.Name, d
		}
	})
	if best == "" {
		f.set.VisitAll(func(fl *flag.Flag) {
			if best == "" && len(name) >= 2 && strings.HasPrefix(fl.Name, name) {
				best = fl.Name
			}
		})
	}
	return best
}

// argError reports a usage error in cmd's arguments in the style of its
// flag errors, "CMD: what is wrong (what it takes)", and returns the exit
// status of a usage error, 2.
func argError(ui *tty.UI, cmd, format string, a ...any) int {
	ui.Errorf("%s: %s", cmd, fmt.Sprintf(format, a...))
	return 2
}

// noArgs reports whether the command, which takes no positional
// arguments, got none; it reports the first one it got otherwise.
func (c *call) noArgs(pos []string) bool {
	if len(pos) > 0 {
		argError(c.ui, c.name, "unexpected argument %q", pos[0])
		return false
	}
	return true
}

// word is the command's one positional argument, which must be one of its
// words (schedule's action, completion's shell).
func (c *call) word(pos []string) (string, bool) {
	words := make([]string, len(c.cmd.words))
	for i, w := range c.cmd.words {
		words[i] = w.Name
	}
	switch {
	case len(pos) == 0:
		argError(c.ui, c.name, "missing the %s (%s)", c.cmd.noun, orList(words))
		return "", false
	case len(pos) > 1:
		argError(c.ui, c.name, "unexpected argument %q", pos[1])
		return "", false
	}
	for _, w := range words {
		if pos[0] == w {
			return w, true
		}
	}
	c.unknownWord("unknown "+c.cmd.noun+" %q", pos[0], words)
	return "", false
}

// unknownWord reports got, which is none of words: what (a format with
// one %q) and the nearest word, or all of them when none is near. It
// returns the exit status of a usage error.
func (c *call) unknownWord(what, got string, words []string) int {
	msg := fmt.Sprintf(what, got)
	if near := editdist.Nearest(got, words); near != "" {
		return argError(c.ui, c.name, "%s (did you mean %s?)", msg, near)
	}
	return argError(c.ui, c.name, "%s (%s)", msg, orList(words))
}

// orList writes words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
