package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/glpat-dev/git-credential-glpat/internal/agefile"
	"github.com/glpat-dev/git-credential-glpat/internal/backend"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
)

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
At a terminal a new passphrase is asked twice. A new passphrase has at least
8 characters.

Examples:
    $ git-credential-glpat init
    $ git-credential-glpat unlock
    $ git-credential-glpat unlock --for 12h
    $ git-credential-glpat lock
`

// encryptedFile returns the encrypted-file backend in use, or says how to
// choose it.
func encryptedFile(ui *ui, cmd string) (*agefile.File, *env, bool) {
	e, err := openEnv(true)
	if err != nil {
		ui.errorf("%v", err)
		return nil, nil, false
	}
	f, ok := e.store.Secrets.(*agefile.File)
	if !ok {
		ui.errorf("%s is for backend = \"encrypted-file\"; this config uses %q", cmd, e.kind)
		ui.hintf("set backend = \"encrypted-file\" in the config file, or run git-credential-glpat migrate --to encrypted-file")
		return nil, nil, false
	}
	return f, e, true
}

// passphraseReader reads passphrases from a hidden prompt or from stdin.
type passphraseReader struct {
	stdin     io.Reader
	fromStdin bool
	lines     *bufio.Reader
	ui        *ui
}

func (p *passphraseReader) read(prompt string) (string, error) {
	if !p.fromStdin {
		f, ok := p.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", errors.New("no terminal to ask for the passphrase; use --passphrase-stdin")
		}
		b, err := readHidden(f, p.ui.w, prompt)
		fmt.Fprintln(p.ui.w)
		return b, err
	}
	if p.lines == nil {
		p.lines = bufio.NewReader(io.LimitReader(p.stdin, 1<<16))
	}
	line, err := p.lines.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no passphrase on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// minPassphrase is the shortest new passphrase accepted: the key file
// it protects may be copied off the machine and attacked offline.
const minPassphrase = 8

// readNew reads a new passphrase: once from stdin (as docker login
// --password-stdin does), twice at a terminal, where a typo would
// otherwise lock the person out.
func (p *passphraseReader) readNew() (string, error) {
	a, err := p.read("New passphrase: ")
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(a); n < minPassphrase {
		if n == 0 {
			return "", fmt.Errorf("the passphrase is empty; it needs at least %d characters", minPassphrase)
		}
		return "", fmt.Errorf("the passphrase is too short (%d characters); it needs at least %d", n, minPassphrase)
	}
	if p.fromStdin {
		return a, nil
	}
	b, err := p.read("Repeat it: ")
	if err != nil {
		return "", err
	}
	if a != b {
		return "", errors.New("the two passphrases differ")
	}
	return a, nil
}

func runInitUnlock(cmd string, args []string, stdin io.Reader, stdout io.Writer, ui *ui) int {
	fs := newFlags(cmd, initUsage, ui)
	fromStdin := fs.Bool("passphrase-stdin", false, "")
	var unlockFor time.Duration
	if cmd == "unlock" {
		fs.Func("for", "", func(s string) (err error) {
			if unlockFor, err = config.ParseDuration(s); err != nil || unlockFor <= 0 {
				return fmt.Errorf("--for %q is not a duration: write it like 30m, 12h or 7d", s)
			}
			return nil
		})
	}
	pos, err := fs.parse(args)
	if err != nil {
		return fs.exit(err)
	}
	if len(pos) > 0 {
		ui.errorf("%s takes no arguments", cmd)
		return 2
	}
	f, _, ok := encryptedFile(ui, cmd)
	if !ok {
		return 1
	}
	pr := &passphraseReader{stdin: stdin, fromStdin: *fromStdin, ui: ui}
	ctx, cancel := interruptible()
	defer cancel()
	switch cmd {
	case "init":
		pass, err := pr.readNew()
		if err == nil {
			err = f.Init(ctx, pass, 0)
		}
		if err != nil {
			if code, stop := promptEnded(err, ui); stop {
				return code
			}
			ui.errorf("%v", err)
			return 1
		}
		fmt.Fprintf(stdout, "created the encrypted credentials in %s; they are unlocked until reboot\n", f.Dir)
	case "unlock":
		pass, err := pr.read("Passphrase: ")
		if err == nil {
			err = f.Unlock(ctx, pass, unlockFor)
		}
		if err != nil {
			if code, stop := promptEnded(err, ui); stop {
				return code
			}
			ui.errorf("%v", err)
			return 1
		}
		until := "until reboot (or three days unused)"
		if unlockFor > 0 {
			until = "for " + config.Duration(unlockFor).String()
		}
		fmt.Fprintf(stdout, "unlocked %s\n", until)
	case "lock":
		if err := f.Lock(ctx); err != nil {
			if code, stop := promptEnded(err, ui); stop {
				return code
			}
			ui.errorf("%v", err)
			return 1
		}
		fmt.Fprintln(stdout, "locked; git-credential-glpat unlock opens them again")
	case "passphrase":
		old, err := pr.read("Current passphrase: ")
		var nw string
		if err == nil {
			nw, err = pr.readNew()
		}
		if err == nil {
			err = f.ChangePassphrase(ctx, old, nw)
		}
		if err != nil {
			if code, stop := promptEnded(err, ui); stop {
				return code
			}
			ui.errorf("%v", err)
			return 1
		}
		fmt.Fprintln(stdout, "passphrase changed")
	}
	return 0
}

const migrateUsage = `Usage: git-credential-glpat migrate --to BACKEND

Moves every stored credential (and nothing of its metadata changes) to
BACKEND: keyring, encrypted-file or kernel. Secrets are removed from the old
backend only after the new one holds every one of them (read back and
compared); then the config file is switched to BACKEND. Interrupted, it loses
nothing: run it again.

Examples:
    $ git-credential-glpat init                # with backend = "encrypted-file" set first, or:
    $ git-credential-glpat migrate --to kernel
`

func runMigrate(args []string, stdout io.Writer, ui *ui) int {
	fs := newFlags("migrate", migrateUsage, ui)
	to := fs.String("to", "", "")
	pos, err := fs.parse(args)
	if err != nil {
		return fs.exit(err)
	}
	target := config.Backend(*to)
	switch {
	case len(pos) > 0:
		ui.errorf("migrate takes no arguments besides --to")
		return 2
	case target != config.BackendKeyring && target != config.BackendEncryptedFile && target != config.BackendKernel:
		ui.errorf("--to must be keyring, encrypted-file or kernel")
		return 2
	}
	e, err := openEnv(true)
	if err != nil {
		ui.errorf("%v", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfgPath, err := config.ConfigPath()
	if err != nil {
		ui.errorf("%v", err)
		return 1
	}
	// Everything below runs with every other command kept out (see
	// backendLockName): one that read the config before the switch would go
	// on using the old backend after it, and a store or erase during the
	// copy would be lost or undone.
	if err := holdBackendExclusively(ctx, ui, cfgPath, e.kind); err != nil {
		ui.errorf("%v; nothing was changed", err)
		return 1
	}
	// The config is switched at the end: it must load now, or the move
	// would be undone for nothing.
	if _, err := e.config(); err != nil {
		ui.errorf("%v", err)
		return 1
	}
	if target == e.kind {
		ui.errorf("the credentials are already in %s", target)
		return 1
	}
	dest, err := backend.Open(target, e.stateDir, e.backendOpts...)
	if err != nil {
		ui.errorf("%v", err)
		return 1
	}
	if err := backend.Check(ctx, dest); err != nil {
		ui.errorf("%s: %s", target, explain(err))
		if target == config.BackendEncryptedFile {
			ui.hintf("set it up first: set backend = \"encrypted-file\" and run git-credential-glpat init, or run init with GLPAT_CONFIG pointing at such a file")
		}
		return 1
	}
	recs, err := e.store.List()
	if err != nil {
		ui.errorf("%v", err)
		return 1
	}
	var indexed []string
	for _, r := range recs {
		indexed = append(indexed, r.Account)
	}
	accounts, err := backend.Accounts(ctx, e.store.Secrets, indexed)
	if err != nil {
		ui.errorf("%v", err)
		return 1
	}
	res, err := backend.Migrate(ctx, e.store.Secrets, dest, accounts,
		backend.BeforeRemoving(func() error { return config.SetBackend(cfgPath, target) }))
	fmt.Fprintf(stdout, "moved %d credential(s) from %s to %s\n", len(res.Moved), backend.Describe(e.store.Secrets), backend.Describe(dest))
	for _, a := range res.Missing {
		fmt.Fprintf(stdout, "  not found in the old backend (skipped): %s\n", a)
	}
	for _, a := range res.Kept {
		fmt.Fprintf(stdout, "  still also in the old backend (it refused the delete): %s\n", a)
	}
	if err != nil {
		ui.errorf("%s; nothing was lost: run migrate again", explain(err))
		return 1
	}
	fmt.Fprintf(stdout, "%s now says backend = %q\n", cfgPath, target)
	return 0
}

// migrateLockWait bounds how long migrate waits for the commands that are
// using the secrets to finish.
const migrateLockWait = time.Minute

// holdBackendExclusively turns this process's backend lock exclusive,
// saying so when it has to wait, and checks that the config still names
// the backend this process opened: the lock was given up for a moment, and
// another migrate may have switched it meanwhile.
func holdBackendExclusively(ctx context.Context, ui *ui, cfgPath string, opened config.Backend) error {
	if backendLock == nil {
		return fmt.Errorf("cannot take the backend lock: %v", backendLockErr)
	}
	lctx, cancel := context.WithTimeout(ctx, time.Second)
	err := backendLock.Exclusive(lctx)
	cancel()
	if errors.Is(err, filelock.ErrTimeout) {
		fmt.Fprintf(ui.w, "git-credential-glpat: waiting for other git-credential-glpat commands to finish (at most %s)...\n", migrateLockWait)
		lctx, cancel := context.WithTimeout(ctx, migrateLockWait)
		err = backendLock.Exclusive(lctx)
		cancel()
		if errors.Is(err, filelock.ErrTimeout) {
			return fmt.Errorf("other git-credential-glpat commands kept using the credentials for %s (a login or unlock waiting at its prompt?)", migrateLockWait)
		}
	}
	if err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if cfg.Backend != opened {
		return fmt.Errorf("the config now names backend %q: another migrate ran meanwhile", cfg.Backend)
	}
	return nil
}
