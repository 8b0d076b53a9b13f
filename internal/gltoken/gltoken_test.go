package gltoken

import (
	"strings"
	"testing"
)

// Routable tokens made by GitLab's algorithm
// (lib/authn/token_field/generator/routable_token.rb), computed outside Go
// with fixed random bytes and the payload of a personal access token
// ("o:<organization>\nu:<user>" in base 36).
const (
	routablePAT      = "glpat-YWFhYWFhYWFhYWFhYWFhYW86MQp1OjJ0CA.01.0y1hxn6a4"
	routableCustom   = "acme-pat_AAAAAAAAAAAAAAAAAAAAAG86MQp1OjMH.01.0w172k8lo"
	routableInstance = "instance-glpat-_____________________286MQp1OjMH.01.0w11sd4pf"
	routableDeploy   = "gldt-YWFhYWFhYWFhYWFhYWFhYW86MQp1OjJ0CA.01.0y0gps7q7"
)

func TestRoutable(t *testing.T) {
	tests := []struct {
		tok        string
		wantPrefix string
		wantOK     bool
	}{
		{routablePAT, "glpat-", true},
		{routableCustom, "acme-pat_", true},
		{routableInstance, "instance-glpat-", true},
		{routableDeploy, "gldt-", true},
		{strings.Replace(routablePAT, "YWFh", "YWFi", 1), "", false}, // checksum disagrees
		{strings.Replace(routablePAT, "glpat-", "glpaT-", 1), "", false},
		{routablePAT[:len(routablePAT)-1] + "5", "", false},
		{"glpat-abcdefghijklmnopqrst", "", false}, // classic
		{"correct.horse.battery.staple", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		p, ok := Routable(tt.tok)
		if p != tt.wantPrefix || ok != tt.wantOK {
			t.Errorf("Routable(%s) = %q, %v; want %q, %v", Fingerprint(tt.tok), p, ok, tt.wantPrefix, tt.wantOK)
		}
	}
}

func TestMayBeAccessToken(t *testing.T) {
	tests := []struct {
		tok  string
		want bool
	}{
		{"glpat-abcdefghijklmnopqrst", true},
		{"corp-glpat-abcdefghijklmnopqrst", true}, // an instance prefix
		{routablePAT, true},
		{routableCustom, true}, // a custom personal_access_token_prefix, routable
		{routableInstance, true},
		{routableDeploy, false},                  // a deploy token
		{"acme-pat_abcdefghijklmnopqrst", false}, // custom and classic: only the host's config tells
		{"hunter2", false},
		{"gldt-abcdefghijklmnopqrst", false},
	}
	for _, tt := range tests {
		if got := MayBeAccessToken(tt.tok); got != tt.want {
			t.Errorf("MayBeAccessToken(%s) = %v, want %v", Fingerprint(tt.tok), got, tt.want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	tests := map[string]string{
		routablePAT:                       "glpat-…n6a4",
		routableCustom:                    "acme-pat_…k8lo",
		"glpat-abcdefghijklmnopqrst":      "glpat-…qrst",
		"acme-pat_abcdefghijklmnopqrst":   "acme-pat_…qrst",
		"short":                           "…",
		"corp-glpat-abcdefghijklmnopqrst": "corp-glpat-…qrst",
	}
	for tok, want := range tests {
		if got := Fingerprint(tok); got != want {
			t.Errorf("Fingerprint = %q, want %q", got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"classic", "token glpat-abcdefghijklmnopqrstuvwxyz1234 in a message", "token glpat-…1234 in a message"},
		{"other kind", "a gldt-abcdefghijklmnopqrstuvwxyz1234.", "a gldt-…1234."},
		{"instance prefix", "x corp-glpat-abcdefghijklmnopqrst y", "x corp-glpat-…qrst y"},
		{"routable", "got " + routablePAT + ": refused", "got glpat-…n6a4: refused"},
		{"routable, custom prefix", "(" + routableCustom + ")", "(acme-pat_…k8lo)"},
		{"routable, custom prefix after a colon", "token:" + routableCustom, "token:acme-pat_…k8lo"},
		{"two", routableCustom + " and " + routablePAT, "acme-pat_…k8lo and glpat-…n6a4"},
		{"not a token", "see https://gitlab.example.com/api/v4/personal_access_tokens/self", "see https://gitlab.example.com/api/v4/personal_access_tokens/self"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRedactLearnedPrefix: a classic token with a custom prefix has no
// shape of its own; once a token of its instance was handled, its prefix
// is known and other tokens with it are hidden too (a successor).
func TestRedactLearnedPrefix(t *testing.T) {
	other := "acme_zyxwvutsrqponmlkjihg"
	if got := Redact("a " + other); got != "a "+other {
		t.Fatalf("before Learn: Redact = %q, want it unchanged", got)
	}
	Learn("acme_abcdefghijklmnopqrst")
	if got, want := Redact("a "+other+" b"), "a acme_…jihg b"; got != want {
		t.Errorf("after Learn: Redact = %q, want %q", got, want)
	}
	if got, want := Redact("acme_short"), "acme_short"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}
