package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/cli"
	"github.com/glpat-dev/git-credential-glpat/internal/gitsetup"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

func runSetup(c *call) int {
	args, stdout, ui := c.args, c.stdout, c.ui
	fs := cli.NewFlags("setup", c.usage(), ui)
	undo := fs.Bool("undo", false, "")
	names, err := fs.Parse(args)
	if err != nil {
		return fs.Exit(err)
	}
	for _, h := range names {
		if err := account.ValidateHost(h); err != nil {
			return ui.ArgError("setup", "%v", err)
		}
	}
	e, err := openSession(false, ui)
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	defer e.Close()
	cfg, err := e.Config()
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	bin, err := selfPath()
	if err != nil {
		ui.Errorf("cannot tell where this program is: %v", err)
		return 1
	}
	opts := gitsetup.Options{Binary: bin, StateDir: e.StateDir}
	var hosts []gitsetup.Host
	switch {
	case len(names) > 0:
		hosts = gitsetup.HostsFor(cfg, storedRecords(e), names)
	case *undo:
		if hosts, err = gitsetup.SetUpHosts(opts); err != nil {
			ui.Errorf("%v", err)
			return 1
		}
	default:
		names = cfg.Hosts()
		if len(names) == 0 {
			names = []string{account.DefaultHost}
		}
		hosts = gitsetup.HostsFor(cfg, storedRecords(e), names)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var changes []gitsetup.Change
	if *undo {
		changes, err = gitsetup.Undo(ctx, opts, hosts)
	} else {
		changes, err = gitsetup.Setup(ctx, opts, hosts)
	}
	for _, c := range changes {
		line := fmt.Sprintf("%-15s %s %s", c.Action, c.Key, quoted(c.Values))
		switch {
		case c.Action == gitsetup.Replaced && slices.Equal(c.Old, c.Values):
			line += " (moved to the end, after the lines added since)"
		case c.Action == gitsetup.Replaced:
			line += " (was " + quoted(c.Old) + ")"
		}
		fmt.Fprintln(stdout, line)
		if c.Warning != "" {
			ui.Warningf("%s", c.Warning)
		}
	}
	if err != nil {
		ui.Errorf("%v", err)
		return 1
	}
	if len(changes) == 0 && *undo {
		fmt.Fprintln(stdout, "nothing to undo")
	}
	return 0
}

// quoted writes git config values as setup prints them: each quoted.
func quoted(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " ")
}

// selfPath is the absolute path a person ran this program by: a package
// manager's stable symlink rather than the versioned file it points to.
func selfPath() (string, error) {
	arg0 := os.Args[0]
	if filepath.IsAbs(arg0) {
		return arg0, nil
	}
	if strings.ContainsRune(arg0, filepath.Separator) {
		return filepath.Abs(arg0)
	}
	if p, err := exec.LookPath(arg0); err == nil {
		return filepath.Abs(p)
	}
	return os.Executable()
}

// storedRecords lists what is stored (nothing, when the index cannot be read).
func storedRecords(e *session.Session) []store.Record {
	recs, _ := e.Store.List()
	return recs
}
