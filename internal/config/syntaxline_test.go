package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSyntaxErrorLine: a TOML syntax error names the line with the
// mistake, not the one after it.
func TestSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
	}{
		{"unclosed table header", "a = 1\n[hosts.\"x\"\nusername = \"u\"\n", 2},
		{"unclosed table header, blank lines after", "rotate_before = \"30d\"\n[hosts.\"x\"\n\n\n", 2},
		{"bare word value", "rotate_before = \"30d\"\n\n\nlifetime = 90d\n", 4},
		{"two keys on a line", "# c\n\nrotate_before = \"30d\" lifetime = \"10d\"\n", 3},
		{"bad boolean", "auto_rotate = tru\n", 1},
		{"unclosed array at the end", "x = [\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(path, []byte(tt.src), 0o600)
			_, err := Load(path)
			var ce *Error
			if !errors.As(err, &ce) || ce.Line != tt.line {
				t.Errorf("Load: %v; want an error at line %d", err, tt.line)
			}
		})
	}
}
