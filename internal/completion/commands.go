// Package completion holds the table of git-credential-glpat's commands (names, usage, flags) and writes shell completion scripts (bash, zsh, fish) from it.
package completion

import (
	"strings"
	"sync"

	"github.com/glpat-dev/git-credential-glpat/internal/editdist"
)

// Command is one command of git-credential-glpat as completion offers it.
type Command struct {
	Name string
	// Git: Git runs it (gitcredentials(7)), people do not.
	Git  bool
	Help string // one line, shown by zsh and fish
	// Usage is what COMMAND -h and help COMMAND print; empty for help,
	// which prints the program's usage.
	Usage string
	Flags []Flag
	// Args says what the positional arguments are: ArgNone, ArgHost (at
	// most one stored host), ArgHosts (any number of hosts) or ArgWord
	// (one of Words).
	Args  string
	Words []Word
	// Noun is what messages call a Word ("shell").
	Noun string
}

// Flag is a command's flag, written with two dashes.
type Flag struct {
	Name string // without the dashes
	Help string
	// Arg names the flag's value (like "URL"); empty for a boolean flag.
	Arg string
	// Values are the only values the flag takes, when they are fixed.
	Values []string
	// File: the value is a file name, completed as one.
	File bool
}

// Word is a fixed positional argument, like schedule's "install".
type Word struct{ Name, Help string }

// The kinds of positional arguments.
const (
	ArgNone  = ""
	ArgHost  = "host"
	ArgHosts = "hosts"
	ArgWord  = "word"
)

// Backends are the storage backends `migrate --to` takes.
var Backends = []string{"keyring", "encrypted-file", "kernel"}

// Shells are the shells Script writes for.
var Shells = []string{"bash", "zsh", "fish"}

var passphraseStdin = Flag{Name: "passphrase-stdin", Help: "read the passphrase from stdin"}

// Commands are git-credential-glpat's commands, in the order its usage
// lists them: the one table that its dispatch, help, "did you mean" and the
// completion scripts read. The man page test checks that doc/git-credential-glpat.1
// documents every one of them and their flags.
var Commands = []Command{
	{Name: "get", Git: true, Help: "answer git with a stored credential (git calls it)", Usage: gitOpUsage},
	{Name: "store", Git: true, Help: "store a credential (git calls it)", Usage: gitOpUsage},
	{Name: "erase", Git: true, Help: "erase matching credentials (git calls it)", Usage: gitOpUsage},
	{Name: "login", Help: "check a GitLab token and store it", Usage: loginUsage, Args: ArgHost, Flags: []Flag{
		{Name: "username", Arg: "U", Help: "the Git username to store it under"},
		{Name: "token-stdin", Help: "read the token from stdin"},
		{Name: "api-url", Arg: "URL", Help: "the API base URL"},
		{Name: "ca-file", Arg: "FILE", File: true, Help: "a CA certificate (PEM) to trust for the API"},
		{Name: "web", Help: "open the page that creates a least-privilege token"},
		{Name: "create-url", Help: "print the page that creates a least-privilege token"},
		{Name: "oauth", Help: "log in with GitLab's OAuth instead of a token"},
		{Name: "flow", Arg: "FLOW", Values: []string{"browser", "device"}, Help: "the OAuth login's flow (default: browser, device over SSH)"},
	}},
	{Name: "logout", Help: "forget a host's credentials", Usage: logoutUsage, Args: ArgHost, Flags: []Flag{
		{Name: "username", Arg: "U", Help: "only this user's credential"},
		{Name: "revoke", Help: "revoke the tokens on GitLab first"},
		{Name: "yes", Help: "do not ask before revoking several tokens"},
	}},
	{Name: "status", Help: "show stored credentials, expiry and rotation state", Usage: statusUsage, Args: ArgHost, Flags: []Flag{
		{Name: "json", Help: "print JSON"},
		{Name: "offline", Help: "do not ask GitLab"},
	}},
	{Name: "rotate", Help: "rotate the tokens that are due", Usage: rotateUsage, Args: ArgHost, Flags: []Flag{
		{Name: "all", Help: "every host"},
		{Name: "force", Help: "rotate even tokens that are not due"},
		{Name: "json", Help: "print JSON"},
	}},
	{Name: "setup", Help: "make this helper the only one git asks for GitLab hosts", Usage: setupUsage, Args: ArgHosts, Flags: []Flag{
		{Name: "undo", Help: "remove what setup wrote"},
	}},
	{Name: "doctor", Help: "check what the helper depends on and say how to fix it", Usage: doctorUsage, Flags: []Flag{
		{Name: "json", Help: "print JSON"},
	}},
	{Name: "schedule", Help: "rotate daily from the system's scheduler", Usage: scheduleUsage, Args: ArgWord, Noun: "action", Words: []Word{
		{"install", "write and enable the daily job"},
		{"remove", "disable and remove the daily job"},
		{"status", "say whether the daily job is installed"},
	}},
	{Name: "completion", Help: "print a shell completion script", Usage: completionUsage, Args: ArgWord, Noun: "shell", Words: []Word{
		{"bash", "bash completion"},
		{"zsh", "zsh completion"},
		{"fish", "fish completion"},
	}},
	{Name: "init", Help: "create the encrypted file (encrypted-file backend)", Usage: initUsage, Flags: []Flag{passphraseStdin}},
	{Name: "unlock", Help: "unlock the encrypted file until reboot", Usage: initUsage, Flags: []Flag{passphraseStdin,
		{Name: "for", Arg: "DURATION", Help: "lock again after this long"}}},
	{Name: "lock", Help: "lock the encrypted file", Usage: initUsage},
	{Name: "passphrase", Help: "change the passphrase of the encrypted file", Usage: initUsage, Flags: []Flag{passphraseStdin}},
	{Name: "migrate", Help: "move the secrets to another storage backend", Usage: migrateUsage, Flags: []Flag{
		{Name: "to", Arg: "BACKEND", Values: Backends, Help: "the backend to move to"},
	}},
	{Name: "version", Help: "print the version and commit", Usage: versionUsage},
	{Name: "help", Help: "show the usage of a command", Args: ArgWord, Noun: "command"}, // Words: every command, added on first use
}

// helpWords fills in help's words on first use rather than at package
// init, which would cost every git fetch.
var helpWords sync.Once

func commands() []Command {
	helpWords.Do(func() { withHelpWords(Commands) })
	return Commands
}

// withHelpWords gives `help` every command as its argument.
func withHelpWords(cmds []Command) []Command {
	for i := range cmds {
		if cmds[i].Name == "help" {
			for _, c := range cmds {
				cmds[i].Words = append(cmds[i].Words, Word{c.Name, c.Help})
			}
		}
	}
	return cmds
}

// Lookup is the command named name.
func Lookup(name string) (Command, bool) {
	for _, c := range Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// Suggest returns the command a person most likely meant by s, a word
// that is not a command, or "" when s is close to none (editdist.Nearest).
// Git's own operations are never suggested, and a word at least as close
// to one of them as to the command is taken for an operation Git may grow
// (gitcredentials(7) has helpers ignore those), not for a typo.
func Suggest(s string) string {
	var people []string
	gitD := 3
	for _, c := range Commands {
		if c.Git {
			gitD = min(gitD, editdist.Distance(strings.ToLower(s), c.Name))
		} else {
			people = append(people, c.Name)
		}
	}
	near := editdist.Nearest(s, people)
	if near == "" || gitD <= editdist.Distance(strings.ToLower(s), near) {
		return ""
	}
	return near
}
