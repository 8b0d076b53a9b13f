package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/godbus/dbus/v5"
)

// busMonitor watches every method call on the test's private session bus
// (org.freedesktop.DBus.Monitoring.BecomeMonitor), so a test can count the
// D-Bus traffic of one helper process: a keychain read or write is a method
// call to org.freedesktop.secrets, and even connecting is a Hello.
type busMonitor struct {
	t     *testing.T
	conn  *dbus.Conn
	msgs  chan *dbus.Message
	probe *dbus.Conn
	seq   int
	seen  map[string]bool // senders of the calls seen so far
	// before is seen as it was when the counted calls began.
	before map[string]bool
}

func newBusMonitor(t *testing.T) *busMonitor {
	t.Helper()
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	probe, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	m := &busMonitor{t: t, conn: conn, msgs: make(chan *dbus.Message, 4096), probe: probe, seen: map[string]bool{}}
	t.Cleanup(func() { conn.Close(); probe.Close() })
	// Every message, the answer to BecomeMonitor included, goes to msgs
	// from here on.
	conn.Eavesdrop(m.msgs)
	conn.BusObject().Go("org.freedesktop.DBus.Monitoring.BecomeMonitor", 0, nil, []string{"type='method_call'"}, uint32(0))
	for msg := range m.msgs {
		if msg.Type == dbus.TypeError {
			t.Fatalf("BecomeMonitor: %v", msg.Body)
		}
		if msg.Type == dbus.TypeMethodReply { // the only call this connection made
			break
		}
	}
	return m
}

// calls returns how many method calls a client made while fn ran to reach
// the keychain: every call to org.freedesktop.secrets, and every Hello (a
// new connection to the bus). Calls of the daemons themselves (gnome-keyring
// asking the bus about a client that just left) are not a client's.
func (m *busMonitor) calls(fn func()) int {
	m.t.Helper()
	m.sync() // what came before fn (a process that just left) is not counted
	m.before = maps.Clone(m.seen)
	fn()
	return m.sync()
}

// sync sends a marker through the bus and returns the clients' keychain
// calls the monitor saw before it. The bus forwards a process's calls to
// the monitor before it answers them, so once the marker arrives every
// call made before it was sent has arrived too.
func (m *busMonitor) sync() int {
	m.t.Helper()
	m.seq++
	marker := fmt.Sprintf("glpat-test-marker-%d", m.seq)
	m.probe.BusObject().Go("org.freedesktop.DBus.NameHasOwner", 0, nil, marker)
	n := 0
	timeout := time.After(30 * time.Second)
	for {
		select {
		case msg := <-m.msgs:
			if msg.Type != dbus.TypeMethodCall {
				continue
			}
			if len(msg.Body) == 1 && msg.Body[0] == marker {
				return n
			}
			dest, _ := msg.Headers[dbus.FieldDestination].Value().(string)
			member, _ := msg.Headers[dbus.FieldMember].Value().(string)
			sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
			// A process that left just before may still have a call on
			// its way (the Close that get does not wait for): it comes
			// from a connection seen before.
			if member == "Hello" || dest == "org.freedesktop.secrets" && !m.before[sender] {
				n++
			}
			m.seen[sender] = true
		case <-timeout:
			m.t.Fatal("the bus monitor never saw its marker")
		}
	}
}

// TestUnchangedStoreMakesNoDBusCall: Git stores the credential it used after
// every authenticated operation. For a managed token that store is answered
// from the index: the real keychain sees no D-Bus call at all, whether Git
// sends the credential back as git 2.39 does (through `git credential
// approve`: no password_expiry_utc), or with password_expiry_utc as git 2.40
// and later do, and also right after a rotation. A changed token is still
// written.
func TestUnchangedStoreMakesNoDBusCall(t *testing.T) {
	g := newGitLabWorld(t, "")
	mon := newBusMonitor(t)
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)
	base := "protocol=http\nhost=" + g.host + "\n"

	var filled string
	if n := mon.calls(func() { filled = g.credential("fill", base) }); n == 0 {
		t.Fatal("the bus monitor saw no D-Bus call for a get that reads the keychain")
	}
	if password(filled) != tok {
		t.Fatalf("git credential fill = %q, want the token", filled)
	}
	if n := mon.calls(func() { g.credential("approve", filled) }); n != 0 {
		t.Errorf("git credential approve of what fill printed made %d D-Bus calls, want 0", n)
	}
	got, _ := g.get()
	if !strings.Contains(got, "password_expiry_utc=") {
		t.Fatalf("get = %q, want an expiry", got)
	}
	if n := mon.calls(func() { g.store(base + got) }); n != 0 {
		t.Errorf("store with password_expiry_utc, as git 2.40 and later send it, made %d D-Bus calls, want 0", n)
	}

	// A new token is written, and after it the unchanged store is free
	// again.
	tok2, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	if n := mon.calls(func() { g.credential("approve", base+"username=alice\npassword="+tok2+"\n") }); n == 0 {
		t.Error("storing a new token made no D-Bus call: it was not written")
	}
	if got, _ := g.get(); password(got) != tok2 {
		t.Fatalf("get after storing a new token = %q, want it", got)
	}
	if n := mon.calls(func() { g.credential("approve", base+"username=alice\npassword="+tok2+"\n") }); n != 0 {
		t.Errorf("unchanged store of the new token made %d D-Bus calls, want 0", n)
	}
}

// TestUnchangedStoreAfterRotation: the token a rotation stored is kept
// with its digest, so Git's store of the new token after the operation
// that rotated it costs no D-Bus call either.
func TestUnchangedStoreAfterRotation(t *testing.T) {
	g := newGitLabWorld(t, "")
	mon := newBusMonitor(t)
	old, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 3))})
	g.login(old)
	filled := g.credential("fill", "protocol=http\nhost="+g.host+"\n")
	if p := password(filled); p == old || p == "" || g.gl.Calls(gitlabtest.EndpointRotate) != 1 {
		t.Fatalf("fill of a token due for rotation: %d rotations; want the new token", g.gl.Calls(gitlabtest.EndpointRotate))
	}
	if n := mon.calls(func() { g.credential("approve", filled) }); n != 0 {
		t.Errorf("approve of the rotated token made %d D-Bus calls, want 0", n)
	}
}

// store runs the helper's store with in, as Git would.
func (g *gitlabWorld) store(in string) {
	g.t.Helper()
	cmd := exec.Command(binPath, "store")
	cmd.Env, cmd.Stdin = g.env, strings.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		g.t.Fatalf("store: %v %q", err, out)
	}
}

// TestPlantedDigestWithAPathSuppressesNoStore: the index is not trusted. A
// managed record moved under a repository path (planted, or edited) keeps
// the token's digest but answers only that path, and its account has no
// keychain item. Git's store of the token for another path
// (credential.useHttpPath) must still be written, or every get of that
// path misses and every store is skipped.
func TestPlantedDigestWithAPathSuppressesNoStore(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)
	idx := filepath.Join(g.dir, "state", "index", "http_"+strings.ReplaceAll(g.host, ":", "%3A")+".json")
	data, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	recs := f["records"].([]any)
	if len(recs) != 1 || recs[0].(map[string]any)["sha256"] == nil {
		t.Fatalf("index after login = %s, want one record with a digest", data)
	}
	r := recs[0].(map[string]any)
	r["path"], r["account"] = "acme/a", "http://alice@"+g.host+"/acme/a"
	data, _ = json.Marshal(f)
	if err := os.WriteFile(idx, data, 0o600); err != nil {
		t.Fatal(err)
	}
	req := "protocol=http\nhost=" + g.host + "\npath=acme/b\n"
	g.store(req + "username=alice\npassword=" + tok + "\n")
	out, _, _ := g.run(req, binPath, "get")
	if password(out) != tok {
		t.Fatalf("get for acme/b after git stored the token for it = %q, want the token: the planted record's digest suppressed the store", out)
	}
}

// TestStoreAgainOfAnExpiredPlainCredential: a plain credential past the
// password_expiry_utc it was stored with is never served. When Git stores
// the same password again without an expiry (git before 2.40, or a person
// typing it at the prompt after the server accepted it), the store is not
// "unchanged": it must be written, or the credential is never served again.
func TestStoreAgainOfAnExpiredPlainCredential(t *testing.T) {
	w := newWorld(t)
	base := "protocol=https\nhost=plain.example\nusername=bob\npassword=hunter2-not-a-token\n"
	future := time.Now().Add(time.Hour).Unix()
	if _, errOut, err := w.run(base+fmt.Sprintf("password_expiry_utc=%d\n", future), binPath, "store"); err != nil || errOut != "" {
		t.Fatalf("store: %v %q", err, errOut)
	}
	// The hour passes: the index says it expired a minute ago.
	idx := filepath.Join(w.dir, "state", "index", "https_plain.example.json")
	data, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	past := fmt.Sprint(time.Now().Add(-time.Minute).Unix())
	planted := strings.Replace(string(data), fmt.Sprint(future), past, 1)
	if planted == string(data) {
		t.Fatalf("index %s lacks the expiry", data)
	}
	os.WriteFile(idx, []byte(planted), 0o600)
	req := "protocol=https\nhost=plain.example\n"
	if out, _, _ := w.run(req, binPath, "get"); out != "" {
		t.Fatalf("get of an expired credential = %q, want nothing", out)
	}
	if _, errOut, err := w.run(base, binPath, "store"); err != nil || errOut != "" {
		t.Fatalf("store again: %v %q", err, errOut)
	}
	if out, _, _ := w.run(req, binPath, "get"); password(out) != "hunter2-not-a-token" {
		t.Fatalf("get after git stored the password again without an expiry = %q, want it", out)
	}
}

// TestStoreOfAHeldBackTokenThatWorkedServesIt: a token held back (Git's
// server refused it while GitLab could not be asked) that Git stores again, after
// a person typed it at the prompt and the server accepted it, is not an
// unchanged store: the server takes it now, and get must serve it again
// instead of asking the person on every git command for the rest of the
// hold-back.
func TestStoreOfAHeldBackTokenThatWorkedServesIt(t *testing.T) {
	g := newGitLabWorld(t, "")
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 200))})
	g.login(tok)
	g.gl.Garbage(gitlabtest.EndpointSelf, true)
	g.erase(tok)
	g.gl.Garbage(gitlabtest.EndpointSelf, false)
	if got, _ := g.get(); password(got) != "" {
		t.Fatalf("get right after git's erase of a token GitLab could not be asked about = %s, want it held back", fingerprintOf(password(got)))
	}
	g.store("protocol=http\nhost=" + g.host + "\nusername=alice\npassword=" + tok + "\n")
	if got, _ := g.get(); password(got) != tok {
		t.Fatalf("get after git stored the held-back token again (it worked) = %q, want the token", got)
	}
}
