package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/account"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/gitconfig"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
	"github.com/glpat-dev/git-credential-glpat/internal/keychain"
	"github.com/glpat-dev/git-credential-glpat/internal/lifecycle"
	"github.com/glpat-dev/git-credential-glpat/internal/schedule"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets/secretstest"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// fakeGit answers git commands from a table keyed by the joined arguments.
type fakeGit map[string]struct {
	out string
	err error
}

func (f fakeGit) Git(_ context.Context, args ...string) ([]byte, error) {
	r, ok := f[strings.Join(args, " ")]
	if !ok {
		return nil, fmt.Errorf("fakeGit: unexpected git %s", strings.Join(args, " "))
	}
	return []byte(r.out), r.err
}

func TestCheckGit(t *testing.T) {
	tests := []struct {
		name       string
		out        string
		err        error
		wantStatus string
		wantOK     bool
		want       []string
	}{
		{"current", "git version 2.47.1\n", nil, StatusOK, true, []string{"git version 2.47.1"}},
		{"windows", "git version 2.45.1.windows.1\n", nil, StatusOK, true, []string{"2.45.1.windows.1"}},
		{"2.40 lacks wwwauth", "git version 2.40.0\n", nil, StatusOK, true, []string{"2.41+ would also send wwwauth[]"}},
		{"apple 2.39", "git version 2.39.3 (Apple Git-146)\n", nil, StatusInfo, true, []string{"(Apple Git-146) works", "2.40+ would also read password_expiry_utc", "wwwauth[]"}},
		{"too old for setup", "git version 2.25.1\n", nil, StatusWarn, true, []string{"older than 2.30", "--fixed-value", "password_expiry_utc"}},
		{"missing", "", &exec.Error{Name: "git", Err: exec.ErrNotFound}, StatusFail, false, []string{"not on PATH"}},
		{"broken", "", &gitconfig.Error{Args: []string{"version"}, ExitCode: 126, Stderr: "permission denied"}, StatusFail, false, []string{"permission denied"}},
		{"not git", "hello\n", nil, StatusWarn, false, []string{`"hello"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{Git: fakeGit{"version": {tt.out, tt.err}}}.withDefaults()
			c, _, ok := checkGit(context.Background(), e)
			if c.Status != tt.wantStatus || ok != tt.wantOK {
				t.Errorf("got %q, ok %v; want %q, ok %v (detail %q)", c.Status, ok, tt.wantStatus, tt.wantOK, c.Detail)
			}
			for _, w := range tt.want {
				if !strings.Contains(c.Detail, w) {
					t.Errorf("detail %q does not say %q", c.Detail, w)
				}
			}
			if (c.Status == StatusOK || c.Status == StatusInfo) != (c.Fix == "") {
				t.Errorf("status %q with fix %q: only problems have fixes", c.Status, c.Fix)
			}
		})
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", "rotate_before = \"14d\"\n[hosts.\"gitlab.example.com\"]\n")
	typo := write("typo.toml", "rotate_before = \"14d\"\nauto_rotat = true\n")
	syntax := write("syntax.toml", "rotate_before = \n")
	tests := []struct {
		name       string
		path       string
		pathErr    error
		wantStatus string
		wantDetail []string
		wantFix    []string
		wantRB     config.Duration
	}{
		{"missing file", filepath.Join(dir, "none.toml"), nil, StatusOK, []string{"no config file", "using the defaults", "rotate_before 30d"}, nil, config.DefaultRotateBefore},
		{"good file", good, nil, StatusOK, []string{good, "1 host (gitlab.example.com)", "rotate_before 14d"}, nil, config.Duration(14 * config.Day)},
		{"unknown key", typo, nil, StatusFail, []string{"typo.toml:2", "auto_rotat"}, []string{"line 2: correct or remove auto_rotat", "default settings"}, config.DefaultRotateBefore},
		{"bad syntax", syntax, nil, StatusFail, []string{"syntax.toml"}, []string{"TOML syntax", "line 1"}, config.DefaultRotateBefore},
		{"bad GLPAT_CONFIG", "", errors.New(`config: GLPAT_CONFIG="x.toml" is not an absolute path`), StatusFail, []string{"not an absolute path"}, []string{"GLPAT_CONFIG"}, config.DefaultRotateBefore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{ConfigPath: func() (string, error) { return tt.path, tt.pathErr }}.withDefaults()
			c, cfg := checkConfig(e)
			if c.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q (detail %q)", c.Status, tt.wantStatus, c.Detail)
			}
			for _, w := range tt.wantDetail {
				if !strings.Contains(c.Detail, w) {
					t.Errorf("detail %q does not say %q", c.Detail, w)
				}
			}
			for _, w := range tt.wantFix {
				if !strings.Contains(c.Fix, w) {
					t.Errorf("fix %q does not say %q", c.Fix, w)
				}
			}
			if cfg == nil || cfg.RotateBefore != tt.wantRB {
				t.Errorf("config for the other checks: %+v, want rotate_before %s", cfg, tt.wantRB)
			}
		})
	}
}

// fakeSecrets answers every Get with err.
type fakeSecrets struct{ err error }

func (f fakeSecrets) Get(context.Context, string) (string, error) { return "", f.err }
func (f fakeSecrets) Set(context.Context, string, string) error   { return f.err }
func (f fakeSecrets) Delete(context.Context, string) error        { return f.err }

func TestCheckSecrets(t *testing.T) {
	notFound := fmt.Errorf("keychain: get: %w", secrets.ErrNotFound)
	noBus := fmt.Errorf("keychain: get: %w: DBUS_SESSION_BUS_ADDRESS is unset and /run/user/1000/bus does not exist", keychain.ErrNoSessionBus)
	noService := fmt.Errorf("keychain: get: %w", keychain.ErrNoSecretService)
	locked := fmt.Errorf("keychain: get: %w", secrets.ErrLocked)
	timeout := fmt.Errorf("keychain: get: %w", secrets.ErrTimeout)
	wsl := map[string]string{"/proc/sys/kernel/osrelease": "5.15.153.1-microsoft-standard-WSL2\n"}
	native := map[string]string{"/proc/sys/kernel/osrelease": "6.1.0-28-amd64\n"}
	ssh := map[string]string{"SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22"}
	sshWithX := map[string]string{"SSH_CONNECTION": "10.0.0.2 50000 10.0.0.1 22", "DISPLAY": "localhost:10.0"}
	display := map[string]string{"WAYLAND_DISPLAY": "wayland-0"}
	tests := []struct {
		name       string
		goos       string
		backend    config.Backend
		err        error
		files, env map[string]string
		wantStatus string
		wantFix    []string
		wantNotFix []string
	}{
		{"working", "linux", "", notFound, native, nil, StatusOK, nil, nil},
		{"working, found", "darwin", "", nil, nil, nil, StatusOK, nil, nil},
		{"no bus on a desktop machine", "linux", "", noBus, native, nil, StatusFail, []string{"desktop login", "cron job", "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus", "migrate --to kernel", "dbus-run-session", "never starts dbus-launch"}, []string{"WSL", "SSH", "$UID"}},
		{"no bus on WSL", "linux", "", noBus, wsl, nil, StatusFail, []string{"WSL", "systemd=true", "encrypted-file"}, []string{"SSH session"}},
		{"no bus over SSH", "linux", "", noBus, native, ssh, StatusFail, []string{"SSH session without a desktop", "pam_systemd", "dbus-run-session"}, []string{"WSL"}},
		{"no bus over SSH with X forwarding", "linux", "", noBus, native, sshWithX, StatusFail, []string{"desktop login"}, []string{"SSH session without a desktop"}},
		{"no secret service", "linux", "", noService, native, nil, StatusFail, []string{"gnome-keyring", "KeePassXC"}, nil},
		{"no secret service on WSL", "linux", "", noService, wsl, nil, StatusFail, []string{"WSL starts no keyring", "--unlock"}, nil},
		{"no secret service over SSH", "linux", "", noService, native, ssh, StatusFail, []string{"SSH session's bus", "--unlock"}, nil},
		{"locked desktop", "linux", "", locked, native, display, StatusFail, []string{"Seahorse"}, []string{"gnome-keyring-daemon"}},
		{"locked without a display", "linux", "", locked, native, nil, StatusFail, []string{"no unlock prompt can reach you", "--unlock"}, []string{"Seahorse"}},
		{"locked over SSH", "linux", "", locked, native, ssh, StatusFail, []string{"no unlock prompt can reach you", "--unlock"}, []string{"Seahorse"}},
		{"locked on WSL", "linux", "", locked, wsl, nil, StatusFail, []string{"no unlock prompt can reach you"}, nil},
		{"locked mac", "darwin", "", locked, nil, nil, StatusFail, []string{"security unlock-keychain", "Keychain Access"}, nil},
		{"locked mac over SSH", "darwin", "", locked, nil, ssh, StatusFail, []string{"over SSH", "security unlock-keychain"}, []string{"Keychain Access"}},
		{"timeout", "linux", "", timeout, native, nil, StatusFail, []string{"prompt may be waiting", "GLPAT_KEYCHAIN_TIMEOUT"}, nil},
		{"unsupported", "freebsd", "", fmt.Errorf("keychain: get: %w", secrets.ErrUnavailable), nil, nil, StatusFail, []string{"encrypted-file"}, nil},
		{"encrypted file locked", "linux", config.BackendEncryptedFile, locked, native, nil, StatusFail, []string{"git-credential-glpat unlock"}, nil},
		{"encrypted file working", "linux", config.BackendEncryptedFile, notFound, native, nil, StatusOK, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{
				Secrets: fakeSecrets{tt.err},
				GOOS:    tt.goos,
				Getenv:  func(k string) string { return tt.env[k] },
				Getuid:  func() int { return 1000 },
				ReadFile: func(name string) ([]byte, error) {
					if s, ok := tt.files[name]; ok {
						return []byte(s), nil
					}
					return nil, os.ErrNotExist
				},
			}.withDefaults()
			c := checkSecrets(context.Background(), e, tt.backend)
			if c.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q", c.Status, tt.wantStatus)
			}
			// The check is named "keychain": its detail does not say
			// "keychain: get:" again.
			if want := strings.TrimPrefix(fmt.Sprint(tt.err), "keychain: get: "); tt.err != nil && !errors.Is(tt.err, secrets.ErrNotFound) && c.Detail != want {
				t.Errorf("detail = %q, want %q", c.Detail, want)
			}
			for _, w := range tt.wantFix {
				if !strings.Contains(c.Fix, w) {
					t.Errorf("fix %q\n does not say %q", c.Fix, w)
				}
			}
			for _, w := range tt.wantNotFix {
				if strings.Contains(c.Fix, w) {
					t.Errorf("fix %q\n says %q, which is for another situation", c.Fix, w)
				}
			}
		})
	}
}

// fakeAccounts reports fixed entries.
type fakeAccounts struct {
	entries []account.Entry
	err     error
	offline *bool
}

func (f fakeAccounts) Status(_ context.Context, _ hostarg.Host, o account.StatusOptions) ([]account.Entry, error) {
	if f.offline != nil {
		*f.offline = o.Offline
	}
	return f.entries, f.err
}

// checkNow is the clock of the token checks: 40 days before the tokens
// of managed expire.
var checkNow = time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)

// managed is status's entry (account.Service.Status, offline, at
// checkNow) for alice's token "laptop" on gitlab.com, which expires
// 2026-03-01 and may rotate itself, after mod changes its record; with
// auto_rotate off when manual.
func managed(t *testing.T, manual bool, mod func(*store.Record)) account.Entry {
	t.Helper()
	rec := &store.Record{Protocol: "https", Host: "gitlab.com", Username: "alice",
		Token: &store.Token{ID: 1, Name: "laptop", ExpiresAt: "2026-03-01", Scopes: []string{"read_repository", "write_repository", "self_rotate"}}}
	if mod != nil {
		mod(rec)
	}
	return statusEntry(t, rec, config.Default(), manual)
}

// statusEntry is status's entry (account.Service.Status, offline, at
// checkNow) for rec with the settings cfg gives its host; auto_rotate off
// when manual. A token named "recovered" has a token waiting in its
// recovery file.
func statusEntry(t *testing.T, rec *store.Record, cfg *config.Config, manual bool) account.Entry {
	t.Helper()
	dir := t.TempDir()
	st := &store.Store{Secrets: new(secretstest.Memory), Dir: filepath.Join(dir, "index"), Backend: "keyring"}
	if err := st.Put(context.Background(), rec, &store.Secret{Password: "glpat-laptop"}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return checkNow }
	m := &lifecycle.Manager{Store: st, StateDir: dir, Now: now, Settings: func(r *store.Record) lifecycle.Settings {
		s := lifecycle.HostSettings(cfg.Host(r.Host))
		s.AutoRotate = !manual
		return s
	}}
	if rec.Token != nil && rec.Token.Name == "recovered" {
		f := filepath.Join(dir, "recovery", store.EscapeName(rec.Account)+".token")
		os.MkdirAll(filepath.Dir(f), 0o700)
		os.WriteFile(f, []byte("glpat-successor\n"), 0o600)
	}
	svc := &account.Service{Store: st, Config: cfg, Lifecycle: m, Now: now}
	entries, err := svc.Status(context.Background(), hostarg.Host{}, account.StatusOptions{Offline: true})
	if err != nil || len(entries) != 1 {
		t.Fatalf("status: %v, %v", entries, err)
	}
	return entries[0]
}

func TestCheckTokens(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name       string
		manual     bool
		mod        func(*store.Record)
		wantStatus string
		wantDetail []string
		wantFix    []string
	}{
		{"ok", false, nil, StatusOK, []string{`token "laptop" expires 2026-03-01 (00:00 UTC), 40 days left`, "rotates itself when less than 30d is left"}, nil},
		{"ok, manual rotation", true, nil, StatusOK, []string{"auto_rotate = false"}, nil},
		{"never expires", false, func(r *store.Record) { r.Token.ExpiresAt = "" }, StatusOK, []string{"never expires"}, nil},
		{"rotation due", false, func(r *store.Record) { r.Token.ExpiresAt = "2026-01-23" }, StatusOK, []string{"3 days left", "rotation is due"}, nil},
		{"due, cannot rotate", false, func(r *store.Record) { r.Token.ExpiresAt, r.Token.Scopes = "2026-01-23", []string{"write_repository"} }, StatusWarn, []string{"cannot rotate itself", "self_rotate"}, []string{"login gitlab.com"}},
		{"due, auto_rotate off", true, func(r *store.Record) { r.Token.ExpiresAt = "2026-01-23" }, StatusWarn, []string{"auto_rotate is off"}, []string{"rotate gitlab.com", "schedule install"}},
		{"rotation failed", false, func(r *store.Record) {
			r.Token.ExpiresAt, r.Token.RotateFailedAt, r.Token.RotateError = "2026-01-23", checkNow.Add(-time.Minute), "gitlab: rotate: 502"
		}, StatusWarn, []string{"the last rotation failed: gitlab: rotate: 502"}, []string{"rotate gitlab.com"}},
		{"cannot rotate, not due", false, func(r *store.Record) { r.Token.Scopes = []string{"write_repository"} }, StatusOK, []string{"40 days left", "cannot rotate itself"}, nil},
		{"expired", false, func(r *store.Record) { r.Token.ExpiresAt = "2026-01-18" }, StatusFail, []string{"expired on 2026-01-18"}, []string{"login gitlab.com"}},
		{"revoked", false, func(r *store.Record) { r.Token.Dead, r.Token.DeadAt = store.DeadRevoked, checkNow.Add(-day) }, StatusFail, []string{"revoked"}, []string{"login gitlab.com"}},
		{"recovery file", false, func(r *store.Record) { r.Token.Name = "recovered" }, StatusFail, []string{"waits in", "recovery"}, []string{"--token-stdin <"}},
		{"unverified", false, func(r *store.Record) { r.Token.Unverified = true }, StatusWarn, []string{"not checked yet"}, []string{"status gitlab.com"}},
		{"path account", false, func(r *store.Record) { r.Path = "acme" }, StatusOK, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entry := managed(t, tt.manual, tt.mod)
			checkToken(t, entry, tt.wantStatus, tt.wantDetail, tt.wantFix)
		})
	}
	t.Run("api unreachable", func(t *testing.T) {
		entry := managed(t, false, nil)
		entry.APIError = "gitlab: self: connection refused"
		checkToken(t, entry, StatusInfo, []string{"connection refused", "as last known"}, []string{"api_url and ca_file"})
	})
}

func checkToken(t *testing.T, entry account.Entry, wantStatus string, wantDetail, wantFix []string) {
	t.Helper()
	e := Env{Accounts: fakeAccounts{entries: []account.Entry{entry}}}.withDefaults()
	_, checks := checkTokens(context.Background(), e, config.Default())
	if len(checks) != 1 {
		t.Fatalf("got %d checks, want 1: %+v", len(checks), checks)
	}
	c := checks[0]
	wantName := "token gitlab.com (alice)"
	if entry.Path != "" {
		wantName = "token gitlab.com/" + entry.Path + " (alice)"
	}
	if c.Name != wantName {
		t.Errorf("name = %q, want %q", c.Name, wantName)
	}
	if c.Status != wantStatus {
		t.Errorf("status = %q, want %q (detail %q)", c.Status, wantStatus, c.Detail)
	}
	for _, w := range wantDetail {
		if !strings.Contains(c.Detail, w) {
			t.Errorf("detail %q does not say %q", c.Detail, w)
		}
	}
	for _, w := range wantFix {
		if !strings.Contains(c.Fix, w) {
			t.Errorf("fix %q does not say %q", c.Fix, w)
		}
	}
	if (c.Status == StatusWarn || c.Status == StatusFail) != (entry.Level != lifecycle.OK) {
		t.Errorf("doctor says %s of a credential at level %v", c.Status, entry.Level)
	}
}

func TestCheckTokensListing(t *testing.T) {
	plain := account.Entry{Host: "github.com", Protocol: "https", Username: "bob"}
	tests := []struct {
		name      string
		accounts  fakeAccounts
		wantNames []string
		want      []string // statuses, in order
	}{
		{"nothing stored", fakeAccounts{}, []string{"tokens"}, []string{StatusInfo}},
		{"plain credentials", fakeAccounts{entries: []account.Entry{plain, managed(t, false, nil)}}, []string{"token gitlab.com (alice)", "other credentials"}, []string{StatusOK, StatusInfo}},
		{"keychain down", fakeAccounts{err: fmt.Errorf("keychain: get: %w", secrets.ErrLocked)}, []string{"tokens"}, []string{StatusFail}},
		{"partly listed", fakeAccounts{entries: []account.Entry{managed(t, false, nil)}, err: errors.New("store: index file is corrupt")}, []string{"tokens", "token gitlab.com (alice)"}, []string{StatusFail, StatusOK}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{Accounts: tt.accounts}.withDefaults()
			_, checks := checkTokens(context.Background(), e, config.Default())
			var names, statuses []string
			for _, c := range checks {
				names, statuses = append(names, c.Name), append(statuses, c.Status)
			}
			if !slices.Equal(names, tt.wantNames) || !slices.Equal(statuses, tt.want) {
				t.Errorf("got %q %q, want %q %q", names, statuses, tt.wantNames, tt.want)
			}
		})
	}
}

func TestCheckClock(t *testing.T) {
	now := time.Date(2026, 1, 20, 23, 58, 0, 0, time.UTC)
	at := func(d time.Duration) func(context.Context, string, string) (time.Time, error) {
		return func(context.Context, string, string) (time.Time, error) { return now.Add(d).Truncate(time.Second), nil }
	}
	down := func(context.Context, string, string) (time.Time, error) {
		return time.Time{}, errors.New("gitlab: read server time: connection refused")
	}
	gl := hostarg.Host{Protocol: "https", Name: "gitlab.com"}
	ex := hostarg.Host{Protocol: "https", Name: "gitlab.example.com"}
	tests := []struct {
		name       string
		serverTime func(context.Context, string, string) (time.Time, error)
		hosts      []hostarg.Host
		wantStatus string
		want       []string
	}{
		{"same time", at(0), []hostarg.Host{gl}, StatusOK, []string{"within", "gitlab.com"}},
		{"just under the limit", at(-MaxClockSkew + time.Second), []hostarg.Host{gl}, StatusOK, []string{"within 4m59"}},
		{"ahead", at(-(MaxClockSkew + 2*time.Second)), []hostarg.Host{gl}, StatusWarn, []string{"5m2s ahead of gitlab.com's", "00:00 UTC"}},
		{"behind", at(3 * time.Hour), []hostarg.Host{gl}, StatusWarn, []string{"3h0m", "behind gitlab.com's"}},
		{"first host down", func(ctx context.Context, api, ca string) (time.Time, error) {
			if strings.Contains(api, "gitlab.com") {
				return down(ctx, api, ca)
			}
			return at(0)(ctx, api, ca)
		}, []hostarg.Host{gl, ex}, StatusOK, []string{"gitlab.example.com"}},
		{"all down", down, []hostarg.Host{gl, ex}, StatusInfo, []string{"could not compare", "gitlab.com: gitlab: read server time: connection refused", "gitlab.example.com:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{Now: func() time.Time { return now }, ServerTime: tt.serverTime, GOOS: "linux", ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}.withDefaults()
			c := checkClock(context.Background(), e, config.Default(), tt.hosts)
			if c.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q (detail %q)", c.Status, tt.wantStatus, c.Detail)
			}
			for _, w := range tt.want {
				if !strings.Contains(c.Detail, w) {
					t.Errorf("detail %q does not say %q", c.Detail, w)
				}
			}
			if c.Status == StatusWarn && !strings.Contains(c.Fix, "timedatectl") {
				t.Errorf("fix %q does not say how to set the clock on Linux", c.Fix)
			}
		})
	}
}

// The clock is read where the host's tokens are sent (config.TokenAPIURL):
// the configured api_url, else https://HOST/api/v4, also for a host whose
// credentials Git stored for http. Plain http only where the config says.
func TestCheckClockAsksWhereTokensAreSent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[hosts.\"127.0.0.1:8929\"]\napi_url = \"http://127.0.0.1:8929/api/v4\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	configured, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  *config.Config
		want string
	}{
		{"derived", config.Default(), "https://127.0.0.1:8929/api/v4"},
		{"configured", configured, "http://127.0.0.1:8929/api/v4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			e := Env{ServerTime: func(_ context.Context, apiURL, _ string) (time.Time, error) {
				asked = append(asked, apiURL)
				return time.Now(), nil
			}}.withDefaults()
			checkClock(context.Background(), e, tt.cfg, []hostarg.Host{{Protocol: "http", Name: "127.0.0.1:8929"}})
			if !slices.Equal(asked, []string{tt.want}) {
				t.Errorf("asked %q, want %q", asked, tt.want)
			}
		})
	}
}

func TestClockFixByPlatform(t *testing.T) {
	tests := []struct {
		p    platform
		want string
	}{
		{platform{goos: "linux"}, "timedatectl set-ntp true"},
		{platform{goos: "linux", wsl: true}, "hwclock -s"},
		{platform{goos: "darwin"}, "Set time and date automatically"},
		{platform{goos: "windows"}, "Sync now"},
	}
	for _, tt := range tests {
		if got := clockFix(tt.p); !strings.Contains(got, tt.want) {
			t.Errorf("clockFix(%+v) = %q, want it to say %q", tt.p, got, tt.want)
		}
	}
}

func TestCheckSchedule(t *testing.T) {
	enabled := schedule.Status{Scheduler: "systemd", Installed: true, State: "enabled", Current: true, Detail: "systemd user timer git-credential-glpat-rotate.timer in /h/.config/systemd/user, enabled"}
	tests := []struct {
		name       string
		st         schedule.Status
		err        error
		entries    []account.Entry
		wantStatus string
		want       string
	}{
		{"installed", enabled, nil, nil, StatusOK, "systemd user timer"},
		{"installed, cannot ask systemctl", schedule.Status{Installed: true, State: "unknown", Current: true, Detail: "systemd user timer …"}, nil, nil, StatusOK, "systemd user timer"},
		{"installed, disabled", schedule.Status{Installed: true, State: "disabled", Current: true, Detail: "systemd user timer …, disabled"}, nil, nil, StatusWarn, "it does not run"},
		{"installed, old program path", schedule.Status{Installed: true, State: "enabled", Current: false, Detail: "…; it does not run /usr/bin/git-credential-glpat"}, nil, nil, StatusWarn, "schedule install` again"},
		{"not installed", schedule.Status{}, nil, []account.Entry{managed(t, false, nil)}, StatusInfo, "schedule install"},
		{"not installed, manual rotation", schedule.Status{}, nil, []account.Entry{managed(t, true, nil)}, StatusWarn, "auto_rotate is off for gitlab.com"},
		{"not installed, manual but expired", schedule.Status{}, nil, []account.Entry{managed(t, true, func(r *store.Record) { r.Token.ExpiresAt = "2026-01-18" })}, StatusInfo, "not installed"},
		{"cannot tell", schedule.Status{}, errors.New("schedule: no home directory"), nil, StatusInfo, "no home directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{Schedule: func(context.Context) (schedule.Status, error) { return tt.st, tt.err }}.withDefaults()
			c := checkSchedule(context.Background(), e, config.Default(), tt.entries)
			if c.Status != tt.wantStatus || !strings.Contains(c.Detail+c.Fix, tt.want) {
				t.Errorf("got %q %q (fix %q); want %q saying %q", c.Status, c.Detail, c.Fix, tt.wantStatus, tt.want)
			}
		})
	}
}

// TestCheckScheduleWhereNoSchedulerRuns: where no systemd user manager
// runs, `schedule install` cannot help; doctor gives the crontab line, and
// with the OS keychain what cron needs to reach it.
func TestCheckScheduleWhereNoSchedulerRuns(t *testing.T) {
	const line = "0 12 * * * DBUS_SESSION_BUS_ADDRESS='unix:path=/run/user/1000/bus' /usr/bin/git-credential-glpat rotate --all"
	none := "systemctl --user reaches no systemd user manager from here (systemctl: Failed to connect to bus: No medium found)"
	tests := []struct {
		name       string
		st         schedule.Status
		entries    []account.Entry
		wantStatus string
	}{
		{"installed, never enabled", schedule.Status{Installed: true, State: "disabled", Current: true, Detail: "systemd user timer …, disabled", NoScheduler: none, Crontab: line}, nil, StatusWarn},
		{"not installed", schedule.Status{NoScheduler: none, Crontab: line}, []account.Entry{managed(t, false, nil)}, StatusInfo},
		{"not installed, manual rotation", schedule.Status{NoScheduler: none, Crontab: line}, []account.Entry{managed(t, true, nil)}, StatusWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Env{Schedule: func(context.Context) (schedule.Status, error) { return tt.st, nil }, Getuid: func() int { return 1000 }}.withDefaults()
			c := checkSchedule(context.Background(), e, config.Default(), tt.entries)
			all := c.Detail + " " + c.Fix
			if c.Status != tt.wantStatus || !strings.Contains(c.Fix, "crontab -e") || !strings.Contains(c.Fix, line) || !strings.Contains(all, "no systemd user manager") ||
				!strings.Contains(c.Fix, "while you are logged in") || strings.Contains(all, "`git-credential-glpat schedule install`") {
				t.Errorf("got %q\ndetail %q\nfix %q\nwant %q with the crontab line and what cron needs, not schedule install", c.Status, c.Detail, c.Fix, tt.wantStatus)
			}
		})
	}
}

// TestRun runs every check over fakes and checks their order, the JSON
// and the text report.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte("[hosts.\"gitlab.example.com\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "git-credential-glpat")
	configList := "global\x00file:/home/a/.gitconfig\x00credential.https://gitlab.example.com.helper\n\x00" +
		"global\x00file:/home/a/.gitconfig\x00credential.https://gitlab.example.com.helper\n" + bin + "\x00"
	var offline bool
	env := Env{
		Git: fakeGit{
			"version": {"git version 2.47.0\n", nil},
			"config --show-scope --show-origin -z --get-regexp ^credential\\.": {configList, nil},
		},
		Secrets:  fakeSecrets{secrets.ErrNotFound},
		Accounts: fakeAccounts{entries: []account.Entry{managed(t, false, func(r *store.Record) { r.Token.ExpiresAt = "2026-01-18" })}, offline: &offline},
		Schedule: func(context.Context) (schedule.Status, error) { return schedule.Status{}, nil },
		ServerTime: func(context.Context, string, string) (time.Time, error) {
			return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil
		},
		ConfigPath: func() (string, error) { return cfgPath, nil },
		Now:        func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		Getenv:     func(string) string { return "" },
		ReadFile:   func(string) ([]byte, error) { return nil, os.ErrNotExist },
		Stat:       os.Stat,
		LookPath:   func(string) (string, error) { return "", exec.ErrNotFound },
		Binary:     bin,
		GOOS:       "linux",
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	checks := Run(context.Background(), env)
	var names []string
	status := map[string]string{}
	for _, c := range checks {
		names = append(names, c.Name)
		status[c.Name] = c.Status
	}
	wantNames := []string{"git", "config", "keychain", "helpers for https://gitlab.example.com", "helpers for https://gitlab.com", "token gitlab.com (alice)", "clock", "scheduled rotation"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("checks:\n got %q\nwant %q", names, wantNames)
	}
	wantStatus := map[string]string{
		"git": StatusOK, "config": StatusOK, "keychain": StatusOK,
		"helpers for https://gitlab.example.com": StatusOK,
		"helpers for https://gitlab.com":         StatusFail, // the stored token's host is not set up
		"token gitlab.com (alice)":               StatusFail,
		"clock":                                  StatusOK,
		"scheduled rotation":                     StatusInfo,
	}
	for n, s := range wantStatus {
		if status[n] != s {
			t.Errorf("%s: status %q, want %q", n, status[n], s)
		}
	}
	if offline {
		t.Errorf("tokens were checked offline; want online by default")
	}
	if !NeedsAction(checks) {
		t.Errorf("NeedsAction = false with failing checks")
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, checks); err != nil {
		t.Fatal(err)
	}
	var back []Check
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || !slices.Equal(back, checks) {
		t.Errorf("JSON does not round-trip: %v\n%s", err, js.String())
	}
	if !strings.Contains(js.String(), `"status": "fail"`) || strings.Contains(js.String(), `"fix": ""`) {
		t.Errorf("JSON: want status fields and no empty fix:\n%s", js.String())
	}

	var txt bytes.Buffer
	if err := WriteText(&txt, checks, false); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"[ok]   git: git version 2.47.0\n", "[fail] token gitlab.com (alice): ", "       fix: create a new token", "\n2 failures need action\n"} {
		if !strings.Contains(txt.String(), w) {
			t.Errorf("text report does not contain %q:\n%s", w, txt.String())
		}
	}
	if strings.Contains(txt.String(), "\x1b[") {
		t.Errorf("text report without colour has escape sequences")
	}

	// Offline: no clock, tokens asked offline.
	env.Offline = true
	checks = Run(context.Background(), env)
	for _, c := range checks {
		if c.Name == "clock" {
			t.Errorf("offline run checked the clock")
		}
	}
	if !offline {
		t.Errorf("offline run asked for token state online")
	}
}

func TestNeedsAction(t *testing.T) {
	tests := []struct {
		name     string
		statuses []string
		want     bool
	}{
		{"none", nil, false},
		{"ok and info", []string{StatusOK, StatusInfo}, false},
		{"a warning", []string{StatusOK, StatusWarn}, true},
		{"a failure", []string{StatusFail}, true},
	}
	for _, tt := range tests {
		var checks []Check
		for _, s := range tt.statuses {
			checks = append(checks, Check{Name: "x", Status: s})
		}
		if got := NeedsAction(checks); got != tt.want {
			t.Errorf("%s: NeedsAction = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestWriteTextSummary(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		color  bool
		want   []string
	}{
		{"all fine", []Check{{Name: "git", Status: StatusOK, Detail: "git version 2.47.0"}}, false, []string{"no problems found"}},
		{"one warning", []Check{{Name: "clock", Status: StatusWarn, Detail: "off", Fix: "fix it"}}, false, []string{"[warn] clock: off\n       fix: fix it\n", "\n1 warning needs action\n"}},
		{"both", []Check{{Name: "git", Status: StatusFail, Detail: "x"}, {Name: "clock", Status: StatusWarn, Detail: "off"}, {Name: "a", Status: StatusWarn, Detail: "b"}}, false,
			[]string{"\n1 failure and 2 warnings need action\n"}},
		{"colour", []Check{{Name: "git", Status: StatusFail, Detail: "x"}}, true, []string{"\x1b[31m[fail]\x1b[0m git: x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteText(&b, tt.checks, tt.color); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("report does not contain %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// TestCheckClockAgainstServer reads the Date of a real HTTP answer through
// gitlabapi, as the doctor does by default.
func TestCheckClockAgainstServer(t *testing.T) {
	tests := []struct {
		name       string
		offset     time.Duration
		wantStatus string
	}{
		{"in step", 0, StatusOK},
		{"server ten minutes ahead", 10 * time.Minute, StatusWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked = r.Method + " " + r.URL.Path
				w.Header().Set("Date", time.Now().Add(tt.offset).UTC().Format(http.TimeFormat))
			}))
			defer srv.Close()
			e := Env{GOOS: "linux", ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}.withDefaults()
			h := hostarg.Host{Protocol: "http", Name: strings.TrimPrefix(srv.URL, "http://")}
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, fmt.Appendf(nil, "[hosts.%q]\napi_url = %q\n", h.Name, srv.URL+"/api/v4"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			c := checkClock(context.Background(), e, cfg, []hostarg.Host{h})
			if c.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q (detail %q)", c.Status, tt.wantStatus, c.Detail)
			}
			if asked != "HEAD /api/v4/version" {
				t.Errorf("the server was asked %q, want HEAD /api/v4/version", asked)
			}
		})
	}
}
