package doc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/completion"
)

const page = "git-credential-glpat.1"

// plain turns roff source into text for searching: escapes for the minus
// sign and quotes resolved, font changes and macro names dropped.
func plain(src string) string {
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

func readPage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the source lines of the section named name.
func section(src, name string) []string {
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

func TestSections(t *testing.T) {
	src := readPage(t)
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
	if n := section(src, "NAME"); len(n) != 1 || !strings.HasPrefix(n[0], `git\-credential\-glpat \- `) {
		t.Errorf("NAME section = %q, want one line \"git\\-credential\\-glpat \\- …\"", n)
	}
}

// commandBlocks splits the COMMANDS section into the text documenting each
// command, keyed by every command its tag names (".BR get , store , erase"
// documents three).
func commandBlocks(src string) map[string]string {
	blocks := map[string]string{}
	var current []string
	var text strings.Builder
	flush := func() {
		for _, c := range current {
			blocks[c] += text.String()
		}
		text.Reset()
	}
	lines := section(src, "COMMANDS")
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
			tag := plain(lines[i])
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
		text.WriteString(plain(l) + "\n")
	}
	flush()
	return blocks
}

// TestDocumentsEveryCommandAndFlag checks the page against the table the
// completion scripts are made from: every command has its entry in
// COMMANDS and a SYNOPSIS line, and every flag is in its command's entry.
func TestDocumentsEveryCommandAndFlag(t *testing.T) {
	src := readPage(t)
	blocks := commandBlocks(src)
	synopsis := plain(strings.Join(section(src, "SYNOPSIS"), "\n"))
	for _, c := range completion.Commands {
		block, ok := blocks[c.Name]
		if !ok {
			t.Errorf("COMMANDS has no entry for %s", c.Name)
			continue
		}
		if !regexp.MustCompile(`git-credential-glpat (\S*\|)?` + regexp.QuoteMeta(c.Name) + `\b`).MatchString(synopsis) {
			t.Errorf("SYNOPSIS has no line for %s", c.Name)
		}
		for _, f := range c.Flags {
			if !strings.Contains(block, "--"+f.Name) {
				t.Errorf("the entry of %s does not document --%s", c.Name, f.Name)
			}
			for _, v := range f.Values {
				if !strings.Contains(block, v) {
					t.Errorf("the entry of %s does not name %s, a value of --%s", c.Name, v, f.Name)
				}
			}
		}
		for _, w := range c.Words {
			if c.Name != "help" && !strings.Contains(block, w.Name) {
				t.Errorf("the entry of %s does not name %s", c.Name, w.Name)
			}
		}
	}
	for name := range blocks {
		if !slices.ContainsFunc(completion.Commands, func(c completion.Command) bool { return c.Name == name }) {
			t.Errorf("COMMANDS documents %q, which is not a command", name)
		}
	}
}

func TestDocumentsEnvironmentAndFiles(t *testing.T) {
	src := readPage(t)
	env := plain(strings.Join(section(src, "ENVIRONMENT"), "\n"))
	for _, v := range []string{"GLPAT_CONFIG", "GLPAT_STATE_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "GLPAT_KEYCHAIN_TIMEOUT", "DBUS_SESSION_BUS_ADDRESS", "NO_COLOR"} {
		if !strings.Contains(env, v) {
			t.Errorf("ENVIRONMENT does not document %s", v)
		}
	}
	files := plain(strings.Join(section(src, "FILES"), "\n"))
	for _, f := range []string{"config.toml", "git-credential-glpat-rotate.timer", "git-credential-glpat-rotate.plist", "recovery/"} {
		if !strings.Contains(files, f) {
			t.Errorf("FILES does not name %s", f)
		}
	}
	exit := plain(strings.Join(section(src, "EXIT STATUS"), "\n"))
	for _, code := range []string{"0", "1", "2", "70"} {
		if !regexp.MustCompile(`(?m)^` + code + `$`).MatchString(exit) {
			t.Errorf("EXIT STATUS does not document %s", code)
		}
	}
}

// TestRenders runs every formatter that is installed over the page, with
// warnings on, and wants no complaint.
func TestRenders(t *testing.T) {
	ran := 0
	if groff, err := exec.LookPath("groff"); err == nil {
		ran++
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", page)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("groff -man -ww: %v\n%s", err, stderr.String())
		}
	}
	if mandoc, err := exec.LookPath("mandoc"); err == nil {
		ran++
		if out, err := exec.Command(mandoc, "-T", "lint", "-W", "warning", page).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("mandoc -T lint: %v\n%s", err, out)
		}
	}
	if man, err := exec.LookPath("man"); err == nil {
		ran++
		cmd := exec.Command(man, "-l", page)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80", "LANG=C.UTF-8")
		out, err := cmd.Output()
		text := string(out)
		if err != nil || !strings.Contains(text, "GIT-CREDENTIAL-GLPAT(1)") || !strings.Contains(text, "EXIT STATUS") {
			t.Errorf("man -l %s: %v\n%s", page, err, text)
		}
	}
	if ran == 0 {
		t.Skip("none of groff, mandoc and man is installed")
	}
}

// TestGitHelp installs the page as install.sh does, under PREFIX/share/man/man1
// beside PREFIX/bin on PATH, and reads it with `git help credential-glpat`.
// man-db finds PREFIX/share/man from PATH, so no MANPATH is needed.
func TestGitHelp(t *testing.T) {
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
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(man1, page), src, 0o644); err != nil {
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
