package gitlabtest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// instance holds the instance settings and user attributes that change how
// the rotate endpoints answer, beyond SetVersion and SetMaxLifetime. It is
// guarded by Server.mu.
type instance struct {
	admins  map[string]bool   // usernames of administrators
	locales map[string]string // username -> preferred language
	zone    *time.Location    // gitlab_rails['time_zone']; nil is UTC

	throttle       Limiter // the limiter that refuses rotations
	throttledUntil time.Time

	fineGrainedOnly bool // granular_tokens_enforced
}

// SetAdmin makes username an administrator (on) or a regular user. It
// matters to the personal rotate-by-id route of GitLab 16.0–16.9, which
// answers an administrator's .../self/rotate with 404 (see SetVersion).
func (s *Server) SetAdmin(username string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.more.admins == nil {
		s.more.admins = make(map[string]bool)
	}
	s.more.admins[username] = on
}

// SetTimeZone sets the instance's time zone, gitlab_rails['time_zone']
// (config/initializers/time_zone.rb sets Time.zone from it; nil restores
// UTC). It decides "today" where GitLab's code asks Date.current or
// Time.current: the lifetime cap (app/models/personal_access_token.rb,
// Date.current.advance(days: …)) and a rotation's default expiry
// (PersonalAccessTokens::RotateService, 1.week.from_now.to_date). The
// API's timestamps are written in that zone too: Rails loads them as
// ActiveSupport::TimeWithZone in Time.zone, whose JSON is xmlschema with
// the zone's offset (2026-03-09T18:30:00.000-08:00). Expiry itself is
// unchanged: a token still stops working at 00:00 UTC of its date (see
// Date.Midnight).
func (s *Server) SetTimeZone(loc *time.Location) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.more.zone = loc
}

// SetLocale sets username's preferred language ("de"; "" is English).
// GitLab answers API errors in it (lib/api/api.rb sets the locale from the
// current user), so the lifetime cap's "must be before %{expiry_date}"
// comes translated from locale/<lang>/gitlab.po. The fake knows the German
// translation; other languages answer in English.
func (s *Server) SetLocale(username, lang string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.more.locales == nil {
		s.more.locales = make(map[string]string)
	}
	s.more.locales[username] = lang
}

// zoneLocked is the instance's time zone.
func (s *Server) zoneLocked() *time.Location {
	if s.more.zone == nil {
		return time.UTC
	}
	return s.more.zone
}

// todayLocked is Date.current: today in the instance's time zone.
func (s *Server) todayLocked() Date {
	y, m, d := s.now().In(s.zoneLocked()).Date()
	return Date{Year: y, Month: m, Day: d}
}

// timestampLocked writes t as GitLab's API does: xmlschema with
// milliseconds, in the instance's time zone ("Z" for UTC).
func (s *Server) timestampLocked(t time.Time) string {
	return t.In(s.zoneLocked()).Format("2006-01-02T15:04:05.000Z07:00")
}

// Lifetime cap messages, as PersonalAccessToken's validations add them to
// expires_at and RotateService reports new_token.errors.full_messages
// .to_sentence: the attribute's name ("Expiration date",
// config/locales/en.yml activerecord.attributes.personal_access_token
// .expires_at; config/locales/de.yml names no attributes, so German falls
// back to it — an assumption: the fallback setting was not found), then
// _("must be before %{expiry_date}") in the user's language
// (locale/de/gitlab.po: "muss vor %{expiry_date} liegen"), several joined
// by support.array.two_words_connector (" and ", " und ").
var capWords = map[string]struct{ format, and string }{
	"":   {"Expiration date must be before %s", " and "},
	"de": {"Expiration date muss vor %s liegen", " und "},
}

// capMessageLocked is the sentence that refuses a token's expiry for
// user u, one part per date.
func (s *Server) capMessageLocked(u *user, dates []Date) string {
	w, ok := capWords[s.more.locales[u.username]]
	if !ok {
		w = capWords[""]
	}
	parts := make([]string, len(dates))
	for i, d := range dates {
		parts[i] = fmt.Sprintf(w.format, d)
	}
	return strings.Join(parts, w.and)
}

// Limiter is one of GitLab's rate limiters, for ThrottleRotate.
type Limiter int

const (
	// RackAttack is the request throttle in front of the application
	// (lib/gitlab/rack_attack.rb, throttle_authenticated_api): 429
	// text/plain "Retry later\n" (Gitlab::Throttle.rate_limiting_response_text)
	// with RateLimit-* headers and Retry-After, before authentication.
	RackAttack Limiter = iota + 1
	// ApplicationLimiter is Gitlab::ApplicationRateLimiter as an endpoint
	// checks it (check_rate_limit!, lib/api/helpers/rate_limiter.rb):
	// 429 {"message":{"error":"This endpoint has been requested too many
	// times. Try again later."}}, without rate-limit headers, after
	// authentication. The self-rotate endpoints do not call it in the
	// source read (lib/api/personal_access_tokens/self_rotation.rb); it
	// stands for any application-level limit an instance adds.
	ApplicationLimiter
)

// ThrottleRotate makes every rotate endpoint answer 429 from limiter until
// d from now (by the server's clock), committing nothing; d <= 0 turns it
// off.
func (s *Server) ThrottleRotate(limiter Limiter, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.more.throttle, s.more.throttledUntil = limiter, time.Time{}
	if d > 0 {
		s.more.throttledUntil = s.now().Add(d)
	}
}

// throttledLocked reports whether limiter refuses a rotate request now,
// and the answer it gives.
func (s *Server) throttledLocked(limiter Limiter) (reply, bool) {
	now := s.now()
	if s.more.throttle != limiter || !now.Before(s.more.throttledUntil) {
		return reply{}, false
	}
	if limiter == ApplicationLimiter {
		return reply{status: http.StatusTooManyRequests, body: map[string]any{
			"message": map[string]string{"error": "This endpoint has been requested too many times. Try again later."},
		}}, true
	}
	// Gitlab::RackAttack.throttled_response_headers: Retry-After is the
	// seconds left in the period, RateLimit-Reset its end in Unix time,
	// RateLimit-ResetTime the same as an HTTP date.
	retry := int(math.Ceil(s.more.throttledUntil.Sub(now).Seconds()))
	reset := now.Add(time.Duration(retry) * time.Second)
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	h.Set("RateLimit-Name", "throttle_authenticated_api")
	h.Set("RateLimit-Limit", "2000")
	h.Set("RateLimit-Observed", "2001")
	h.Set("RateLimit-Remaining", "0")
	h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
	h.Set("Retry-After", strconv.Itoa(retry))
	return reply{status: http.StatusTooManyRequests, header: h, text: "Retry later\n"}, true
}

// legacyRotationDisabled is RotateService's refusal when fine-grained
// tokens are enforced (app/services/personal_access_tokens/rotate_service.rb,
// s_('AccessTokens|…'); no translation of it is in locale/de/gitlab.po, so
// every language gets the English text).
const legacyRotationDisabled = "Rotation of legacy personal access tokens is disabled. Use a fine-grained token instead."

// EnforceFineGrainedTokens switches the instance setting
// granular_tokens_enforced (GitLab 18, with the granular_personal_access_tokens
// feature flag on): RotateService then refuses to rotate a legacy (not
// fine-grained) personal access token of a human user, before its
// transaction, with 400 "Rotation of legacy personal access tokens is
// disabled. Use a fine-grained token instead." Bots' tokens are not
// affected (target_user.human?). Every token the fake makes is legacy. It
// has no effect on a version before 18.0 (the exact version the setting
// came in is not in the source read; 18.0 is an assumption).
func (s *Server) EnforceFineGrainedTokens(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.more.fineGrainedOnly = on
}

// legacyRotationRefusedLocked reports whether RotateService refuses to
// rotate t because fine-grained tokens are enforced.
func (s *Server) legacyRotationRefusedLocked(t *token) bool {
	return s.more.fineGrainedOnly && !t.user.bot && s.versionAtLeastLocked(18, 0)
}
