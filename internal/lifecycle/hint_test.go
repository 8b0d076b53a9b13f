package lifecycle

import (
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

func TestLoginCommand(t *testing.T) {
	m := &Manager{}
	for _, tc := range []struct {
		rec  *store.Record
		want string
	}{
		{&store.Record{Protocol: "https", Host: "gitlab.com", Username: "alice", Token: &store.Token{}},
			"git-credential-glpat login gitlab.com --username alice"},
		{&store.Record{Protocol: "http", Host: "127.0.0.1:8929", Username: "alice", Token: &store.Token{}},
			"git-credential-glpat login http://127.0.0.1:8929 --username alice"},
		{&store.Record{Protocol: "https", Host: "gitlab.com", Username: "oauth2", OAuth: &store.OAuth{}},
			"git-credential-glpat login gitlab.com --username oauth2 --oauth"},
	} {
		if got := m.LoginCommand(tc.rec); got != tc.want {
			t.Errorf("LoginCommand(%s %s) = %q, want %q", tc.rec.Host, tc.rec.Username, got, tc.want)
		}
	}
	if got, want := Login(hostarg.Host{Protocol: "http", Name: "127.0.0.1:8929"}, "", true), "git-credential-glpat login http://127.0.0.1:8929 --oauth"; got != want {
		t.Errorf("Login without a username = %q, want %q", got, want)
	}
}
