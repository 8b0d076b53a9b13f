// Package hostarg is a host as people give it to commands (HOST) and as
// every command prints it, Git's protocol and host attributes in one word,
// and which hosts a command means without one.
package hostarg

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
)

// Host is a host as a command takes it.
type Host struct {
	// Protocol is Git's protocol attribute ("https", "http", …), or empty
	// when the argument named none: then it stands for the host under
	// any protocol (Matches), and for https where one is needed.
	Protocol string
	// Name is Git's host attribute: a host name, with ":port" if any.
	Name string
}

// Format is how every command prints the host of Git's protocol and host
// attributes: the host alone for https (GitLab's usual case, and what
// git's remote URLs and the config's [hosts."…"] tables say), else the
// protocol before it as in a URL (http://127.0.0.1:8929). Parse reads it
// back.
func Format(protocol, name string) string {
	if protocol == "" || protocol == "https" {
		return name
	}
	return protocol + "://" + name
}

// String is h as Format prints it.
func (h Host) String() string { return Format(h.Protocol, h.Name) }

// Parse reads a HOST argument: every form Format prints, and the URL of a
// host's root that a person may paste (https://gitlab.example.com/):
//
//	gitlab.com  gitlab.example.com:8443  [::1]:8929
//	http://127.0.0.1:8929  https://gitlab.com  https://gitlab.com/
//
// A URL with more than that (a user, a path, a query) names something
// other than a host, and is refused with what to write instead.
func Parse(s string) (Host, error) {
	if !strings.Contains(s, "://") {
		if s == "" || strings.ContainsAny(s, "/@ \t\r\n\\?#") {
			return Host{}, notAHost(s)
		}
		return Host{Name: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || strings.ContainsAny(u.Host, "@ \t\r\n\\") {
		return Host{}, notAHost(s)
	}
	h := Host{Protocol: strings.ToLower(u.Scheme), Name: u.Host}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return Host{}, fmt.Errorf("%q is not a host: a host is written without a user, path or query (like %s)", s, h)
	}
	return h, nil
}

func notAHost(s string) error {
	return fmt.Errorf("%q is not a host name (write it like gitlab.example.com, gitlab.example.com:8443 or http://127.0.0.1:8929)", s)
}

// Matches reports whether a credential stored for Git's protocol and host
// is one of h's: the host compares without regard to case (as git and DNS
// do), and a Host that named no protocol matches every protocol. The zero
// Host, no HOST at all, matches every credential.
func (h Host) Matches(protocol, name string) bool {
	return (h.Name == "" || strings.EqualFold(h.Name, name)) && (h.Protocol == "" || strings.EqualFold(h.Protocol, protocol))
}

// IsZero reports whether h names no host.
func (h Host) IsZero() bool { return h.Name == "" }

// DefaultHost is the host a command means when neither HOST, the config
// nor a stored token names one.
const DefaultHost = "gitlab.com"

// Known are the GitLab hosts the helper knows, which a command given no
// HOST means: those the config names, with the protocol of their API URL
// (config.TokenAPIURL: https unless api_url says http), then those of
// stored GitLab credentials (stored, Git's protocol and host of each), in
// that order and each once; DefaultHost over https when there are none.
// status and doctor report them all, setup and rotate take them all, and
// login and logout, which act on one host, take the one there is (One).
func Known(cfg *config.Config, stored []Host) []Host {
	var hosts []Host
	add := func(h Host) {
		if !slices.ContainsFunc(hosts, func(k Host) bool {
			return strings.EqualFold(k.Protocol, h.Protocol) && strings.EqualFold(k.Name, h.Name)
		}) {
			hosts = append(hosts, h)
		}
	}
	for _, n := range cfg.Hosts() {
		protocol, _, _ := strings.Cut(cfg.TokenAPIURL(n), "://")
		add(Host{Protocol: strings.ToLower(protocol), Name: n})
	}
	for _, h := range stored {
		add(h)
	}
	if len(hosts) == 0 {
		add(Host{Protocol: "https", Name: DefaultHost})
	}
	return hosts
}

// One is the host a command that acts on one host means without HOST: the
// one known host, or an error naming them when there are several.
func One(known []Host) (Host, error) {
	if len(known) == 1 {
		return known[0], nil
	}
	names := make([]string, len(known))
	for i, h := range known {
		names[i] = h.String()
	}
	return Host{}, fmt.Errorf("give the HOST: the config and the stored tokens name %d GitLab hosts (%s)", len(known), strings.Join(names, ", "))
}
