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
			path := filepath.Join(t.TempDir(), "sub", "config.toml")
			if tt.before != "" {
				os.MkdirAll(filepath.Dir(path), 0o700)
				os.WriteFile(path, []byte(tt.before), 0o600)
			}
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
