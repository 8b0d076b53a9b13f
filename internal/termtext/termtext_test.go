package termtext

import "testing"

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 days"}, {1, "1 day"}, {2, "2 days"}, {-1, "-1 days"}} {
		if got := Plural(tc.n, "day"); got != tc.want {
			t.Errorf("Plural(%d, day) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestPaint(t *testing.T) {
	if got := Paint(Green, "ok"); got != "\x1b[32mok\x1b[0m" {
		t.Errorf("Paint(Green, ok) = %q", got)
	}
	if got := Paint("", "ok"); got != "ok" {
		t.Errorf("Paint(\"\", ok) = %q, want it unchanged", got)
	}
}

func TestWrap(t *testing.T) {
	got := Wrap("run git-credential-glpat login gitlab.example.com --username carol", 30)
	want := []string{"run git-credential-glpat login", "gitlab.example.com --username", "carol"}
	if len(got) != len(want) {
		t.Fatalf("Wrap = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
	if got := Wrap("/a/very/long/path/that/is/longer/than/the/line", 20); len(got) != 1 {
		t.Errorf("a word longer than a line was broken: %q", got)
	}
}
