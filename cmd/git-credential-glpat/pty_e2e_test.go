package main

import (
	"errors"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// ptySession is the binary running under a pseudo-terminal (util-linux
// script), driven as a person would: wait for a prompt, type an answer.
type ptySession struct {
	t    *testing.T
	cmd  *exec.Cmd
	in   io.WriteCloser
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
	err  error
}

// interactive starts args under a pseudo-terminal in the world.
func (w *world) interactive(t *testing.T, args ...string) *ptySession {
	t.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("util-linux script is needed for a pseudo-terminal")
	}
	cmdline := binPath
	for _, a := range args {
		cmdline += " '" + a + "'"
	}
	s := &ptySession{t: t, done: make(chan struct{})}
	s.cmd = exec.Command("script", "-qefc", cmdline, "/dev/null")
	s.cmd.Env = append(w.env[:len(w.env):len(w.env)], "TERM=dumb")
	s.cmd.Dir = w.dir
	s.in, _ = s.cmd.StdinPipe()
	outPipe, _ := s.cmd.StdoutPipe()
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := outPipe.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				break
			}
		}
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

func (s *ptySession) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// expect waits until the output contains want (a generous bound: the
// machine is loaded; this is not a speed test).
func (s *ptySession) expect(want string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.output(), want) {
		select {
		case <-s.done:
			if strings.Contains(s.output(), want) {
				return
			}
			s.t.Fatalf("exited before printing %q; output:\n%s", want, s.output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %q in output:\n%s", want, s.output())
		}
	}
}

// send types text at the terminal.
func (s *ptySession) send(text string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, text); err != nil {
		s.t.Fatalf("typing: %v", err)
	}
}

// wait waits for the program to end and returns its exit code and output.
func (s *ptySession) wait() (int, string) {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Fatalf("still running; output:\n%s", s.output())
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode(), s.output()
	}
	return 0, s.output()
}
