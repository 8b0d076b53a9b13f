package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/completion"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitsetup"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

const setupUsage = `Usage: git-credential-glpat setup [HOST...] [--undo]

Writes your global git config so that, for each GitLab HOST, this helper is
the only one Git asks: an empty credential.https://HOST.helper (which drops
helpers configured elsewhere, so none serves a stale token), then this
binary's absolute path (so that IDEs started with another PATH find it).
Hosts with several accounts in the config also get credential.useHttpPath.
Without HOST: the GitLab hosts that the config and the stored tokens name,
else gitlab.com. Running it
twice changes nothing; --undo removes exactly what setup wrote.

Examples:
    $ git-credential-glpat setup
    $ git-credential-glpat setup gitlab.com gitlab.example.com:8443
    $ git-credential-glpat setup --undo
`

var setupCommand = command{
	name: "setup", summary: "make this helper the only one git asks for GitLab hosts", usage: setupUsage, args: completion.ArgHosts,
	bind: func(fs *flagSet) runFunc {
		o := new(setupOptions)
		fs.boolVar(&o.undo, "undo", "remove what setup wrote")
		return o.run
	},
}

// setupOptions are setup's flags.
type setupOptions struct{ undo bool }

func (o *setupOptions) run(c *call, pos []string) int {
	stdout, ui := c.stdout, c.ui
	var named []hostarg.Host
	for _, a := range pos {
		h, err := hostarg.Parse(a)
		if err != nil {
			return argError(ui, "setup", "%v", err)
		}
		named = append(named, h)
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
	case len(named) > 0:
		hosts = gitsetup.HostsFor(cfg, storedRecords(e), named)
	case o.undo:
		if hosts, err = gitsetup.SetUpHosts(opts); err != nil {
			ui.Errorf("%v", err)
			return 1
		}
	default:
		recs := storedRecords(e)
		hosts = gitsetup.HostsFor(cfg, recs, hostarg.Known(cfg, account.ManagedHosts(recs)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var changes []gitsetup.Change
	if o.undo {
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
	if len(named) > 0 && !o.undo {
		nameHosts(stdout, ui, e.ConfigPath, cfg, named)
	}
	if len(changes) == 0 && o.undo {
		fmt.Fprintln(stdout, "nothing to undo")
	}
	return 0
}

// nameHosts adds a table for each of names that the config does not name
// yet: a host named there is a GitLab host, whose tokens are managed
// whatever prefix its instance gives them (one typed at git's prompt
// included). A config that cannot be written is said, and setup goes on:
// git's part is done, and tokens of GitLab's shapes are managed anyway.
func nameHosts(stdout io.Writer, ui *tty.UI, path string, cfg *config.Config, hosts []hostarg.Host) {
	added := map[string]bool{}
	for _, host := range hosts {
		h := host.Name
		if cfg.Host(h).Known || added[strings.ToLower(h)] {
			continue
		}
		added[strings.ToLower(h)] = true
		if err := config.AddHost(path, h); err != nil {
			ui.Warningf("cannot add [hosts.%q] to the config: %v; a token for %s with a prefix of its instance's own, typed at git's prompt, is stored unmanaged until the config names the host", h, err, h)
			continue
		}
		fmt.Fprintf(stdout, "%-15s [hosts.%q] in %s\n", gitsetup.Added, h, path)
	}
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
