package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/cli"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitsetup"
	"github.com/glpat-dev/git-credential-glpat/internal/session"
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
			ui.Errorf("%v", err)
			return 2
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
		hosts = setupHosts(cfg, e, names)
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
		hosts = setupHosts(cfg, e, names)
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
		vals := make([]string, len(c.Values))
		for i, v := range c.Values {
			vals[i] = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(stdout, "%-15s %s %s\n", c.Action, c.Key, strings.Join(vals, " "))
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

// setupHosts turns host names into what setup writes: the protocol of the
// host's API URL (https unless the config says otherwise), and of any
// GitLab token stored for the host (login --api-url http://… stores one for
// http, and doctor asks for that helper entry), with useHttpPath when the
// config maps repository paths to several accounts.
func setupHosts(cfg *config.Config, e *session.Session, names []string) []gitsetup.Host {
	recs, _ := e.Store.List()
	var hosts []gitsetup.Host
	for _, n := range names {
		hc := cfg.Host(n)
		proto := "https"
		if u, err := url.Parse(hc.APIURL); err == nil && u.Scheme == "http" {
			proto = "http"
		}
		protos := []string{proto}
		for _, r := range recs {
			if r.Token != nil && strings.EqualFold(r.Host, n) && !slices.Contains(protos, r.Protocol) {
				protos = append(protos, r.Protocol)
			}
		}
		for _, p := range protos {
			hosts = append(hosts, gitsetup.Host{Protocol: p, Host: n, UseHTTPPath: len(hc.Accounts) > 0})
		}
	}
	return hosts
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
