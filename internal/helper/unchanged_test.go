package helper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// unchangedWorld is a helper over a counting in-memory backend and the fake
// GitLab, with one managed token logged in as alice.
type unchangedWorld struct {
	t     *testing.T
	h     *Helper
	mem   *secretstest.Memory
	gl    *gitlabtest.Server
	host  string
	token string
	index string // the index directory
	// configReads counts the API URL look-ups, each of which reads the
	// config file in the program.
	configReads int
}

func newUnchangedWorld(t *testing.T) *unchangedWorld {
	t.Helper()
	gl := gitlabtest.New(t)
	u, _ := url.Parse(gl.URL)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("[hosts.%q]\napi_url = %q\n", u.Host, gl.APIURL())), 0o600)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	mem := new(secretstest.Memory)
	w := &unchangedWorld{t: t, mem: mem, gl: gl, host: u.Host, index: filepath.Join(dir, "index")}
	w.h = &Helper{Store: &store.Store{Secrets: mem, Dir: w.index, APIURL: func(string) string {
		w.configReads++
		return gl.APIURL()
	}}, Config: func() (*config.Config, error) {
		w.configReads++
		return cfg, nil
	}}
	w.token, _ = gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(time.Now().AddDate(0, 0, 200))})
	// Git stores the token it used: the helper asks GitLab and manages it.
	w.run("store", "protocol=http\nhost="+w.host+"\nusername=alice\npassword="+w.token+"\n")
	return w
}

func (w *unchangedWorld) run(op, in string) string {
	w.t.Helper()
	var out bytes.Buffer
	if err := w.h.Run(context.Background(), op, strings.NewReader(in), &out); err != nil {
		w.t.Fatalf("%s %q: %v", op, in, err)
	}
	return out.String()
}

// calls runs op and returns how many backend and GitLab calls it made.
func (w *unchangedWorld) calls(op, in string) (backend, api int) {
	w.t.Helper()
	b, a := w.mem.Calls(), w.gl.Calls(gitlabtest.EndpointSelf)
	w.run(op, in)
	return w.mem.Calls() - b, w.gl.Calls(gitlabtest.EndpointSelf) - a
}

// TestUnchangedStoreTouchesNoBackend: Git runs store after every
// authentication with what get printed; for a managed token that store is
// answered from the index alone (its SHA-256 digest of the token), whether
// Git sends password_expiry_utc back (git 2.40 and later) or not (2.39 and
// before), and with or without a path (credential.useHttpPath).
func TestUnchangedStoreTouchesNoBackend(t *testing.T) {
	w := newUnchangedWorld(t)
	got := w.run("get", "protocol=http\nhost="+w.host+"\n")
	if !strings.Contains(got, "password="+w.token+"\n") || !strings.Contains(got, "password_expiry_utc=") {
		t.Fatalf("get = %q, want the token and its expiry", got)
	}
	base := "protocol=http\nhost=" + w.host + "\n"
	noExpiry := strings.Join(strings.FieldsFunc(got, func(r rune) bool { return r == '\n' })[:2], "\n") + "\n"
	for _, tt := range []struct{ name, in string }{
		{"as git 2.40 and later send it", base + got},
		{"as git before 2.40 sends it", base + noExpiry},
		{"with a path", base + "path=group/repo.git\n" + got},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reads := w.configReads
			if b, a := w.calls("store", tt.in); b != 0 || a != 0 {
				t.Errorf("unchanged store made %d backend and %d API calls, want none", b, a)
			}
			if n := w.configReads - reads; n != 0 {
				t.Errorf("unchanged store read the config %d times, want 0", n)
			}
		})
	}
	if again := w.run("get", base); again != got {
		t.Errorf("get after the stores = %q, want %q unchanged", again, got)
	}
}

// TestChangedStoreIsWritten: a store that differs from what is stored in
// password, expiry or refresh token still reaches the backend and is kept.
func TestChangedStoreIsWritten(t *testing.T) {
	t.Run("managed token, new password", func(t *testing.T) {
		w := newUnchangedWorld(t)
		tok2, _ := w.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(time.Now().AddDate(0, 0, 100))})
		w.run("store", "protocol=http\nhost="+w.host+"\nusername=alice\npassword="+tok2+"\n")
		if got := w.run("get", "protocol=http\nhost="+w.host+"\n"); !strings.Contains(got, "password="+tok2+"\n") {
			t.Errorf("get after storing a new token = %q, want the new token", got)
		}
	})
	t.Run("managed token, a refresh token added", func(t *testing.T) {
		w := newUnchangedWorld(t)
		w.run("store", "protocol=http\nhost="+w.host+"\nusername=alice\npassword="+w.token+"\noauth_refresh_token=rt\n")
		if got := w.run("get", "protocol=http\nhost="+w.host+"\n"); !strings.Contains(got, "oauth_refresh_token=rt\n") {
			t.Errorf("get = %q, want the refresh token stored", got)
		}
	})
	plain := "protocol=https\nhost=plain.example\nusername=u\n"
	for _, tt := range []struct{ name, first, second, want string }{
		{"plain, new password", "password=p1\n", "password=p2\n", "username=u\npassword=p2\n"},
		{"plain, new expiry", "password=p\npassword_expiry_utc=4000000000\n", "password=p\npassword_expiry_utc=4000000001\n", "username=u\npassword=p\npassword_expiry_utc=4000000001\n"},
		{"plain, an expiry added", "password=p\n", "password=p\npassword_expiry_utc=4000000000\n", "username=u\npassword=p\npassword_expiry_utc=4000000000\n"},
		{"plain, new refresh token", "password=p\noauth_refresh_token=r1\n", "password=p\noauth_refresh_token=r2\n", "username=u\npassword=p\noauth_refresh_token=r2\n"},
		{"plain, a refresh token added", "password=p\n", "password=p\noauth_refresh_token=r\n", "username=u\npassword=p\noauth_refresh_token=r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newUnchangedWorld(t)
			w.run("store", plain+tt.first)
			sets := w.mem.Sets()
			w.run("store", plain+tt.second)
			if n := w.mem.Sets() - sets; n != 1 {
				t.Errorf("changed store made %d backend writes, want 1", n)
			}
			if got := w.run("get", "protocol=https\nhost=plain.example\n"); got != tt.want {
				t.Errorf("get = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUnchangedPlainStore: a plain credential keeps no digest (a human
// password could be guessed from one), so an unchanged store reads the
// backend once to compare, and writes nothing. Git before 2.40 sends no
// password_expiry_utc and before 2.41 no oauth_refresh_token: what it
// leaves out is kept, not erased.
func TestUnchangedPlainStore(t *testing.T) {
	w := newUnchangedWorld(t)
	plain := "protocol=https\nhost=plain.example\nusername=u\npassword=p\n"
	full := plain + "password_expiry_utc=4000000000\noauth_refresh_token=r\n"
	w.run("store", full)
	for _, in := range []string{full, plain, plain + "password_expiry_utc=4000000000\n", plain + "oauth_refresh_token=r\n"} {
		sets := w.mem.Sets()
		if b, _ := w.calls("store", in); b != 1 {
			t.Errorf("store %q made %d backend calls, want 1 (the compare)", in, b)
		}
		if n := w.mem.Sets() - sets; n != 0 {
			t.Errorf("store %q made %d backend writes, want 0", in, n)
		}
	}
	if got, want := w.run("get", "protocol=https\nhost=plain.example\n"), "username=u\npassword=p\npassword_expiry_utc=4000000000\noauth_refresh_token=r\n"; got != want {
		t.Errorf("get = %q, want %q", got, want)
	}
	b, _ := os.ReadFile(filepath.Join(w.index, "https_plain.example.json"))
	if strings.Contains(string(b), `"sha256"`) {
		t.Errorf("the index keeps a digest of a plain password:\n%s", b)
	}
}

// TestIndexWithoutDigest: an index written before digests were kept, or
// whose digest is not of the stored token (the item edited by hand), falls
// back to comparing with the backend, and that compare records the digest,
// so the next unchanged store is free.
func TestIndexWithoutDigest(t *testing.T) {
	for _, tt := range []struct {
		name   string
		digest any // nil: none
	}{
		{"no digest", nil},
		{"a digest of another token", store.Digest("glpat-someothertoken0000")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newUnchangedWorld(t)
			name := filepath.Join(w.index, store.EscapeName("http_"+w.host)+".json")
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var idx map[string]any
			if err := json.Unmarshal(b, &idx); err != nil {
				t.Fatal(err)
			}
			rec := idx["records"].([]any)[0].(map[string]any)
			if rec["sha256"] == nil {
				t.Fatalf("the index of a managed token has no digest:\n%s", b)
			}
			if rec["sha256"] = tt.digest; tt.digest == nil {
				delete(rec, "sha256")
			}
			b, _ = json.Marshal(idx)
			os.WriteFile(name, b, 0o600)
			in := "protocol=http\nhost=" + w.host + "\nusername=alice\npassword=" + w.token + "\n"
			sets := w.mem.Sets()
			if b, a := w.calls("store", in); b != 1 || a != 0 {
				t.Errorf("unchanged store made %d backend and %d API calls, want 1 and 0", b, a)
			}
			if n := w.mem.Sets() - sets; n != 0 {
				t.Errorf("unchanged store made %d backend writes, want 0", n)
			}
			if b, a := w.calls("store", in); b != 0 || a != 0 {
				t.Errorf("the next unchanged store made %d backend and %d API calls, want none", b, a)
			}
		})
	}
}

// TestDigestOnlyOfVerifiedTokens: a token stored while GitLab could not be
// reached may be a person's password (a configured host takes any
// password), so it gets no digest until GitLab confirms it.
func TestDigestOnlyOfVerifiedTokens(t *testing.T) {
	w := newUnchangedWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // nothing answers there: GitLab cannot be reached
	cfgPath := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("[hosts.%q]\napi_url = \"http://%s/api/v4\"\n", w.host, ln.Addr())), 0o600)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	w.h.Config = func() (*config.Config, error) { return cfg, nil }
	w.run("store", "protocol=http\nhost="+w.host+"\nusername=bob\npassword=hunter2\n")
	b, _ := os.ReadFile(filepath.Join(w.index, store.EscapeName("http_"+w.host)+".json"))
	if n := strings.Count(string(b), `"sha256"`); n != 1 {
		t.Errorf("index has %d digests, want 1 (alice's verified token, not bob's unverified password):\n%s", n, b)
	}
	if !strings.Contains(string(b), `"unverified": true`) {
		t.Fatalf("bob's credential was not stored as an unverified token:\n%s", b)
	}
}
