package account

import "testing"

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

func TestValidateHost(t *testing.T) {
	for _, ok := range []string{"gitlab.com", "gitlab.example.com:8443", "127.0.0.1:3000"} {
		if err := ValidateHost(ok); err != nil {
			t.Errorf("ValidateHost(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "https://gitlab.com", "gitlab.com/group", "user@gitlab.com", "a b"} {
		if err := ValidateHost(bad); err == nil {
			t.Errorf("ValidateHost(%q) = nil, want an error", bad)
		}
	}
}
