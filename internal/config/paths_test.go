package config

import (
	"path/filepath"
	"testing"
)

// env is a fake environment for the path functions.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func TestConfigPath(t *testing.T) {
	tests := []struct {
		name    string
		goos    string
		env     env
		want    string
		wantErr string
	}{
		{"GLPAT_CONFIG wins", "linux", env{"GLPAT_CONFIG": "/etc/glpat.toml", "XDG_CONFIG_HOME": "/x", "HOME": "/home/a"}, "/etc/glpat.toml", ""},
		{"GLPAT_CONFIG relative", "linux", env{"GLPAT_CONFIG": "glpat.toml"}, "", `config: GLPAT_CONFIG="glpat.toml" is not an absolute path`},
		{"XDG_CONFIG_HOME", "linux", env{"XDG_CONFIG_HOME": "/x", "HOME": "/home/a"}, "/x/git-credential-glpat/config.toml", ""},
		{"XDG_CONFIG_HOME on macOS too", "darwin", env{"XDG_CONFIG_HOME": "/x", "HOME": "/Users/a"}, "/x/git-credential-glpat/config.toml", ""},
		{"relative XDG_CONFIG_HOME ignored", "linux", env{"XDG_CONFIG_HOME": "rel", "HOME": "/home/a"}, "/home/a/.config/git-credential-glpat/config.toml", ""},
		{"linux default", "linux", env{"HOME": "/home/a"}, "/home/a/.config/git-credential-glpat/config.toml", ""},
		{"freebsd default", "freebsd", env{"HOME": "/home/a"}, "/home/a/.config/git-credential-glpat/config.toml", ""},
		{"macOS default", "darwin", env{"HOME": "/Users/a"}, "/Users/a/Library/Application Support/git-credential-glpat/config.toml", ""},
		{"windows default", "windows", env{"APPDATA": "/appdata", "USERPROFILE": "/u"}, filepath.Join("/appdata", "git-credential-glpat", "config.toml"), ""},
		{"windows without APPDATA", "windows", env{"USERPROFILE": "/u"}, "", "config: cannot find the config directory: %APPDATA% is not set"},
		{"no HOME", "linux", env{}, "", "config: cannot find the home directory: $HOME is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configPath(tt.goos, tt.env.get)
			checkPath(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestStateDir(t *testing.T) {
	tests := []struct {
		name    string
		goos    string
		env     env
		want    string
		wantErr string
	}{
		{"GLPAT_STATE_DIR wins", "linux", env{"GLPAT_STATE_DIR": "/s", "XDG_STATE_HOME": "/x", "HOME": "/home/a"}, "/s", ""},
		{"GLPAT_STATE_DIR relative", "linux", env{"GLPAT_STATE_DIR": "s"}, "", `config: GLPAT_STATE_DIR="s" is not an absolute path`},
		{"XDG_STATE_HOME", "linux", env{"XDG_STATE_HOME": "/x", "HOME": "/home/a"}, "/x/git-credential-glpat", ""},
		{"relative XDG_STATE_HOME ignored", "linux", env{"XDG_STATE_HOME": "x", "HOME": "/home/a"}, "/home/a/.local/state/git-credential-glpat", ""},
		{"linux default", "linux", env{"HOME": "/home/a"}, "/home/a/.local/state/git-credential-glpat", ""},
		{"macOS default", "darwin", env{"HOME": "/Users/a"}, "/Users/a/Library/Application Support/git-credential-glpat/state", ""},
		{"windows default", "windows", env{"LOCALAPPDATA": "/local", "APPDATA": "/roaming"}, filepath.Join("/local", "git-credential-glpat", "state"), ""},
		{"windows without LOCALAPPDATA", "windows", env{"APPDATA": "/roaming"}, "", "config: cannot find the state directory: %LOCALAPPDATA% is not set"},
		{"no HOME", "darwin", env{}, "", "config: cannot find the home directory: $HOME is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stateDir(tt.goos, tt.env.get)
			checkPath(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func checkPath(t *testing.T, got string, err error, want, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Errorf("got %q, %v; want error %s", got, err, wantErr)
		}
		return
	}
	if err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}

// TestPathsFromProcessEnv checks the exported functions read the real
// environment (set here with t.Setenv, never the user's own).
func TestPathsFromProcessEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GLPAT_CONFIG", "")
	t.Setenv("GLPAT_STATE_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "cfg"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	if got, err := ConfigPath(); err != nil || got != filepath.Join(dir, "cfg", "git-credential-glpat", "config.toml") {
		t.Errorf("ConfigPath() = %q, %v", got, err)
	}
	if got, err := StateDir(); err != nil || got != filepath.Join(dir, "state", "git-credential-glpat") {
		t.Errorf("StateDir() = %q, %v", got, err)
	}
	t.Setenv("GLPAT_STATE_DIR", filepath.Join(dir, "explicit"))
	if got, err := StateDir(); err != nil || got != filepath.Join(dir, "explicit") {
		t.Errorf("StateDir() with GLPAT_STATE_DIR = %q, %v", got, err)
	}
}
