package helper

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// The benchmarks below measure what the helper adds to a get, in process,
// with the secrets in memory: reading the request, the index file, matching,
// the expiry check of a managed token (with its config file parsed, as each
// process does) and writing the answer. Process start and the keychain's
// round trips are measured whole in bench/. Profile with
//
//	go test ./internal/helper -run '^$' -bench Get -cpuprofile cpu.out

func benchGet(b *testing.B, h *Helper, request, want string) {
	b.Helper()
	var out strings.Builder
	if err := h.Run(context.Background(), "get", strings.NewReader(request), &out); err != nil || !strings.Contains(out.String(), want) {
		b.Fatalf("get: %q, %v; want %q", out.String(), err, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := h.Run(context.Background(), "get", strings.NewReader(request), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func mustRun(tb testing.TB, h *Helper, op, in string) {
	tb.Helper()
	if err := h.Run(context.Background(), op, strings.NewReader(in), io.Discard); err != nil {
		tb.Fatalf("%s: %v", op, err)
	}
}

func BenchmarkGetHit(b *testing.B) {
	h := &Helper{Store: &store.Store{Secrets: new(secretstest.Memory), Dir: b.TempDir()}}
	mustRun(b, h, "store", "protocol=https\nhost=hit.example\nusername=u\npassword=plain-secret\n")
	benchGet(b, h, "protocol=https\nhost=hit.example\n", "password=plain-secret")
}

func BenchmarkGetHitAmong1000(b *testing.B) {
	h := &Helper{Store: &store.Store{Secrets: new(secretstest.Memory), Dir: b.TempDir()}}
	for host := 0; host < 200; host++ {
		for u := 0; u < 5; u++ {
			mustRun(b, h, "store", fmt.Sprintf("protocol=https\nhost=h%03d.example\nusername=user%d\npassword=secret-%d-%d\n", host, u, host, u))
		}
	}
	benchGet(b, h, "protocol=https\nhost=h137.example\nusername=user3\n", "password=secret-137-3")
}

func BenchmarkGetMiss(b *testing.B) {
	mem := new(secretstest.Memory)
	h := &Helper{Store: &store.Store{Secrets: mem, Dir: b.TempDir()}}
	mustRun(b, h, "store", "protocol=https\nhost=hit.example\nusername=u\npassword=plain-secret\n")
	before := mem.Calls()
	b.ReportAllocs()
	for b.Loop() {
		var out strings.Builder
		if err := h.Run(context.Background(), "get", strings.NewReader("protocol=https\nhost=nothing.example\n"), &out); err != nil || out.Len() != 0 {
			b.Fatalf("get: %q, %v; want nothing", out.String(), err)
		}
	}
	if n := mem.Calls() - before; n != 0 {
		b.Fatalf("a miss made %d keychain calls", n)
	}
}

// BenchmarkGetManaged is a GitLab token with no rotation due: the config
// file is parsed for rotate_before on every get, as every process does.
func BenchmarkGetManaged(b *testing.B) {
	dir := b.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte("rotate_before = \"30d\"\nlifetime = \"90d\"\n\n[hosts.\"gitlab.example.com\"]\nusername = \"alice\"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	st := &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(dir, "index")}
	settings := func(rec *store.Record) lifecycle.Settings {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			b.Fatal(err)
		}
		hc := cfg.Host(rec.Host)
		return lifecycle.Settings{RotateBefore: time.Duration(hc.RotateBefore), Lifetime: time.Duration(hc.Lifetime), AutoRotate: hc.AutoRotate}
	}
	h := &Helper{Store: st, Lifecycle: &lifecycle.Manager{Store: st, StateDir: dir, Settings: settings, NewAPI: func(string, string) (lifecycle.API, error) {
		b.Fatal("a get with no rotation due made an API client")
		return nil, nil
	}}}
	expires := time.Now().UTC().AddDate(0, 0, 300).Truncate(24 * time.Hour)
	rec := &store.Record{Protocol: "https", Host: "gitlab.example.com", Username: "alice", ExpiryUTC: expires.Unix(),
		Token: &store.Token{ID: 7, Name: "laptop", Scopes: []string{"api"}, APIURL: "https://gitlab.example.com/api/v4",
			ExpiresAt: expires.Format(time.DateOnly), CheckedAt: time.Now()}}
	if err := st.Put(context.Background(), rec, &store.Secret{Password: "glpat-benchbenchbenchbench", UserID: 4242}); err != nil {
		b.Fatal(err)
	}
	benchGet(b, h, "protocol=https\nhost=gitlab.example.com\n", "password_expiry_utc=")
}

// BenchmarkStoreUnchanged is Git's store of what a get of a managed token
// printed: answered from the index (its digest of the token), with no
// backend call and no config file read.
func BenchmarkStoreUnchanged(b *testing.B) {
	mem := new(secretstest.Memory)
	st := &store.Store{Secrets: mem, Dir: b.TempDir()}
	h := &Helper{Store: st, Config: func() (*config.Config, error) {
		b.Fatal("an unchanged store read the config")
		return nil, nil
	}}
	expires := time.Now().UTC().AddDate(0, 0, 300).Truncate(24 * time.Hour)
	rec := &store.Record{Protocol: "https", Host: "gitlab.example.com", Username: "alice", ExpiryUTC: expires.Unix(),
		Token: &store.Token{ID: 7, Name: "laptop", Scopes: []string{"api"}, APIURL: "https://gitlab.example.com/api/v4",
			ExpiresAt: expires.Format(time.DateOnly), CheckedAt: time.Now()}}
	if err := st.Put(context.Background(), rec, &store.Secret{Password: "glpat-benchbenchbenchbench", UserID: 4242}); err != nil {
		b.Fatal(err)
	}
	in := fmt.Sprintf("protocol=https\nhost=gitlab.example.com\nusername=alice\npassword=glpat-benchbenchbenchbench\npassword_expiry_utc=%d\n", expires.Unix())
	before := mem.Calls()
	b.ReportAllocs()
	for b.Loop() {
		mustRun(b, h, "store", in)
	}
	if n := mem.Calls() - before; n != 0 {
		b.Fatalf("an unchanged store made %d backend calls", n)
	}
}
