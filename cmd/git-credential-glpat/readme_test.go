package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// readmeCommands returns the command list that opens the README's
// "Commands" section: its first indented block, without the indent.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Commands\n")
	if !ok {
		t.Fatal(`README.md has no "## Commands" section`)
	}
	var list []string
	for _, l := range strings.Split(section, "\n") {
		if rest, ok := strings.CutPrefix(l, "    "); ok {
			list = append(list, rest)
		} else if len(list) > 0 || strings.HasPrefix(l, "#") {
			break
		}
	}
	if len(list) == 0 {
		t.Fatal(`the README's "Commands" section does not open with the indented command list`)
	}
	return list
}

// usageSynopsis returns the lines under "Usage:" in what help prints.
func usageSynopsis(t *testing.T) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run([]string{"help"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("help: exit %d\n%s", code, errOut.String())
	}
	_, rest, ok := strings.Cut(out.String(), "Usage:\n")
	if !ok {
		t.Fatalf("help prints no \"Usage:\" line:\n%s", out.String())
	}
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		l, ok := strings.CutPrefix(l, "    ")
		if !ok {
			break
		}
		lines = append(lines, l)
	}
	return lines
}

var flagPattern = regexp.MustCompile(`--[a-z][a-z-]*[a-z]`)

// commandsOn returns the commands a synopsis line names: the words of the
// line that are commands ("init | unlock [--for D] | lock" names three).
func commandsOn(line string) []*command {
	var cmds []*command
	for _, w := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(" |[]", r) }) {
		if c, ok := commands.lookup(w); ok && !strings.HasPrefix(w, "-") {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// TestReadmeListsTheCommandsOfTheUsage: the README's command list is the
// synopsis that help prints, line for line, and names every command of
// the command table with its flags, their fixed values and its words; and
// each flag it shows belongs to a command on its line. A command or flag
// added to the binary and not to the README (or the other way round) fails
// here.
func TestReadmeListsTheCommandsOfTheUsage(t *testing.T) {
	listed, usage := readmeCommands(t), usageSynopsis(t)
	if !slices.Equal(listed, usage) {
		t.Errorf("the README's command list differs from the usage that help prints\nREADME:\n    %s\nusage:\n    %s",
			strings.Join(listed, "\n    "), strings.Join(usage, "\n    "))
	}
	for _, c := range commands {
		var lines []string
		for _, l := range listed {
			if slices.Contains(commandsOn(l), c) {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			t.Errorf("the README's command list has no line for %s", c.name)
			continue
		}
		shown := flagPattern.FindAllString(strings.Join(lines, "\n"), -1)
		for _, f := range c.flags() {
			if !slices.Contains(shown, "--"+f.Name) {
				t.Errorf("the README's command list does not show --%s of %s", f.Name, c.name)
			}
			for _, v := range f.Values {
				if !strings.Contains(strings.Join(lines, "\n"), v) {
					t.Errorf("the README's command list does not name %s, a value of %s --%s", v, c.name, f.Name)
				}
			}
		}
		for _, w := range c.words {
			if !strings.Contains(strings.Join(lines, "\n"), w.Name) {
				t.Errorf("the README's command list does not name %s %s", c.name, w.Name)
			}
		}
	}
	for _, l := range listed {
		var bound []string
		for _, c := range commandsOn(l) {
			bound = append(bound, boundFlags(c.name)...)
		}
		for _, f := range flagPattern.FindAllString(l, -1) {
			if !slices.Contains(bound, f) {
				t.Errorf("the README's command list shows %s, which no command on its line takes: %s", f, l)
			}
		}
	}
}

// TestReadmeRealSessionIsWhatTheBinaryPrints replays the README's "A real
// session" against the built binary and the fake GitLab, served as
// gitlab.example.com over TLS through a proxy on 127.0.0.1, on a desktop
// session (the private keyring, a systemd user manager that answers), with
// HOME standing for /home/alice. Each command's output, stdout and stderr
// in the order a terminal shows them, must be the README's, up to line
// wrapping and the values that move with the day and the machine: dates,
// days left, the clock's offset, and doctor's line about the local git.
func TestReadmeRealSessionIsWhatTheBinaryPrints(t *testing.T) {
	steps := readmeSession(t)
	w := newWorld(t)
	gl := gitlabtest.New(t)
	const host = "gitlab.example.com"
	proxy, ca := tlsFrontFor(t, host, gl.URL)
	home := w.dir
	cfgDir := filepath.Join(home, ".config", "git-credential-glpat")
	bin := filepath.Join(home, ".local", "bin")
	fakeBin := filepath.Join(home, "fakebin")
	for _, d := range []string{cfgDir, bin, fakeBin} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	caFile := filepath.Join(home, "ca.pem")
	mustWrite(t, caFile, ca, 0o600)
	mustWrite(t, filepath.Join(cfgDir, "config.toml"), []byte(fmt.Sprintf("[hosts.%q]\nca_file = %q\n", host, caFile)), 0o600)
	helper, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(bin, "git-credential-glpat"), helper, 0o700)
	// A desktop's systemd user manager, as far as schedule asks.
	mustWrite(t, filepath.Join(fakeBin, "systemctl"), []byte("#!/bin/sh\necho running\n"), 0o700)

	// The tokens the session's files hold.
	tokens := map[string]string{}
	tokens["laptop.txt"], _ = gl.CreateToken(gitlabtest.TokenSpec{Username: "alice", Name: "laptop",
		Scopes: []string{"read_repository", "write_repository", "self_rotate"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 63))})
	tokens["ci-mirror.txt"], _ = gl.CreateToken(gitlabtest.TokenSpec{Username: "alice", Name: "ci-mirror",
		Scopes: []string{"read_repository", "write_repository"}, ExpiresAt: gitlabtest.DateOf(today().AddDate(0, 0, 11))})

	var env []string
	for _, e := range w.env {
		name, _, _ := strings.Cut(e, "=")
		switch strings.ToUpper(name) {
		case "HOME", "NO_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "GLPAT_CONFIG", "GLPAT_STATE_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "GIT_CONFIG_GLOBAL":
			continue
		case "PATH":
			e = "PATH=" + fakeBin + string(os.PathListSeparator) + strings.TrimPrefix(e, name+"=")
		}
		env = append(env, e)
	}
	env = append(env, "HOME="+home, "HTTPS_PROXY="+proxy)

	for _, s := range steps {
		args := strings.Fields(s.command)
		stdin := ""
		if i := slices.Index(args, "<"); i >= 0 && i+1 < len(args) {
			tok, ok := tokens[args[i+1]]
			if !ok {
				t.Fatalf("the session reads %s, which the test does not know", args[i+1])
			}
			stdin, args = tok+"\n", args[:i]
		}
		cmd := exec.Command(filepath.Join(bin, "git-credential-glpat"), args...)
		cmd.Env, cmd.Dir, cmd.Stdin = env, home, strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Run() // the exit status is not in the transcript
		got := strings.ReplaceAll(out.String(), home, "/home/alice")
		if sessionText(got) != sessionText(s.output) {
			t.Errorf("$ git-credential-glpat %s\nprints:\n%s\nthe README says:\n%s", s.command, got, s.output)
		}
	}
}

type sessionStep struct{ command, output string }

// readmeSession returns the commands and outputs of the README's "A real
// session": the first fenced block after that heading.
func readmeSession(t *testing.T) []sessionStep {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n### A real session\n")
	if !ok {
		t.Fatal(`README.md has no "### A real session"`)
	}
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatal(`"A real session" has no fenced block`)
	}
	var steps []sessionStep
	for _, l := range strings.SplitAfter(block, "\n") {
		if c, ok := strings.CutPrefix(l, "$ git-credential-glpat "); ok {
			steps = append(steps, sessionStep{command: strings.TrimSpace(c)})
		} else if len(steps) > 0 {
			steps[len(steps)-1].output += l
		}
	}
	if len(steps) == 0 {
		t.Fatal(`"A real session" runs no git-credential-glpat command`)
	}
	return steps
}

var (
	sessionDate  = regexp.MustCompile(`\d{4}-\d\d-\d\d`)
	sessionDays  = regexp.MustCompile(`\(\d+d\)|\d+ days`)
	sessionClock = regexp.MustCompile(`within \d+(\.\d+)?(ms|µs|s)`)
	// doctor's first check describes the git it finds, which differs
	// between machines.
	sessionGit = regexp.MustCompile(`(?s)\[(ok|info|warn|fail)\] +git: .*?(\n\[|$)`)
)

// sessionText is a transcript with line wrapping and the values that
// move with the day and the machine taken out.
func sessionText(s string) string {
	s = sessionGit.ReplaceAllString(s, "[git]$2")
	s = sessionDate.ReplaceAllString(s, "DATE")
	s = sessionDays.ReplaceAllString(s, "DAYS")
	s = sessionClock.ReplaceAllString(s, "within OFFSET")
	return strings.Join(strings.Fields(s), " ")
}

// tlsFrontFor serves the plain-HTTP server at backend as https://host
// through an HTTPS proxy on 127.0.0.1, with a certificate for host; it
// returns the proxy's URL (for HTTPS_PROXY) and the certificate (PEM), to
// trust as a ca_file. Nothing resolves host: the proxy sends every CONNECT
// to its own TLS front.
func tlsFrontFor(t *testing.T, host, backend string) (proxyURL string, caPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	tunnels := &connListener{conns: make(chan net.Conn), done: make(chan struct{})}
	front := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target)}
	go front.Serve(tls.NewListener(tunnels, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); front.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil || req.Method != http.MethodConnect {
					c.Close()
					return
				}
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				select {
				case tunnels.conns <- c:
				case <-tunnels.done:
					c.Close()
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// connListener hands the proxy's tunnels to the TLS front.
type connListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func mustWrite(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}
