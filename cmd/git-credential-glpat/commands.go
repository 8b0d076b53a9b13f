package main

import (
	"fmt"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/editdist"
)

// commands are git-credential-glpat's commands, in the order its usage
// lists them: the one table of them. Dispatch, -h and help COMMAND, "did
// you mean", the completion scripts and the tests that hold the usage and
// the man page to each command's flags all read it. It is built by the
// compiler, not at init: every git fetch starts this program.
var commands = table{
	&getCommand, &storeCommand, &eraseCommand,
	&loginCommand, &logoutCommand, &statusCommand, &rotateCommand,
	&setupCommand, &doctorCommand, &scheduleCommand, &completionCommand,
	&initCommand, &unlockCommand, &lockCommand, &passphraseCommand,
	&migrateCommand, &versionCommand, &helpCommand,
}

// A command is one of git-credential-glpat's commands, declared once, with
// its usage beside it in the file that runs it.
type command struct {
	name string
	// git: Git runs it (gitcredentials(7)), people do not. It parses no
	// flags: Git's operations take no arguments, and ignore what they do
	// not know.
	git     bool
	summary string // one line, shown by zsh and fish
	usage   string // what COMMAND -h and help COMMAND print
	// args says what the positional arguments are: completion.ArgNone,
	// ArgHost (at most one host), ArgHosts (any number of hosts) or
	// ArgWord (one of words; noun is what messages call one).
	args  string
	words []completion.Word
	noun  string
	// bind binds the command's flags in fs to its options, and returns
	// what runs it once they are parsed. Every flag the command takes is
	// bound here, and only here.
	bind func(fs *flagSet) runFunc
}

// runFunc runs a command with its flags parsed; pos are its positional
// arguments. It returns the exit status.
type runFunc func(c *call, pos []string) int

// run runs the command as c: its usage for -h, else its flags parsed
// from c's arguments and its run.
func (cmd *command) run(c *call) int {
	if len(c.args) > 0 && isHelpFlag(c.args[0]) {
		// Every command takes -h, even get (which would wait on stdin).
		fmt.Fprint(c.stdout, cmd.usage)
		return 0
	}
	if cmd.git {
		return runGitOp(c)
	}
	fs := newFlagSet(cmd.name)
	run := cmd.bind(fs)
	pos, err := fs.parse(c.args)
	if err != nil {
		return c.flagError(fs, err)
	}
	return run(c, pos)
}

// flags are the command's flags, as its bind declares them.
func (cmd *command) flags() []completion.Flag {
	if cmd.git {
		return nil
	}
	fs := newFlagSet(cmd.name)
	cmd.bind(fs)
	return fs.declared
}

func isHelpFlag(s string) bool { return s == "-h" || s == "--help" || s == "-help" }

// A table is a list of commands.
type table []*command

// lookup is the command named name.
func (t table) lookup(name string) (*command, bool) {
	for _, c := range t {
		if c.name == name {
			return c, true
		}
	}
	return nil, false
}

// suggest returns the command a person most likely meant by s, a word
// that is not a command, or "" when s is close to none (editdist.Nearest).
// Git's own operations are never suggested, and a word at least as close
// to one of them as to the command is taken for an operation Git may grow
// (gitcredentials(7) has helpers ignore those), not for a typo.
func (t table) suggest(s string) string {
	var people []string
	gitD := 3
	for _, c := range t {
		if c.git {
			gitD = min(gitD, editdist.Distance(strings.ToLower(s), c.name))
		} else {
			people = append(people, c.name)
		}
	}
	near := editdist.Nearest(s, people)
	if near == "" || gitD <= editdist.Distance(strings.ToLower(s), near) {
		return ""
	}
	return near
}

// completion describes the commands for the completion scripts; help
// takes any of them.
func (t table) completion() []completion.Command {
	cmds := make([]completion.Command, len(t))
	for i, c := range t {
		cmds[i] = completion.Command{Name: c.name, Help: c.summary, Flags: c.flags(), Args: c.args, Words: c.words}
	}
	for i, c := range t {
		if c.name == "help" {
			for _, d := range t {
				cmds[i].Words = append(cmds[i].Words, completion.Word{Name: d.name, Help: d.summary})
			}
		}
	}
	return cmds
}
