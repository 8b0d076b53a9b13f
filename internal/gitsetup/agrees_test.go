package gitsetup

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSetupWarningAgreesWithGit holds setup's "git still asks …" warning
// against the real git: after setup, a helper is configured under a URL
// pattern (after setup's lines), setup runs again, and the warning must
// say something exactly when `git credential fill` asks a helper other
// than this one, or not this one (with useHttpPath, for a repository
// path). The patterns come from git's urlmatch.c
// and its tests (t0110-urlmatch-normalization.sh, t1300's urlmatch tests,
// t0300-credentials.sh).
func TestSetupWarningAgreesWithGit(t *testing.T) {
	gitlab8443 := Host{Host: "[::1]:8443"}
	withPath := Host{Host: "gitlab.com", UseHTTPPath: true}
	tests := []struct {
		host    Host
		section string // appended after setup's lines; "" appends nothing
		path    string // the repository path git sends, with useHttpPath
	}{
		{gitlab, `[credential "https://user@gitlab.com"]`, ""},
		{gitlab, `[credential "https://alice:pw@gitlab.com"]`, ""},
		{gitlab, `[credential "https://@gitlab.com"]`, ""},
		{gitlab, `[credential "https://gitl?b.com"]`, ""},
		{gitlab, `[credential "https://[a-z]itlab.com"]`, ""},
		{gitlab, `[credential "https://git*.com"]`, ""},
		{gitlab, `[credential "https://*.gitlab.com"]`, ""},
		{gitlab, `[credential "https://*.com"]`, ""},
		{gitlab, `[credential "https://*.*"]`, ""},
		{gitlab, `[credential "https://*"]`, ""},
		{gitlab, `[credential "*"]`, ""},
		{gitlab, "", ""}, // a second helper in setup's own section
		{gitlab, `[credential "https://gitlab.com"]`, ""},
		{gitlab, `[credential "https://gitlab.com/"]`, ""},
		{gitlab, `[credential "https://gitlab.com/."]`, ""},
		{gitlab, `[credential "https://gitlab.com/x/.."]`, ""},
		{gitlab, `[credential "https://gitlab.com/.."]`, ""},
		{gitlab, `[credential "https://gitlab.com/%2e"]`, ""},
		{gitlab, `[credential "https://gitlab.com/group"]`, ""},
		{gitlab, `[credential "https://gitlab.com?x"]`, ""},
		{gitlab, `[credential "https://gitlab.com#x"]`, ""},
		{gitlab, `[credential "https://gitlab.%63om"]`, ""},
		{gitlab, `[credential "https://%67itlab.com"]`, ""},
		{gitlab, `[credential "https://gitlab%2ecom"]`, ""},
		{gitlab, `[credential "https://gitlab.com."]`, ""},
		{gitlab, `[credential "https://gitlab.com.."]`, ""},
		{gitlab, `[credential "https://.gitlab.com"]`, ""},
		{gitlab, `[credential "https://GitLab.COM"]`, ""},
		{gitlab, `[credential "HTTPS://gitlab.com"]`, ""},
		{gitlab, `[credential "http://gitlab.com"]`, ""},
		{gitlab, `[credential "https://gitlab.co"]`, ""},
		{gitlab, `[credential "https://gitlab.com:443"]`, ""},
		{gitlab, `[credential "https://gitlab.com:0443"]`, ""},
		{gitlab, `[credential "https://gitlab.com:"]`, ""},
		{gitlab, `[credential "https://gitlab.com:8443"]`, ""},
		{gitlab, `[credential "https://gitlab.com:0"]`, ""},
		{gitlab, `[credential "https://gitlab.com:99999"]`, ""},
		{gitlab, `[credential "https://"]`, ""},
		{gitlab, `[credential "gitlab.com"]`, ""},
		{gitlab, `[credential "GitLab.com"]`, ""},
		{gitlab, `[credential "gitlab.com:443"]`, ""},
		{gitlab, `[credential "gitlab.com/group"]`, ""},
		{gitlab, `[credential "alice@gitlab.com"]`, ""},
		{gitlab, `[credential "https://gitlab.com/%zz"]`, ""},
		{gitlab, `[credential "https://gitlab.com/a b"]`, ""},
		{gitlab, `[credential "https://gitlab.com:443/"]`, ""},
		{gitlab, `[credential]`, ""},
		{gitlab8443, "", ""},
		{gitlab8443, `[credential "https://[::1]:8443"]`, ""},
		{gitlab8443, `[credential "https://[::1]"]`, ""},
		{gitlab8443, `[credential "https://[::1]:08443/"]`, ""},
		{gitlab8443, `[credential "https://[0:0::1]:8443"]`, ""},
		{gitlab8443, `[credential "[::1]:8443"]`, ""},
		{gitlab8443, `[credential "https://*:8443"]`, ""},
		{withPath, `[credential "https://gitlab.com/group"]`, "group/app.git"},
		{withPath, `[credential "https://gitlab.com/group/app.git"]`, "group/app.git"},
		{withPath, `[credential "https://alice@gitlab.com/group"]`, "group/app.git"},
		{withPath, `[credential "https://gitlab.com"]`, "group/app.git"},
	}
	for _, tt := range tests {
		name := tt.host.Host + " " + tt.section + " " + tt.path
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			asked := e.helperScripts()
			e.setup(tt.host)
			f, err := os.OpenFile(e.global, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tt.section != "" {
				f.WriteString(tt.section + "\n")
			}
			f.WriteString("\thelper = other\n")
			f.Close()

			changes := e.setup(tt.host)
			warning := changes[0].Warning
			got := asked(tt.host, tt.path)
			gitAsksOthers := !slices.Equal(got, []string{"glpat"})
			if gitAsksOthers != (warning != "") {
				t.Errorf("git asks %q for %s; setup's warning: %q\nconfig:\n%s", got, tt.host.URL(), warning, e.readGlobal())
			}
			if warning != "" && !strings.Contains(warning, "credential.") {
				t.Errorf("warning names no config key: %q", warning)
			}
		})
	}
}

// helperScripts makes opts.Binary and git-credential-other (on PATH)
// scripts that log their name and answer nothing, and returns a function
// that runs `git credential fill` for a host and lists the helpers git
// asked, in order.
func (e *testEnv) helperScripts() func(h Host, path string) []string {
	e.t.Helper()
	bin := filepath.Dir(e.opts.Binary)
	log := filepath.Join(e.dir, "asked.log")
	if err := os.MkdirAll(bin, 0o700); err != nil {
		e.t.Fatal(err)
	}
	for name, path := range map[string]string{"glpat": e.opts.Binary, "other": filepath.Join(bin, "git-credential-other")} {
		script := "#!/bin/sh\necho " + name + " >> '" + log + "'\ncat >/dev/null\n"
		if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
			e.t.Fatal(err)
		}
	}
	e.t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	e.t.Setenv("GIT_ASKPASS", "")
	e.t.Setenv("SSH_ASKPASS", "")
	return func(h Host, path string) []string {
		e.t.Helper()
		os.Remove(log)
		protocol, host, _ := strings.Cut(h.URL(), "://")
		cmd := exec.Command("git", "credential", "fill")
		cmd.Dir = e.dir
		in := "protocol=" + protocol + "\nhost=" + host + "\n"
		if path != "" {
			in += "path=" + path + "\n"
		}
		cmd.Stdin = strings.NewReader(in)
		cmd.Run() // fails: nobody answers and prompts are off
		b, _ := os.ReadFile(log)
		return strings.Fields(string(b))
	}
}
