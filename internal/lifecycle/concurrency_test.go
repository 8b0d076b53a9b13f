package lifecycle

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// callers is how many git commands ask for the credential at once (an IDE
// fetching many repositories).
const callers = 20

// serveAtOnce runs callers Serves, spread over the managers, released
// together, and returns what each got.
func (w *world) serveAtOnce(ms []*Manager) ([]string, []error) {
	got := make([]string, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			got[i], errs[i] = w.tryServe(ms[i%len(ms)])
		})
	}
	close(start)
	wg.Wait()
	return got, errs
}

func TestConcurrentServeRotatesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		keychain bool
		managers int
	}{
		{"one manager, memory", false, 1},
		{"one manager, keychain", true, 1},
		{"four managers, keychain", true, 4},
		{"a manager per caller, keychain", true, callers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var w *world
			if tt.keychain {
				w = newWorld(t, onKeychain(t))
			} else {
				w = newWorld(t)
			}
			old, id := w.createToken(10)
			w.login(old, id)
			var ms []*Manager
			for range tt.managers {
				ms = append(ms, w.manager())
			}

			got, errs := w.serveAtOnce(ms)

			_, stored := w.stored()
			for i := range callers {
				if errs[i] != nil {
					t.Errorf("caller %d: %v", i, errs[i])
				} else if got[i] != stored || w.tokenID(got[i]) != 2 {
					t.Errorf("caller %d got token %d, want the stored new token 2", i, w.tokenID(got[i]))
				}
			}
			w.wantTable("1:revoked->2 2:active")
			w.wantCalls(1, 1)
			w.wantWarnings(0)
			w.wantFiles(false, false)
		})
	}
}

func TestConcurrentServeDuringFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      func(w *world)
		wantServed int
		wantTable  string
		// wantWarnings is how many warnings the callers give in all;
		// each must hold wantWarn. A failure that leaves a working token
		// is told once; a caller that gets nothing is told why.
		wantWarnings int
		wantWarn     string
	}{
		{"rotate answers 500", func(w *world) { w.gl.FailRotate(500) },
			1, "1:active", 1, "could not rotate the token for " + host},
		{"rotate answers garbage", func(w *world) { w.gl.Garbage("rotate", true) },
			1, "1:active", 1, "could not rotate the token for " + host},
		{"rotate answer lost", func(w *world) { w.gl.DropAfterRotateCommit(true) },
			0, "1:revoked->2 2:active", callers, "git-credential-glpat login " + host},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			old, id := w.createToken(10)
			w.login(old, id)
			tt.fault(w)
			var ms []*Manager
			for range 4 {
				ms = append(ms, w.manager())
			}

			got, errs := w.serveAtOnce(ms)

			for i := range callers {
				if errs[i] != nil {
					t.Errorf("caller %d: %v", i, errs[i])
				}
				w.wantServed(got[i], tt.wantServed)
			}
			// One attempt for all of them: the callers that waited for the
			// lock see the outcome and do not try again.
			if n := w.gl.Calls("rotate"); n != 1 {
				t.Errorf("rotate calls: got %d, want 1", n)
			}
			w.wantTable(tt.wantTable)
			warnings := w.allWarnings()
			if len(warnings) != tt.wantWarnings {
				t.Errorf("got %d warnings, want %d:\n%s", len(warnings), tt.wantWarnings, strings.Join(warnings, "\n"))
			}
			for _, msg := range warnings {
				if !strings.Contains(msg, tt.wantWarn) {
					t.Errorf("warning %q does not say %q", msg, tt.wantWarn)
				}
			}
		})
	}
}

// childEnv, when set, makes this test binary a helper process of
// TestConcurrentProcessesRotateOnce; it holds the childConfig as JSON.
const childEnv = "GLPAT_LIFECYCLE_TEST_CHILD"

type childConfig struct {
	StateDir, StoreDir, Service, Account string
	Now                                  time.Time
	Callers                              int
}

// childResult is what a helper process reports. It holds no token: only
// the SHA-256 of what each caller got.
type childResult struct {
	Served   []string
	Errors   []string
	Warnings []string
}

func digest(tok string) string {
	if tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// Separate processes share only the state directory, the index and the
// keychain, as git commands run by an IDE do.
func TestConcurrentProcessesRotateOnce(t *testing.T) {
	t.Parallel()
	const processes, perProcess = 4, callers / 4
	w := newWorld(t, onKeychain(t))
	old, id := w.createToken(10)
	w.login(old, id)
	cfg, err := json.Marshal(childConfig{
		StateDir: w.stateDir, StoreDir: w.storeDir, Account: w.account,
		Service: w.secrets.(*keychain.Keychain).Service, Now: w.clock.Now(), Callers: perProcess,
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   strings.Builder
	}
	children := make([]*child, processes)
	for i := range children {
		c := &child{cmd: exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")}
		// A race-enabled binary sleeps a second at exit unless told not to.
		c.cmd.Env = append(os.Environ(), childEnv+"="+string(cfg), "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = c
	}
	// Every child waits for its stdin to close: release them together.
	for _, c := range children {
		c.stdin.Close()
	}

	results := make([]childResult, processes)
	for i, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, c.out.String())
		}
		results[i] = parseChildResult(t, c.out.String())
	}

	_, stored := w.stored()
	want := digest(stored)
	n := 0
	for i, r := range results {
		for _, msg := range r.Warnings {
			w.warn("%s", msg)
		}
		for _, e := range r.Errors {
			t.Errorf("process %d: %s", i, e)
		}
		for j, d := range r.Served {
			n++
			if d != want {
				t.Errorf("process %d caller %d got another token than the stored one", i, j)
			}
		}
	}
	if n != callers {
		t.Errorf("%d callers answered, want %d", n, callers)
	}
	if w.tokenID(stored) != 2 {
		t.Errorf("the store holds token %d, want the new token 2", w.tokenID(stored))
	}
	w.wantTable("1:revoked->2 2:active")
	w.wantCalls(1, 1)
	w.wantWarnings(0)
	w.wantFiles(false, false)
}

func parseChildResult(t *testing.T, out string) childResult {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if js, ok := strings.CutPrefix(sc.Text(), "child-result: "); ok {
			var r childResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("a process printed no result:\n%s", out)
	return childResult{}
}

// TestChildProcess is not a test of its own: TestConcurrentProcessesRotateOnce
// runs the test binary with it as one of several helper processes.
func TestChildProcess(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return // the body of TestConcurrentProcessesRotateOnce's children; nothing to do here
	}
	var cfg childConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	var r childResult
	var mu sync.Mutex
	m := &Manager{
		Store:    &store.Store{Secrets: keychain.New(cfg.Service), Dir: cfg.StoreDir, Clock: func() time.Time { return cfg.Now }},
		StateDir: cfg.StateDir,
		Warn: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
		},
		LockWait:   30 * time.Second,
		APITimeout: 10 * time.Second,
	}
	io.Copy(io.Discard, os.Stdin) // the start signal: stdin closes

	var wg sync.WaitGroup
	for range cfg.Callers {
		wg.Go(func() {
			ctx := context.Background()
			rec, sec, err := m.Store.Lookup(ctx, "https", host, cfg.Account)
			if err == nil && rec == nil {
				err = fmt.Errorf("no credential for %s", cfg.Account)
			}
			if err == nil {
				var got Rotation
				got, err = m.Serve(ctx, rec, sec)
				rec, sec = got.Record, got.Secret
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				r.Errors = append(r.Errors, err.Error())
			case rec == nil:
				r.Served = append(r.Served, "")
			default:
				r.Served = append(r.Served, digest(sec.Password))
			}
		})
	}
	wg.Wait()
	out, _ := json.Marshal(r)
	fmt.Printf("child-result: %s\n", out)
}
