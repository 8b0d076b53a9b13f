package editdist

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"status", "status", 0},
		{"stats", "status", 1},   // insertion
		{"statuss", "status", 1}, // deletion
		{"statis", "status", 1},  // substitution
		{"pahts", "paths", 1},    // swap of neighbours
		{"stauts", "status", 1},  // swap
		{"rotate", "login", 5},
		{"ab", "ba", 1},
		{"abc", "ca", 3}, // OSA, not Damerau: no edit of a swapped pair
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"install", "remove", "status", "init", "bash"}
	for _, tc := range []struct{ s, want string }{
		{"instal", "install"},
		{"INSTALL", "install"},
		{"remvoe", "remove"},
		{"stat", "status"}, // two from a longer name
		{"ini", "init"},
		{"quit", ""}, // two from a name of four letters
		{"bsh", "bash"},
		{"fish", ""},
		{"", ""},
	} {
		if got := Nearest(tc.s, names); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
