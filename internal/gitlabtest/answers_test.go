package gitlabtest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/gitlabtest"
)

// TestSelfRotateOnOlderVersions: what POST .../self/rotate answers on a
// GitLab without the self-rotate endpoint, per version, kind and user, and
// that none of it rotates anything.
func TestSelfRotateOnOlderVersions(t *testing.T) {
	tests := []struct {
		version  string
		kind     gitlabtest.Kind
		admin    bool
		wantCode int
		wantBody string
	}{
		{"16.10.0", gitlabtest.Personal, false, 200, ""},
		{"16.9.2", gitlabtest.Personal, false, 401, `{"message":"401 Unauthorized"}`},
		{"16.8.1", gitlabtest.Personal, true, 404, `{"message":"404 Not found"}`},
		{"16.0.0", gitlabtest.Personal, false, 401, `{"message":"401 Unauthorized"}`},
		{"15.11.2", gitlabtest.Personal, false, 404, `{"error":"404 Not Found"}`},
		{"15.11.2", gitlabtest.Personal, true, 404, `{"error":"404 Not Found"}`},
		{"17.9.0", gitlabtest.ProjectToken, false, 200, ""},
		{"17.8.1", gitlabtest.ProjectToken, false, 401, `{"message":"401 Unauthorized"}`},
		{"16.9.0", gitlabtest.GroupToken, false, 401, `{"message":"401 Unauthorized"}`},
		{"15.11.0", gitlabtest.ProjectToken, false, 404, `{"error":"404 Not Found"}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s admin=%v", tt.version, tt.kind, tt.admin), func(t *testing.T) {
			srv, _ := newServer(t)
			srv.SetVersion(tt.version)
			repo := srv.CreateRepo("acme/widgets")
			spec := gitlabtest.TokenSpec{Kind: tt.kind, ExpiresAt: today.AddDays(10)}
			path := "/personal_access_tokens/self/rotate"
			switch tt.kind {
			case gitlabtest.ProjectToken:
				spec.OwnerID = repo.ID
				path = fmt.Sprintf("/projects/%d/access_tokens/self/rotate", repo.ID)
			case gitlabtest.GroupToken:
				spec.OwnerID = repo.GroupID
				path = fmt.Sprintf("/groups/%d/access_tokens/self/rotate", repo.GroupID)
			}
			tok, id := srv.CreateToken(spec)
			srv.SetAdmin(srv.Token(id).Username, tt.admin)

			got := do(t, srv, "POST", path, privateToken(tok), nil, "")
			if got.status != tt.wantCode || (tt.wantBody != "" && got.body != tt.wantBody) {
				t.Errorf("rotate: %d %s, want %d %s", got.status, got.body, tt.wantCode, tt.wantBody)
			}
			if st := srv.Token(id); (st.Revoked) != (tt.wantCode == 200) {
				t.Errorf("old token after the answer %d: %v", got.status, st)
			}
			if tt.wantCode != 200 {
				// A dead token is refused as such first where the
				// route authenticates (16.0+).
				srv.Revoke(id)
				got := do(t, srv, "POST", path, privateToken(tok), nil, "")
				wantDead := http.StatusUnauthorized
				if tt.wantBody == `{"error":"404 Not Found"}` {
					wantDead = http.StatusNotFound
				}
				if got.status != wantDead {
					t.Errorf("rotate with a revoked token: %d %s, want %d", got.status, got.body, wantDead)
				}
			}
		})
	}
}

// TestLifetimeCapAnswers: the answers of the model's lifetime validations
// to a rotation: "must be before D" for each cap the date passes, D itself
// allowed, in the user's language, with "today" the instance's.
func TestLifetimeCapAnswers(t *testing.T) {
	tests := []struct {
		name     string
		policy   int
		lang     string
		zone     string
		now      time.Time
		days     int // requested expiry, from the UTC date of now
		wantBody string
	}{
		{name: "the policy's date is allowed", policy: 60, days: 60},
		{name: "past the policy", policy: 60, days: 61,
			wantBody: `{"message":"400 Bad request - Expiration date must be before 2026-04-30"}`},
		{name: "past GitLab's cap and the policy", policy: 60, days: 400,
			wantBody: `{"message":"400 Bad request - Expiration date must be before 2027-03-01 and Expiration date must be before 2026-04-30"}`},
		{name: "in German", policy: 60, lang: "de", days: 400,
			wantBody: `{"message":"400 Bad request - Expiration date muss vor 2027-03-01 liegen und Expiration date muss vor 2026-04-30 liegen"}`},
		{name: "today behind UTC", zone: "America/Los_Angeles", now: time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC), days: 365,
			wantBody: `{"message":"400 Bad request - Expiration date must be before 2027-02-28"}`},
		{name: "today ahead of UTC", zone: "Asia/Tokyo", now: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC), days: 366},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clk := newServer(t)
			if !tt.now.IsZero() {
				clk.Set(tt.now)
			}
			if tt.zone != "" {
				loc, err := time.LoadLocation(tt.zone)
				if err != nil {
					t.Fatal(err)
				}
				srv.SetTimeZone(loc)
			}
			srv.SetMaxLifetime(tt.policy)
			tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(10)})
			srv.SetLocale(srv.Token(id).Username, tt.lang)
			exp := gitlabtest.DateOf(clk.Now()).AddDays(tt.days)
			got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(tok),
				strings.NewReader(`{"expires_at":"`+exp.String()+`"}`), "application/json")
			switch {
			case tt.wantBody == "" && got.status != 200:
				t.Errorf("rotate to %s: %d %s, want 200", exp, got.status, got.body)
			case tt.wantBody != "" && (got.status != 400 || got.body != tt.wantBody):
				t.Errorf("rotate to %s: %d %s, want 400 %s", exp, got.status, got.body, tt.wantBody)
			}
		})
	}
}

// TestTimestampsInTheInstanceZone: the API writes times in the instance's
// time zone, with its offset; a rotation's default expiry is a week from
// the instance's today.
func TestTimestampsInTheInstanceZone(t *testing.T) {
	srv, clk := newServer(t)
	clk.Set(time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC))
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetTimeZone(loc)
	tok, _ := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(10)})
	got := decode(t, do(t, srv, "GET", "/personal_access_tokens/self", privateToken(tok), nil, "").body)
	if got["created_at"] != "2026-02-28T18:30:00.000-08:00" {
		t.Errorf("created_at = %v, want 2026-02-28T18:30:00.000-08:00", got["created_at"])
	}
	rot := decode(t, do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(tok), nil, "").body)
	if rot["expires_at"] != "2026-03-07" {
		t.Errorf("default expiry = %v, want 2026-03-07 (a week from the instance's 2026-02-28)", rot["expires_at"])
	}
}

// TestThrottledRotate: 429 answers of the two limiters, and that neither
// commits anything.
func TestThrottledRotate(t *testing.T) {
	t.Run("Rack::Attack", func(t *testing.T) {
		srv, clk := newServer(t)
		tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(10)})
		srv.ThrottleRotate(gitlabtest.RackAttack, 40*time.Minute)
		clk.Set(start.Add(10 * time.Minute))
		got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", nil, nil, "")
		reset := start.Add(40 * time.Minute)
		if got.status != 429 || got.body != "Retry later\n" || got.header.Get("Content-Type") != "text/plain" ||
			got.header.Get("Retry-After") != "1800" || got.header.Get("RateLimit-Reset") != fmt.Sprint(reset.Unix()) ||
			got.header.Get("RateLimit-ResetTime") != reset.Format(http.TimeFormat) {
			t.Errorf("throttled (even without a token): %d %q %v", got.status, got.body, got.header)
		}
		clk.Set(reset)
		if got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(tok), nil, ""); got.status != 200 {
			t.Errorf("at the reset: %d %s, want 200", got.status, got.body)
		}
		if !srv.Token(id).Revoked || len(srv.Tokens()) != 2 {
			t.Errorf("tokens: %v, want one rotation", srv.Tokens())
		}
	})
	t.Run("application limiter", func(t *testing.T) {
		srv, _ := newServer(t)
		tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(10)})
		srv.ThrottleRotate(gitlabtest.ApplicationLimiter, time.Hour)
		if got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", nil, nil, ""); got.status != 401 {
			t.Errorf("without a token: %d, want 401 (it authenticates first)", got.status)
		}
		got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(tok), nil, "")
		if got.status != 429 || got.body != `{"message":{"error":"This endpoint has been requested too many times. Try again later."}}` || got.header.Get("Retry-After") != "" {
			t.Errorf("throttled: %d %s %v", got.status, got.body, got.header)
		}
		if srv.Token(id).Revoked {
			t.Errorf("a throttled rotation revoked the token")
		}
	})
}

// TestLegacyRotationDisabled: with fine-grained tokens enforced, a
// person's legacy token is refused rotation, a bot's is not, and nothing
// changes before GitLab 18.
func TestLegacyRotationDisabled(t *testing.T) {
	const refusal = `{"message":"400 Bad request - Rotation of legacy personal access tokens is disabled. Use a fine-grained token instead."}`
	srv, _ := newServer(t)
	srv.EnforceFineGrainedTokens(true)
	tok, id := srv.CreateToken(gitlabtest.TokenSpec{ExpiresAt: today.AddDays(10)})
	if got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(tok), nil, ""); got.status != 400 || got.body != refusal {
		t.Errorf("a person's legacy token: %d %s, want 400 %s", got.status, got.body, refusal)
	}
	if srv.Token(id).Revoked {
		t.Errorf("the refused token was revoked")
	}
	repo := srv.CreateRepo("acme/widgets")
	bot, _ := srv.CreateToken(gitlabtest.TokenSpec{Kind: gitlabtest.ProjectToken, OwnerID: repo.ID, ExpiresAt: today.AddDays(10)})
	if got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(bot), nil, ""); got.status != 200 {
		t.Errorf("a bot's token: %d %s, want 200", got.status, got.body)
	}
	srv.SetVersion("17.11.0")
	if got := do(t, srv, "POST", "/personal_access_tokens/self/rotate", privateToken(tok), nil, ""); got.status != 200 {
		t.Errorf("on 17.11: %d %s, want 200", got.status, got.body)
	}
}
