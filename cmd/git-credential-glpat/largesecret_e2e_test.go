package main

import (
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
)

// TestLargeSecretOnEveryBackend: a credential as large as Git can send (a
// password, a refresh token and a Bearer credential of 65,000 bytes each,
// near the protocol's 65,535-byte line) is stored and read back whole, or
// refused in one line that says why and what to do, with what was stored
// before kept.
func TestLargeSecretOnEveryBackend(t *testing.T) {
	const capa = "capability[]=authtype\n"
	password := secretstest.LargeSecret(65000, "password")
	refresh := secretstest.LargeSecret(65000, "refresh")
	bearer := secretstest.LargeSecret(65000, "bearer")
	store := capa + "authtype=Bearer\ncredential=" + bearer + "\nprotocol=https\nhost=secret.example\nusername=u\npassword=" + password + "\noauth_refresh_token=" + refresh + "\n"
	const get = capa + "protocol=https\nhost=secret.example\nusername=u\n"
	const small = "protocol=https\nhost=secret.example\nusername=u\npassword=small-before\n"

	for _, tc := range []struct {
		backend string
		refusal string // what stderr says when the backend cannot hold it
	}{
		{"keyring", ""},
		{"encrypted-file", ""},
		{"kernel", "git-credential-glpat: error: kernel keyring: write "},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			w := backendWorld(t, tc.backend)
			if tc.backend == "encrypted-file" {
				if out, errOut, err := w.run("correct horse\ncorrect horse\n", binPath, "init", "--passphrase-stdin"); err != nil {
					t.Fatalf("init: %v %s %s", err, out, errOut)
				}
			}
			if _, errOut, err := w.run(small, binPath, "store"); err != nil || errOut != "" {
				t.Fatalf("store of a small secret: %v %q", err, errOut)
			}
			out, errOut, err := w.run(store, binPath, "store")
			if tc.refusal == "" {
				if err != nil || out != "" || errOut != "" {
					t.Fatalf("store of %d bytes: %v, stdout %q, stderr %q", len(store), err, out, errOut)
				}
				out, errOut, err = w.run(get, binPath, "get")
				want := capa + "authtype=Bearer\ncredential=" + bearer + "\nusername=u\npassword=" + password + "\noauth_refresh_token=" + refresh + "\n"
				if err != nil || errOut != "" || out != want {
					t.Errorf("get: %v, stderr %q, stdout %d bytes; want the %d bytes stored", err, errOut, len(out), len(want))
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if err == nil || len(lines) != 1 || !strings.HasPrefix(errOut, tc.refusal) ||
				!strings.Contains(errOut, "nothing was changed (use the encrypted-file backend: git-credential-glpat migrate --to encrypted-file)") {
				t.Errorf("store of %d bytes: %v, stderr %q; want one line that says why and what to do", len(store), err, errOut)
			}
			if strings.Contains(errOut, password[:40]) || strings.Contains(errOut, refresh[:40]) || strings.Contains(errOut, bearer[:40]) {
				t.Error("the refusal holds the secret")
			}
			if out, errOut, err := w.run(get, binPath, "get"); err != nil || out != "username=u\npassword=small-before\n" {
				t.Errorf("get after the refusal: %v, %q %q; want the credential stored before", err, out, errOut)
			}
		})
	}
}
