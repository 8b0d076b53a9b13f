package hostarg

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Host
	}{
		{"gitlab.com", Host{Name: "gitlab.com"}},
		{"gitlab.example.com:8443", Host{Name: "gitlab.example.com:8443"}},
		{"127.0.0.1:8929", Host{Name: "127.0.0.1:8929"}},
		{"[::1]:8929", Host{Name: "[::1]:8929"}},
		{"http://127.0.0.1:8929", Host{"http", "127.0.0.1:8929"}},
		{"https://gitlab.com", Host{"https", "gitlab.com"}},
		{"https://gitlab.com/", Host{"https", "gitlab.com"}},
		{"HTTPS://gitlab.example.com:8443", Host{"https", "gitlab.example.com:8443"}},
		{"http://[::1]:8929/", Host{"http", "[::1]:8929"}},
		{"smtp://mail.example.com", Host{"smtp", "mail.example.com"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `"" is not a host name`},
		{"a b", `"a b" is not a host name`},
		{"gitlab.com/group", `"gitlab.com/group" is not a host name`},
		{"alice@gitlab.com", `"alice@gitlab.com" is not a host name`},
		{"https://", `"https://" is not a host name`},
		{"://gitlab.com", `"://gitlab.com" is not a host name`},
		{"https://alice@gitlab.com", "without a user, path or query (like gitlab.com)"},
		{"https://gitlab.com/acme/app.git", "without a user, path or query (like gitlab.com)"},
		{"http://127.0.0.1:8929/api/v4", "(like http://127.0.0.1:8929)"},
		{"https://gitlab.com?x", "without a user, path or query"},
		{"127.0.0.1:8929 (http)", `"127.0.0.1:8929 (http)" is not a host name`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error saying %q", tt.in, err, tt.want)
		}
	}
}

// Every host is printed in a form Parse reads back as the same protocol and
// host (https named or not: it is the default).
func TestFormatParsesBack(t *testing.T) {
	for _, h := range []Host{
		{"https", "gitlab.com"}, {"https", "gitlab.example.com:8443"}, {"http", "127.0.0.1:8929"},
		{"http", "[::1]:8929"}, {"smtp", "mail.example.com"},
	} {
		s := Format(h.Protocol, h.Name)
		got, err := Parse(s)
		if err != nil || got.Name != h.Name || !got.Matches(h.Protocol, h.Name) {
			t.Errorf("Parse(Format(%q, %q) = %q) = %+v, %v", h.Protocol, h.Name, s, got, err)
		}
	}
	if got := Format("https", "gitlab.com"); got != "gitlab.com" {
		t.Errorf("Format(https, gitlab.com) = %q, want gitlab.com", got)
	}
	if got := Format("http", "127.0.0.1:8929"); got != "http://127.0.0.1:8929" {
		t.Errorf("Format(http, 127.0.0.1:8929) = %q, want http://127.0.0.1:8929", got)
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		h              Host
		protocol, name string
		want           bool
	}{
		{Host{Name: "gitlab.com"}, "https", "gitlab.com", true},
		{Host{Name: "gitlab.com"}, "http", "GitLab.com", true},
		{Host{"https", "gitlab.com"}, "http", "gitlab.com", false},
		{Host{"http", "127.0.0.1:8929"}, "http", "127.0.0.1:8929", true},
		{Host{"http", "127.0.0.1:8929"}, "http", "127.0.0.1:8930", false},
		{Host{Name: "gitlab.com"}, "https", "gitlab.com:443", false},
		{Host{}, "https", "anything.example", true},
	}
	for _, tt := range tests {
		if got := tt.h.Matches(tt.protocol, tt.name); got != tt.want {
			t.Errorf("%+v.Matches(%q, %q) = %v, want %v", tt.h, tt.protocol, tt.name, got, tt.want)
		}
	}
}

func TestKnown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[hosts.\"gitlab.example.com\"]\n[hosts.\"127.0.0.1:8929\"]\napi_url = \"http://127.0.0.1:8929/api/v4\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	gl := Host{"https", "gitlab.com"}
	tests := []struct {
		name   string
		cfg    *config.Config
		stored []Host
		want   []Host
	}{
		{"nothing known", config.Default(), nil, []Host{gl}},
		{"the only stored host", config.Default(), []Host{{"http", "127.0.0.1:8929"}}, []Host{{"http", "127.0.0.1:8929"}}},
		{"each once", config.Default(), []Host{gl, {"https", "GitLab.com"}}, []Host{gl}},
		{"the config's, then the stored", cfg, []Host{{"http", "127.0.0.1:8929"}, gl},
			[]Host{{"http", "127.0.0.1:8929"}, {"https", "gitlab.example.com"}, gl}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Known(tt.cfg, tt.stored); !slices.Equal(got, tt.want) {
				t.Errorf("Known = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOne(t *testing.T) {
	if got, err := One([]Host{{"http", "127.0.0.1:8929"}}); err != nil || got != (Host{"http", "127.0.0.1:8929"}) {
		t.Errorf("One of one host = %v, %v", got, err)
	}
	_, err := One([]Host{{"https", "gitlab.com"}, {"http", "127.0.0.1:8929"}})
	if err == nil || !strings.Contains(err.Error(), "give the HOST") || !strings.Contains(err.Error(), "(gitlab.com, http://127.0.0.1:8929)") {
		t.Errorf("One of two hosts: %v, want an error naming both", err)
	}
}
