// Command git-credential-glpat is a Git credential helper that keeps
// credentials in the OS keychain and rotates GitLab personal access tokens
// before they expire.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/gltoken"
	"github.com/glpat-dev/git-credential-glpat/internal/nocore"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

const usage = `Usage:
    git-credential-glpat get|store|erase     (called by Git, reads stdin)
    git-credential-glpat login  [HOST] [--username U] [--token-stdin] [--web] [--api-url URL] [--ca-file FILE] [--create-url]
    git-credential-glpat login  [HOST] --oauth [--flow browser|device] [--username U]
    git-credential-glpat logout [HOST] [--username U] [--revoke] [--yes]
    git-credential-glpat status [HOST] [--json] [--offline]
    git-credential-glpat rotate [HOST | --all] [--force] [--json]
    git-credential-glpat setup  [HOST...] [--undo]
    git-credential-glpat init | unlock [--for D] | lock | passphrase  [--passphrase-stdin]
    git-credential-glpat migrate --to keyring|encrypted-file|kernel
    git-credential-glpat doctor [--json]
    git-credential-glpat schedule install|remove|status
    git-credential-glpat completion bash|zsh|fish
    git-credential-glpat help [COMMAND] | version

A Git credential helper that keeps credentials in the OS keychain (macOS
Keychain, Windows Credential Manager, the Secret Service on Linux) and
rotates GitLab personal access tokens before they expire.

Commands:
    get, store, erase   Git's credential helper protocol; see gitcredentials(7).
    login               Check a GitLab token and store it.
    logout              Forget a host's credentials; --revoke revokes on GitLab.
    status              Show stored credentials, expiry and rotation state.
    rotate              Rotate due tokens now (--force: even if not due).
    setup               Make this helper the only one Git asks for each
                        GitLab host. --undo removes what setup wrote.
    init, unlock, lock  The encrypted-file backend: create its key, unlock it
                        once per boot, lock it; passphrase changes it.
    migrate             Move every credential to another backend.
    doctor              Check everything this helper depends on, with fixes.
    schedule            A daily job that runs rotate --all (systemd user
                        timer, launchd agent or scheduled task).
    completion          Shell completion for bash, zsh or fish.
    version             Print the version and commit.

Without HOST a command means the GitLab hosts that the config and the stored
tokens name, else gitlab.com; login and logout ask for HOST when there are
several. Run git-credential-glpat help COMMAND (or COMMAND -h) for a
command's options.

Examples:
    $ git-credential-glpat login
    $ git-credential-glpat setup gitlab.com gitlab.example.com
    $ git config --global credential.helper glpat   # every other host too
    $ printf 'protocol=https\nhost=gitlab.com\n' | git credential fill

Configuration: $GLPAT_CONFIG, else $XDG_CONFIG_HOME/git-credential-glpat/config.toml.
State (no secrets): $GLPAT_STATE_DIR, else $XDG_STATE_HOME/git-credential-glpat.
`

// Version and Commit are stamped by install.sh and the release build with
// -ldflags "-X main.Version=… -X main.Commit=…".
var (
	Version = ""
	Commit  = ""
)

// gitOpTimeout bounds a whole get/store/erase so that Git, and the IDE
// behind it, never hangs on us.
// A rotation (waiting for another process's, then two API calls) must fit
// inside it with room to spare: a deadline that cut off a rotate request
// already sent would lose GitLab's answer.
const gitOpTimeout = 2 * time.Minute

func main() {
	// First, before anything reads a token: no core file may hold one.
	// Nothing to tell a person if it fails; internal/nocore says why.
	nocore.Enable()
	defer func() {
		// A bug must not print a secret. The panic value may hold one
		// (it could be anything), so only its type is shown; the stack
		// trace holds function names and addresses, not string contents.
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "git-credential-glpat: error: internal error, please report it (panic: %T)\n%s",
				v, gltoken.Redact(string(debug.Stack())))
			os.Exit(70)
		}
	}()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	c := &call{name: args[0], args: args[1:], stdin: stdin, stdout: stdout, stderr: stderr, ui: &tty.UI{W: stderr}, commands: commands}
	if name, ok := alias(c.name); ok {
		c.name = name
	}
	cmd, known := commands.lookup(c.name)
	if !known {
		return unknownCommand(c)
	}
	c.cmd = cmd
	return cmd.run(c)
}

// unknownCommand answers a word that is not a command. Git may grow new
// operations and expects helpers to ignore the ones they do not know
// (gitcredentials(7)), so a bare word is ignored in silence. But Git runs
// "HELPER OPERATION" and adds nothing to the operation (credential_do in
// git's credential.c), so a word with more after it, a flag, or a word
// close to a command is a person's typo, in a crontab line as at a
// terminal: one line, exit 2. A person at a terminal is told in any case,
// with a pointer to the usage rather than all of it.
func unknownCommand(c *call) int {
	near := commands.suggest(c.name)
	_, atTerminal := tty.Terminal(c.stdin)
	if near == "" && len(c.args) == 0 && !strings.HasPrefix(c.name, "-") && !atTerminal {
		return 0
	}
	if near != "" {
		c.ui.Errorf("unknown command %q (did you mean %s?)", c.name, near)
	} else {
		c.ui.Errorf("unknown command %q", c.name)
	}
	if atTerminal {
		c.ui.Hintf("run git-credential-glpat help for the commands and their usage")
	}
	return 2
}

// call is one command as run: the command, its arguments, where it reads
// and writes.
type call struct {
	cmd            *command
	name           string // cmd's name
	args           []string
	stdin          io.Reader
	stdout, stderr io.Writer
	ui             *tty.UI
	// commands are every command, for help and completion (commands
	// itself, which they are part of, cannot name them).
	commands table
}

// alias returns the command that name is another name of. A switch, not
// a map: a map literal is built at init, in every process.
func alias(name string) (string, bool) {
	switch name {
	case "-v", "--version":
		return "version", true
	case "-h", "--help":
		return "help", true
	}
	return "", false
}

const gitOpUsage = `Usage: git-credential-glpat get|store|erase   < attributes on stdin

Git's credential helper protocol (gitcredentials(7)): Git runs these with
key=value lines on stdin; get answers on stdout. People use login, status and
logout instead. erase of a managed GitLab token asks GitLab once whether it
still accepts it: a revoked or expired token stays listed as such, one GitLab
accepts is kept and not handed to Git again for a while.

Examples:
    $ printf 'protocol=https\nhost=gitlab.com\n' | git credential fill
`

// Git's operations; command.run runs runGitOp for them.
var (
	getCommand   = command{name: "get", git: true, summary: "answer git with a stored credential (git calls it)", usage: gitOpUsage}
	storeCommand = command{name: "store", git: true, summary: "store a credential (git calls it)", usage: gitOpUsage}
	eraseCommand = command{name: "erase", git: true, summary: "erase matching credentials (git calls it)", usage: gitOpUsage}
)

func runGitOp(c *call) int {
	op, stdin, stdout, ui := c.name, c.stdin, c.stdout, c.ui
	ctx, cancel := context.WithTimeout(context.Background(), gitOpTimeout)
	defer cancel()
	s, err := openSession(op != "get", ui) // store and erase write the index
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	defer s.Close()
	if testHooks.panicOnAnswer {
		stdout = panicWriter{}
	}
	if err := s.Helper().Run(ctx, op, stdin, stdout); err != nil {
		if errors.Is(err, agefile.ErrLocked) {
			// One line, exactly what to do (no "error:": nothing is broken).
			fmt.Fprintf(ui.W, "git-credential-glpat: %s\n", agefile.ErrLocked)
			return 1
		}
		ui.Errorf("%s", explain(err))
		return 1
	}
	return 0
}

// openSession opens what a command works with; writes: the command may
// store something. The caller closes it when the command is done.
func openSession(writes bool, ui *tty.UI) (*session.Session, error) {
	o := session.Options{Writes: writes, Warn: ui.Warningf, Hook: session.CrashHook(testHooks.killAt),
		Notice: func(err error) { ui.Warningf("%s", explain(err)) }}
	if v := os.Getenv("GLPAT_KEYCHAIN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("GLPAT_KEYCHAIN_TIMEOUT=%q is not a positive duration like 10s", v)
		}
		o.Backend = append(o.Backend, backend.WithKeychainTimeout(d))
	}
	if v := testHooks.kernelKeyring; v != "" {
		o.Backend = append(o.Backend, backend.WithKernelKeyringName(v))
	}
	return session.Open(o)
}

// panicWriter panics with what it is given, for the leak tests.
type panicWriter struct{}

func (panicWriter) Write(p []byte) (int, error) { panic("forced panic while writing " + string(p)) }

const versionUsage = `Usage: git-credential-glpat version   (also -v, --version)

Prints the version and the commit it was built from.
`

var versionCommand = command{
	name: "version", summary: "print the version and commit", usage: versionUsage,
	bind: func(*flagSet) runFunc { return runVersion },
}

func runVersion(c *call, pos []string) int {
	if !c.noArgs(pos) {
		return 2
	}
	fmt.Fprintln(c.stdout, versionLine(Version, Commit))
	return 0
}

// versionLine is the line version prints: v and the commit c as stamped at
// build time, else as the Go toolchain recorded them.
func versionLine(v, c string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if c == "" {
		c = "unknown"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return fmt.Sprintf("git-credential-glpat %s (commit %s)", v, c)
}

// help's usage is the program's; help help prints it too.
var helpCommand = command{
	name: "help", summary: "show the usage of a command", usage: usage, args: completion.ArgWord, noun: "command",
	bind: func(*flagSet) runFunc { return runHelp },
}

// runHelp prints the usage, or with COMMAND that command's own.
func runHelp(c *call, pos []string) int {
	switch {
	case len(pos) == 0:
		fmt.Fprint(c.stdout, usage)
		return 0
	case len(pos) > 1:
		return argError(c.ui, "help", "unexpected argument %q", pos[1])
	}
	if cmd, ok := c.commands.lookup(pos[0]); ok {
		fmt.Fprint(c.stdout, cmd.usage)
		return 0
	}
	if s := c.commands.suggest(pos[0]); s != "" {
		return argError(c.ui, "help", "unknown command %q (did you mean %s?)", pos[0], s)
	}
	return argError(c.ui, "help", "unknown command %q (git-credential-glpat help lists the commands)", pos[0])
}
