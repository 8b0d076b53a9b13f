package gitsetup

import (
	"net/url"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// HostsFor turns HOST arguments into what setup writes: for a host named
// with its protocol (http://HOST), that protocol; else the protocol of the
// host's API URL (https unless the config says otherwise), and of any
// GitLab token (or OAuth login) stored for the host (login --api-url http://… stores one for
// http, and doctor asks for that helper entry); with useHttpPath when the
// config maps repository paths to several accounts.
func HostsFor(cfg *config.Config, recs []store.Record, names []hostarg.Host) []Host {
	var hosts []Host
	for _, h := range names {
		n := h.Name
		hc := cfg.Host(n)
		if h.Protocol != "" {
			hosts = append(hosts, Host{Protocol: h.Protocol, Host: n, UseHTTPPath: len(hc.Accounts) > 0})
			continue
		}
		proto := "https"
		if u, err := url.Parse(hc.APIURL); err == nil && u.Scheme == "http" {
			proto = "http"
		}
		protos := []string{proto}
		for _, r := range recs {
			if r.Managed() && strings.EqualFold(r.Host, n) && !slices.Contains(protos, r.Protocol) {
				protos = append(protos, r.Protocol)
			}
		}
		for _, p := range protos {
			hosts = append(hosts, Host{Protocol: p, Host: n, UseHTTPPath: len(hc.Accounts) > 0})
		}
	}
	return hosts
}
