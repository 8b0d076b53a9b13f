package helper

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/credential"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// TestConformanceMemory checks the logic against an in-memory backend; the
// same cases run against the real keychain in keychain_test.go.
func TestConformanceMemory(t *testing.T) {
	testConformance(t, func(t *testing.T) secrets.Store { return new(secretstest.Memory) })
}

func TestBadRequests(t *testing.T) {
	tests := []struct {
		name, op, in string
		want         error
	}{
		{"get without protocol", "get", "host=example.com\n", ErrBadRequest},
		{"get without host", "get", "protocol=https\n", ErrBadRequest},
		{"store without host", "store", "protocol=https\nusername=u\npassword=p\n", ErrBadRequest},
		{"erase without protocol", "erase", "host=h\n", ErrBadRequest},
		{"empty stdin", "get", "", ErrBadRequest},
		{"malformed line", "get", "protocol=https\nhost=h\ngarbage\n", credential.ErrBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := new(secretstest.Memory)
			h := &Helper{Store: &store.Store{Secrets: mem, Dir: t.TempDir()}}
			var out bytes.Buffer
			err := h.Run(context.Background(), tt.op, strings.NewReader(tt.in), &out)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
			if mem.Calls() != 0 {
				t.Errorf("%d keychain calls for a bad request, want 0", mem.Calls())
			}
		})
	}
}

func TestCertificatePassphrase(t *testing.T) {
	// Git asks for a client certificate's passphrase with protocol=cert and
	// the file in path, and no host.
	h := &Helper{Store: &store.Store{Secrets: new(secretstest.Memory), Dir: t.TempDir()}}
	ctx := context.Background()
	if err := h.Run(ctx, "store", strings.NewReader("protocol=cert\npath=/home/u/cert.p12\nusername=\npassword=pp\n"), new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := h.Run(ctx, "get", strings.NewReader("protocol=cert\npath=/home/u/cert.p12\n"), &out); err != nil {
		t.Fatal(err)
	}
	if want := "username=\npassword=pp\n"; out.String() != want {
		t.Errorf("get = %q, want %q", out.String(), want)
	}
}

func TestLockedKeychainIsNotEmpty(t *testing.T) {
	mem := new(secretstest.Memory)
	h := &Helper{Store: &store.Store{Secrets: mem, Dir: t.TempDir()}}
	ctx := context.Background()
	storeReq := "protocol=https\nhost=example.com\nusername=u\npassword=p\n"
	if err := h.Run(ctx, "store", strings.NewReader(storeReq), new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	mem.Err = secrets.ErrLocked
	var out bytes.Buffer
	err := h.Run(ctx, "get", strings.NewReader("protocol=https\nhost=example.com\n"), &out)
	if !errors.Is(err, secrets.ErrLocked) {
		t.Fatalf("get on a locked keychain: err = %v, want ErrLocked", err)
	}
	if err := h.Run(ctx, "erase", strings.NewReader("protocol=https\nhost=example.com\n"), &out); !errors.Is(err, secrets.ErrLocked) {
		t.Fatalf("erase on a locked keychain: err = %v, want ErrLocked", err)
	}
	if err := h.Run(ctx, "store", strings.NewReader(storeReq), &out); !errors.Is(err, secrets.ErrLocked) {
		t.Fatalf("store on a locked keychain: err = %v, want ErrLocked", err)
	}
	mem.Err = nil
	out.Reset()
	if err := h.Run(ctx, "get", strings.NewReader("protocol=https\nhost=example.com\n"), &out); err != nil {
		t.Fatal(err)
	}
	if want := "username=u\npassword=p\n"; out.String() != want {
		t.Errorf("after unlocking, get = %q, want %q (nothing may be lost while locked)", out.String(), want)
	}
}

func TestGetMissCostsNoKeychainCall(t *testing.T) {
	mem := new(secretstest.Memory)
	h := &Helper{Store: &store.Store{Secrets: mem, Dir: t.TempDir()}}
	ctx := context.Background()
	h.Run(ctx, "store", strings.NewReader("protocol=https\nhost=a.example\nusername=u\npassword=p\n"), new(bytes.Buffer))
	before := mem.Calls()
	for _, in := range []string{"protocol=https\nhost=b.example\n", "protocol=https\nhost=a.example\nusername=v\n"} {
		if err := h.Run(ctx, "get", strings.NewReader(in), new(bytes.Buffer)); err != nil {
			t.Fatal(err)
		}
	}
	if got := mem.Calls() - before; got != 0 {
		t.Errorf("get with nothing matching in the index made %d keychain calls, want 0", got)
	}
}

func TestAccountsByPath(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(`
[hosts."gitlab.example.com"]
username = "alice"
[[hosts."gitlab.example.com".accounts]]
username = "alice-work"
paths = ["acme", "clients/big"]
`), 0o600)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	mem := new(secretstest.Memory)
	h := &Helper{Store: &store.Store{Secrets: mem, Dir: dir}, Config: func() (*config.Config, error) { return cfg, nil }}
	ctx := context.Background()
	for _, u := range []string{"alice", "alice-work"} {
		rec := &store.Record{Protocol: "https", Host: "gitlab.example.com", Username: u, Token: &store.Token{ID: 1, APIURL: "https://gitlab.example.com/api/v4"}}
		if err := h.Store.Put(ctx, rec, &store.Secret{Password: "token-of-" + u}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ in, wantUser string }{
		{"protocol=https\nhost=gitlab.example.com\npath=acme/app.git\n", "alice-work"},
		{"protocol=https\nhost=gitlab.example.com\npath=clients/big/x.git\n", "alice-work"},
		{"protocol=https\nhost=gitlab.example.com\npath=clients/small/x.git\n", "alice"},
		{"protocol=https\nhost=gitlab.example.com\npath=acmex/app.git\n", "alice"},
		{"protocol=https\nhost=gitlab.example.com\n", "alice"},
		{"protocol=https\nhost=gitlab.example.com\nusername=alice-work\n", "alice-work"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := h.Run(ctx, "get", strings.NewReader(tt.in), &out); err != nil {
			t.Fatal(err)
		}
		if want := "username=" + tt.wantUser + "\npassword=token-of-" + tt.wantUser + "\n"; out.String() != want {
			t.Errorf("get %q = %q, want %q", tt.in, out.String(), want)
		}
	}
}

// TestRefusedTokenCostsNoKeychainCall: a token known to be dead is refused
// from the index alone: no keychain read, so no unlock prompt either.
func TestRefusedTokenCostsNoKeychainCall(t *testing.T) {
	mem := new(secretstest.Memory)
	dir := t.TempDir()
	st := &store.Store{Secrets: mem, Dir: filepath.Join(dir, "index")}
	var warnings []string
	warn := func(f string, a ...any) { warnings = append(warnings, f) }
	h := &Helper{Store: st, Warn: warn, Lifecycle: &lifecycle.Manager{Store: st, StateDir: dir, Warn: warn}}
	ctx := context.Background()
	rec := &store.Record{Protocol: "https", Host: "gitlab.example.com", Username: "u",
		Token: &store.Token{ID: 7, APIURL: "https://gitlab.example.com/api/v4", Dead: "revoked"}}
	if err := st.Put(ctx, rec, &store.Secret{Password: "glpat-deaddeaddeaddeaddead"}); err != nil {
		t.Fatal(err)
	}
	before := mem.Calls()
	var out bytes.Buffer
	if err := h.Run(ctx, "get", strings.NewReader("protocol=https\nhost=gitlab.example.com\n"), &out); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || len(warnings) != 1 {
		t.Errorf("get of a dead token: stdout %q, warnings %q; want nothing and one warning", out.String(), warnings)
	}
	if n := mem.Calls() - before; n != 0 {
		t.Errorf("get of a dead token made %d keychain calls, want 0", n)
	}
}
