package gitsetup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
)

// trickyConfigs are git config files whose syntax the parser must read as
// git does.
var trickyConfigs = []string{
	"",
	"\xef\xbb\xbf[a]\n\tb = c\n",
	"[a]\n\tflag\n\tx = \"q\\\"uoted\"  ; comment\n[b \"S u\\\\b\"] k = v\\\n w\n",
	"[Section.Sub]\nName = Value\n",
	"[credential \"https://gitlab.com\"]\r\n\thelper = \r\n\thelper = /usr/bin/x\r\n",
	"# comment\n; comment\n[a]\n  b   =   spaced   value   \n\tc = tab\\tescape\\n\n",
	"[a]\nb = \"  kept  \" # trailing\nc = x\"y\"z\n",
	"[a]\nb = v\\\n\n[c]\nd=1",
	"[a \"sub\\\"q\"]\n\tk=1\n",
	"[a]\n\tb = one\n\tb = two\n[a]\n\tb = three\n",
	"[a]b=c\n",
	"[a] ; comment\n\tb\n",
	"[a]\n\tb = \"\"\n\tb =\n",
}

func TestParseGitConfigAgreesWithGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	g := &gitRunner{r: gitconfig.Exec{}}
	for i, content := range trickyConfigs {
		file := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		want, err := g.gitList(context.Background(), file)
		if err != nil {
			t.Fatalf("case %d: git: %v", i, err)
		}
		got, err := parseGitConfig([]byte(content))
		if err != nil {
			t.Errorf("case %d %q: %v", i, content, err)
			continue
		}
		if !sameEntries(got, want) {
			t.Errorf("case %d %q:\n got %+v\nwant %+v", i, content, got, want)
		}
		for _, e := range got {
			if e.start < 0 || e.end > len(content) || e.start >= e.end {
				t.Errorf("case %d: entry %q spans [%d, %d) of %d bytes", i, e.key, e.start, e.end, len(content))
			}
		}
	}
}

func TestParseGitConfigRejects(t *testing.T) {
	for _, content := range []string{"x = 1\n", "[a\n", "[a \"b]\n", "[a]\nb = \"open\n", "[a]\nb = \\q\n", "[a]\n1b = c\n", "[a]\nb c\n"} {
		if entries, err := parseGitConfig([]byte(content)); err == nil {
			t.Errorf("parseGitConfig(%q) = %+v, want an error", content, entries)
		}
	}
}

func TestRemoveEntriesRefusesSharedLine(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	file := filepath.Join(t.TempDir(), "config")
	content := "[credential \"https://gitlab.com\"] helper =\n\thelper =\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gitRunner{r: gitconfig.Exec{}}
	err := g.removeEntries(context.Background(), file, helperKeyGitLab, []int{0})
	want := "gitsetup: cannot remove credential.https://gitlab.com.helper from " + file + " safely (the value shares a line with a section header); remove the lines by hand with: git config --global --edit"
	if err == nil || err.Error() != want {
		t.Errorf("removeEntries = %v, want %s", err, want)
	}
	if data, _ := os.ReadFile(file); string(data) != content {
		t.Errorf("refused edit changed the file to %q", data)
	}
	// The other one can go.
	if err := g.removeEntries(context.Background(), file, helperKeyGitLab, []int{1}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(file); string(data) != "[credential \"https://gitlab.com\"] helper =\n" {
		t.Errorf("after edit: %q", data)
	}
}

// FuzzParseGitConfig checks the parser against git itself: whatever git
// reads, the parser must read the same way (or refuse, which only makes
// undo ask for a manual edit), and its line spans must make sense.
func FuzzParseGitConfig(f *testing.F) {
	if _, err := exec.LookPath("git"); err != nil {
		f.Skip("git not installed")
	}
	for _, c := range trickyConfigs {
		f.Add(c)
	}
	g := &gitRunner{r: gitconfig.Exec{}}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		got, perr := parseGitConfig([]byte(content))
		for _, e := range got {
			if e.start < 0 || e.end > len(content) || e.start >= e.end {
				t.Fatalf("entry %q spans [%d, %d) of %d bytes", e.key, e.start, e.end, len(content))
			}
		}
		file := filepath.Join(dir, "config")
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		want, gerr := g.gitList(context.Background(), file)
		if gerr != nil {
			return // git refuses it; so may we
		}
		if perr != nil {
			// Refusing is safe: undo then asks for a manual edit.
			return
		}
		if !sameEntries(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", content, got, want)
		}
	})
}
