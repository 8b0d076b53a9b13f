package config

import (
	"testing"

	"github.com/BurntSushi/toml"
)

func TestScanKeysLines(t *testing.T) {
	src := "\ufeff# comment with \"quotes\" and [brackets]\n" + // 1
		"a = \"\"\"\n" + // 2
		"x = 1\n" + // 3: inside a string
		"\"\"\"\n" + // 4
		"\"dotted.key\" . 'lit' = 2\n" + // 5
		"[hosts . \"g\\u0041.com\"]\n" + // 6
		"t = {\n" + // 7
		"  k = 1, # TOML 1.1: newlines and comments in inline tables\n" + // 8
		"  m = [ { n = 'x' },\n" + // 9
		"        { n = '''y''' } ],\n" + // 10
		"}\n" + // 11
		"[[hosts.\"gA.com\".accounts]]\n" + // 12
		"username = 'a'\n" + // 13
		"[[hosts.\"gA.com\".accounts]]\n" + // 14
		"paths = [\n" + // 15
		"  'p1',\n" + // 16
		"  'p2',\n" + // 17
		"]\n" + // 18
		"d = 1979-05-27 07:32:00Z\n" + // 19
		"e = 'after the date'\n" // 20
	var v map[string]any
	if _, err := toml.Decode(src, &v); err != nil {
		t.Fatalf("test input is not valid TOML: %v", err)
	}
	lines := scanKeys(src)
	host := keyPath{key("hosts"), key("gA.com")}
	tests := []struct {
		name string
		path keyPath
		want int
	}{
		{"key after multi-line string", keyPath{key("dotted.key"), key("lit")}, 5},
		{"key inside string is not a key", keyPath{key("x")}, 0},
		{"table header with escape", host, 6},
		{"inline table", host.with(key("t")), 7},
		{"key on next line of inline table", host.with(key("t")).with(key("k")), 8},
		{"second element of inline array", host.with(key("t")).with(key("m")).with(elem(1)).with(key("n")), 10},
		{"first array table element", host.with(key("accounts")).with(elem(0)).with(key("username")), 13},
		{"second array table element", host.with(key("accounts")).with(elem(1)), 14},
		{"array item", host.with(key("accounts")).with(elem(1)).with(key("paths")).with(elem(1)), 17},
		{"key after a date with a space", host.with(key("accounts")).with(elem(1)).with(key("e")), 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lines.find(tt.path); got != tt.want {
				t.Errorf("line of %s = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}

func TestScanKeysNeverPanics(t *testing.T) {
	// Invalid TOML never reaches the scanner, but a bug must not crash Load.
	for _, src := range []string{"a = [", "[[a", "a = {b = ", "\"unterminated", "a = '''", "= 1", "a.b."} {
		_ = scanKeys(src)
	}
}
