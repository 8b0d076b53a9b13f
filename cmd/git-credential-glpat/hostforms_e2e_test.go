package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestEveryPrintedHostIsAccepted: every command prints a host one way
// (the host alone for https, http://HOST:PORT for plain http), and every
// form any command prints is taken as HOST by status, rotate, setup, login
// and logout.
func TestEveryPrintedHostIsAccepted(t *testing.T) {
	g := newGitLabWorld(t, "")
	least := []string{"read_repository", "write_repository", "self_rotate"}
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Username: "alice", Scopes: least, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)
	g.run("protocol=https\nhost=a.example\nusername=u\npassword=p\n", binPath, "store")
	printed := "http://" + g.host

	// What status, doctor and status's hint print for the host.
	var forms []string
	status, _, _ := g.run("", binPath, "status")
	if m := regexp.MustCompile(`(?m)^(\S+)\s+alice\s`).FindStringSubmatch(status); m != nil {
		forms = append(forms, m[1])
	}
	doctor, _, _ := g.run("", binPath, "doctor")
	if m := regexp.MustCompile(`token (\S+) \(alice\)`).FindStringSubmatch(doctor); m != nil {
		forms = append(forms, m[1])
	}
	hint, _, _ := g.run("", binPath, "status", "c.example", "--offline")
	if m := regexp.MustCompile(`stored for (\S+), (\S+)\.`).FindStringSubmatch(strings.ReplaceAll(hint, "\n", " ")); m != nil {
		forms = append(forms, m[1:]...)
	}
	slices.Sort(forms)
	if want := []string{"a.example", printed, printed, printed}; !slices.Equal(forms, want) {
		t.Fatalf("the host is printed as %q, want %q\nstatus:\n%s\ndoctor:\n%s\nstatus c.example:\n%s", forms, want, status, doctor, hint)
	}

	for _, host := range []string{printed, g.host} {
		t.Run(host, func(t *testing.T) {
			out, errOut, err := g.run("", binPath, "status", host, "--offline")
			if err != nil || !strings.Contains(out, printed) || strings.Contains(out, "a.example") || errOut != "" {
				t.Errorf("status %s: %v\n%s%s", host, err, out, errOut)
			}
			out, errOut, err = g.run("", binPath, "rotate", host)
			if err != nil || !strings.Contains(out, printed+" (alice): not due") || errOut != "" {
				t.Errorf("rotate %s: %v\n%s%s", host, err, out, errOut)
			}
			out, errOut, err = g.run("", binPath, "setup", host)
			if err != nil || !strings.Contains(out, "credential."+printed+".helper") || errOut != "" {
				t.Errorf("setup %s: %v\n%s%s", host, err, out, errOut)
			}
			out, errOut, err = g.run(tok+"\n", binPath, "login", host, "--token-stdin", "--username", "alice")
			if err != nil || !strings.Contains(out, "Logged in to "+printed+" as alice") {
				t.Errorf("login %s: %v\n%s%s", host, err, out, errOut)
			}
			out, errOut, err = g.run("", binPath, "logout", host)
			if err != nil || out != "forgot the credential of alice on "+printed+"\n" || errOut != "" {
				t.Errorf("logout %s: %v\n%s%s", host, err, out, errOut)
			}
			g.login(tok)
		})
	}
	// A URL names the protocol: https is not the http host's.
	out, _, _ := g.run("", binPath, "status", "https://"+g.host, "--offline")
	if strings.Contains(out, "alice") {
		t.Errorf("status https://%s lists the http host's credential:\n%s", g.host, out)
	}
}
