package main

import (
	"strings"
	"testing"
)

// TestEveryCommandSaysTheAccountGetAnswers: on a host with several
// accounts, status, doctor and logout say which account git gets where the
// URL names no account, by get's own rule: the config's username here, and
// after that account's logout the most recently stored one.
func TestEveryCommandSaysTheAccountGetAnswers(t *testing.T) {
	g, alice, carol := twoAccountWorld(t) // username = "alice" in the config
	host := "http://" + g.host
	if got := g.bareGet(); got != alice {
		t.Fatalf("get answers %s, want alice's token (the config's username)", fingerprintOf(got))
	}
	out, _, _ := g.run("", binPath, "status", "--offline")
	if !strings.Contains(flat(out), host+" (alice): answers git where the URL names no account (the config's username)") || strings.Contains(out, "(carol): answers") {
		t.Errorf("status does not say that alice answers:\n%s", out)
	}
	out, _, _ = g.run("", binPath, "doctor")
	checks := map[string]string{} // by name: the detail
	for _, c := range strings.Split(flat(out), " [") {
		if name, detail, ok := strings.Cut(c, ": "); ok {
			checks[strings.TrimSpace(strings.TrimLeft(name, "[okwarnfilo] "))] = detail
		}
	}
	if d := checks["token "+host+" (alice)"]; !strings.Contains(d, "git gets it where the URL names no account") {
		t.Errorf("doctor does not say that alice answers: %q\n%s", d, out)
	}
	if d := checks["token "+host+" (carol)"]; d == "" || strings.Contains(d, "git gets it") {
		t.Errorf("doctor says that carol answers: %q\n%s", d, out)
	}
	out, errOut, err := g.run("", binPath, "logout", "--username", "alice")
	if err != nil || out != "forgot the credential of alice on "+host+"\ncarol now answers git for "+host+" where the URL names no account\n" {
		t.Errorf("logout of the answering account: %v\n%s%s", err, out, errOut)
	}
	if got := g.bareGet(); got != carol {
		t.Errorf("get after the logout answers %s, want carol's token", fingerprintOf(got))
	}
}
