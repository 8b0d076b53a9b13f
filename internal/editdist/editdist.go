// Package editdist measures how far a mistyped name is from the names a
// program knows, so that its messages can say "did you mean …".
package editdist

import "strings"

// Distance is the optimal string alignment distance between a and b, in
// bytes: insertions, deletions, substitutions and swaps of neighbours
// ("pahts" for "paths") each count one. A swap is the commonest typo, so it
// costs one edit, not Levenshtein's two.
func Distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// Nearest returns the name in names that s is most likely a typo of, or ""
// when none is close: at most one edit from a name of up to four letters
// (two edits leave only half of it: "quit" is not "init"), two from a
// longer one. Case is ignored; of names equally close, the first wins.
func Nearest(s string, names []string) string {
	s = strings.ToLower(s)
	best, bestD := "", 3
	for _, n := range names {
		if d := Distance(s, n); d <= closeEnough(n) && d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// closeEnough is how many edits from name a word may be and still be
// taken for it.
func closeEnough(name string) int {
	if len(name) <= 4 {
		return 1
	}
	return 2
}
