package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/filelock"
	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
	"github.com/glpat-dev/git-credential-glpat/internal/kernelkeyring"
)

// backendWorld is a world whose config selects backend, with a kernel
// keyring of its own (destroyed at the end).
func backendWorld(t *testing.T, kind string) *world {
	t.Helper()
	w := newWorld(t)
	w.env = append(w.env, "GLPAT_KERNEL_KEYRING="+kernelKeyring(t, "glpat-e2e"))
	os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte(fmt.Sprintf("backend = %q\n", kind)), 0o600)
	return w
}

// kernelKeyring names a kernel keyring for t alone, and destroys it, keys
// and all, when t ends: the user's persistent keyring outlives the tests.
func kernelKeyring(t *testing.T, prefix string) string {
	t.Helper()
	k := &kernelkeyring.Keyring{Name: fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() {
		if _, err := k.Probe(context.Background()); err != nil {
			return // no keyctl here: nothing was made
		}
		if err := k.Destroy(context.Background()); err != nil {
			t.Errorf("destroy test keyring %s: %v", k.Name, err)
		}
	})
	return k.Name
}

func TestEncryptedFileBackend(t *testing.T) {
	w := backendWorld(t, "encrypted-file")
	const stored = "protocol=https\nhost=secret.example\nusername=u\npassword=s3cret-at-rest\n"
	const req = "protocol=https\nhost=secret.example\n"

	if out, errOut, err := w.run("correct horse\ncorrect horse\n", binPath, "init", "--passphrase-stdin"); err != nil {
		t.Fatalf("init: %v %s %s", err, out, errOut)
	}
	if _, errOut, err := w.run(stored, binPath, "store"); err != nil {
		t.Fatalf("store: %v %s", err, errOut)
	}
	if out, _, _ := w.run(req, binPath, "get"); out != "username=u\npassword=s3cret-at-rest\n" {
		t.Fatalf("get = %q", out)
	}
	// At rest, nothing in the state dir holds the secret.
	filepath.Walk(filepath.Join(w.dir, "state"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "s3cret-at-rest") {
				t.Errorf("%s holds the secret in clear", p)
			}
		}
		return nil
	})

	if _, _, err := w.run("", binPath, "lock"); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := w.run(req, binPath, "get")
	if err == nil || out != "" || errOut != "git-credential-glpat: credentials are locked; run git-credential-glpat unlock\n" {
		t.Errorf("get while locked: %v, stdout %q, stderr %q", err, out, errOut)
	}
	// Writes need no passphrase, even locked.
	if _, errOut, err := w.run("protocol=https\nhost=secret.example\nusername=v\npassword=written-locked\n", binPath, "store"); err != nil {
		t.Errorf("store while locked: %v %s", err, errOut)
	}
	// 20 concurrent gets while locked: each fails at once with the line.
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binPath, "get")
			cmd.Env, cmd.Stdin = w.env, strings.NewReader(req)
			if b, _ := cmd.CombinedOutput(); !strings.Contains(string(b), "credentials are locked") {
				t.Errorf("concurrent locked get: %q", b)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("20 locked gets took %v", d)
	}

	if _, errOut, err := w.run("wrong\n", binPath, "unlock", "--passphrase-stdin"); err == nil || !strings.Contains(errOut, "wrong passphrase") {
		t.Errorf("unlock with a wrong passphrase: %v %q", err, errOut)
	}
	if _, errOut, err := w.run("correct horse\n", binPath, "unlock", "--passphrase-stdin"); err != nil {
		t.Fatalf("unlock: %v %s", err, errOut)
	}
	if out, _, _ := w.run("protocol=https\nhost=secret.example\nusername=v\n", binPath, "get"); out != "username=v\npassword=written-locked\n" {
		t.Errorf("get after unlock = %q", out)
	}
	if out, _, _ := w.run("", binPath, "status", "--offline"); !strings.Contains(out, "encrypted file") {
		t.Errorf("status does not name the backend:\n%s", out)
	}

	// A tampered file: a clear error, nothing overwritten.
	f := filepath.Join(w.dir, "state", "secrets.age")
	b, _ := os.ReadFile(f)
	tampered := []byte(strings.Replace(string(b), "entry", "entrY", 1))
	os.WriteFile(f, tampered, 0o600)
	if _, errOut, err := w.run(stored, binPath, "store"); err == nil || !strings.Contains(errOut, "secrets.age") {
		t.Errorf("store over a tampered file: %v %q; want an error naming the file", err, errOut)
	}
	if after, _ := os.ReadFile(f); string(after) != string(tampered) {
		t.Error("the tampered file was overwritten")
	}
}

// TestMigrateRoundTrip moves credentials (a managed GitLab token among
// them) keyring → kernel → encrypted-file → keyring, with rotation metadata
// intact, and the config following.
func TestMigrateRoundTrip(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.env = append(g.env, "GLPAT_KERNEL_KEYRING="+kernelKeyring(t, "glpat-e2e-mig"))
	tok, _ := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 100))})
	g.login(tok)
	g.run("protocol=https\nhost=secret.example\nusername=u\npassword=plain-one\n", binPath, "store")
	check := func(stage string) {
		t.Helper()
		if out, errOut := g.get(); password(out) != tok {
			t.Errorf("%s: get of the GitLab token = %q %q", stage, out, errOut)
		}
		if out, _, _ := g.run("protocol=https\nhost=secret.example\n", binPath, "get"); out != "username=u\npassword=plain-one\n" {
			t.Errorf("%s: get of the plain credential = %q", stage, out)
		}
		if js, _, _ := g.run("", binPath, "status", "--offline", "--json"); !strings.Contains(js, `"managed": true`) {
			t.Errorf("%s: token metadata lost:\n%s", stage, js)
		}
	}
	check("before")
	out, errOut, err := g.run("", binPath, "migrate", "--to", "kernel")
	if err != nil || !strings.Contains(out, "moved 2 credentials from") {
		t.Fatalf("migrate --to kernel: %v\n%s\n%s", err, out, errOut)
	}
	cfg, _ := os.ReadFile(filepath.Join(g.dir, "config.toml"))
	if !strings.Contains(string(cfg), `backend = "kernel"`) || !strings.Contains(string(cfg), "api_url") {
		t.Errorf("config after migrate:\n%s", cfg)
	}
	check("in the kernel keyring")
	// To encrypted-file: it must be set up first.
	if _, errOut, err := g.run("", binPath, "migrate", "--to", "encrypted-file"); err == nil || !strings.Contains(errOut, "init") {
		t.Errorf("migrate to an encrypted file that is not set up: %v %q", err, errOut)
	}
	check("after a refused migration")
	out, errOut, err = g.run("", binPath, "migrate", "--to", "keyring")
	if err != nil {
		t.Fatalf("migrate --to keyring: %v\n%s\n%s", err, out, errOut)
	}
	check("back in the keyring")
}

// TestMigrateWaitsForCommandsUsingTheOldBackend: a command that read the
// config before migrate switched it goes on using the old backend; migrate
// must not empty that backend under it (a get would take the missing secret
// for one a person deleted and drop it from the index; a rotation would
// store the new token where nothing reads it), and what commands store or
// erase before migrate starts copying must count. The test holds the
// backend lock as such a command does.
func TestMigrateWaitsForCommandsUsingTheOldBackend(t *testing.T) {
	w := newWorld(t)
	w.env = append(w.env, "GLPAT_KERNEL_KEYRING="+kernelKeyring(t, "glpat-e2e-migwait"))
	for _, in := range []string{
		"protocol=https\nhost=wait.example\nusername=u\npassword=kept\n",
		"protocol=https\nhost=forget.example\nusername=u\npassword=forgetme\n",
	} {
		if _, errOut, err := w.run(in, binPath, "store"); err != nil {
			t.Fatalf("store: %v %s", err, errOut)
		}
	}
	inFlight, err := filelock.AcquireShared(context.Background(), filepath.Join(w.dir, "state", "backend.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer inFlight.Unlock()
	errText, done, out := startMigrate(t, w)
	awaitWaiting(t, errText, done)
	// Meanwhile the old backend serves, takes a new credential and forgets
	// one, and the config still names it.
	if got, _, _ := w.run("protocol=https\nhost=wait.example\n", binPath, "get"); got != "username=u\npassword=kept\n" {
		t.Errorf("get while migrate waits = %q, want the credential from the old backend", got)
	}
	if _, errOut, err := w.run("protocol=https\nhost=late.example\nusername=u\npassword=late\n", binPath, "store"); err != nil {
		t.Errorf("store while migrate waits: %v %s", err, errOut)
	}
	if _, errOut, err := w.run("protocol=https\nhost=forget.example\n", binPath, "erase"); err != nil {
		t.Errorf("erase while migrate waits: %v %s", err, errOut)
	}
	if cfg, _ := os.ReadFile(filepath.Join(w.dir, "config.toml")); strings.Contains(string(cfg), "kernel") {
		t.Errorf("the config was switched while a command was using the old backend:\n%s", cfg)
	}

	inFlight.Unlock()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(out.String(), "moved 2 credentials from") {
			t.Fatalf("migrate: %v\n%s%s", err, out.String(), errText())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("migrate did not finish once the command let go")
	}
	for in, want := range map[string]string{
		"protocol=https\nhost=wait.example\n":   "username=u\npassword=kept\n",
		"protocol=https\nhost=late.example\n":   "username=u\npassword=late\n",
		"protocol=https\nhost=forget.example\n": "",
	} {
		if got, _, _ := w.run(in, binPath, "get"); got != want {
			t.Errorf("get %q after migrate = %q, want %q", in, got, want)
		}
	}
	// The answers came from the kernel keyring: the keychain has none left.
	os.WriteFile(filepath.Join(w.dir, "config.toml"), nil, 0o600)
	for _, host := range []string{"wait.example", "late.example"} {
		if got, _, _ := w.run("protocol=https\nhost="+host+"\n", binPath, "get"); got != "" {
			t.Errorf("the old backend still answers for %s: %q", host, got)
		}
	}
}

// startMigrate starts `migrate --to kernel` with its stderr in a file, and
// returns a function that reads that stderr so far and a channel that gets
// the result. The process is killed at the end of the test if still running.
func startMigrate(t *testing.T, w *world) (stderr func() string, done <-chan error, stdout *strings.Builder) {
	t.Helper()
	f, err := os.CreateTemp(w.dir, "migrate-stderr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cmd := exec.Command(binPath, "migrate", "--to", "kernel")
	cmd.Env = w.env
	stdout = new(strings.Builder)
	cmd.Stdout, cmd.Stderr = stdout, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-ch
		}
	})
	return func() string { b, _ := os.ReadFile(f.Name()); return string(b) }, ch, stdout
}

// awaitWaiting returns once migrate says it waits for other commands; it
// fails the test if migrate ends first.
func awaitWaiting(t *testing.T, stderr func() string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr(), "waiting for other git-credential-glpat commands") {
		select {
		case err := <-done:
			t.Fatalf("migrate finished (%v) while another command was running: %s", err, stderr())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("migrate never said it was waiting: %q", stderr())
		}
	}
}

// TestTwoMigratesAtOnceLoseNothing: the loser of two simultaneous migrates
// must stop before it copies, not undo the winner's copies.
func TestTwoMigratesAtOnceLoseNothing(t *testing.T) {
	w := newWorld(t)
	w.env = append(w.env, "GLPAT_KERNEL_KEYRING="+kernelKeyring(t, "glpat-e2e-migtwo"))
	if _, errOut, err := w.run("protocol=https\nhost=two.example\nusername=u\npassword=both\n", binPath, "store"); err != nil {
		t.Fatalf("store: %v %s", err, errOut)
	}
	// Both start, and both get past reading the old config, while a
	// command holds the lock; then it lets go.
	inFlight, err := filelock.AcquireShared(context.Background(), filepath.Join(w.dir, "state", "backend.lock"))
	if err != nil {
		t.Fatal(err)
	}
	errA, doneA, outA := startMigrate(t, w)
	errB, doneB, outB := startMigrate(t, w)
	awaitWaiting(t, errA, doneA)
	awaitWaiting(t, errB, doneB)
	inFlight.Unlock()
	var moved, stopped int
	for _, m := range []struct {
		stderr func() string
		done   <-chan error
		stdout *strings.Builder
	}{{errA, doneA, outA}, {errB, doneB, outB}} {
		var err error
		select {
		case err = <-m.done:
		case <-time.After(30 * time.Second):
			t.Fatal("migrate did not finish")
		}
		switch {
		case err == nil && strings.Contains(m.stdout.String(), "moved 1 credential from"):
			moved++
		case err != nil && strings.Contains(m.stderr(), "another migrate ran meanwhile; nothing was changed"):
			stopped++
		default:
			t.Errorf("migrate: %v\n%s%s", err, m.stdout.String(), m.stderr())
		}
	}
	if moved != 1 || stopped != 1 {
		t.Errorf("%d migrates moved the credential and %d stopped; want one each", moved, stopped)
	}
	if got, _, _ := w.run("protocol=https\nhost=two.example\n", binPath, "get"); got != "username=u\npassword=both\n" {
		t.Errorf("get after two migrates = %q, want the credential", got)
	}
}

// TestMigrateWaitsForARotation: a get that is rotating a token holds the
// backend lock until it exits, so migrate copies the new token, not the old
// one the rotation revoked.
func TestMigrateWaitsForARotation(t *testing.T) {
	g := newGitLabWorld(t, "")
	g.env = append(g.env, "GLPAT_KERNEL_KEYRING="+kernelKeyring(t, "glpat-e2e-migrot"))
	old, oldID := g.gl.CreateToken(gitlabtest.TokenSpec{Scopes: []string{"api"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 7))})
	g.login(old)
	g.gl.Delay(gitlabtest.EndpointRotate, 2*time.Second)
	get := g.startGet(t)
	for deadline := time.Now().Add(20 * time.Second); g.gl.Calls(gitlabtest.EndpointRotate) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the get never sent its rotate request")
		}
	}
	stderr, done, stdout := startMigrate(t, g.world)
	awaitWaiting(t, stderr, done)
	if err := get.Wait(); err != nil {
		t.Fatalf("the rotating get: %v", err)
	}
	rotated := password(get.Stdout.(*bytes.Buffer).String())
	if st, ok := g.gl.TokenByValue(rotated); !ok || !st.Active || st.RotatedFrom != oldID {
		t.Fatalf("the get answered %v, %v; want the token rotated from %d", st, ok, oldID)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("migrate: %v\n%s%s", err, stdout.String(), stderr())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("migrate did not finish once the get had")
	}
	if out, errOut := g.get(); password(out) != rotated {
		t.Errorf("get after migrate = %q %q; want the rotated token from the kernel keyring", out, errOut)
	}
}

// TestStatusAndDoctorNameTheBackendAlike: status's secrets line and
// doctor's storage check name each backend, and say that it answers, in the
// same words.
func TestStatusAndDoctorNameTheBackendAlike(t *testing.T) {
	for _, kind := range []string{"keyring", "encrypted-file", "kernel"} {
		t.Run(kind, func(t *testing.T) {
			w := backendWorld(t, kind)
			if kind == "encrypted-file" {
				if out, errOut, err := w.run("correct horse\ncorrect horse\n", binPath, "init", "--passphrase-stdin"); err != nil {
					t.Fatalf("init: %v\n%s%s", err, out, errOut)
				}
			}
			status, _, _ := w.run("", binPath, "status")
			said, _, _ := strings.Cut(flat(status[strings.Index(status, "secrets: ")+len("secrets: "):]), " state:")
			doctor, _, _ := w.run("", binPath, "doctor")
			if said == "" || !strings.Contains(flat(doctor), said) {
				t.Errorf("status says %q of the backend, doctor does not:\n%s", said, doctor)
			}
		})
	}
}
