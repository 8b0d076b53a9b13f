package account

import "testing"

func TestBotKindUsernameForms(t *testing.T) {
	tests := []struct {
		username  string
		wantKind  string
		wantOwner int64
	}{
		{"project_42_bot_3f2a9c1d0e4b5a6f", "project", 42},
		{"group_7_bot_0123456789abcdef", "group", 7},
		// Names older GitLab gave (before the random suffix).
		{"project_42_bot", "project", 42},
		{"project_42_bot2", "project", 42},
		{"project_42_bot17", "project", 42},
		{"group_7_bot", "group", 7},
		// People, and names that only look alike.
		{"alice", "personal", 0},
		{"project_42_botanist", "personal", 0},
		{"project_x_bot", "personal", 0},
		{"project_0_bot", "personal", 0},
		{"project_42_bot_", "personal", 0},
	}
	for _, tt := range tests {
		kind, owner := botKind(tt.username)
		if kind != tt.wantKind || owner != tt.wantOwner {
			t.Errorf("botKind(%q) = %s, %d; want %s, %d", tt.username, kind, owner, tt.wantKind, tt.wantOwner)
		}
	}
}
