package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// validDuration reports whether s is a duration config.ParseDuration takes.
func validDuration(s string) bool {
	_, err := config.ParseDuration(s)
	return err == nil
}

const initUsage = `Usage: git-credential-glpat init [--passphrase-stdin]
       git-credential-glpat unlock [--passphrase-stdin] [--for DURATION]
       git-credential-glpat lock
       git-credential-glpat passphrase [--passphrase-stdin]

For backend = "encrypted-file" (headless machines: SSH sessions, WSL, build
hosts). init creates the key that encrypts your credentials, protected by a
passphrase. unlock asks for the passphrase once per boot and keeps the key in
the kernel keyring (until reboot, lock, --for, or three idle days); every git
command then reads credentials without a prompt. Storing and rotating tokens
never needs the passphrase. passphrase changes it.

With --passphrase-stdin each passphrase is read once, one line each: init
and unlock read one line, passphrase reads the current one, then the new one.
At a terminal a new passphrase is asked twice, and asked again (three tries)
when it is too short or the two differ. A new passphrase has at least 8
characters.

Examples:
    $ git-credential-glpat init
    $ git-credential-glpat unlock
    $ git-credential-glpat unlock --for 12h
    $ git-credential-glpat lock
`

// The commands of the encrypted file share initUsage and run.
var (
	initCommand = command{
		name: "init", summary: "create the encrypted file (encrypted-file backend)", usage: initUsage,
		bind: bindPassphraseStdin,
	}
	unlockCommand = command{
		name: "unlock", summary: "unlock the encrypted file until reboot", usage: initUsage,
		bind: func(fs *flagSet) runFunc {
			o := new(encryptedFileOptions)
			fs.boolVar(&o.fromStdin, "passphrase-stdin", passphraseStdinHelp)
			fs.funcVar("for", "DURATION", "lock again after this long", o.setUnlockFor)
			return o.run
		},
	}
	lockCommand = command{
		name: "lock", summary: "lock the encrypted file", usage: initUsage,
		bind: func(*flagSet) runFunc { return new(encryptedFileOptions).run },
	}
	passphraseCommand = command{
		name: "passphrase", summary: "change the passphrase of the encrypted file", usage: initUsage,
		bind: bindPassphraseStdin,
	}
)

const passphraseStdinHelp = "read the passphrase from stdin"

// bindPassphraseStdin binds the one flag of init and passphrase.
func bindPassphraseStdin(fs *flagSet) runFunc {
	o := new(encryptedFileOptions)
	fs.boolVar(&o.fromStdin, "passphrase-stdin", passphraseStdinHelp)
	return o.run
}

// encryptedFileOptions are the flags of init, unlock, lock and passphrase.
type encryptedFileOptions struct {
	fromStdin bool          // --passphrase-stdin
	unlockFor time.Duration // unlock --for; 0: until reboot
}

// setUnlockFor parses unlock's --for.
func (o *encryptedFileOptions) setUnlockFor(s string) (err error) {
	o.unlockFor, err = config.ParseDuration(s)
	if err == nil && o.unlockFor <= 0 || err != nil && strings.HasPrefix(s, "-") && validDuration(s[1:]) {
		return fmt.Errorf("--for %q: must be positive: write it like 30m, 12h or 7d (leave --for out to stay unlocked until reboot, lock, or three idle days)", s)
	}
	if err != nil {
		return fmt.Errorf("--for %q is not a duration: write it like 30m, 12h or 7d", s)
	}
	return nil
}

func (o *encryptedFileOptions) run(c *call, pos []string) int {
	cmd, stdin, stdout, ui := c.name, c.stdin, c.stdout, c.ui
	if !c.noArgs(pos) {
		return 2
	}
	e, err := openSession(true, ui)
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	defer e.Close()
	f, err := e.EncryptedFile()
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	pr := &passphraseReader{stdin: stdin, fromStdin: o.fromStdin, ui: ui}
	ctx, cancel := tty.Interruptible()
	defer cancel()
	done, err := encryptedFileOp(ctx, f, cmd, pr, o.unlockFor)
	if err != nil {
		if code, stop := promptEnded(err, ui); stop {
			return code
		}
		ui.Errorf("%v", err)
		return 1
	}
	fmt.Fprintln(stdout, done)
	if cmd == "init" && e.Kind != config.BackendEncryptedFile {
		ui.Hintf("the config uses %s; run git-credential-glpat migrate --to encrypted-file to move your credentials here", e.Kind)
	}
	return 0
}

const migrateUsage = `Usage: git-credential-glpat migrate --to BACKEND

The one way to move between backends. Moves every stored credential (and
nothing of its metadata changes) to BACKEND: keyring, encrypted-file or
kernel, and switches the config file to BACKEND (writing through a symlink).
Secrets are removed from the old backend only after the new one holds every
one of them (read back and compared). It finishes from any state: the config
still naming the old backend or already naming BACKEND (switched by hand),
or a migrate that was interrupted: run it again. For encrypted-file, run
git-credential-glpat init first (whatever backend the config names).

Examples:
    $ git-credential-glpat init && git-credential-glpat migrate --to encrypted-file
    $ git-credential-glpat migrate --to kernel
`

var migrateCommand = command{
	name: "migrate", summary: "move the secrets to another storage backend", usage: migrateUsage,
	bind: func(fs *flagSet) runFunc {
		o := new(migrateOptions)
		fs.choiceVar(&o.to, "to", "BACKEND", backendNames(), "the backend to move to")
		return o.run
	},
}

// backendNames are the storage backends migrate --to takes: every one the
// config may name.
func backendNames() []string {
	var names []string
	for _, b := range config.Backends() {
		names = append(names, string(b))
	}
	return names
}

// migrateOptions are migrate's flags.
type migrateOptions struct{ to string }

func (o *migrateOptions) run(c *call, pos []string) int {
	stdout, ui := c.stdout, c.ui
	target := config.Backend(o.to)
	switch {
	case !c.noArgs(pos):
		return 2
	case o.to == "":
		return argError(ui, "migrate", "missing --to BACKEND (%s)", orList(backendNames()))
	case !slices.Contains(backendNames(), o.to):
		return c.unknownWord("unknown backend %q for --to", o.to, backendNames())
	}
	e, err := openSession(true, ui)
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Everything below runs with every other command kept out (see
	// session.LockName): one that read the config before the switch would
	// go on using the old backend after it, and a store or erase during the
	// copy would be lost or undone.
	waiting := func(max time.Duration) {
		fmt.Fprintf(ui.W, "git-credential-glpat: waiting for other git-credential-glpat commands to finish (at most %s)...\n", max)
	}
	if err := e.HoldExclusively(ctx, waiting); err != nil {
		ui.Errorf("%v; nothing was changed", err)
		return 1
	}
	// The config is switched at the end: it must load now, or the move
	// would be undone for nothing.
	if _, err := e.Config(); err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	rep, err := backend.MoveAll(ctx, backend.Move{
		Index: e.Store, Current: e.Kind, StateDir: e.StateDir, Options: e.BackendOptions, Target: target,
		SwitchConfig: func() error { return config.SetBackend(e.ConfigPath, target) },
		Hook:         session.CrashHook(testHooks.killAt),
	})
	var te *backend.TargetError
	switch {
	case errors.As(err, &te):
		ui.Errorf("%s: %s", target, explain(te.Err))
		if target == config.BackendEncryptedFile && errors.Is(err, agefile.ErrNotInitialized) {
			ui.Hintf("run git-credential-glpat init first, then git-credential-glpat migrate --to encrypted-file again")
		}
		return 1
	case rep == nil:
		ui.Errorf("%v", err)
		return 1
	case rep.AlreadyThere:
		fmt.Fprintf(stdout, "every credential is already in %s\n", rep.Dest)
		return 0
	}
	for _, g := range rep.Groups {
		fmt.Fprintf(stdout, "moved %s from %s to %s\n", termtext.Plural(g.Moved, "credential"), g.From, rep.Dest)
		for _, a := range g.Missing {
			fmt.Fprintf(stdout, "  not found in the old backend (skipped): %s\n", a)
		}
		for _, a := range g.Kept {
			fmt.Fprintf(stdout, "  still also in the old backend (it refused the delete): %s\n", a)
		}
	}
	if err != nil {
		ui.Errorf("%s; nothing was lost: run migrate again", explain(err))
		return 1
	}
	fmt.Fprintf(stdout, "%s now says backend = %q\n", e.ConfigPath, target)
	return 0
}
