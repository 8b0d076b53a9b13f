package main

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeCommands returns the command list that opens the README's
// "Commands" section: its first indented block, without the indent.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Commands\n")
	if !ok {
		t.Fatal(`README.md has no "## Commands" section`)
	}
	var list []string
	for _, l := range strings.Split(section, "\n") {
		if rest, ok := strings.CutPrefix(l, "    "); ok {
			list = append(list, rest)
		} else if len(list) > 0 || strings.HasPrefix(l, "#") {
			break
		}
	}
	if len(list) == 0 {
		t.Fatal(`the README's "Commands" section does not open with the indented command list`)
	}
	return list
}

// usageSynopsis returns the lines under "Usage:" in what help prints.
func usageSynopsis(t *testing.T) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run([]string{"help"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("help: exit %d\n%s", code, errOut.String())
	}
	_, rest, ok := strings.Cut(out.String(), "Usage:\n")
	if !ok {
		t.Fatalf("help prints no \"Usage:\" line:\n%s", out.String())
	}
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		l, ok := strings.CutPrefix(l, "    ")
		if !ok {
			break
		}
		lines = append(lines, l)
	}
	return lines
}

var flagPattern = regexp.MustCompile(`--[a-z][a-z-]*[a-z]`)

// commandsOn returns the commands a synopsis line names: the words of the
// line that are commands ("init | unlock [--for D] | lock" names three).
func commandsOn(line string) []*command {
	var cmds []*command
	for _, w := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(" |[]", r) }) {
		if c, ok := commands.lookup(w); ok && !strings.HasPrefix(w, "-") {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// TestReadmeListsTheCommandsOfTheUsage: the README's command list is the
// synopsis that help prints, line for line, and names every command of
// the command table with its flags, their fixed values and its words; and
// each flag it shows belongs to a command on its line. A command or flag
// added to the binary and not to the README (or the other way round) fails
// here.
func TestReadmeListsTheCommandsOfTheUsage(t *testing.T) {
	listed, usage := readmeCommands(t), usageSynopsis(t)
	if !slices.Equal(listed, usage) {
		t.Errorf("the README's command list differs from the usage that help prints\nREADME:\n    %s\nusage:\n    %s",
			strings.Join(listed, "\n    "), strings.Join(usage, "\n    "))
	}
	for _, c := range commands {
		var lines []string
		for _, l := range listed {
			if slices.Contains(commandsOn(l), c) {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			t.Errorf("the README's command list has no line for %s", c.name)
			continue
		}
		shown := flagPattern.FindAllString(strings.Join(lines, "\n"), -1)
		for _, f := range c.flags() {
			if !slices.Contains(shown, "--"+f.Name) {
				t.Errorf("the README's command list does not show --%s of %s", f.Name, c.name)
			}
			for _, v := range f.Values {
				if !strings.Contains(strings.Join(lines, "\n"), v) {
					t.Errorf("the README's command list does not name %s, a value of %s --%s", v, c.name, f.Name)
				}
			}
		}
		for _, w := range c.words {
			if !strings.Contains(strings.Join(lines, "\n"), w.Name) {
				t.Errorf("the README's command list does not name %s %s", c.name, w.Name)
			}
		}
	}
	for _, l := range listed {
		var bound []string
		for _, c := range commandsOn(l) {
			bound = append(bound, boundFlags(c.name)...)
		}
		for _, f := range flagPattern.FindAllString(l, -1) {
			if !slices.Contains(bound, f) {
				t.Errorf("the README's command list shows %s, which no command on its line takes: %s", f, l)
			}
		}
	}
}
