package main

import (
	"strings"
	"testing"

	"github.com/glpat-dev/git-credential-glpat/internal/tty"
)

func TestFlagSetErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"help", []string{"--json", "-h"}, 0, ""},
		{"near flag", []string{"--jsn"}, 2, "git-credential-glpat: error: status: unknown flag --jsn (did you mean --json?)\n"},
		{"no near flag", []string{"--zzzzzz"}, 2, "git-credential-glpat: error: status: unknown flag --zzzzzz (git-credential-glpat status -h lists its flags)\n"},
		{"needs a value", []string{"--username"}, 2, "git-credential-glpat: error: status: --username needs a value\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			c := &call{cmd: &command{name: "status", usage: "Usage: status\n"}, name: "status", stdout: &out, ui: &tty.UI{W: &errOut}}
			fs := newFlagSet("status")
			var asJSON bool
			var username string
			fs.boolVar(&asJSON, "json", "")
			fs.stringVar(&username, "username", "U", "")
			_, err := fs.parse(tt.args)
			if err == nil {
				t.Fatalf("parse(%q) = nil error", tt.args)
			}
			if code := c.flagError(fs, err); code != tt.wantCode {
				t.Errorf("flagError = %d, want %d", code, tt.wantCode)
			}
			if errOut.String() != tt.wantErr {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.wantErr)
			}
			if wantOut := map[int]string{0: "Usage: status\n"}[tt.wantCode]; out.String() != wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), wantOut)
			}
		})
	}
	// Flags after positional arguments, as people type them.
	fs := newFlagSet("status")
	var asJSON bool
	fs.boolVar(&asJSON, "json", "")
	pos, err := fs.parse([]string{"gitlab.com", "--json"})
	if err != nil || !asJSON || len(pos) != 1 || pos[0] != "gitlab.com" {
		t.Errorf("parse = %q, %v (json %v); want [gitlab.com] with --json", pos, err, asJSON)
	}
}
