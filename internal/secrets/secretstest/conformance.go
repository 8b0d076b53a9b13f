package secretstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// Conformance runs the contract of secrets.Store against stores made by
// newStore, one fresh (empty) store per subtest: not found, set, get,
// overwrite, delete, empty and 2 KB secrets, secrets as large as Git can
// send (stored whole, or refused with secrets.ErrTooLarge and the old one
// kept), account names that differ only a little, and concurrent use from
// several goroutines. Use Processes for concurrent use from several
// processes.
//
// Every backend runs it, so that the rest of the program need not know which
// backend it talks to.
func Conformance(t *testing.T, newStore func(t *testing.T) secrets.Store, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	t.Run("missing account is not found", func(t *testing.T) {
		s := newStore(t)
		mustNotFind(t, s, "https://nobody@example.com")
		if err := s.Delete(ctx(t), "https://nobody@example.com"); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("Delete of a missing account: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("set then get", func(t *testing.T) {
		s := newStore(t)
		mustSet(t, s, "https://alice@example.com", "glpat-one")
		mustGet(t, s, "https://alice@example.com", "glpat-one")
	})
	t.Run("set overwrites", func(t *testing.T) {
		s := newStore(t)
		mustSet(t, s, "a", "old")
		mustSet(t, s, "a", "new")
		mustGet(t, s, "a", "new")
		mustSet(t, s, "a", "shorter")
		mustGet(t, s, "a", "shorter")
	})
	t.Run("delete then get is not found", func(t *testing.T) {
		s := newStore(t)
		mustSet(t, s, "a", "secret")
		if err := s.Delete(ctx(t), "a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		mustNotFind(t, s, "a")
		if err := s.Delete(ctx(t), "a"); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("second Delete: err = %v, want ErrNotFound", err)
		}
		mustSet(t, s, "a", "again")
		mustGet(t, s, "a", "again")
	})
	t.Run("empty secret is stored, not missing", func(t *testing.T) {
		s := newStore(t)
		mustSet(t, s, "empty", "")
		mustGet(t, s, "empty", "")
	})
	t.Run("2 KB secret", func(t *testing.T) {
		s := newStore(t)
		big := strings.Repeat("0123456789abcdef", 128)
		mustSet(t, s, "big", big)
		mustGet(t, s, "big", big)
	})
	t.Run("large secrets are kept whole or refused", func(t *testing.T) {
		s := newStore(t)
		// Past Windows' 2,560 bytes an item and macOS's 4,096-byte
		// command; a field of Git's longest line (65,535 bytes); and
		// three of them with room, as one envelope holds a password, a
		// refresh token and a credential.
		for _, size := range []int{2561, 2900, 4097, 30000, 65535, 200000} {
			acct := "large-" + strconv.Itoa(size)
			mustSet(t, s, acct, "old")
			big := LargeSecret(size, "a")
			if !setOrRefuse(t, s, acct, big, "old", o.large) {
				continue
			}
			bigger := LargeSecret(size+size/3, "b")
			if setOrRefuse(t, s, acct, bigger, big, o.large) {
				mustSet(t, s, acct, big)
				mustGet(t, s, acct, big)
			}
			mustSet(t, s, acct, "small again")
			mustGet(t, s, acct, "small again")
			mustSet(t, s, acct, big)
			if err := s.Delete(ctx(t), acct); err != nil {
				t.Fatalf("Delete of a %d-byte secret: %v", size, err)
			}
			mustNotFind(t, s, acct)
		}
	})
	t.Run("concurrent large writes leave one of them whole", func(t *testing.T) {
		s := newStore(t)
		const workers, rounds = 4, 3
		vals := make([]string, workers)
		for w := range vals {
			vals[w] = LargeSecret(12000+w*3001, strconv.Itoa(w))
		}
		if err := s.Set(ctx(t), "large-shared", vals[0]); errors.Is(err, secrets.ErrTooLarge) && !o.large {
			return // refused as the subtest above requires; nothing more to share
		} else if err != nil {
			t.Fatalf("Set: %v", err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds*2)
		for w := range workers {
			wg.Go(func() {
				for range rounds {
					if err := s.Set(ctx(t), "large-shared", vals[w]); err != nil {
						errs <- fmt.Errorf("worker %d: Set: %w", w, err)
						return
					}
					got, err := s.Get(ctx(t), "large-shared")
					if err != nil {
						errs <- fmt.Errorf("worker %d: Get: %w", w, err)
					} else if !slices.Contains(vals, got) {
						errs <- fmt.Errorf("worker %d: Get = %s, a value no worker wrote", w, shorten(got))
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got, err := s.Get(ctx(t), "large-shared"); err != nil || !slices.Contains(vals, got) {
			t.Errorf("Get after the writers = %s, %v; want one worker's value", shorten(got), err)
		}
	})
	t.Run("secret bytes are kept exactly", func(t *testing.T) {
		s := newStore(t)
		odd := "{\"password\":\"glpat-x\"}\n\ttab = équipe ✓ \"quoted\" ;semi;colon:\r\n"
		mustSet(t, s, "odd", odd)
		mustGet(t, s, "odd", odd)
	})
	t.Run("accounts that differ a little are distinct", func(t *testing.T) {
		s := newStore(t)
		accounts := []string{
			"https://alice@example.com",
			"https://Alice@example.com",
			"https://alice@example.com/",
			"https://alice@example.com/group/repo.git",
			"https://alice@example.com:8443",
			"http://alice@example.com",
			"https://al;ice@example.com",
			"https://alice @example.com",
			"https://élise@example.com",
			"https://" + strings.Repeat("p", 300) + "@example.com/" + strings.Repeat("deep/", 60),
		}
		for i, a := range accounts {
			mustSet(t, s, a, "secret-"+strconv.Itoa(i))
		}
		for i, a := range accounts {
			mustGet(t, s, a, "secret-"+strconv.Itoa(i))
		}
		if err := s.Delete(ctx(t), accounts[0]); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		mustNotFind(t, s, accounts[0])
		for i, a := range accounts[1:] {
			mustGet(t, s, a, "secret-"+strconv.Itoa(i+1))
		}
	})
	t.Run("a done context changes nothing", func(t *testing.T) {
		s := newStore(t)
		mustSet(t, s, "kept", "v1")
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Set(done, "new", "v"); err == nil {
			t.Error("Set with a cancelled context succeeded")
		}
		if err := s.Set(done, "kept", "v2"); err == nil {
			t.Error("Set with a cancelled context succeeded")
		}
		if err := s.Delete(done, "kept"); err == nil {
			t.Error("Delete with a cancelled context succeeded")
		}
		if _, err := s.Get(done, "kept"); err == nil {
			t.Error("Get with a cancelled context succeeded")
		}
		mustNotFind(t, s, "new")
		mustGet(t, s, "kept", "v1")
	})
	t.Run("concurrent goroutines", func(t *testing.T) {
		s := newStore(t)
		const workers, rounds = 8, 6
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Go(func() {
				if err := Worker(ctx(t), s, w, rounds); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		CheckWorkers(t, s, workers, rounds)
	})
}

// Worker is the work of one of several concurrent users of a store
// (goroutines or processes): for each round, it stores a secret under an
// account of its own and reads it back, deletes every other one, and
// overwrites an account of its own that it keeps and one that all workers
// share. It returns the first thing that went wrong.
func Worker(ctx context.Context, s secrets.Store, worker, rounds int) error {
	for r := range rounds {
		acct := fmt.Sprintf("worker-%d-round-%d", worker, r)
		val := fmt.Sprintf("secret-%d-%d", worker, r)
		if err := s.Set(ctx, acct, val); err != nil {
			return fmt.Errorf("worker %d: Set %s: %w", worker, acct, err)
		}
		got, err := s.Get(ctx, acct)
		if err != nil {
			return fmt.Errorf("worker %d: Get %s: %w", worker, acct, err)
		}
		if got != val {
			return fmt.Errorf("worker %d: Get %s = %q, want %q", worker, acct, got, val)
		}
		if r%2 == 0 {
			if err := s.Delete(ctx, acct); err != nil {
				return fmt.Errorf("worker %d: Delete %s: %w", worker, acct, err)
			}
		}
		if err := s.Set(ctx, fmt.Sprintf("worker-%d-kept", worker), val); err != nil {
			return fmt.Errorf("worker %d: Set kept: %w", worker, err)
		}
		if err := s.Set(ctx, "shared", val); err != nil {
			return fmt.Errorf("worker %d: Set shared: %w", worker, err)
		}
	}
	return nil
}

// CheckWorkers checks what workers running Worker with rounds left in s:
// every account they kept, none they deleted, their last values, and in
// the shared account the value of one of them.
func CheckWorkers(t testing.TB, s secrets.Store, workers, rounds int) {
	t.Helper()
	shared, err := s.Get(ctx(t), "shared")
	if err != nil {
		t.Errorf("Get shared: %v", err)
	}
	var sharedOK bool
	for w := range workers {
		for r := range rounds {
			acct := fmt.Sprintf("worker-%d-round-%d", w, r)
			val := fmt.Sprintf("secret-%d-%d", w, r)
			if r%2 == 0 {
				mustNotFind(t, s, acct)
			} else {
				mustGet(t, s, acct, val)
			}
			sharedOK = sharedOK || shared == val
		}
		mustGet(t, s, fmt.Sprintf("worker-%d-kept", w), fmt.Sprintf("secret-%d-%d", w, rounds-1))
	}
	if !sharedOK {
		t.Errorf("shared = %q, a value no worker wrote", shared)
	}
}

// WorkerEnv names the environment variable that makes a test binary one
// of the worker processes Processes starts.
const WorkerEnv = "GLPAT_SECRETSTEST_WORKER"

// ServeWorker is for TestMain, before m.Run: when this process is a worker
// that Processes started, it opens the store that open makes of the spec
// passed to Processes, runs Worker, and exits (status 0 when the work went
// well). Otherwise it returns at once.
func ServeWorker(open func(spec string) (secrets.Store, error)) {
	v, ok := os.LookupEnv(WorkerEnv)
	if !ok {
		return
	}
	worker, rest, _ := strings.Cut(v, ":")
	rounds, spec, _ := strings.Cut(rest, ":")
	w, err1 := strconv.Atoi(worker)
	r, err2 := strconv.Atoi(rounds)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(os.Stderr, "secretstest: bad %s=%q: %v\n", WorkerEnv, v, err)
		os.Exit(2)
	}
	s, err := open(spec)
	if err != nil {
		fmt.Fprintf(os.Stderr, "secretstest: worker %d: open %q: %v\n", w, spec, err)
		os.Exit(1)
	}
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Worker(c, s, w, r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		cancel()
		os.Exit(1)
	}
	cancel()
	os.Exit(0)
}

// Processes runs Worker in n processes of this test binary at once, each
// on the store that TestMain's ServeWorker opens from spec, waits for them,
// and checks what they left with CheckWorkers on s (the same storage, seen
// from this process). env is added to the processes' environment.
func Processes(t *testing.T, s secrets.Store, n, rounds int, spec string, env ...string) {
	t.Helper()
	cmds := make([]*exec.Cmd, n)
	outs := make([]*strings.Builder, n)
	for w := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(append(os.Environ(), env...), fmt.Sprintf("%s=%d:%d:%s", WorkerEnv, w, rounds, spec))
		outs[w] = new(strings.Builder)
		cmd.Stdout, cmd.Stderr = outs[w], outs[w]
		cmds[w] = cmd
	}
	for w, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatalf("start worker %d: %v", w, err)
		}
	}
	for w, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("worker process %d: %v\n%s", w, err, outs[w])
		}
	}
	CheckWorkers(t, s, n, rounds)
}

// LargeSecret returns a secret of exactly size bytes of valid UTF-8 that
// no other tag gives: ASCII, two-, three- and four-byte characters, so
// that a store that cuts it up cuts inside characters too.
func LargeSecret(size int, tag string) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%s:%d-é€😀;", tag, i)
	}
	s := b.String()[:size]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + strings.Repeat("=", size-len(s))
}

// Option changes what Conformance requires.
type Option func(*options)

type options struct {
	large bool
}

// HoldsLargeSecrets makes Conformance require that the store hold every
// secret up to 200 KB: refusing one for its size is a failure.
func HoldsLargeSecrets() Option { return func(o *options) { o.large = true } }

// setOrRefuse sets account to secret, over old, and reports whether it
// was stored. A store may refuse a secret for its size, unless it must
// hold it, in one line that says so (errors.Is secrets.ErrTooLarge) and
// without the secret, and must then still hold old.
func setOrRefuse(t testing.TB, s secrets.Store, account, secret, old string, mustHold bool) bool {
	t.Helper()
	err := s.Set(ctx(t), account, secret)
	if err == nil {
		mustGet(t, s, account, secret)
		return true
	}
	if mustHold {
		t.Errorf("Set of %d bytes: %v; want it stored", len(secret), err)
	} else if !errors.Is(err, secrets.ErrTooLarge) {
		t.Errorf("Set of %d bytes: %v; want it stored, or refused with ErrTooLarge", len(secret), err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, secret[len(secret)/2:len(secret)/2+20]) {
		t.Errorf("Set of %d bytes: the refusal %q is not one line without the secret", len(secret), msg)
	}
	mustGet(t, s, account, old)
	return false
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustSet(t testing.TB, s secrets.Store, account, secret string) {
	t.Helper()
	if err := s.Set(ctx(t), account, secret); err != nil {
		t.Fatalf("Set(%q): %v", account, err)
	}
}

func mustGet(t testing.TB, s secrets.Store, account, want string) {
	t.Helper()
	got, err := s.Get(ctx(t), account)
	if err != nil {
		t.Errorf("Get(%q): %v", account, err)
		return
	}
	if got != want {
		t.Errorf("Get(%q) = %q, want %q", shorten(account), shorten(got), shorten(want))
	}
}

func mustNotFind(t testing.TB, s secrets.Store, account string) {
	t.Helper()
	got, err := s.Get(ctx(t), account)
	if !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("Get(%q) = %q, %v; want ErrNotFound", shorten(account), shorten(got), err)
	}
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:40] + "…" + strconv.Itoa(len(s)) + " bytes"
	}
	return s
}
