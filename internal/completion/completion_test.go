package completion

import (
	"strings"
	"testing"
)

func TestScriptUnknownShell(t *testing.T) {
	for _, sh := range []string{"", "powershell", "Bash"} {
		if _, err := Script(sh, []Command{{Name: "version", Help: "print the version"}}); err == nil || !strings.Contains(err.Error(), "bash, zsh or fish") {
			t.Errorf("Script(%q): err = %v, want one naming the shells", sh, err)
		}
	}
}
