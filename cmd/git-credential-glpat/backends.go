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
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
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
	if f, ok := e.store.Secrets.(*agefile.File); ok {
		return f, e, true
	}
	// The config names another backend: the encrypted file is set up (or
	// unlocked) all the same, so that migrate --to encrypted-file can move
	// the credentials into it. That is the one way to switch.
	s, err := backend.Open(config.BackendEncryptedFile, e.stateDir, e.backendOpts...)
	if err != nil {
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
	f, e, ok := encryptedFile(ui, cmd)
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
		if e.kind != config.BackendEncryptedFile {
			ui.hintf("the config uses %s; run git-credential-glpat migrate --to encrypted-file to move your credentials here", e.kind)
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
	dest, err := backend.Open(target, e.stateDir, e.backendOpts...)
	if err != nil {
		ui.errorf("%v", err)
		return 1
	}
	hook := crashHook(os.Getenv("GLPAT_TEST_KILL_AT"))
	if hook == nil {
		hook = func(string) {}
	}
	groups, err := migrationSources(ctx, e, target)
	if err != nil {
		ui.errorf("%v", err)
		return 1
	}
	if len(groups) == 0 && e.kind == target {
		fmt.Fprintf(stdout, "every credential is already in %s\n", backend.Describe(dest))
		return 0
	}
	if err := backend.Check(ctx, dest); err != nil {
		ui.errorf("%s: %s", target, explain(err))
		if target == config.BackendEncryptedFile && errors.Is(err, agefile.ErrNotInitialized) {
			ui.hintf("run git-credential-glpat init first, then git-credential-glpat migrate --to encrypted-file again")
		}
		return 1
	}
	// The config names the new backend once the first group is copied and
	// verified (or at once when there is nothing to copy).
	switchConfig := func() error {
		if e.kind == target {
			return nil
		}
		if err := config.SetBackend(cfgPath, target); err != nil {
			return err
		}
		hook("migrate-after-switch")
		return nil
	}
	if len(groups) == 0 {
		if err := switchConfig(); err != nil {
			ui.errorf("%v", err)
			return 1
		}
	}
	failed := false
	for _, g := range groups {
		res, err := backend.Migrate(ctx, g.from, dest, g.accounts, backend.BeforeRemoving(switchConfig))
		hook("migrate-after-remove")
		// Whatever happened, every record whose secret the new backend now
		// holds says so; the others still name the old one.
		settled := recordMoves(ctx, e, g, dest, target)
		fmt.Fprintf(stdout, "moved %d credential(s) from %s to %s\n", max(len(res.Moved), settled), backend.Describe(g.from), backend.Describe(dest))
		for _, a := range res.Missing {
			if !g.inDest[a] {
				fmt.Fprintf(stdout, "  not found in the old backend (skipped): %s\n", a)
			}
		}
		for _, a := range res.Kept {
			fmt.Fprintf(stdout, "  still also in the old backend (it refused the delete): %s\n", a)
		}
		if err != nil {
			ui.errorf("%s; nothing was lost: run migrate again", explain(err))
			failed = true
			break
		}
	}
	if failed {
		return 1
	}
	fmt.Fprintf(stdout, "%s now says backend = %q\n", cfgPath, target)
	return 0
}

// migrationSource is one backend to move credentials out of.
type migrationSource struct {
	kind     config.Backend
	from     secrets.Store
	accounts []string
	records  []store.Record
	// inDest marks the accounts the new backend held after the move.
	inDest map[string]bool
}

// migrationSources groups what is to move into target by the backend that
// holds it: the backend the index names for each record (an old record,
// which names none, is in the backend the config named), and, for a
// backend that can list, what it holds that the index does not name. So
// migrate finishes whatever state it is run from: the config naming the
// old backend or already the new one, a migrate killed half-way, records
// of several backends.
func migrationSources(ctx context.Context, e *env, target config.Backend) ([]*migrationSource, error) {
	recs, err := e.store.List()
	if err != nil {
		// A damaged index file cannot be moved; what it listed stays.
		return nil, err
	}
	byKind := map[config.Backend]*migrationSource{}
	var order []config.Backend
	get := func(k config.Backend) (*migrationSource, error) {
		if g := byKind[k]; g != nil {
			return g, nil
		}
		from := e.store.Secrets
		if k != e.kind {
			var err error
			if from, err = backend.Open(k, e.stateDir, e.backendOpts...); err != nil {
				return nil, err
			}
		}
		g := &migrationSource{kind: k, from: from, inDest: map[string]bool{}}
		byKind[k] = g
		order = append(order, k)
		return g, nil
	}
	if e.kind != target {
		get(e.kind) // the config's backend goes first, even if the index names nothing in it
	}
	for _, r := range recs {
		k := config.Backend(r.Backend)
		if k == "" {
			k = e.kind
		}
		if k == target {
			continue
		}
		g, err := get(k)
		if err != nil {
			return nil, err
		}
		g.records = append(g.records, r)
		g.accounts = append(g.accounts, r.Account)
	}
	var out []*migrationSource
	for _, k := range order {
		g := byKind[k]
		if g.accounts, err = backend.Accounts(ctx, g.from, g.accounts); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if len(g.accounts) > 0 || k == e.kind {
			out = append(out, g)
		}
	}
	return out, nil
}

// recordMoves points the index records of g at target where target holds
// their secret, and returns how many it did. A record whose secret target
// lacks keeps naming its old backend (where it still is).
func recordMoves(ctx context.Context, e *env, g *migrationSource, dest secrets.Store, target config.Backend) int {
	n := 0
	for i := range g.records {
		r := g.records[i]
		if _, err := dest.Get(ctx, r.Account); err != nil {
			continue
		}
		g.inDest[r.Account] = true
		r.Backend = string(target)
		if e.store.UpdateRecord(ctx, &r) == nil {
			n++
		}
	}
	return n
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
