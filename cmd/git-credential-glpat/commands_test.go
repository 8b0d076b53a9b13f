package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/completion"
)

var allCommands = []string{"get", "store", "erase", "login", "logout", "status", "rotate", "setup", "doctor", "schedule", "completion", "init", "unlock", "lock", "passphrase", "migrate", "version", "help"}

// TestCommandsTable: the table holds every command once, in the usage's
// order, each with a usage and a one-line summary, and with flags a shell
// can complete.
func TestCommandsTable(t *testing.T) {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
		if c.usage == "" {
			t.Errorf("%s: no usage", c.name)
		}
		if c.summary == "" || strings.Contains(c.summary, "\n") {
			t.Errorf("%s: summary %q is empty or has a line break", c.name, c.summary)
		}
		if c.git != (c.bind == nil) {
			t.Errorf("%s: git %v, bind %v: Git's operations parse no flags, every other command binds its own", c.name, c.git, c.bind != nil)
		}
		if (c.args == completion.ArgWord) != (len(c.words) > 0 || c.name == "help") || (c.args == completion.ArgWord) != (c.noun != "") {
			t.Errorf("%s: args %q with %d words and noun %q", c.name, c.args, len(c.words), c.noun)
		}
		var flags []string
		for _, f := range c.flags() {
			if slices.Contains(flags, f.Name) || f.Name == "help" || f.Name == "h" || strings.HasPrefix(f.Name, "-") {
				t.Errorf("%s: flag %q is repeated, reserved or has dashes", c.name, f.Name)
			}
			if len(f.Values) > 0 && f.Arg == "" {
				t.Errorf("%s --%s: values but no argument", c.name, f.Name)
			}
			if f.Help == "" {
				t.Errorf("%s --%s: no help", c.name, f.Name)
			}
			flags = append(flags, f.Name)
		}
	}
	if !slices.Equal(names, allCommands) {
		t.Errorf("commands = %q, want %q", names, allCommands)
	}
	for _, a := range []string{"-v", "--version", "-h", "--help"} {
		name, ok := alias(a)
		if _, known := commands.lookup(name); !ok || !known {
			t.Errorf("alias %q names %q, which is not a command", a, name)
		}
	}
}

// boundFlags are the flags, as --name, that the commands named bind: what
// parses them, and what the completion scripts are written from (so these
// two cannot differ).
func boundFlags(names ...string) []string {
	var flags []string
	for _, n := range names {
		c, _ := commands.lookup(n)
		for _, f := range c.flags() {
			flags = append(flags, "--"+f.Name)
		}
	}
	return flags
}

// sharing are the commands whose usage is c's (init, unlock, lock and
// passphrase share one).
func sharing(c *command) []string {
	var names []string
	for _, d := range commands {
		if d.usage == c.usage {
			names = append(names, d.name)
		}
	}
	return names
}

// TestUsageShowsTheBoundFlags: the usage lines of a command's usage
// (COMMAND -h, help COMMAND) show every flag the command binds, and they
// and its Options show no flag that the commands sharing the usage do not
// bind (an alias of the command, like --version, aside; the prose may name
// other commands' flags). The flags are declared once, in the command's
// bind: the parser and the completion scripts are made from that
// declaration, and the usage is held to it here (the man page in
// TestManPageDocumentsEveryCommandAndFlag).
func TestUsageShowsTheBoundFlags(t *testing.T) {
	for _, c := range commands {
		if c.name == "help" {
			continue // the program's usage: TestReadmeListsTheCommandsOfTheUsage
		}
		lines := usageLines(c.usage)
		shown := flagPattern.FindAllString(lines, -1)
		for _, f := range boundFlags(c.name) {
			if !slices.Contains(shown, f) {
				t.Errorf("%s binds %s, which its usage lines do not show:\n%s", c.name, f, lines)
			}
		}
		bound := boundFlags(sharing(c)...)
		for _, f := range flagPattern.FindAllString(lines+usageOptions(c.usage), -1) {
			if name, ok := alias(f); ok && name == c.name {
				continue
			}
			if !slices.Contains(bound, f) {
				t.Errorf("the usage of %s shows %s, which %s does not bind", c.name, f, strings.Join(sharing(c), ", "))
			}
		}
	}
}

// usageLines are the lines of a usage up to its first blank line.
func usageLines(usage string) string {
	lines, _, _ := strings.Cut(usage, "\n\n")
	return lines
}

// usageOptions is the Options section of a usage, if it has one.
func usageOptions(usage string) string {
	_, opts, ok := strings.Cut(usage, "\nOptions:\n")
	if !ok {
		return ""
	}
	opts, _, _ = strings.Cut(opts, "\n\n")
	return opts
}

// TestSuggest: a word close to a command people type gets that command; a
// word as close to one of Git's operations, or far from every command,
// gets none (Git may send it one day).
func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ word, want string }{
		{"rotat", "rotate"},
		{"stauts", "status"},
		{"stat", "status"},
		{"logut", "logout"},
		{"LOGIN", "login"},
		{"hlep", "help"},
		{"lcok", "lock"},
		{"migrte", "migrate"},
		{"quit", ""},    // two edits from init: half the word
		{"set", ""},     // one from get, two from setup
		{"restore", ""}, // two from store
		{"gets", ""},
		{"get", ""},
		{"list", ""},
		{"capability", ""},
	} {
		if got := commands.suggest(tc.word); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}
