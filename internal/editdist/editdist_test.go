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
