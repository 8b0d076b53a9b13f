package keychain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

func TestClassifyPortable(t *testing.T) {
	unknown := errors.New("dbus: connection closed by user")
	for _, tc := range []struct {
		name      string
		op        string
		in        error
		wantKinds []string
		wantMsg   string
	}{
		{"not found", "get", keyring.ErrNotFound, []string{"ErrNotFound"}, "keychain: get: not found"},
		{"not found on delete", "delete", keyring.ErrNotFound, []string{"ErrNotFound"}, "keychain: delete: not found"},
		{"unsupported platform", "set", keyring.ErrUnsupportedPlatform, []string{"ErrUnavailable"},
			"keychain: set: secret storage unavailable: " + keyring.ErrUnsupportedPlatform.Error()},
		{"unknown error is wrapped", "get", unknown, nil, "keychain: get: dbus: connection closed by user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.op, tc.in)
			if k := kinds(got); !slices.Equal(k, tc.wantKinds) {
				t.Errorf("classify(%q) is %v, want %v", tc.in, k, tc.wantKinds)
			}
			if got.Error() != tc.wantMsg {
				t.Errorf("classify(%q) = %q, want %q", tc.in, got, tc.wantMsg)
			}
			if !errors.Is(got, tc.in) {
				t.Errorf("classify(%q) lost the original error from its chain", tc.in)
			}
		})
	}
}

func TestTimeoutErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *timeoutError
		want string
	}{
		{"default timeout", &timeoutError{"get", DefaultTimeout}, "keychain: get: no answer after 10s (is an unlock prompt waiting?)"},
		{"rounded to milliseconds", &timeoutError{"set", 99999999 * time.Nanosecond}, "keychain: set: no answer after 100ms (is an unlock prompt waiting?)"},
		{"under a millisecond", &timeoutError{"delete", 500 * time.Microsecond}, "keychain: delete: no answer after 500µs (is an unlock prompt waiting?)"},
		{"no time at all", &timeoutError{"get", 0}, "keychain: get: deadline passed before the call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if k := kinds(tc.err); !slices.Equal(k, []string{"ErrTimeout"}) {
				t.Errorf("timeoutError is %v, want [ErrTimeout]", k)
			}
			if !errors.Is(tc.err, context.DeadlineExceeded) {
				t.Error("timeoutError is not context.DeadlineExceeded")
			}
		})
	}
}

// A context that is already done makes no call at all (a call would need a
// keychain, and this test has none: it would fail differently).
func TestDoneContextMakesNoCall(t *testing.T) {
	k := New(testService)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	for _, tc := range []struct {
		name      string
		ctx       context.Context
		wantKinds []string
		wantIs    error
		wantMsg   string
	}{
		{"cancelled", cancelled, nil, context.Canceled, "keychain: get: context canceled"},
		{"deadline passed", expired, []string{"ErrTimeout"}, context.DeadlineExceeded, "keychain: get: deadline passed before the call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			_, err := k.call(tc.ctx, "get", func() (string, error) { called = true; return "", nil })
			if called {
				t.Error("the keychain was called with a done context")
			}
			if k := kinds(err); !slices.Equal(k, tc.wantKinds) {
				t.Errorf("err is %v, want %v", k, tc.wantKinds)
			}
			if !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.wantIs)
			}
			if err == nil || err.Error() != tc.wantMsg {
				t.Errorf("err = %v, want %q", err, tc.wantMsg)
			}
		})
	}
}

// The deadline of a call is the sooner of the context's and Timeout, and
// a call that does not answer in time is abandoned, not waited for.
func TestCallDeadline(t *testing.T) {
	never := make(chan struct{})
	t.Cleanup(func() { close(never) })
	hang := func(context.Context) (string, error) { <-never; return "", nil }

	for _, tc := range []struct {
		name        string
		timeout     time.Duration
		ctxDeadline time.Duration // 0: none
		waited      time.Duration
	}{
		{"Timeout field", 30 * time.Millisecond, 0, 30 * time.Millisecond},
		{"sooner context deadline", time.Hour, 40 * time.Millisecond, 40 * time.Millisecond},
		{"sooner Timeout", 20 * time.Millisecond, time.Hour, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.ctxDeadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxDeadline)
				defer cancel()
			}
			k := &Keychain{Service: testService, Timeout: tc.timeout}
			start := time.Now()
			_, err := k.withDeadlineCtx(ctx, "get", hang)
			if took := time.Since(start); took > time.Second {
				t.Errorf("call took %v, want it abandoned at its deadline", took)
			}
			if !errors.Is(err, secrets.ErrTimeout) {
				t.Errorf("err = %v, want ErrTimeout", err)
			}
			// The message names the time waited: the whole Timeout, or
			// what was left of the context's deadline when the call began
			// (a little less than it was set to, on a busy machine).
			const prefix, suffix = "keychain: get: no answer after ", " (is an unlock prompt waiting?)"
			msg := fmt.Sprint(err)
			d, perr := time.ParseDuration(strings.TrimSuffix(strings.TrimPrefix(msg, prefix), suffix))
			if !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, suffix) || perr != nil || d <= 0 || d > tc.waited {
				t.Errorf("err = %v, want %q with a wait of at most %v", err, prefix+"…"+suffix, tc.waited)
			}
			if (tc.ctxDeadline == 0 || tc.timeout < tc.ctxDeadline) && msg != prefix+tc.waited.String()+suffix {
				t.Errorf("err = %v, want exactly %v waited", err, tc.waited)
			}
		})
	}
}
