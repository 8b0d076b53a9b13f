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
	"github.com/glpat-dev/git-credential-glpat/internal/cli"
	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
	"github.com/glpat-dev/git-credential-glpat/internal/termtext"
)

// validDuration reports whether s is a duration config.ParseDuration takes.
func validDuration(s string) bool {
	_, err := config.ParseDuration(s)
	return err == nil
}

func runInitUnlock(c *call) int {
	cmd, args, stdin, stdout, ui := c.name, c.args, c.stdin, c.stdout, c.ui
	fs := cli.NewFlags(cmd, c.usage(), ui)
	fromStdin := fs.Bool("passphrase-stdin", false, "")
	var unlockFor time.Duration
	if cmd == "unlock" {
		fs.Func("for", "", func(s string) (err error) {
			unlockFor, err = config.ParseDuration(s)
			if err == nil && unlockFor <= 0 || err != nil && strings.HasPrefix(s, "-") && validDuration(s[1:]) {
				return fmt.Errorf("--for %q: must be positive: write it like 30m, 12h or 7d (leave --for out to stay unlocked until reboot, lock, or three idle days)", s)
			}
			if err != nil {
				return fmt.Errorf("--for %q is not a duration: write it like 30m, 12h or 7d", s)
			}
			return nil
		})
	}
	pos, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
	if !cli.NoArgs(ui, cmd, pos) {
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
	pr := &cli.PassphraseReader{Stdin: stdin, FromStdin: *fromStdin, UI: ui}
	ctx, cancel := cli.Interruptible()
	defer cancel()
	done, err := cli.EncryptedFile(ctx, f, cmd, pr, unlockFor)
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

func runMigrate(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := cli.NewFlags("migrate", c.usage(), ui)
	to := fs.String("to", "", "")
	pos, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
	target := config.Backend(*to)
	switch {
	case !cli.NoArgs(ui, "migrate", pos):
		return 2
	case *to == "":
		return ui.ArgError("migrate", "missing --to BACKEND (%s)", cli.OrList(completion.Backends))
	case !slices.Contains(completion.Backends, *to):
		return cli.UnknownWord(ui, "migrate", "unknown backend %q for --to", *to, completion.Backends)
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
		ui.Errorf("%s: %s", target, cli.Explain(te.Err))
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
		ui.Errorf("%s; nothing was lost: run migrate again", cli.Explain(err))
		return 1
	}
	fmt.Fprintf(stdout, "%s now says backend = %q\n", e.ConfigPath, target)
	return 0
}
