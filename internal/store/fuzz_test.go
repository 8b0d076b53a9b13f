package store

import (
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/credential"
)

// FuzzMatches checks the scoping rule on arbitrary requests, given as a
// url= attribute the way Git may send them: a record answers a request only
// when protocol and host are byte-for-byte equal, and a path or username
// the request names must be equal too (a managed token has no path).
func FuzzMatches(f *testing.F) {
	for _, s := range []string{
		"https://gitlab.example.com/acme/app.git",
		"http://gitlab.example.com",
		"https://gitlab.example.com.evil.com",
		"https://evil.com/gitlab.example.com",
		"https://GITLAB.example.com",
		"https://gitlab.example.com.",
		"https://u@gitlab.example.com:443/",
		"https://gitl%D0%B0b.example.com",
	} {
		f.Add(s, "gitlab.example.com", "", "u", false)
	}
	f.Fuzz(func(t *testing.T, rawURL, host, path, user string, managed bool) {
		req, err := credential.FromURL(rawURL)
		if err != nil {
			return
		}
		r := Record{Protocol: "https", Host: host, Path: path, Username: user}
		if managed {
			r.Token = &Token{}
		}
		if !r.Matches(req) {
			return
		}
		if req.Protocol != "https" || req.Host != host {
			t.Fatalf("record https://%s matched request %q (protocol %q host %q)", host, rawURL, req.Protocol, req.Host)
		}
		if req.HasUsername && req.Username != user {
			t.Fatalf("username %q matched request user %q", user, req.Username)
		}
		if req.Path != "" && req.Path != path && !(managed && path == "") {
			t.Fatalf("path %q matched request path %q", path, req.Path)
		}
		if strings.ContainsAny(req.Host, "/@") && req.Host == host {
			// Equal strings, however odd, are the one case allowed.
			return
		}
	})
}
