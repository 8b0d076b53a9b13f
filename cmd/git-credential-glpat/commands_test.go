package main

import (
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/completion"
)

// TestEveryCommandRuns: completion.Commands is the one table of commands;
// each has a runner here and a usage, and nothing runs that it lacks.
func TestEveryCommandRuns(t *testing.T) {
	ran := map[string]bool{}
	for _, r := range runners {
		if _, ok := completion.Lookup(r.name); !ok {
			t.Errorf("runner %q is not in completion.Commands", r.name)
		}
		ran[r.name] = true
	}
	for _, c := range completion.Commands {
		if !ran[c.Name] {
			t.Errorf("command %q has no runner", c.Name)
		}
		if c.Usage == "" && c.Name != "help" {
			t.Errorf("command %q has no usage", c.Name)
		}
	}
	for _, a := range []string{"-v", "--version", "-h", "--help"} {
		name, ok := alias(a)
		if _, known := completion.Lookup(name); !ok || !known {
			t.Errorf("alias %q names %q, which is not a command", a, name)
		}
	}
}
