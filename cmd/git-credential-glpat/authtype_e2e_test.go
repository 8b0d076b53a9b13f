package main

import (
	"testing"
)

// TestHelperTestAuthtype replays git's helper_test_authtype
// (t/lib-credential.sh, git 2.46+) through the helper. The machine's git is
// 2.39, which knows no capabilities, so each case sends what git 2.46 sends
// to a helper (credential_write with CREDENTIAL_OP_HELPER: capability[]
// lines, then authtype, credential and ephemeral, then the rest) and checks
// the helper's answer. Git passes authtype and credential on to its caller
// only from a helper whose answer announces capability[]=authtype
// (credential_has_capability with CREDENTIAL_OP_RESPONSE), so the answer
// must start with it, as git-credential-cache's does.
func TestHelperTestAuthtype(t *testing.T) {
	w := newWorld(t)
	const capa = "capability[]=authtype\n"
	cases := []struct {
		name     string
		op, in   string
		want     string // the helper's stdout
		thenGet  string // a get after a store, with its answer
		thenWant string
	}{
		{name: "stores authtype and credential", op: "store",
			in: capa + "authtype=Bearer\ncredential=random-token\nprotocol=https\nhost=git.example.com\n"},
		{name: "gets authtype and credential", op: "get",
			in:   capa + "protocol=https\nhost=git.example.com\n",
			want: capa + "authtype=Bearer\ncredential=random-token\n"},
		{name: "gets authtype and credential only if request has authtype capability", op: "get",
			in: "protocol=https\nhost=git.example.com\n"},
		{name: "stores authtype and credential with username", op: "store",
			in: capa + "authtype=Bearer\ncredential=other-token\nprotocol=https\nhost=git.example.com\nusername=foobar\n"},
		{name: "gets authtype and credential with username", op: "get",
			in:   capa + "protocol=https\nhost=git.example.com\nusername=foobar\n",
			want: capa + "authtype=Bearer\ncredential=other-token\nusername=foobar\n"},
		{name: "does not get authtype and credential with different username", op: "get",
			in: capa + "protocol=https\nhost=git.example.com\nusername=barbaz\n"},
		{name: "does not store ephemeral authtype and credential", op: "store",
			in:      capa + "authtype=Bearer\ncredential=git2-token\nephemeral=1\nprotocol=https\nhost=git2.example.com\n",
			thenGet: capa + "protocol=https\nhost=git2.example.com\n"},
		// git's test writes "user=barbaz", a key git ignores, so git itself
		// never calls the helper (no username): the helper must store
		// nothing either way.
		{name: "does not store ephemeral username and password", op: "store",
			in:      capa + "ephemeral=1\nprotocol=https\nhost=git2.example.com\nusername=barbaz\npassword=secret\n",
			thenGet: capa + "protocol=https\nhost=git2.example.com\n"},
	}
	passed := 0
	for _, c := range cases {
		out, errOut, err := w.run(c.in, binPath, c.op)
		ok := true
		if err != nil || errOut != "" || out != c.want {
			t.Errorf("%s: %s: exit %v, stderr %q\nstdout %q\nwant   %q", c.name, c.op, err, errOut, out, c.want)
			ok = false
		}
		if c.thenGet != "" {
			if out, _, _ := w.run(c.thenGet, binPath, "get"); out != c.thenWant {
				t.Errorf("%s: get after the store = %q, want %q", c.name, out, c.thenWant)
				ok = false
			}
		}
		if ok {
			passed++
		}
	}
	t.Logf("%d of %d helper_test_authtype cases pass", passed, len(cases))

	// erase, as git-credential-cache's (credential_match with
	// match_password): a given credential must match too.
	w.run(capa+"authtype=Bearer\ncredential=not-this-one\nprotocol=https\nhost=git.example.com\nusername=foobar\n", binPath, "erase")
	if out, _, _ := w.run(capa+"protocol=https\nhost=git.example.com\nusername=foobar\n", binPath, "get"); out == "" {
		t.Error("erase with another credential removed the stored one")
	}
	w.run(capa+"authtype=Bearer\ncredential=other-token\nprotocol=https\nhost=git.example.com\nusername=foobar\n", binPath, "erase")
	if out, _, _ := w.run(capa+"protocol=https\nhost=git.example.com\nusername=foobar\n", binPath, "get"); out != "" {
		t.Errorf("after erase, get = %q", out)
	}
	// A plain credential answers a capable request as before, with the
	// capability unannounced (nothing else to pass on).
	w.run("protocol=https\nhost=plain.example\nusername=u\npassword=p\n", binPath, "store")
	if out, _, _ := w.run(capa+"state[]=x\nprotocol=https\nhost=plain.example\n", binPath, "get"); out != "username=u\npassword=p\n" {
		t.Errorf("capable get of a plain credential = %q", out)
	}
}
