package main

import (
	"encoding/json"
	"flag"
	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden completion scripts in testdata/")

// programName is what the completion scripts complete.
const programName = "git-credential-glpat"

// fakeHosts are the hosts the fake git-credential-glpat reports.
var fakeHosts = []string{"gitlab.com", "gitlab.example.com:8443"}

// fakeProgram puts a git-credential-glpat on PATH that answers
// `status --offline --json` with the JSON the real one prints (account.Entry,
// indented as main indents it), two accounts on the first host, and fails
// anything else.
func fakeProgram(t *testing.T) (pathEnv string) {
	t.Helper()
	dir := t.TempDir()
	var entries []account.Entry
	for _, h := range fakeHosts {
		entries = append(entries, account.Entry{Host: h, Protocol: "https", Username: "alice", Managed: true, Scopes: []string{"read_repository"}})
	}
	// A second account on the first host: each host is offered once.
	entries = append(entries, account.Entry{Host: fakeHosts[0], Protocol: "https", Username: "bob", Managed: true, Scopes: []string{"read_repository"}})
	js, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	jsonFile := filepath.Join(dir, "status.json")
	if err := os.WriteFile(jsonFile, js, 0o600); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n[ \"$*\" = 'status --offline --json' ] || exit 2\ncat '" + jsonFile + "'\n"
	if err := os.WriteFile(filepath.Join(dir, programName), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

func writeScript(t *testing.T, shell string) string {
	t.Helper()
	s, err := completion.Script(shell, commands.completion())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), programName+"."+shell)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func needShell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed; the golden file test still covers its script", name)
	}
	return p
}

// A completion case: the words typed (the last is the one being
// completed) and the candidates wanted, in any order.
type compCase struct {
	name  string
	words []string
	want  []string
}

// completionCases hold for every shell. Shells differ in what they add around them
// (zsh offers options where no argument is left), so each shell's test
// says which extra candidates it accepts.
var completionCases = []compCase{
	{"commands", []string{""}, allCommands},
	{"command prefix", []string{"lo"}, []string{"login", "logout", "lock"}},
	{"login flags", []string{"login", "--"}, []string{"--username", "--token-stdin", "--api-url", "--ca-file", "--web", "--create-url", "--oauth", "--flow", "--help"}},
	{"login host", []string{"login", ""}, fakeHosts},
	{"host prefix", []string{"rotate", "gitlab.e"}, []string{"gitlab.example.com:8443"}},
	{"after a flag value", []string{"login", "--username", "alice", ""}, fakeHosts},
	{"setup takes many hosts", []string{"setup", "gitlab.com", ""}, fakeHosts},
	{"logout flags", []string{"logout", "--"}, []string{"--username", "--revoke", "--yes", "--help"}},
	{"status flags", []string{"status", "--"}, []string{"--json", "--offline", "--help"}},
	{"rotate flags", []string{"rotate", "--"}, []string{"--all", "--force", "--json", "--help"}},
	{"setup flags", []string{"setup", "--"}, []string{"--undo", "--help"}},
	{"doctor flags", []string{"doctor", "--"}, []string{"--json", "--help"}},
	{"unlock flags", []string{"unlock", "--"}, []string{"--passphrase-stdin", "--for", "--help"}},
	{"init flags", []string{"init", "--"}, []string{"--passphrase-stdin", "--help"}},
	{"lock flags", []string{"lock", "--"}, []string{"--help"}},
	{"migrate flags", []string{"migrate", "--"}, []string{"--to", "--help"}},
	{"migrate backends", []string{"migrate", "--to", ""}, []string{"keyring", "encrypted-file", "kernel"}},
	{"migrate backend prefix", []string{"migrate", "--to", "k"}, []string{"keyring", "kernel"}},
	{"schedule", []string{"schedule", ""}, []string{"install", "remove", "status"}},
	{"schedule prefix", []string{"schedule", "re"}, []string{"remove"}},
	{"completion", []string{"completion", ""}, []string{"bash", "zsh", "fish"}},
	{"help", []string{"help", "st"}, []string{"status", "store"}},
}

func TestCompletionGolden(t *testing.T) {
	for _, sh := range completion.Shells {
		t.Run(sh, func(t *testing.T) {
			got, err := completion.Script(sh, commands.completion())
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", programName+"."+sh)
			if *updateGolden {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -run TestCompletionGolden -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("Script(%q) differs from %s; review the change, then go test -run TestCompletionGolden -update", sh, path)
			}
		})
	}
}

// bashComplete sources the script and runs its function with COMP_WORDS
// set as bash sets them, returning COMPREPLY.
func bashComplete(t *testing.T, bash, script string, env []string, prelude string, words ...string) []string {
	t.Helper()
	code := prelude + `
source "$SCRIPT" || exit 3
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
` + "${FUNC:-_git_credential_glpat}" + `
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", code, "bash"}, words...)...)
	cmd.Env = append(os.Environ(), append(env, "SCRIPT="+script)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	return nonEmptyLines(string(out))
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	return slices.Equal(g, w)
}

func TestCompletionBash(t *testing.T) {
	bash := needShell(t, "bash")
	script := writeScript(t, "bash")
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	env := []string{fakeProgram(t)}
	extra := []compCase{
		{"global flags", []string{"-"}, []string{"-h", "--help", "--version"}},
		{"one host only", []string{"login", "gitlab.com", ""}, nil},
		{"no value for --username", []string{"login", "--username", ""}, nil},
		{"--ca-file takes a file", []string{"login", "--ca-file", "testdata/git-credential-glpat.ba"}, []string{"testdata/git-credential-glpat.bash"}},
		{"schedule takes one word", []string{"schedule", "install", ""}, nil},
		{"--to= split by bash", []string{"migrate", "--to", "=", "k"}, []string{"keyring", "kernel"}},
		{"--to= just typed", []string{"migrate", "--to", "="}, []string{"keyring", "encrypted-file", "kernel"}},
		{"--to= not split", []string{"migrate", "--to=ke"}, []string{"--to=keyring", "--to=kernel"}},
		{"a value is not positional", []string{"migrate", "--to", "kernel", "--"}, []string{"--to", "--help"}},
		{"status flag prefix", []string{"status", "--o"}, []string{"--offline"}},
		{"flags after the host", []string{"logout", "gitlab.com", "--r"}, []string{"--revoke"}},
	}
	for _, tt := range append(slices.Clone(completionCases), extra...) {
		t.Run(tt.name, func(t *testing.T) {
			got := bashComplete(t, bash, script, env, "", append([]string{programName}, tt.words...)...)
			if !sameSet(got, tt.want) {
				t.Errorf("completing %q: got %q, want %q", tt.words, got, tt.want)
			}
		})
	}
	t.Run("program by path", func(t *testing.T) {
		got := bashComplete(t, bash, script, env, "", "/usr/local/bin/git-credential-glpat", "sch")
		if !slices.Equal(got, []string{"schedule"}) {
			t.Errorf("got %q, want [schedule]", got)
		}
	})
	t.Run("registered", func(t *testing.T) {
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `source "$1"; complete -p git-credential-glpat`, "bash", script)
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != "complete -F _git_credential_glpat git-credential-glpat" {
			t.Errorf("complete -p: %q, %v", out, err)
		}
	})
}

// TestCompletionBashThroughGit completes `git credential-glpat …` through git's own
// bash completion, which calls _git_credential_glpat.
func TestCompletionBashThroughGit(t *testing.T) {
	bash := needShell(t, "bash")
	var gitCompletion string
	for _, p := range []string{"/usr/share/bash-completion/completions/git", "/etc/bash_completion.d/git", "/usr/local/etc/bash_completion.d/git-completion.bash"} {
		if _, err := os.Stat(p); err == nil {
			gitCompletion = p
			break
		}
	}
	if gitCompletion == "" {
		t.Skip("git's bash completion is not installed")
	}
	script := writeScript(t, "bash")
	env := []string{fakeProgram(t), "FUNC=__git_wrap__git_main", "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1"}
	tests := []compCase{
		{"command", []string{"sch"}, []string{"schedule"}},
		{"backend", []string{"migrate", "--to", ""}, []string{"keyring", "encrypted-file", "kernel"}},
		{"host", []string{"logout", ""}, fakeHosts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bashComplete(t, bash, script, env, `source '`+gitCompletion+`' || exit 4`, append([]string{"git", "credential-glpat"}, tt.words...)...)
			if !sameSet(got, tt.want) {
				t.Errorf("completing git credential-glpat %q: got %q, want %q", tt.words, got, tt.want)
			}
		})
	}
}

// zshDriver types a line into an interactive zsh on a pseudo-terminal,
// presses TAB, and prints the candidates that completion offers.
const zshDriver = `zmodload zsh/zpty || exit 3
local dir=$1 dump=$2 line=$3
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT='' PS2=''"
zpty -w z "fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -d ${(q)dump}"
# Print what each compadd call adds, then add it.
zpty -w z 'compadd() { if [[ " $* " == *" -"[OAD]* ]]; then builtin compadd "$@"; return; fi; local -a m; builtin compadd -O m "$@"; (( $#m )) && print -r -- "CAND:${(pj:\t:)m}"; builtin compadd "$@"; }'
zpty -w z 'comppostfuncs=(exit); bindkey "^I" complete-word'
zpty -w z 'print -r -- READY$((1+1))'
local out
while zpty -r z out; do [[ $out == *READY2* ]] && break; done
zpty -w -n z "$line"$'\t'
while zpty -r z out; do
	[[ $out == *CAND:* ]] && print -r -- "${${out#*CAND:}%%$'\r'*}"
done
exit 0
`

func TestCompletionZsh(t *testing.T) {
	zsh := needShell(t, "zsh")
	dir := t.TempDir()
	fn := filepath.Join(dir, "functions")
	if err := os.Mkdir(fn, 0o700); err != nil {
		t.Fatal(err)
	}
	s, _ := completion.Script("zsh", commands.completion())
	script := filepath.Join(fn, "_"+programName)
	if err := os.WriteFile(script, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	driver := filepath.Join(dir, "driver.zsh")
	if err := os.WriteFile(driver, []byte(zshDriver), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), fakeProgram(t), "HOME="+dir)
	complete := func(t *testing.T, words []string) []string {
		line := programName + " " + strings.Join(words, " ")
		cmd := exec.Command(zsh, "-f", driver, fn, filepath.Join(dir, "zcompdump"), line)
		cmd.Env = env
		done := make(chan struct{})
		timer := time.AfterFunc(20*time.Second, func() {
			if cmd.Process != nil {
				cmd.Process.Kill()
			}
			close(done)
		})
		out, err := cmd.Output()
		if !timer.Stop() {
			<-done
			t.Fatalf("zsh completion of %q did not finish", line)
		}
		if err != nil {
			t.Fatalf("zsh driver: %v", err)
		}
		var got []string
		for _, l := range nonEmptyLines(string(out)) {
			got = append(got, strings.Split(l, "\t")...)
		}
		return got
	}
	for _, tt := range completionCases {
		t.Run(tt.name, func(t *testing.T) {
			got := complete(t, tt.words)
			// zsh offers -h next to --help; that is fine.
			got = slices.DeleteFunc(got, func(s string) bool { return s == "-h" && !slices.Contains(tt.want, "-h") })
			if !sameSet(got, tt.want) {
				t.Errorf("completing %q: got %q, want %q", tt.words, got, tt.want)
			}
		})
	}
	t.Run("sourced", func(t *testing.T) {
		cmd := exec.Command(zsh, "-f", "-c", `autoload -U compinit; compinit -u -d "$2"; source "$1"; print -r -- $_comps[git-credential-glpat]`, "zsh", script, filepath.Join(dir, "zcompdump2"))
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != "_git-credential-glpat" {
			t.Errorf("after source, _comps[git-credential-glpat] = %q (%v), want _git-credential-glpat", out, err)
		}
	})
}

func TestCompletionFish(t *testing.T) {
	fish := needShell(t, "fish")
	script := writeScript(t, "fish")
	if out, err := exec.Command(fish, "--no-execute", script).CombinedOutput(); err != nil {
		t.Fatalf("fish --no-execute: %v\n%s", err, out)
	}
	env := append(os.Environ(), fakeProgram(t), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
	extra := []compCase{
		{"one host only", []string{"login", "gitlab.com", ""}, nil},
		{"schedule takes one word", []string{"schedule", "status", ""}, nil},
		{"--to=", []string{"migrate", "--to="}, []string{"--to=keyring", "--to=encrypted-file", "--to=kernel"}},
	}
	for _, tt := range append(slices.Clone(completionCases), extra...) {
		t.Run(tt.name, func(t *testing.T) {
			line := programName + " " + strings.Join(tt.words, " ")
			cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, line)
			cmd.Env = env
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("fish: %v", err)
			}
			var got []string
			for _, l := range nonEmptyLines(string(out)) {
				cand, _, _ := strings.Cut(l, "\t")
				got = append(got, cand)
			}
			// fish offers -h next to --help; that is fine.
			got = slices.DeleteFunc(got, func(s string) bool { return s == "-h" && !slices.Contains(tt.want, "-h") })
			if !sameSet(got, tt.want) {
				t.Errorf("completing %q: got %q, want %q", line, got, tt.want)
			}
		})
	}
}
