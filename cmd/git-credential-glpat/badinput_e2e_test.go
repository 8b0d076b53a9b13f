package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// snapshot describes every file under dir (name, mode, content hash), to
// prove a bad input changed nothing.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, _ := d.Info()
		if strings.HasSuffix(p, ".lock") && info.Mode().IsRegular() && info.Size() == 0 {
			return nil // an empty lock file holds nothing; any command may create one
		}
		line := fmt.Sprintf("%s %v", strings.TrimPrefix(p, dir), info.Mode())
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestBadInput runs the built binary on bad input. Every row: the exit
// status, one line on stderr naming the problem, nothing on stdout, and the
// keychain and state dir unchanged.
func TestBadInput(t *testing.T) {
	const stored = "protocol=https\nhost=keep.example\nusername=u\npassword=keep-me\n"
	tests := []struct {
		name     string
		op       string
		stdin    string
		env      func(w *world) []string // extra env
		prepare  func(t *testing.T, w *world)
		wantExit int
		wantErr  string // "" means stderr must be empty
	}{
		{name: "malformed line", op: "get", stdin: "protocol=https\nhost=h\ngarbage\n", wantExit: 1, wantErr: "line 3 is not key=value"},
		{name: "line over 65535 bytes", op: "get", stdin: "protocol=https\nwwwauth[]=" + strings.Repeat("a", 70000) + "\n", wantExit: 1, wantErr: "longer than 65535 bytes"},
		{name: "NUL byte", op: "store", stdin: "protocol=https\nhost=h\nusername=u\npassword=a\x00b\n", wantExit: 1, wantErr: "line 4 (password) contains a NUL byte"},
		{name: "invalid UTF-8", op: "store", stdin: "protocol=https\nhost=h\nusername=\xff\npassword=p\n", wantExit: 1, wantErr: "line 3 (username) is not valid UTF-8"},
		{name: "missing protocol", op: "get", stdin: "host=keep.example\n", wantExit: 1, wantErr: "no protocol in request"},
		{name: "missing host", op: "erase", stdin: "protocol=https\n", wantExit: 1, wantErr: "no host in request"},
		{name: "url with %0a", op: "get", stdin: "url=https://keep.example/a%0ahost=evil\n", wantExit: 1, wantErr: "url contains a newline"},
		{name: "carriage return in a value", op: "erase", stdin: "protocol=https\nhost=keep.example\rx\n", wantExit: 1, wantErr: "carriage return"},
		{name: "unknown operation", op: "frobnicate", stdin: "protocol=https\nhost=keep.example\n", wantExit: 0},
		{name: "empty stdin", op: "get", stdin: "", wantExit: 1, wantErr: "no protocol in request"},
		{
			name: "broken TOML config", op: "status",
			prepare: func(t *testing.T, w *world) {
				os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte("lifetime = \"90d\"\nrotate_before = = \"30d\"\n"), 0o600)
			},
			wantExit: 1, wantErr: "config.toml:2",
		},
		{
			name: "unknown config key", op: "status",
			prepare: func(t *testing.T, w *world) {
				os.WriteFile(filepath.Join(w.dir, "config.toml"), []byte("\nrotate_befor = \"30d\"\n"), 0o600)
			},
			wantExit: 1, wantErr: `config.toml:2: unknown key "rotate_befor"`,
		},
		{
			name: "config path is a directory", op: "status",
			env:      func(w *world) []string { return []string{"GLPAT_CONFIG=" + w.dir} },
			wantExit: 1, wantErr: "config",
		},
		{
			name: "state dir is not a directory", op: "get", stdin: "protocol=https\nhost=keep.example\n",
			env: func(w *world) []string {
				f := filepath.Join(w.dir, "not-a-dir")
				os.WriteFile(f, nil, 0o600)
				return []string{"GLPAT_STATE_DIR=" + f}
			},
			wantExit: 1, wantErr: "not a directory",
		},
		{
			name: "corrupt index", op: "get", stdin: "protocol=https\nhost=keep.example\n",
			prepare: func(t *testing.T, w *world) {
				os.WriteFile(filepath.Join(w.dir, "state", "index", "https_keep.example.json"), []byte("{\"version\":1,\"records\":[{"), 0o600)
			},
			wantExit: 1, wantErr: "index file is corrupt",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if _, errOut, err := w.run(stored, binPath, "store"); err != nil {
				t.Fatalf("store: %v %s", err, errOut)
			}
			if tt.prepare != nil {
				tt.prepare(t, w)
			}
			before := snapshot(t, filepath.Join(w.dir, "state"))
			cmd := exec.Command(binPath, tt.op)
			cmd.Env = w.env
			if tt.env != nil {
				cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], tt.env(w)...)
			}
			cmd.Stdin = strings.NewReader(tt.stdin)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tt.wantExit {
				t.Errorf("exit %d (%v), want %d; stderr %q", code, err, tt.wantExit, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
			switch got := errb.String(); {
			case tt.wantErr == "" && got != "":
				t.Errorf("stderr = %q, want nothing", got)
			case tt.wantErr != "" && (!strings.Contains(got, tt.wantErr) || strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "git-credential-glpat: error: ")):
				t.Errorf("stderr = %q, want one line %q containing %q", got, "git-credential-glpat: error: …", tt.wantErr)
			}
			if after := snapshot(t, filepath.Join(w.dir, "state")); after != before {
				t.Errorf("state dir changed:\nbefore\n%s\nafter\n%s", before, after)
			}
			// The stored credential is still there.
			if tt.name == "corrupt index" {
				return // the index is what was damaged; see TestCorruptIndexKeepsSecrets
			}
			if got, _, _ := w.run("protocol=https\nhost=keep.example\n", binPath, "get"); got != "username=u\npassword=keep-me\n" {
				t.Errorf("after the bad input, get = %q", got)
			}
		})
	}
}

// TestHugeInputIsBounded feeds 100 MB to get: it must stop reading early,
// fail with one line, and not hang.
func TestHugeInputIsBounded(t *testing.T) {
	w := newWorld(t)
	cmd := exec.Command(binPath, "get")
	cmd.Env = w.env
	in, _ := cmd.StdinPipe()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	written := make(chan int64, 1)
	go func() {
		line := []byte("wwwauth[]=" + strings.Repeat("a", 1000) + "\n")
		var n int64
		for n < 100<<20 {
			m, err := in.Write(line)
			n += int64(m)
			if err != nil {
				break
			}
		}
		in.Close()
		written <- n
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("get on 100 MB of input did not finish")
	}
	if n := <-written; n > 4<<20 {
		t.Errorf("the helper read %d bytes before refusing, want it to stop near 1 MiB", n)
	}
	if !strings.Contains(errb.String(), "larger than") || strings.Count(errb.String(), "\n") != 1 {
		t.Errorf("stderr = %q", errb.String())
	}
	_ = io.Discard
}

// TestCorruptIndexKeepsSecrets: a damaged index is moved aside on the next
// store, never deleted, and no secret is removed from the keychain.
func TestCorruptIndexKeepsSecrets(t *testing.T) {
	w := newWorld(t)
	w.run("protocol=https\nhost=keep.example\nusername=u\npassword=keep-me\n", binPath, "store")
	idx := filepath.Join(w.dir, "state", "index", "https_keep.example.json")
	os.WriteFile(idx, []byte("{\"vers"), 0o600) // truncated
	if _, errOut, err := w.run("protocol=https\nhost=keep.example\nusername=v\npassword=new\n", binPath, "store"); err != nil {
		t.Fatalf("store over a corrupt index: %v %q", err, errOut)
	}
	aside, _ := filepath.Glob(idx + ".corrupt-*")
	if len(aside) != 1 {
		t.Errorf("corrupt index not kept aside: %v", aside)
	}
	if got, _, _ := w.run("protocol=https\nhost=keep.example\nusername=v\n", binPath, "get"); got != "username=v\npassword=new\n" {
		t.Errorf("get after rebuild = %q", got)
	}
	// status keeps saying so until the file is dealt with.
	if _, errOut, _ := w.run("", binPath, "status", "--offline"); !strings.Contains(errOut, "damaged index set aside") {
		t.Errorf("status does not report the damaged index: %q", errOut)
	}
	// The old secret is still in the keychain: storing the same credential
	// again reads nothing back, so check with the keychain directly.
	if out, err := exec.Command("secret-tool", "lookup", "service", "git-credential-glpat", "username", "https://u@keep.example").Output(); err == nil && !strings.Contains(string(out), "keep-me") {
		t.Errorf("secret of the lost index entry was deleted from the keychain")
	}
}
