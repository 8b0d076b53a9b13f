package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// manPage is the man page, hand-written roff; these tests check that it
// renders cleanly and documents every command and flag.
var manPage = filepath.Join("..", "..", "doc", "git-credential-glpat.1")

// plain turns roff source into text for searching: escapes for the minus
// sign and quotes resolved, font changes and macro names dropped.
func roffText(src string) string {
	r := strings.NewReplacer(`\-`, "-", `\(dq`, `"`, `\(aq`, "'", `\e`, `\`, `\&`, "", `\fB`, "", `\fI`, "", `\fR`, "", `\fP`, "")
	var out []string
	for _, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(l, `.\"`) {
			continue
		}
		if strings.HasPrefix(l, ".") {
			_, rest, _ := strings.Cut(l, " ")
			l = strings.ReplaceAll(rest, `"`, "")
		}
		out = append(out, r.Replace(l))
	}
	return strings.Join(out, "\n")
}

func readManPage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the source lines of the section named name.
func manSection(src, name string) []string {
	var lines []string
	in := false
	for _, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(l, ".SH ") {
			in = strings.Trim(strings.TrimPrefix(l, ".SH "), `"`) == name
			continue
		}
		if in {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestManPageSections(t *testing.T) {
	src := readManPage(t)
	var got []string
	for _, l := range strings.Split(src, "\n") {
		if name, ok := strings.CutPrefix(l, ".SH "); ok {
			got = append(got, strings.Trim(name, `"`))
		}
	}
	want := []string{"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "CONFIGURATION", "FILES", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"}
	if !slices.Equal(got, want) {
		t.Errorf("sections = %q, want %q", got, want)
	}
	if !strings.HasPrefix(src, `.\"`) || !strings.Contains(src, ".TH GIT\\-CREDENTIAL\\-GLPAT 1 ") {
		t.Errorf("the page does not start with a comment and a .TH for section 1")
	}
	// NAME must be "name \- description" for whatis and apropos.
	if n := manSection(src, "NAME"); len(n) != 1 || !strings.HasPrefix(n[0], `git\-credential\-glpat \- `) {
		t.Errorf("NAME section = %q, want one line \"git\\-credential\\-glpat \\- …\"", n)
	}
}

// commandBlocks splits the COMMANDS section into the text documenting each
// command, keyed by every command its tag names (".BR get , store , erase"
// documents three).
func manCommandBlocks(src string) map[string]string {
	blocks := map[string]string{}
	var current []string
	var text strings.Builder
	flush := func() {
		for _, c := range current {
			blocks[c] += text.String()
		}
		text.Reset()
	}
	lines := manSection(src, "COMMANDS")
	depth := 0
	tagWord := regexp.MustCompile(`[a-z][a-z-]*`)
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, ".RS"):
			depth++
		case strings.HasPrefix(l, ".RE"):
			depth--
		case l == ".TP" && depth == 0 && i+1 < len(lines):
			flush()
			i++
			tag := roffText(lines[i])
			current = nil
			// The tag's command words come before any argument.
			for _, w := range strings.FieldsFunc(tag, func(r rune) bool { return r == ' ' || r == ',' }) {
				if strings.HasPrefix(w, "[") || strings.HasPrefix(w, "-") || strings.Contains(w, "|") || strings.ToUpper(w) == w {
					break
				}
				if tagWord.MatchString(w) {
					current = append(current, w)
				}
			}
			text.WriteString(tag + "\n")
			continue
		}
		text.WriteString(roffText(l) + "\n")
	}
	flush()
	return blocks
}

// TestManPageDocumentsEveryCommandAndFlag checks the page against the table of
// commands: every command has its entry in COMMANDS and a SYNOPSIS line;
// every flag it binds is in its entry, and its SYNOPSIS line shows no flag
// it does not bind.
func TestManPageDocumentsEveryCommandAndFlag(t *testing.T) {
	src := readManPage(t)
	blocks := manCommandBlocks(src)
	synopsis := strings.Split(roffText(strings.Join(manSection(src, "SYNOPSIS"), "\n")), "\n")
	for _, c := range commands {
		block, ok := blocks[c.name]
		if !ok {
			t.Errorf("COMMANDS has no entry for %s", c.name)
			continue
		}
		line := regexp.MustCompile(`^git-credential-glpat (\S*\|)?` + regexp.QuoteMeta(c.name) + `\b`)
		i := slices.IndexFunc(synopsis, line.MatchString)
		if i < 0 {
			t.Errorf("SYNOPSIS has no line for %s", c.name)
			continue
		}
		bound := boundFlags(synopsisCommands(synopsis[i])...)
		for _, f := range flagPattern.FindAllString(synopsis[i], -1) {
			if name, ok := alias(f); !slices.Contains(bound, f) && !(ok && name == c.name) {
				t.Errorf("the SYNOPSIS line of %s shows %s, which it does not bind", c.name, f)
			}
		}
		for _, f := range c.flags() {
			if !strings.Contains(block, "--"+f.Name) {
				t.Errorf("the entry of %s does not document --%s", c.name, f.Name)
			}
			for _, v := range f.Values {
				if !strings.Contains(block, v) {
					t.Errorf("the entry of %s does not name %s, a value of --%s", c.name, v, f.Name)
				}
			}
		}
		for _, w := range c.words {
			if !strings.Contains(block, w.Name) {
				t.Errorf("the entry of %s does not name %s", c.name, w.Name)
			}
		}
	}
	for name := range blocks {
		if _, ok := commands.lookup(name); !ok {
			t.Errorf("COMMANDS documents %q, which is not a command", name)
		}
	}
}

// synopsisCommands are the commands a SYNOPSIS line names before its
// arguments ("init|unlock|lock|passphrase [--passphrase-stdin]").
func synopsisCommands(line string) []string {
	first, _, _ := strings.Cut(strings.TrimPrefix(line, "git-credential-glpat "), " ")
	return strings.Split(first, "|")
}

func TestManPageDocumentsEnvironmentAndFiles(t *testing.T) {
	src := readManPage(t)
	env := roffText(strings.Join(manSection(src, "ENVIRONMENT"), "\n"))
	for _, v := range []string{"GLPAT_CONFIG", "GLPAT_STATE_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "GLPAT_KEYCHAIN_TIMEOUT", "DBUS_SESSION_BUS_ADDRESS", "NO_COLOR"} {
		if !strings.Contains(env, v) {
			t.Errorf("ENVIRONMENT does not document %s", v)
		}
	}
	files := roffText(strings.Join(manSection(src, "FILES"), "\n"))
	for _, f := range []string{"config.toml", "git-credential-glpat-rotate.timer", "git-credential-glpat-rotate.plist", "recovery/"} {
		if !strings.Contains(files, f) {
			t.Errorf("FILES does not name %s", f)
		}
	}
	exit := roffText(strings.Join(manSection(src, "EXIT STATUS"), "\n"))
	for _, code := range []string{"0", "1", "2", "70"} {
		if !regexp.MustCompile(`(?m)^` + code + `$`).MatchString(exit) {
			t.Errorf("EXIT STATUS does not document %s", code)
		}
	}
}

// TestManPageRenders runs every formatter that is installed over the page, with
// warnings on, and wants no complaint.
func TestManPageRenders(t *testing.T) {
	ran := 0
	if groff, err := exec.LookPath("groff"); err == nil {
		ran++
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", manPage)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("groff -man -ww: %v\n%s", err, stderr.String())
		}
	}
	if mandoc, err := exec.LookPath("mandoc"); err == nil {
		ran++
		if out, err := exec.Command(mandoc, "-T", "lint", "-W", "warning", manPage).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("mandoc -T lint: %v\n%s", err, out)
		}
	}
	if man, err := exec.LookPath("man"); err == nil {
		ran++
		cmd := exec.Command(man, "-l", manPage)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80", "LANG=C.UTF-8")
		out, err := cmd.Output()
		text := string(out)
		if err != nil || !strings.Contains(text, "GIT-CREDENTIAL-GLPAT(1)") || !strings.Contains(text, "EXIT STATUS") {
			t.Errorf("man -l %s: %v\n%s", manPage, err, text)
		}
	}
	if ran == 0 {
		t.Skip("none of groff, mandoc and man is installed")
	}
}

// TestManPageThroughGitHelp installs the page as install.sh does, under PREFIX/share/man/man1
// beside PREFIX/bin on PATH, and reads it with `git help credential-glpat`.
// man-db finds PREFIX/share/man from PATH, so no MANPATH is needed.
func TestManPageThroughGitHelp(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("man is not installed")
	}
	prefix := t.TempDir()
	bin := filepath.Join(prefix, "bin")
	man1 := filepath.Join(prefix, "share", "man", "man1")
	for _, d := range []string{bin, man1} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// git help shows "git-X" pages only for commands it can find.
	if err := os.WriteFile(filepath.Join(bin, "git-credential-glpat"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(manPage)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(man1, filepath.Base(manPage)), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "help", "credential-glpat")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MANPATH=") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+prefix, "GIT_CONFIG_NOSYSTEM=1", "MANPAGER=cat", "PAGER=cat", "GIT_PAGER=cat", "MANWIDTH=80", "LANG=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "GIT-CREDENTIAL-GLPAT(1)") {
		t.Errorf("git help credential-glpat: %v\n%s", err, out)
	}
}
