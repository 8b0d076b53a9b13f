package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestWrapLines: a sentence too long for its width breaks between clauses
// where they fit, else between words, never inside a word, and every line
// fits.
func TestWrapLines(t *testing.T) {
	const hint = "gitlab.example.com (carol): revoked; run git-credential-glpat login gitlab.example.com --username carol"
	for _, tc := range []struct {
		name  string
		s     string
		width int
		want  []string
	}{
		{"fits", "a.example (u): revoked; run it", 80, []string{"a.example (u): revoked; run it"}},
		{"at a clause", hint, 80, []string{"gitlab.example.com (carol): revoked;", "    run git-credential-glpat login gitlab.example.com --username carol"}},
		{"between words", hint, 50, []string{"gitlab.example.com (carol): revoked;", "    run git-credential-glpat login", "    gitlab.example.com --username carol"}},
	} {
		got := wrapLines(tc.s, tc.width)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
		for _, l := range got {
			if utf8.RuneCountInString(l) > tc.width {
				t.Errorf("%s: line %q is wider than %d", tc.name, l, tc.width)
			}
		}
	}
}
