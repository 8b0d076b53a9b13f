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
	"github.com/glpat-dev/git-credential-glpat/internal/session"
)

// encryptedFile returns the encrypted-file backend in use, or says how to
// choose it.
// The caller closes the session.
func encryptedFile(ui *ui) (*agefile.File, *session.Session, bool) {
	e, err := openSession(true, ui)
	if err != nil {
		ui.errorf("%v", err)
		return nil, nil, false
	}
	if f, ok := e.Store.Secrets.(*agefile.File); ok {
		return f, e, true
	}
	// The config names another backend: the encrypted file is set up (or
	// unlocked) all the same, so that migrate --to encrypted-file can move
	// the credentials into it. That is the one way to switch.
	s, err := e.OpenBackend(config.BackendEncryptedFile)
	if err != nil {
		e.Close()
		ui.errorf("%v", err)
		return nil, nil, false
	}
	return s.(*agefile.File), e, true
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

func runInitUnlock(c *call) int {
	cmd, args, stdin, stdout, ui := c.name, c.args, c.stdin, c.stdout, c.ui
	fs := newFlags(cmd, c.usage(), ui)
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
	f, e, ok := encryptedFile(ui)
	if !ok {
		return 1
	}
	defer e.Close()
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
		if e.Kind != config.BackendEncryptedFile {
			ui.hintf("the config uses %s; run git-credential-glpat migrate --to encrypted-file to move your credentials here", e.Kind)
		}
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

func runMigrate(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := newFlags("migrate", c.usage(), ui)
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
	e, err := openSession(true, ui)
	if err != nil {
		ui.errorf("%v", err)
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
		fmt.Fprintf(ui.w, "git-credential-glpat: waiting for other git-credential-glpat commands to finish (at most %s)...\n", max)
	}
	if err := e.HoldExclusively(ctx, waiting); err != nil {
		ui.errorf("%v; nothing was changed", err)
		return 1
	}
	// The config is switched at the end: it must load now, or the move
	// would be undone for nothing.
	if _, err := e.Config(); err != nil {
		ui.errorf("%v", err)
		return 1
	}
	rep, err := backend.MoveAll(ctx, backend.Move{
		Index: e.Store, Current: e.Kind, StateDir: e.StateDir, Options: e.BackendOptions, Target: target,
		SwitchConfig: func() error { return config.SetBackend(e.ConfigPath, target) },
		Hook:         crashHook(os.Getenv("GLPAT_TEST_KILL_AT")),
	})
	var te *backend.TargetError
	switch {
	case errors.As(err, &te):
		ui.errorf("%s: %s", target, explain(te.Err))
		if target == config.BackendEncryptedFile && errors.Is(err, agefile.ErrNotInitialized) {
			ui.hintf("run git-credential-glpat init first, then git-credential-glpat migrate --to encrypted-file again")
		}
		return 1
	case rep == nil:
		ui.errorf("%v", err)
		return 1
	case rep.AlreadyThere:
		fmt.Fprintf(stdout, "every credential is already in %s\n", rep.Dest)
		return 0
	}
	for _, g := range rep.Groups {
		fmt.Fprintf(stdout, "moved %d credential(s) from %s to %s\n", g.Moved, g.From, rep.Dest)
		for _, a := range g.Missing {
			fmt.Fprintf(stdout, "  not found in the old backend (skipped): %s\n", a)
		}
		for _, a := range g.Kept {
			fmt.Fprintf(stdout, "  still also in the old backend (it refused the delete): %s\n", a)
		}
	}
	if err != nil {
		ui.errorf("%s; nothing was lost: run migrate again", explain(err))
		return 1
	}
	fmt.Fprintf(stdout, "%s now says backend = %q\n", e.ConfigPath, target)
	return 0
}
