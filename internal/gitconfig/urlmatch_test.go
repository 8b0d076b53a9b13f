package gitconfig

import "testing"

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		name, in string
		globs    bool
		want     normURL
		ok       bool
	}{
		{"plain", "https://gitlab.com", false, normURL{scheme: "https", host: "gitlab.com", path: "/"}, true},
		{"case and default port", "HTTPS://GitLab.com:0443/", false, normURL{scheme: "https", host: "gitlab.com", path: "/"}, true},
		{"other port", "https://h:08443/a/b/", false, normURL{scheme: "https", host: "h", port: "8443", path: "/a/b/"}, true},
		{"user and password", "https://al%69ce:pw@h/", false, normURL{scheme: "https", hasUser: true, user: "alice", host: "h", path: "/"}, true},
		{"escaped reserved stays escaped", "https://h/a%2fb", false, normURL{scheme: "https", host: "h", path: "/a%2Fb"}, true},
		{"unsafe gets escaped", "https://h/a b", false, normURL{scheme: "https", host: "h", path: "/a%20b"}, true},
		{"dot segments", "https://h/a/./b/../c", false, normURL{scheme: "https", host: "h", path: "/a/c"}, true},
		{"query kept", "https://h/p?x=1", false, normURL{scheme: "https", host: "h", path: "/p?x=1"}, true},
		{"glob allowed", "https://*.h.com", true, normURL{scheme: "https", host: "*.h.com", path: "/"}, true},
		{"glob refused", "https://*.h.com", false, normURL{}, false},
		{"no scheme", "gitlab.com", false, normURL{}, false},
		{"no host", "https://", false, normURL{}, false},
		{"port zero", "https://h:0", false, normURL{}, false},
		{"port too big", "https://h:65536", false, normURL{}, false},
		{"bad escape", "https://h/%zz", false, normURL{}, false},
		{"dot dot above root", "https://h/..", false, normURL{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := normalizeURL(tt.in, tt.globs)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("normalizeURL(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNarrower(t *testing.T) {
	gl := Target{Protocol: "https", Host: "gitlab.com"}
	tests := []struct {
		name, context string
		want          Target
		ok            bool
	}{
		{"applies to all", "https://gitlab.com", gl, false},
		{"generic", "", gl, false},
		{"another host", "https://example.com/group", gl, false},
		{"user", "https://alice@gitlab.com", Target{Protocol: "https", Host: "gitlab.com", Username: "alice"}, true},
		{"path", "https://gitlab.com/group/", Target{Protocol: "https", Host: "gitlab.com", Path: "group"}, true},
		{"scheme-less path", "gitlab.com/group/app.git", Target{Protocol: "https", Host: "gitlab.com", Path: "group/app.git"}, true},
		{"scheme-less user", "bob@gitlab.com", Target{Protocol: "https", Host: "gitlab.com", Username: "bob"}, true},
		{"other scheme", "http://gitlab.com/group", gl, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := narrower(tt.context, gl, true)
			if ok != tt.ok || got != tt.want {
				t.Errorf("narrower(%q) = %+v, %v; want %+v, %v", tt.context, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		name      string
		out       string
		withScope bool
		want      []Entry
		wantErr   bool
	}{
		{"with scope", "global\x00file:/h/.gitconfig\x00credential.helper\ncache\x00", true,
			[]Entry{{Scope: "global", Origin: "file:/h/.gitconfig", Key: "credential.helper", Value: "cache"}}, false},
		{"without scope", "file:/h/.gitconfig\x00credential.helper\n\x00", false,
			[]Entry{{Origin: "file:/h/.gitconfig", Key: "credential.helper", Value: ""}}, false},
		{"bare key", "file:/h/.gitconfig\x00credential.helper\x00", false,
			[]Entry{{Origin: "file:/h/.gitconfig", Key: "credential.helper", NoValue: true}}, false},
		{"value with a line break", "global\x00file:/h\x00credential.helper\n!f() {\necho; }\x00", true,
			[]Entry{{Scope: "global", Origin: "file:/h", Key: "credential.helper", Value: "!f() {\necho; }"}}, false},
		{"truncated", "global\x00file:/h\x00", true, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseList(tt.out, tt.withScope)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
