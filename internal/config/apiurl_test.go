package config

import "testing"

func TestTokenAPIURL(t *testing.T) {
	c, err := Load(writeConfig(t, `[hosts."gitlab.example.com"]
api_url = "https://api.example.com/gitlab/api/v4/"
[hosts."gitlab.com"]
username = "x"
[hosts."localhost:3000"]
api_url = "http://localhost:3000/api/v4"
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, host, want string }{
		{"configured, trailing slash dropped", "gitlab.example.com", "https://api.example.com/gitlab/api/v4"},
		{"configured, any case", "GITLAB.example.com", "https://api.example.com/gitlab/api/v4"},
		{"known host without api_url", "gitlab.com", "https://gitlab.com/api/v4"},
		{"unknown host keeps the port", "git.local:8443", "https://git.local:8443/api/v4"},
		{"http only where configured", "localhost:3000", "http://localhost:3000/api/v4"},
		{"never http derived", "localhost:3001", "https://localhost:3001/api/v4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.TokenAPIURL(tt.host); got != tt.want {
				t.Errorf("TokenAPIURL(%q) = %q, want %q", tt.host, got, tt.want)
			}
		})
	}
}

func TestWebURL(t *testing.T) {
	tests := []struct{ apiURL, want string }{
		{"https://gitlab.com/api/v4", "https://gitlab.com"},
		{"https://gitlab.com/api/v4/", "https://gitlab.com"},
		{"https://host:8443/gitlab/api/v4", "https://host:8443/gitlab"},
		{"http://127.0.0.1:8929/api/v4", "http://127.0.0.1:8929"},
	}
	for _, tt := range tests {
		if got := WebURL(tt.apiURL); got != tt.want {
			t.Errorf("WebURL(%q) = %q, want %q", tt.apiURL, got, tt.want)
		}
	}
	for _, host := range []string{"gitlab.com", "h:8443"} {
		if got, want := WebURL(DefaultAPIURL("https", host)), "https://"+host; got != want {
			t.Errorf("WebURL(DefaultAPIURL(https, %q)) = %q, want %q", host, got, want)
		}
	}
}
