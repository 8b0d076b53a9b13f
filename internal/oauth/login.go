package oauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// BrowserWait bounds how long the browser login waits for GitLab to send
// the browser back: long enough to sign in with a second factor.
const BrowserWait = 5 * time.Minute

// PreferDevice reports whether the device login is the one that can work
// here: over SSH the browser a person would use runs on another machine,
// whose 127.0.0.1 is not this one's, and a Linux or BSD machine without a
// graphical session has no browser to open.
func PreferDevice(getenv func(string) string, goos string) bool {
	if getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != "" {
		return true
	}
	switch goos {
	case "darwin", "windows":
		return false
	}
	return getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == ""
}

// CheckClient asks GitLab whether it knows the client ID as a public
// application, before a person is sent to the browser (where an unknown
// client is an error page the helper never hears of): a token request
// with a code that cannot exist is answered invalid_client for an unknown
// or confidential application and invalid_grant otherwise (Doorkeeper's
// AuthorizationCodeRequest checks the client before the code). Nothing is
// created either way.
func (c *Client) CheckClient(ctx context.Context) error {
	tctx, k := c.traced(ctx, nil)
	_, err := c.config(RedirectURI).Exchange(tctx, "check-"+random(16), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if err == nil {
		return nil
	}
	err = classify("check the application", k, err)
	if errors.Is(err, ErrUnknownClient) || errors.Is(err, ErrUnreachable) {
		return err
	}
	return nil // anything else: not known to be wrong; the login will tell
}

// LoginBrowser runs the authorization code flow with PKCE (RFC 7636) and a
// loopback redirect (RFC 8252 §7.3): it listens on 127.0.0.1, has open show
// GitLab's authorization page in the person's browser (when open fails,
// say gives the address to open by hand) and waits until GitLab sends the
// browser back with a code, then trades it for a pair.
func (c *Client) LoginBrowser(ctx context.Context, open func(url string) error, say func(format string, args ...any)) (*Pair, error) {
	if err := c.CheckClient(ctx); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("oauth: listen on 127.0.0.1 for the browser: %w", err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d%s", ln.Addr().(*net.TCPAddr).Port, redirectPath)
	conf := c.config(redirect)
	state, verifier := random(16), oauth2.GenerateVerifier()
	type answer struct {
		code string
		err  error
	}
	answers := make(chan answer, 1)
	mux := http.NewServeMux()
	mux.HandleFunc(redirectPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			// Not GitLab's answer to this login (a stale tab, another
			// page): the login goes on waiting.
			page(w, http.StatusBadRequest, "This is not the answer git-credential-glpat is waiting for. Go back to the terminal.")
			return
		}
		a := answer{code: q.Get("code")}
		switch e := q.Get("error"); {
		case e == "access_denied":
			a.err = &Error{Op: "authorize", Code: e, Kind: ErrDenied}
		case e == "invalid_scope":
			a.err = &Error{Op: "authorize", Code: e, Kind: ErrScope}
		case e != "":
			a.err = &Error{Op: "authorize", Code: e, Kind: ErrRefused}
		case a.code == "":
			a.err = &Error{Op: "authorize", Kind: ErrRefused, Err: errors.New("GitLab sent the browser back without a code")}
		}
		if a.err != nil {
			page(w, http.StatusOK, "The login did not complete: "+a.err.Error()+". You can close this tab.")
		} else {
			page(w, http.StatusOK, "git-credential-glpat is logged in to GitLab. You can close this tab.")
		}
		select {
		case answers <- a:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	if err := open(authURL); err != nil {
		say("open this page in a browser on this machine to log in: %s", authURL)
	} else {
		say("opened GitLab in the browser; waiting for you to authorize git-credential-glpat there (Ctrl-C to cancel)")
	}
	var a answer
	timer := time.NewTimer(BrowserWait)
	defer timer.Stop()
	select {
	case a = <-answers:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, &Error{Op: "authorize", Kind: ErrExpired, Err: fmt.Errorf("the browser did not come back within %s", BrowserWait)}
	}
	if a.err != nil {
		return nil, a.err
	}
	start := c.now()
	tctx, k := c.traced(ctx, nil)
	t, err := conf.Exchange(tctx, a.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, classify("exchange the code", k, err)
	}
	p, err := c.pair(t, start)
	if err != nil {
		return nil, &Error{Op: "exchange the code", Kind: ErrNoAnswer, Err: err}
	}
	return p, nil
}

// DeviceCode is what a person needs to confirm a device login.
type DeviceCode struct {
	// URI is where to type UserCode; Complete has the code in it.
	URI, Complete, UserCode string
	Expiry                  time.Time
}

// LoginDevice runs the device authorization grant (RFC 8628): it asks
// GitLab for a code, has show tell the person where to confirm it, and
// polls until they did. When GitLab asks it to poll less often
// (slow_down), it does, and slowDown hears of it.
func (c *Client) LoginDevice(ctx context.Context, show func(DeviceCode), slowDown func(every time.Duration)) (*Pair, error) {
	conf := c.config("")
	tctx, k := c.traced(ctx, nil)
	da, err := conf.DeviceAuth(tctx)
	if err != nil {
		return nil, classify("ask for a device code", k, err)
	}
	show(DeviceCode{URI: da.VerificationURI, Complete: da.VerificationURIComplete, UserCode: da.UserCode, Expiry: da.Expiry})
	// As x/oauth2 counts it: RFC 8628 §3.2's 5 s when GitLab gives none.
	interval := 5 * time.Second
	if da.Interval > 0 {
		interval = time.Duration(da.Interval) * time.Second
	}
	pctx, k := c.traced(ctx, func(resp *http.Response) {
		if resp.StatusCode != http.StatusBadRequest {
			return
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte(`"slow_down"`)) {
			// x/oauth2 adds 5 s as RFC 8628 §3.5 says.
			interval += 5 * time.Second
			if slowDown != nil {
				slowDown(interval)
			}
		}
	})
	start := c.now()
	t, err := conf.DeviceAccessToken(pctx, da)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		// x/oauth2 stops polling when the code expires.
		return nil, &Error{Op: "wait for the device code", Kind: ErrExpired}
	default:
		return nil, classify("wait for the device code", k, err)
	}
	p, err := c.pair(t, start)
	if err != nil {
		return nil, &Error{Op: "wait for the device code", Kind: ErrNoAnswer, Err: err}
	}
	return p, nil
}

func page(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>git-credential-glpat</title></head><body><p>%s</p></body></html>\n", html.EscapeString(text))
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
