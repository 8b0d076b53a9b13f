package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// newClient is a client for a new application on a new fake GitLab, whose
// browser is signed in as alice and authorizes what is asked.
func newClient(t *testing.T) (*Client, *gitlabtest.Server) {
	t.Helper()
	srv := gitlabtest.New(t)
	srv.SetOAuthConsent("alice", true)
	c, err := New(srv.APIURL(), "", srv.RegisterOAuthApp(gitlabtest.OAuthApp{}), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// browser plays the person's browser: it opens the page and follows
// GitLab's redirect back to the helper's loopback address.
func browser(t *testing.T, opened *[]string) func(string) error {
	var mu sync.Mutex
	return func(u string) error {
		mu.Lock()
		*opened = append(*opened, u)
		mu.Unlock()
		go func() {
			resp, err := http.Get(u)
			if err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
}

func quiet(string, ...any) {}

func TestLoginBrowser(t *testing.T) {
	c, srv := newClient(t)
	var opened []string
	p, err := c.LoginBrowser(context.Background(), browser(t, &opened), quiet)
	if err != nil {
		t.Fatalf("LoginBrowser: %v", err)
	}
	st, ok := srv.OAuthTokenByValue(p.Access)
	if !ok || st.Username != "alice" || st.Revoked || strings.Join(p.Scopes, " ") != "read_repository write_repository" {
		t.Fatalf("the pair is %+v (scopes %v), want alice's live token with Git's scopes", st, p.Scopes)
	}
	if left := time.Until(p.Expiry); left < 119*time.Minute || left > 2*time.Hour {
		t.Errorf("expiry in %s, want two hours", left)
	}
	if len(opened) != 1 || !strings.Contains(opened[0], "code_challenge_method=S256") || !strings.Contains(opened[0], "redirect_uri=http%3A%2F%2F127.0.0.1%3A") {
		t.Errorf("opened %q, want one authorize URL with PKCE and a loopback redirect", opened)
	}
}

func TestLoginBrowserRefusals(t *testing.T) {
	t.Run("declined", func(t *testing.T) {
		c, srv := newClient(t)
		srv.SetOAuthConsent("alice", false)
		var opened []string
		if _, err := c.LoginBrowser(context.Background(), browser(t, &opened), quiet); !errors.Is(err, ErrDenied) {
			t.Errorf("err = %v, want ErrDenied", err)
		}
	})
	for name, app := range map[string]gitlabtest.OAuthApp{"unknown": {}, "confidential": {Confidential: true}} {
		t.Run(name+" application", func(t *testing.T) {
			c, srv := newClient(t)
			if name == "confidential" {
				c.ClientID = srv.RegisterOAuthApp(app)
			} else {
				c.ClientID = "not-registered"
			}
			var opened []string
			_, err := c.LoginBrowser(context.Background(), browser(t, &opened), quiet)
			if !errors.Is(err, ErrUnknownClient) {
				t.Errorf("err = %v, want ErrUnknownClient", err)
			}
			if len(opened) != 0 {
				t.Errorf("the browser was opened at %q for an application GitLab does not know", opened)
			}
		})
	}
	t.Run("browser cannot be opened", func(t *testing.T) {
		c, _ := newClient(t)
		var said string
		ctx, cancel := context.WithCancel(context.Background())
		say := func(format string, args ...any) {
			said = format
			resp, err := http.Get(args[0].(string)) // the person opens it by hand
			if err == nil {
				resp.Body.Close()
			}
			cancel()
		}
		_, err := c.LoginBrowser(ctx, func(string) error { return errors.New("no browser") }, say)
		if !strings.Contains(said, "open this page") {
			t.Errorf("said %q, want the address to open", said)
		}
		_ = err // the person's browser answered, or the cancel came first
	})
}

func TestLoginDevice(t *testing.T) {
	c, srv := newClient(t)
	srv.SetDeviceGrant(time.Second, time.Minute)
	confirm := func(d DeviceCode) {
		if d.UserCode == "" || !strings.HasSuffix(d.URI, "/oauth/device") {
			t.Errorf("device code %+v", d)
		}
		resp, err := http.Get(d.Complete)
		if err == nil {
			resp.Body.Close()
		}
	}
	p, err := c.LoginDevice(context.Background(), confirm, nil)
	if err != nil {
		t.Fatalf("LoginDevice: %v", err)
	}
	if st, ok := srv.OAuthTokenByValue(p.Access); !ok || st.Username != "alice" {
		t.Errorf("token %+v", st)
	}
}

func TestLoginDeviceRefusals(t *testing.T) {
	t.Run("unknown application", func(t *testing.T) {
		c, _ := newClient(t)
		c.ClientID = "not-registered"
		if _, err := c.LoginDevice(context.Background(), func(DeviceCode) { t.Error("a code was shown") }, nil); !errors.Is(err, ErrUnknownClient) {
			t.Errorf("err = %v, want ErrUnknownClient", err)
		}
	})
	t.Run("declined", func(t *testing.T) {
		c, srv := newClient(t)
		srv.SetDeviceGrant(time.Second, time.Minute)
		srv.SetOAuthConsent("alice", false)
		decline := func(d DeviceCode) {
			resp, err := http.Get(d.Complete)
			if err == nil {
				resp.Body.Close()
			}
		}
		if _, err := c.LoginDevice(context.Background(), decline, nil); !errors.Is(err, ErrDenied) {
			t.Errorf("err = %v, want ErrDenied", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		c, srv := newClient(t)
		srv.SetDeviceGrant(time.Second, time.Second)
		if _, err := c.LoginDevice(context.Background(), func(DeviceCode) {}, nil); !errors.Is(err, ErrExpired) {
			t.Errorf("err = %v, want ErrExpired", err)
		}
	})
	t.Run("slow down", func(t *testing.T) {
		c, srv := newClient(t)
		srv.SetDeviceGrant(time.Second, time.Minute)
		srv.SlowDownDevicePolls(1)
		var slowed []time.Duration
		confirm := func(d DeviceCode) {
			resp, err := http.Get(d.Complete)
			if err == nil {
				resp.Body.Close()
			}
		}
		if _, err := c.LoginDevice(context.Background(), confirm, func(d time.Duration) { slowed = append(slowed, d) }); err != nil {
			t.Fatalf("LoginDevice after slow_down: %v", err)
		}
		if len(slowed) != 1 || slowed[0] != 6*time.Second {
			t.Errorf("slowed down to %v, want once to 6s (RFC 8628 §3.5: +5 s)", slowed)
		}
	})
}

// TestRefreshSendsTheRefreshTokenOnce: a refused refresh is not sent again
// in another form (x/oauth2 probes the client authentication style unless
// told, which would send a refresh token twice).
func TestRefreshSendsTheRefreshTokenOnce(t *testing.T) {
	c, srv := newClient(t)
	p := srv.CreateOAuthToken(c.ClientID, "alice", nil)
	next, err := c.Refresh(context.Background(), p.Refresh)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if next.Access == p.Access || next.Refresh == p.Refresh {
		t.Fatal("the refresh gave the same pair")
	}
	_, err = c.Refresh(context.Background(), p.Refresh)
	if !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("a spent refresh token: %v, want ErrInvalidGrant", err)
	}
	if n := srv.Calls(gitlabtest.EndpointOAuthRefresh); n != 2 {
		t.Errorf("%d refresh requests for two refreshes, want 2", n)
	}
	if strings.Contains(err.Error(), p.Refresh) {
		t.Errorf("the error names the refresh token")
	}
}

func TestRefreshOutcomes(t *testing.T) {
	t.Run("answer lost", func(t *testing.T) {
		c, srv := newClient(t)
		p := srv.CreateOAuthToken(c.ClientID, "alice", nil)
		srv.DropAfterRefreshCommit(true)
		_, err := c.Refresh(context.Background(), p.Refresh)
		if !errors.Is(err, ErrNoAnswer) {
			t.Errorf("err = %v, want ErrNoAnswer", err)
		}
	})
	t.Run("server error", func(t *testing.T) {
		c, srv := newClient(t)
		p := srv.CreateOAuthToken(c.ClientID, "alice", nil)
		srv.Garbage(gitlabtest.EndpointOAuthToken, true)
		if _, err := c.Refresh(context.Background(), p.Refresh); !errors.Is(err, ErrNoAnswer) {
			t.Errorf("err = %v, want ErrNoAnswer (sent; GitLab may have acted)", err)
		}
	})
	t.Run("never sent", func(t *testing.T) {
		c, _ := newClient(t)
		c.BaseURL = "http://127.0.0.1:1"
		if _, err := c.Refresh(context.Background(), "x"); !errors.Is(err, ErrUnreachable) {
			t.Errorf("err = %v, want ErrUnreachable", err)
		}
	})
	t.Run("unknown application", func(t *testing.T) {
		c, srv := newClient(t)
		p := srv.CreateOAuthToken(c.ClientID, "alice", nil)
		c.ClientID = "not-registered"
		if _, err := c.Refresh(context.Background(), p.Refresh); !errors.Is(err, ErrUnknownClient) {
			t.Errorf("err = %v, want ErrUnknownClient", err)
		}
	})
}

func TestInfoAndRevoke(t *testing.T) {
	c, srv := newClient(t)
	p := srv.CreateOAuthToken(c.ClientID, "alice", nil)
	info, err := c.Info(context.Background(), p.Access)
	if err != nil || info.UserID == 0 || info.App != c.ClientID {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	if err := c.Revoke(context.Background(), p.Refresh); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := c.Info(context.Background(), p.Access); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("Info after revoking = %v, want ErrInvalidGrant", err)
	}
}

func TestPreferDevice(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tt := range []struct {
		name string
		env  func(string) string
		goos string
		want bool
	}{
		{"ssh session", env("SSH_CONNECTION", "10.0.0.1 5 10.0.0.2 22", "DISPLAY", ":0"), "linux", true},
		{"ssh on a Mac", env("SSH_TTY", "/dev/ttys001"), "darwin", true},
		{"X11 desktop", env("DISPLAY", ":0"), "linux", false},
		{"Wayland desktop", env("WAYLAND_DISPLAY", "wayland-0"), "linux", false},
		{"Linux console", env(), "linux", true},
		{"Mac", env(), "darwin", false},
		{"Windows", env(), "windows", false},
	} {
		if got := PreferDevice(tt.env, tt.goos); got != tt.want {
			t.Errorf("%s: PreferDevice = %v, want %v", tt.name, got, tt.want)
		}
	}
}
