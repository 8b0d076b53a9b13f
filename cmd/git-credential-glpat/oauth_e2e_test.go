package main

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// oauthWorld is a GitLab world with an OAuth application registered on the
// fake and named in the config (oauth_client_id), and a browser signed in
// as alice that authorizes it. BROWSER is a script that only notes the
// page it was asked to open: nothing opens a browser unnoticed.
type oauthWorld struct {
	*gitlabWorld
	clientID string
	opened   string // the file BROWSER writes to
}

func newOAuthWorld(t *testing.T) *oauthWorld {
	t.Helper()
	g := newGitLabWorld(t, "")
	o := &oauthWorld{gitlabWorld: g, clientID: g.gl.RegisterOAuthApp(gitlabtest.OAuthApp{}), opened: filepath.Join(g.dir, "opened")}
	g.gl.SetOAuthConsent("alice", true)
	g.gl.SetDeviceGrant(time.Second, time.Minute)
	f, err := os.OpenFile(filepath.Join(g.dir, "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The host's table is the last of the file.
	f.WriteString("oauth_client_id = \"" + o.clientID + "\"\n")
	f.Close()
	browser := filepath.Join(g.dir, "browser")
	os.WriteFile(browser, []byte("#!/bin/sh\necho \"$1\" >>'"+o.opened+"'\n"), 0o700)
	g.env = append(g.env, "BROWSER="+browser, "SSH_CONNECTION=", "SSH_TTY=")
	return o
}

// loginDevice runs login --oauth without a terminal (the device flow),
// confirms the code on the fake as soon as it is shown (unless confirm is
// false), and returns stdout, stderr and the exit code.
func (o *oauthWorld) loginDevice(t *testing.T, confirm bool, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"login", o.host, "--oauth"}, args...)...)
	cmd.Env, cmd.Dir = o.env, o.dir
	var out bytes.Buffer
	cmd.Stdout = &out
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	sc := bufio.NewScanner(errPipe)
	for sc.Scan() {
		line := sc.Text()
		errOut.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "(or open "); ok && confirm {
			u = u[:strings.Index(u, ")")]
			resp, err := http.Get(u) // the person confirms the code in a browser elsewhere
			if err != nil {
				t.Errorf("confirming the code: %v", err)
			} else {
				resp.Body.Close()
			}
		}
	}
	err := cmd.Wait()
	return out.String(), errOut.String(), exitCode(err)
}

// TestLoginOAuthDeviceFlow: without a terminal, login --oauth shows a code
// to confirm on GitLab, obeys a slow_down, stores the pair, and Git gets the
// access token (never the refresh token) without a prompt.
func TestLoginOAuthDeviceFlow(t *testing.T) {
	o := newOAuthWorld(t)
	o.gl.SlowDownDevicePolls(1)
	out, errOut, code := o.loginDevice(t, true)
	if code != 0 || !strings.Contains(out, "Logged in to "+o.host+" as oauth2 with OAuth") {
		t.Fatalf("login --oauth: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	for _, want := range []string{"enter the code", "/oauth/device", "checking every 6s"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(o.opened); err == nil {
		t.Error("the device flow opened a browser")
	}
	fill := o.credential("fill", "protocol=http\nhost="+o.host+"\n", "-c", "credential.helper=", "-c", "credential.helper="+binPath)
	access := password(fill)
	st, ok := o.gl.OAuthTokenByValue(access)
	if !ok || st.Username != "alice" || st.Revoked {
		t.Fatalf("git got %q…, want alice's live access token", access[:min(4, len(access))])
	}
	if !strings.Contains(fill, "username=oauth2\n") || strings.Contains(fill, "oauth_refresh_token") {
		t.Errorf("git credential fill = %q: want username oauth2 and no refresh token", strings.ReplaceAll(fill, access, "<ACCESS>"))
	}
	if p := o.prompts(); p != "" {
		t.Errorf("git prompted: %q", p)
	}
	sout, _, err := o.run("", binPath, "status", "--offline")
	if err != nil || !strings.Contains(sout, "OAuth") {
		t.Errorf("status: %v\n%s", err, sout)
	}
	// rotate --force refreshes now; logout --revoke revokes at GitLab.
	if rout, rerr, err := o.run("", binPath, "rotate", o.host, "--force"); err != nil || !strings.Contains(rout, "refreshed") {
		t.Errorf("rotate --force: %v\n%s%s", err, rout, rerr)
	}
	if n := o.gl.Calls(gitlabtest.EndpointOAuthRefresh); n != 1 {
		t.Errorf("%d refreshes after rotate --force, want 1", n)
	}
	lout, lerr, err := o.run("", binPath, "logout", o.host, "--revoke")
	if err != nil || !strings.Contains(lout, "revoked and forgot") {
		t.Errorf("logout --revoke: %v\n%s%s", err, lout, lerr)
	}
	for _, st := range o.gl.OAuthTokens() {
		if !st.Revoked {
			t.Errorf("after logout --revoke, OAuth token %d is live", st.ID)
		}
	}
}

// TestLoginOAuthBrowserFlow: at a terminal, login --oauth --flow browser
// opens GitLab's page ($BROWSER), and the browser, sent back to the
// helper's loopback address, completes the login.
func TestLoginOAuthBrowserFlow(t *testing.T) {
	o := newOAuthWorld(t)
	s := o.interactive(t, "login", o.host, "--oauth", "--flow", "browser")
	s.expect("waiting for you to authorize")
	// The helper starts $BROWSER and does not wait for it: the script may
	// write its file a moment after the line above.
	var b []byte
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, err = os.ReadFile(o.opened); err == nil && len(b) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("BROWSER was not run: %v\n%s", err, s.output())
	}
	page := strings.TrimSpace(string(b))
	if !strings.HasPrefix(page, o.gl.URL+"/oauth/authorize?") || !strings.Contains(page, "code_challenge=") {
		t.Fatalf("opened %q, want GitLab's authorize page with PKCE", page)
	}
	resp, err := http.Get(page) // the browser follows GitLab's redirect back to 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, out := s.wait()
	if code != 0 || !strings.Contains(out, "Logged in to "+o.host+" as oauth2 with OAuth") {
		t.Fatalf("login --oauth --flow browser: exit %d\n%s", code, out)
	}
	if n := len(o.gl.OAuthTokens()); n != 1 {
		t.Errorf("%d OAuth tokens at GitLab, want 1", n)
	}
}

// TestLoginOAuthRefusals: each way an OAuth login fails is one clear line,
// and nothing is stored.
func TestLoginOAuthRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(o *oauthWorld)
		confirm bool
		want    string
	}{
		{"no client ID in the config", func(o *oauthWorld) {
			cfg := filepath.Join(o.dir, "config.toml")
			b, _ := os.ReadFile(cfg)
			os.WriteFile(cfg, []byte(strings.ReplaceAll(string(b), "oauth_client_id = \""+o.clientID+"\"\n", "")), 0o600)
		}, false, "no oauth_client_id under [hosts."},
		{"unregistered client ID", func(o *oauthWorld) {
			cfg := filepath.Join(o.dir, "config.toml")
			b, _ := os.ReadFile(cfg)
			os.WriteFile(cfg, []byte(strings.ReplaceAll(string(b), o.clientID, "0000")), 0o600)
		}, false, "does not know oauth_client_id \"0000\""},
		{"denied consent", func(o *oauthWorld) { o.gl.SetOAuthConsent("alice", false) }, true, "declined on GitLab"},
		{"expired device code", func(o *oauthWorld) { o.gl.SetDeviceGrant(time.Second, time.Second) }, false, "expired before it was confirmed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOAuthWorld(t)
			tt.setup(o)
			out, errOut, code := o.loginDevice(t, tt.confirm)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, out)
			}
			var errs []string
			for _, l := range strings.Split(errOut, "\n") {
				if strings.HasPrefix(l, "git-credential-glpat: ") {
					errs = append(errs, l)
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0], tt.want) || !strings.Contains(errs[0], "error: ") {
				t.Errorf("stderr:\n%s\nwant one error line saying %q", errOut, tt.want)
			}
			if sout, _, _ := o.run("", binPath, "status", "--offline"); !strings.Contains(sout, "No credentials stored") {
				t.Errorf("something was stored:\n%s", sout)
			}
		})
	}
}
