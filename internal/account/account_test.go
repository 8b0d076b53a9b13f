package account

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
)

func TestBotKind(t *testing.T) {
	tests := []struct {
		username, wantKind string
		wantID             int64
	}{
		{"project_42_bot_0123456789abcdef", "project", 42},
		{"group_7_bot_ffff", "group", 7},
		{"project_42_bot", "project", 42},
		{"alice", "personal", 0},
		{"project_x_bot_1", "personal", 0},
		{"project_42_botany", "personal", 0},
		{"project_-1_bot_1", "personal", 0},
		{"groupie_1_bot_1", "personal", 0},
	}
	for _, tt := range tests {
		kind, id := botKind(tt.username)
		if kind != tt.wantKind || id != tt.wantID {
			t.Errorf("botKind(%q) = %q, %d; want %q, %d", tt.username, kind, id, tt.wantKind, tt.wantID)
		}
	}
}

// A login reaches the API at --api-url, else where the host's tokens are
// sent; HOST written http://HOST asks for plain http, which must agree with
// the API URL: the credential is stored for its scheme.
func TestLoginAPIURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte("[hosts.\"conf.example\"]\napi_url = \"https://conf.example/gitlab/api/v4\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Config: cfg}
	tests := []struct{ host, flag, want, wantErr string }{
		{"gitlab.com", "", "https://gitlab.com/api/v4", ""},
		{"https://gitlab.com/", "", "https://gitlab.com/api/v4", ""},
		{"http://127.0.0.1:8929", "", "http://127.0.0.1:8929/api/v4", ""},
		{"127.0.0.1:8929", "http://127.0.0.1:8929/api/v4/", "http://127.0.0.1:8929/api/v4", ""},
		{"http://127.0.0.1:8929", "http://127.0.0.1:8929/gitlab/api/v4", "http://127.0.0.1:8929/gitlab/api/v4", ""},
		{"conf.example", "", "https://conf.example/gitlab/api/v4", ""},
		{"http://conf.example", "", "", "http://conf.example names http, but the config's api_url is https://conf.example/gitlab/api/v4; name the host as conf.example"},
		{"https://h.example", "http://h.example/api/v4", "", "h.example names https, but --api-url is http://h.example/api/v4"},
		{"smtp://h.example", "", "", "smtp://h.example is not a GitLab host"},
	}
	for _, tt := range tests {
		h, err := hostarg.Parse(tt.host)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.APIURL(h, tt.flag)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("APIURL(%q, %q) = %q, %v; want %q, error %q", tt.host, tt.flag, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPickAccount(t *testing.T) {
	two := []account{{"alice", 1}, {"carol", 4}}
	tests := []struct {
		name             string
		flag, cfg, api   string
		userID           int64
		accounts         []account
		want, wantFrom   string
		wantOtherUserErr bool
	}{
		{name: "flag", flag: "bob", userID: 9, accounts: two, want: "bob", wantFrom: "flag"},
		{name: "flag into another user's account", flag: "alice", userID: 4, accounts: two, wantOtherUserErr: true},
		{name: "flag into own account", flag: "carol", userID: 4, accounts: two, want: "carol", wantFrom: "flag"},
		{name: "owner's account beats the config", cfg: "alice", userID: 4, accounts: two, want: "carol", wantFrom: "account"},
		{name: "config when free", cfg: "alice", userID: 9, want: "alice", wantFrom: "config"},
		{name: "config held by another: the api's name", cfg: "alice", api: "dave", userID: 9, accounts: two, want: "dave", wantFrom: "api"},
		{name: "config held by another, no api: refused", cfg: "alice", userID: 9, accounts: two, wantOtherUserErr: true},
		{name: "unknown owner of the stored token: replaced", cfg: "alice", userID: 9, accounts: []account{{"alice", 0}}, want: "alice", wantFrom: "config"},
		{name: "oauth2", userID: 9, want: "oauth2", wantFrom: "default"},
		{name: "oauth2 held by another", userID: 9, accounts: []account{{"oauth2", 1}}, wantOtherUserErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from, err := pickAccount(LoginOptions{Host: "h", Username: tt.flag}, tt.cfg, tt.api, tt.userID, tt.accounts)
			if tt.wantOtherUserErr {
				if !errors.Is(err, ErrOtherUser) {
					t.Errorf("got %q, %v; want ErrOtherUser", got, err)
				}
				return
			}
			if err != nil || got != tt.want || from != tt.wantFrom {
				t.Errorf("got %q from %q, %v; want %q from %q", got, from, err, tt.want, tt.wantFrom)
			}
		})
	}
	// At a terminal with several accounts: asked, with the owner offered.
	var offered string
	got, _, err := pickAccount(LoginOptions{Host: "h", Choose: func(names []string, def string) (string, error) {
		offered = def
		return "", nil
	}}, "alice", "", 4, two)
	if err != nil || got != "carol" || offered != "carol" {
		t.Errorf("asked: got %q, %v, offered %q; want carol offered and taken", got, err, offered)
	}
}
