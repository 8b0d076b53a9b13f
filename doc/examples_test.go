package doc

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
)

var tomlBlock = regexp.MustCompile("(?s)```toml\n(.*?)```")

// TestMarkdownConfigExamplesLoad: every TOML example in the README and in
// doc/*.md is a config file the helper loads without complaint, so no
// example teaches a key or a value it would refuse.
func TestMarkdownConfigExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("*.md")
	files = append(files, filepath.Join("..", "README.md"))
	seen := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range tomlBlock.FindAllSubmatch(src, -1) {
			seen++
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, m[1], 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := config.Load(path); err != nil {
				t.Errorf("%s, TOML example %d: %v\n%s", f, i+1, err, m[1])
			}
		}
	}
	if seen == 0 {
		t.Fatal("found no TOML example in the README or doc/*.md")
	}
}
