package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetBackend(t *testing.T) {
	tests := []struct {
		name, before, want string
	}{
		{"no file", "", "backend = \"kernel\"\n"},
		{"adds on top", "rotate_before = \"20d\"\n", "backend = \"kernel\"\nrotate_before = \"20d\"\n"},
		{"replaces", "# mine\nbackend = \"keyring\" # default\n[hosts.\"gitlab.com\"]\n", "# mine\nbackend = \"kernel\"\n[hosts.\"gitlab.com\"]\n"},
		{"host tables untouched", "[hosts.\"gitlab.com\"]\nusername = \"backend\"\n", "backend = \"kernel\"\n[hosts.\"gitlab.com\"]\nusername = \"backend\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := configWith(t, tt.before)
			if err := SetBackend(path, BackendKernel); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file =\n%s\nwant\n%s", got, tt.want)
			}
			if ok, _ := MayNameBackend(path); !ok {
				t.Error("MayNameBackend = false after SetBackend")
			}
		})
	}
	if ok, err := MayNameBackend(filepath.Join(t.TempDir(), "missing")); ok || err != nil {
		t.Errorf("MayNameBackend(missing) = %v, %v", ok, err)
	}
	p := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(p, []byte("lifetime = \"90d\"\n"), 0o600)
	if ok, _ := MayNameBackend(p); ok {
		t.Error("MayNameBackend is true for a file without the word")
	}
	_ = strings.TrimSpace
}

func TestSetAPIURL(t *testing.T) {
	const u = "https://git.example.com/gitlab/api/v4"
	const line = "api_url = \"" + u + "\"\n"
	tests := []struct {
		name, before, want string
	}{
		{"no file", "", "[hosts.\"git.example.com\"]\n" + line},
		{"no table", "rotate_before = \"20d\"", "rotate_before = \"20d\"\n\n[hosts.\"git.example.com\"]\n" + line},
		{"under the header", "[hosts.\"git.example.com\"] # work\nusername = \"alice\"\n", "[hosts.\"git.example.com\"] # work\n" + line + "username = \"alice\"\n"},
		{"header at the end", "[hosts.'GIT.example.com']", "[hosts.'GIT.example.com']\n" + line},
		{"replaces its own line only",
			"[hosts.\"other.example\"]\napi_url = \"https://other.example/api/v4\"\n[hosts.\"git.example.com\"]\napi_url = \"https://git.example.com/api/v4\"\n[[hosts.\"git.example.com\".accounts]]\nusername = \"bob\"\npaths = [\"acme\"]\n",
			"[hosts.\"other.example\"]\napi_url = \"https://other.example/api/v4\"\n[hosts.\"git.example.com\"]\n" + line + "[[hosts.\"git.example.com\".accounts]]\nusername = \"bob\"\npaths = [\"acme\"]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := configWith(t, tt.before)
			if err := SetAPIURL(path, "git.example.com", u); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file =\n%s\nwant\n%s", got, tt.want)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
			}
		})
	}
	t.Run("through a symlink", func(t *testing.T) {
		dir := t.TempDir()
		real, link := filepath.Join(dir, "dotfiles.toml"), filepath.Join(dir, "config.toml")
		os.WriteFile(real, []byte("[hosts.\"git.example.com\"]\n"), 0o600)
		os.Symlink(real, link)
		if err := SetAPIURL(link, "git.example.com", u); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
			t.Error("the config is no longer a symlink")
		}
		if got, _ := os.ReadFile(real); string(got) != "[hosts.\"git.example.com\"]\n"+line {
			t.Errorf("linked file =\n%s", got)
		}
	})
	t.Run("refuses an inline table", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "config.toml")
		before := "[hosts]\n\"git.example.com\" = { username = \"alice\" }\n"
		os.WriteFile(path, []byte(before), 0o600)
		if err := SetAPIURL(path, "git.example.com", u); err == nil || !strings.Contains(err.Error(), "not changed") {
			t.Errorf("SetAPIURL = %v, want it refused", err)
		}
		if got, _ := os.ReadFile(path); string(got) != before {
			t.Errorf("file changed:\n%s", got)
		}
	})
}

// TestSetCAFile: ca_file goes into the host's table like api_url.
func TestSetCAFile(t *testing.T) {
	path := configWith(t, "[hosts.\"git.example.com\"]\napi_url = \"https://git.example.com/api/v4\"\n")
	if err := SetCAFile(path, "git.example.com", "/etc/ssl/acme-ca.pem"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "[hosts.\"git.example.com\"]\nca_file = \"/etc/ssl/acme-ca.pem\"\napi_url = \"https://git.example.com/api/v4\"\n"; string(got) != want {
		t.Errorf("file =\n%s\nwant\n%s", got, want)
	}
	if err := SetCAFile(path, "git.example.com", "relative.pem"); err == nil {
		t.Error("a relative ca_file was written")
	}
}

// TestAddHost: the host's table is added at the end, and the host is
// named (Known) once the file is read again.
func TestAddHost(t *testing.T) {
	tests := []struct {
		name, before, want string
	}{
		{"no file", "", "[hosts.\"git.example.com:8443\"]\n"},
		{"other lines", "rotate_before = \"20d\"\n[hosts.\"other.example\"]\nusername = \"bob\"", "rotate_before = \"20d\"\n[hosts.\"other.example\"]\nusername = \"bob\"\n\n[hosts.\"git.example.com:8443\"]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := configWith(t, tt.before)
			if err := AddHost(path, "git.example.com:8443"); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file =\n%s\nwant\n%s", got, tt.want)
			}
			cfg, err := Load(path)
			if err != nil || !cfg.Host("git.example.com:8443").Known {
				t.Errorf("after AddHost the host is not named: %v", err)
			}
		})
	}
}

// configWith is the path of a config file in a directory of its own that
// holds before; none when before is empty.
func configWith(t *testing.T, before string) string {
	path := filepath.Join(t.TempDir(), "sub", "config.toml")
	if before != "" {
		os.MkdirAll(filepath.Dir(path), 0o700)
		os.WriteFile(path, []byte(before), 0o600)
	}
	return path
}
