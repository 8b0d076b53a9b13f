package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// The state directory is a cache, not an authority: these tests
// plant, swap and loosen what is in it, and check what the built binary
// serves.

// TestPlantedIndexRecordIsNotServed: a.example.com's index copied to the
// name of evil.example with its host changed must not hand a.example.com's
// password to evil.example.
func TestPlantedIndexRecordIsNotServed(t *testing.T) {
	w := newWorld(t)
	if _, errOut, err := w.run("protocol=https\nhost=a.planted.example\nusername=u\npassword=a-secret\n", binPath, "store"); err != nil {
		t.Fatalf("store: %v %s", err, errOut)
	}
	idxDir := filepath.Join(w.dir, "state", "index")
	data, err := os.ReadFile(filepath.Join(idxDir, "https_a.planted.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	evil := filepath.Join(idxDir, "https_evil.planted.example.json")
	planted := strings.Replace(string(data), `"host": "a.planted.example"`, `"host": "evil.planted.example"`, 1)
	if planted == string(data) {
		t.Fatalf("index has no host field to change: %s", data)
	}
	os.WriteFile(evil, []byte(planted), 0o600)
	out, errOut, _ := w.run("protocol=https\nhost=evil.planted.example\n", binPath, "get")
	if strings.Contains(out, "a-secret") {
		t.Fatalf("get for evil.planted.example served a.planted.example's password: %q", out)
	}
	if !strings.Contains(errOut, evil) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr should be one line naming %s: %q", evil, errOut)
	}
	// The same file under a name that disagrees with the host it holds.
	os.WriteFile(evil, data, 0o600)
	if out, _, _ := w.run("protocol=https\nhost=evil.planted.example\n", binPath, "get"); strings.Contains(out, "a-secret") {
		t.Fatalf("a record in the wrong file was served: %q", out)
	}
	// The real host is still served.
	if out, errOut, _ := w.run("protocol=https\nhost=a.planted.example\n", binPath, "get"); out != "username=u\npassword=a-secret\n" || errOut != "" {
		t.Errorf("get a.planted.example = %q, stderr %q", out, errOut)
	}
}

// TestHostAndPathDoNotShareAnAccount: host=example.com path=team and the
// host "example.com/team" (url=https://u:PW@example.com%2Fteam) are two
// credentials, not one keychain item.
func TestHostAndPathDoNotShareAnAccount(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=share.example\npath=team\nusername=u\npassword=with-path\n", binPath, "store")
	w.run("protocol=https\nhost=share.example/team\nusername=u\npassword=in-host\n", binPath, "store")
	if out, _, _ := w.run("protocol=https\nhost=share.example\npath=team\n", binPath, "get"); out != "username=u\npassword=with-path\n" {
		t.Errorf("get host+path = %q; the second store replaced it", out)
	}
	w.run("protocol=https\nhost=share.example/team\nusername=u\n", binPath, "erase")
	if out, _, _ := w.run("protocol=https\nhost=share.example\npath=team\n", binPath, "get"); out != "username=u\npassword=with-path\n" {
		t.Errorf("after erasing the other credential, get host+path = %q", out)
	}
}

// TestOldFormatAccountIsStillServed: a record written by an earlier version
// (host not escaped in the account) keeps its secret.
func TestOldFormatAccountIsStillServed(t *testing.T) {
	w := newWorld(t)
	// What an earlier version wrote for host "old example" (a space, which
	// the account now escapes): the index record and the keychain item.
	const host, legacy = "old example", "https://u%40corp@old example"
	idxDir := filepath.Join(w.dir, "state", "index")
	os.MkdirAll(idxDir, 0o700)
	os.WriteFile(filepath.Join(idxDir, "https_old%20example.json"), []byte(`{"version": 1, "records": [
 {"account": "`+legacy+`", "protocol": "https", "host": "`+host+`", "username": "u@corp", "stored_at": "2026-01-01T00:00:00Z"}]}`), 0o600)
	kc := keychain.New(keychainService)
	if err := kc.Set(context.Background(), legacy, `{"password":"old-secret"}`); err != nil {
		t.Fatal(err)
	}
	if out, errOut, _ := w.run("protocol=https\nhost="+host+"\n", binPath, "get"); out != "username=u@corp\npassword=old-secret\n" {
		t.Errorf("get of an old-format record = %q, %q", out, errOut)
	}
	// Stored again, it moves to the new account and the old item goes.
	w.run("protocol=https\nhost="+host+"\nusername=u@corp\npassword=new-secret\n", binPath, "store")
	if out, _, _ := w.run("protocol=https\nhost="+host+"\n", binPath, "get"); out != "username=u@corp\npassword=new-secret\n" {
		t.Errorf("get after a new store = %q", out)
	}
	if _, err := kc.Get(context.Background(), legacy); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("the old-format keychain item is still there after the credential was stored again")
	}
}

// TestIndexOfANewerHelperIsNotWritten: an index file a newer helper wrote
// is served from as far as it can be read, and a store there fails with one
// line saying to upgrade, leaving the file as it is.
func TestIndexOfANewerHelperIsNotWritten(t *testing.T) {
	w := newWorld(t)
	const host = "newer.example"
	idxDir := filepath.Join(w.dir, "state", "index")
	os.MkdirAll(idxDir, 0o700)
	file := filepath.Join(idxDir, "https_"+host+".json")
	content := `{"version": 99, "records": [
 {"account": "https://u@` + host + `", "protocol": "https", "host": "` + host + `", "username": "u", "stored_at": "2026-01-01T00:00:00Z", "a_field_of_format_99": 1}]}`
	os.WriteFile(file, []byte(content), 0o600)
	kc := keychain.New(keychainService)
	if err := kc.Set(context.Background(), "https://u@"+host, `{"password":"kept"}`); err != nil {
		t.Fatal(err)
	}
	if out, errOut, _ := w.run("protocol=https\nhost="+host+"\n", binPath, "get"); out != "username=u\npassword=kept\n" || errOut != "" {
		t.Errorf("get = %q, stderr %q; want the record, silently", out, errOut)
	}
	_, errOut, err := w.run("protocol=https\nhost="+host+"\nusername=v\npassword=other\n", binPath, "store")
	if code := exitCode(err); code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "upgrade") || !strings.Contains(errOut, file) {
		t.Errorf("store: exit %d, stderr %q; want 1 and one line naming %s and to upgrade", code, errOut, file)
	}
	if b, _ := os.ReadFile(file); string(b) != content {
		t.Errorf("the newer helper's index was changed:\n%s", b)
	}
	if aside, _ := filepath.Glob(file + ".corrupt-*"); len(aside) != 0 {
		t.Errorf("set aside as %v", aside)
	}
}

// TestPlantedAPIURLGetsNoToken: a managed token's API URL comes from the
// config, never from the index: a record pointed at another server (and
// marked unverified, so that get checks it) sends that server nothing.
func TestPlantedAPIURLGetsNoToken(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{
		Scopes:    []string{"api"},
		ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 80)),
	})
	g.login(tok)
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Private-Token") != "" || r.Header.Get("Authorization") != "" {
			hits.Add(1)
		}
		http.NotFound(w, r)
	}))
	defer evil.Close()
	idx := filepath.Join(g.dir, "state", "index", "http_"+strings.ReplaceAll(g.host, ":", "%3A")+".json")
	data, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), `"api_url": "`+g.gl.APIURL()+`"`, `"api_url": "`+evil.URL+`/api/v4"`, 1)
	s = strings.Replace(s, `"api_url"`, `"unverified": true, "api_url"`, 1)
	s = regexp.MustCompile(`"checked_at": "[^"]*"`).ReplaceAllString(s, `"checked_at": "2020-01-01T00:00:00Z"`)
	if s == string(data) {
		t.Fatalf("no api_url in the index: %s", data)
	}
	os.WriteFile(idx, []byte(s), 0o600)
	g.get()
	if n := hits.Load(); n != 0 {
		t.Fatalf("get sent the token to the API URL planted in the index (%d requests)", n)
	}
}

// TestStateDirAndConfigMustBePrivate: every command, get included, refuses
// a state directory or config file that others may write or that belongs
// to another user, in one line naming the path and the fix.
func TestStateDirAndConfigMustBePrivate(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=private.example\nusername=u\npassword=pw\n", binPath, "store")
	state := filepath.Join(w.dir, "state")
	cfg := filepath.Join(w.dir, "config.toml")
	os.WriteFile(cfg, []byte("lifetime = \"90d\"\n"), 0o600)
	get := func() (string, string) {
		out, errOut, _ := w.run("protocol=https\nhost=private.example\n", binPath, "get")
		return out, errOut
	}
	cases := []struct {
		name       string
		breakIt    func()
		fixIt      func()
		path, hint string
	}{
		{"state dir writable by others", func() { os.Chmod(state, 0o777) }, func() { os.Chmod(state, 0o700) }, state, "chmod go-w " + state},
		{"state dir writable by group", func() { os.Chmod(state, 0o770) }, func() { os.Chmod(state, 0o700) }, state, "chmod go-w " + state},
		{"state dir of another user", func() { os.Chown(state, 65534, 65534) }, func() { os.Chown(state, os.Getuid(), os.Getgid()) }, state, "chown"},
		{"config writable by group", func() { os.Chmod(cfg, 0o660) }, func() { os.Chmod(cfg, 0o600) }, cfg, "chmod go-w " + cfg},
		{"config of another user", func() { os.Chown(cfg, 65534, 65534) }, func() { os.Chown(cfg, os.Getuid(), os.Getgid()) }, cfg, "chown"},
		{"config in a directory others may write", func() { os.Chmod(w.dir, 0o777) }, func() { os.Chmod(w.dir, 0o700) }, w.dir, "chmod go-w " + w.dir},
		// A symlink another user owns, anywhere on the way, is theirs to
		// point at a config whose api_url is theirs.
		{"config that is a symlink of another user", func() {
			os.Rename(cfg, cfg+".real")
			os.Symlink(cfg+".real", cfg)
			os.Lchown(cfg, 65534, 65534)
		}, func() { os.Remove(cfg); os.Rename(cfg+".real", cfg) }, cfg, "chown -h"},
		{"config reached through a symlink of another user", func() {
			dots := filepath.Join(w.dir, "dots")
			os.Mkdir(dots+".real", 0o700)
			os.Rename(cfg, filepath.Join(dots+".real", "config.toml"))
			os.Symlink(dots+".real", dots)
			os.Lchown(dots, 65534, 65534)
			w.env = append(w.env, "GLPAT_CONFIG="+filepath.Join(dots, "config.toml"))
		}, func() {
			dots := filepath.Join(w.dir, "dots")
			w.env = w.env[:len(w.env)-1]
			os.Remove(dots)
			os.Rename(filepath.Join(dots+".real", "config.toml"), cfg)
		}, filepath.Join(w.dir, "dots"), "chown -h"},
	}
	for _, c := range cases {
		if c.name == "state dir of another user" || c.name == "config of another user" || strings.Contains(c.name, "symlink of another user") {
			if os.Getuid() != 0 {
				continue // only root can give a file away
			}
		}
		c.breakIt()
		out, errOut := get()
		if out != "" {
			t.Errorf("%s: get served %q", c.name, out)
		}
		if !strings.Contains(errOut, c.path) || !strings.Contains(errOut, c.hint) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: stderr should be one line naming %s and %q: %q", c.name, c.path, c.hint, errOut)
		}
		if _, errOut, err := w.run("", binPath, "status", "--offline"); err == nil || !strings.Contains(errOut, c.path) {
			t.Errorf("%s: status did not refuse: %v %q", c.name, err, errOut)
		}
		if out, _, _ := w.run("", binPath, "doctor"); !strings.Contains(out, c.path) {
			t.Errorf("%s: doctor does not report it:\n%s", c.name, out)
		}
		c.fixIt()
		if out, errOut := get(); out != "username=u\npassword=pw\n" {
			t.Errorf("%s: after the fix, get = %q, %q", c.name, out, errOut)
		}
	}
}

// TestFIFOsDoNotHangGet: a FIFO where the index or the config file should
// be is refused at once, one line naming it; get never waits for a writer
// that will not come.
func TestFIFOsDoNotHangGet(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=fifo.example\nusername=u\npassword=pw\n", binPath, "store")
	idx := filepath.Join(w.dir, "state", "index", "https_fifo.example.json")
	cfg := filepath.Join(w.dir, "config.toml")
	for _, fifo := range []string{idx, cfg} {
		os.Rename(fifo, fifo+".saved")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binPath, "get")
		cmd.Env = w.env
		cmd.Stdin = strings.NewReader("protocol=https\nhost=fifo.example\n")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Start()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil || out.String() != "" || !strings.Contains(errb.String(), fifo) || strings.Count(errb.String(), "\n") != 1 {
				t.Errorf("get with a FIFO at %s: %v, stdout %q, stderr %q", fifo, err, out.String(), errb.String())
			}
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Fatalf("get hangs on a FIFO at %s", fifo)
		}
		os.Remove(fifo)
		os.Rename(fifo+".saved", fifo)
	}
	if out, _, _ := w.run("protocol=https\nhost=fifo.example\n", binPath, "get"); out != "username=u\npassword=pw\n" {
		t.Errorf("get with the files back = %q", out)
	}
}

// TestLongestHostStoresAndErases: a 253-character host (the longest DNS
// name) and a 300-character username store, get and erase through git.
func TestLongestHostStoresAndErases(t *testing.T) {
	w := newWorld(t)
	label := strings.Repeat("a", 63)
	host := label + "." + label + "." + label + "." + strings.Repeat("l", 57) + ".com"
	user := strings.Repeat("u", 300)
	cred := "protocol=https\nhost=" + host + "\nusername=" + user + "\npassword=long-pw\n"
	w.credential("approve", cred)
	if out := w.credential("fill", "protocol=https\nhost="+host+"\n"); !strings.Contains(out, "password=long-pw") {
		t.Errorf("fill = %q", out)
	}
	w.credential("reject", cred)
	if out, _, _ := w.run("protocol=https\nhost="+host+"\n", binPath, "get"); out != "" {
		t.Errorf("get after reject = %q", out)
	}
}
