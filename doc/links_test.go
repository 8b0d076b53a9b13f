package doc

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// anchor is the id GitHub gives a Markdown heading: lower case, spaces as
// hyphens, punctuation other than hyphens and underscores dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the ids of the headings of a Markdown file, outside
// code blocks.
func anchors(src string) map[string]bool {
	ids := map[string]bool{}
	fenced := false
	for _, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
			continue
		}
		if h := strings.TrimLeft(l, "#"); !fenced && h != l && strings.HasPrefix(h, " ") {
			ids[anchor(strings.TrimSpace(h))] = true
		}
	}
	return ids
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestMarkdownLinksResolve: every relative link in the README and in
// doc/*.md names a file of the repository, and every #anchor a heading of
// the file it points into, so the README's table of contents and its
// pointers into doc/ keep working as sections move.
func TestMarkdownLinksResolve(t *testing.T) {
	files, _ := filepath.Glob("*.md")
	files = append(files, filepath.Join("..", "README.md"))
	if len(files) < 2 {
		t.Fatalf("found %v; want the README and the pages in doc/", files)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(src), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			into := f
			if path != "" {
				into = filepath.Join(filepath.Dir(f), path)
				if _, err := os.Stat(into); err != nil {
					t.Errorf("%s links to %s, which does not exist", f, target)
					continue
				}
			}
			if frag == "" {
				continue
			}
			dst, err := os.ReadFile(into)
			if err != nil {
				t.Errorf("%s links to %s: %v", f, target, err)
				continue
			}
			if !anchors(string(dst))[frag] {
				t.Errorf("%s links to %s, but %s has no heading #%s", f, target, into, frag)
			}
		}
	}
}
