package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

// TestWriteAnsweringWithPaths: an account the config gives paths answers
// those repositories; the default answers every other URL; a login that
// takes nothing from another account is not warned about.
func TestWriteAnsweringWithPaths(t *testing.T) {
	res := &account.LoginResult{
		Record:    &store.Record{Host: "gitlab.com", Username: "alice-work"},
		Answering: "alice", Answered: "alice", ByConfig: true,
		Accounts: []account.AccountPaths{{Username: "alice"}, {Username: "alice-work", Paths: []string{"acme", "clients/big"}}},
	}
	var out, errb bytes.Buffer
	writeAnswering(&out, &tty.UI{W: &errb}, res, "/c.toml")
	for _, want := range []string{
		"  accounts alice, alice-work\n",
		"alice answers every other URL that names no account (the config's username)\n",
		"alice-work answers the repositories under acme, clients/big (paths in the config) and URLs that name it\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if errb.Len() != 0 {
		t.Errorf("a login that took nothing over warned:\n%s", errb.String())
	}
	// One account: nothing to say.
	out.Reset()
	res.Accounts = res.Accounts[:1]
	if writeAnswering(&out, &tty.UI{W: &errb}, res, "/c.toml"); out.Len() != 0 {
		t.Errorf("one account: %q, want nothing", out.String())
	}
}
