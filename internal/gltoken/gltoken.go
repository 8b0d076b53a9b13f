// Package gltoken knows what GitLab's tokens look like whatever prefix their
// instance gives them (GitLab's own prefixes, an instance prefix before
// them, routable tokens with their checksum), and hides tokens in text.
package gltoken

import (
	"hash/crc32"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// PATPrefix starts a personal, project or group access token on an
// instance that keeps GitLab's default personal_access_token_prefix
// (https://docs.gitlab.com/security/tokens/#token-prefixes).
const PATPrefix = "glpat-"

// otherPrefixes start GitLab's tokens of other kinds than access tokens
// (https://docs.gitlab.com/security/tokens/#token-prefixes): deploy,
// runner, trigger, feed, CI/CD job, incoming email, agent, SCIM, OAuth
// application secret, feature flag client, workspace tokens.
func otherPrefixes() []string {
	return []string{"gldt-", "glrt-", "glrtr-", "glptt-", "glft-", "glcbt-", "glimt-", "glagent-", "glsoat-", "gloas-", "glffct-", "glwt-"}
}

// The shape of a routable token (lib/authn/token_field/generator/routable_token.rb):
//
//	<prefix><base64url payload>.<version>.<payload length><crc>
//
// version and payload length are 2 base-36 digits each, crc is the CRC-32
// of everything before it in 7 base-36 digits.
const (
	routableTail = len(".01.") + 2 + 7
	crcDigits    = 7
	// maxPrefix bounds a prefix: personal_access_token_prefix is at most
	// 20 characters (app/models/application_setting.rb), and an instance
	// prefix may stand before it (lib/authn/token_field/prefix_helper.rb).
	maxPrefix = 64
	// classicRandom is the length of a token's random part before routable
	// tokens: Devise.friendly_token (lib/authn/token_field/base.rb).
	classicRandom = 20
)

// Routable reports whether tok is a routable token, the format of GitLab's
// personal access tokens since routable tokens (43 to 316 characters, with
// dots), and returns its prefix. Its checksum must agree, so a password
// that looks like one by chance is not taken for one.
func Routable(tok string) (prefix string, ok bool) {
	n := len(tok)
	if n < routableTail+1 {
		return "", false
	}
	tail := tok[n-routableTail:]
	if tail[0] != '.' || tail[3] != '.' || !base36(tail[1:3]) || !base36(tail[4:]) {
		return "", false
	}
	payloadLen, err := strconv.ParseUint(tail[4:6], 36, 16)
	start := n - routableTail - int(payloadLen)
	if err != nil || payloadLen == 0 || start < 0 || start > maxPrefix {
		return "", false
	}
	if !urlSafe(tok[start : n-routableTail]) {
		return "", false
	}
	sum, err := strconv.ParseUint(tok[n-crcDigits:], 36, 64)
	if err != nil || uint64(crc32.ChecksumIEEE([]byte(tok[:n-crcDigits]))) != sum {
		return "", false
	}
	return tok[:start], true
}

// Prefix returns the prefix of a GitLab token: exact for a routable token,
// else what stands before its last 20 characters.
func Prefix(tok string) string {
	if p, ok := Routable(tok); ok {
		return p
	}
	if len(tok) > classicRandom && len(tok)-classicRandom <= maxPrefix {
		return tok[:len(tok)-classicRandom]
	}
	return ""
}

// MayBeAccessToken reports whether tok has the shape of a personal,
// project or group access token of some GitLab instance, without knowing
// that instance's prefix: "glpat-…", an instance prefix before it
// ("<p>-glpat-…"), or a routable token whose prefix is not that of another
// kind of GitLab token. A token with a custom personal_access_token_prefix
// and no routing part cannot be told from a password: only its host's
// config makes it a token (setup and login name the host there).
func MayBeAccessToken(tok string) bool {
	if strings.HasPrefix(tok, PATPrefix) {
		return true
	}
	if i := strings.Index(tok, "-"+PATPrefix); i > 0 && i < maxPrefix {
		return true
	}
	p, ok := Routable(tok)
	if !ok {
		return false
	}
	for _, other := range otherPrefixes() {
		if strings.HasSuffix(p, other) {
			return false
		}
	}
	return true
}

// Fingerprint shows tok the way diagnostics may: its prefix and its last
// four characters, like "glpat-…x7Qa".
func Fingerprint(tok string) string {
	p := Prefix(tok)
	if len(tok) < len(p)+8 {
		return p + "…"
	}
	return p + "…" + tok[len(tok)-4:]
}

func base36(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// learned holds the tokens this process handles, whose prefixes Redact
// hides tokens by: a custom prefix cannot be told from text otherwise.
var learned struct {
	sync.Mutex
	tokens []string
}

// Learn tells Redact about a token this process handles: tokens with its
// prefix are hidden from then on (it is the instance's prefix, which
// GitLab's own prefixes and routable tokens do not reveal when custom). It
// costs a comparison and an append; the work is done when a message is
// redacted.
func Learn(tok string) {
	if tok == "" {
		return
	}
	learned.Lock()
	defer learned.Unlock()
	for _, t := range learned.tokens {
		if t == tok {
			return
		}
	}
	learned.tokens = append(learned.tokens, tok)
}

// standardPattern matches tokens with GitLab's prefixes, also after an
// instance prefix. Compiled on first use: the hot path never prints.
var standardPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\b(glpat|gldt|glrt|glrtr|glptt|glft|glcbt|glimt|glagent|glsoat|gloas|glffct|glwt)-[0-9A-Za-z_.-]{19,}[0-9A-Za-z_-]`)
})

// routablePattern matches the end of a routable token: its payload and tail.
var routablePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[0-9A-Za-z_-]{20,}\.[0-9a-z]{2}\.[0-9a-z]{9}`)
})

// Redact replaces every GitLab token in s with its fingerprint: tokens with
// GitLab's prefixes, routable tokens with any prefix, and tokens with the
// prefix of a token given to Learn. No code path puts a secret into a
// message; this is the second line of defence.
func Redact(s string) string {
	s = redactRoutable(s)
	s = standardPattern().ReplaceAllStringFunc(s, func(tok string) string {
		prefix, _, _ := strings.Cut(tok, "-")
		return prefix + "-…" + tok[len(tok)-4:]
	})
	learned.Lock()
	toks := learned.tokens
	learned.Unlock()
	for _, t := range toks {
		s = strings.ReplaceAll(s, t, Fingerprint(t))
		if p := Prefix(t); p != "" {
			s = redactPrefix(s, p)
		}
	}
	return s
}

// redactRoutable hides routable tokens. Where a token ends is plain (its
// tail); where it starts is not (a prefix may hold '.', ':', '/', '@'), so
// every start a prefix allows is tried against the checksum.
func redactRoutable(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range routablePattern().FindAllStringIndex(s, -1) {
		end := m[1]
		if end < len(s) && urlSafe(s[end:end+1]) {
			continue
		}
		payloadLen, _ := strconv.ParseUint(s[end-routableTail+4:end-routableTail+6], 36, 16)
		payloadStart := end - routableTail - int(payloadLen)
		for start := payloadStart; start >= last && start >= 0 && payloadStart-start <= maxPrefix; start-- {
			if _, ok := Routable(s[start:end]); ok {
				b.WriteString(s[last:start])
				b.WriteString(Fingerprint(s[start:end]))
				last = end
				break
			}
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactPrefix hides what follows prefix in s when it has the shape of a
// token's random part (20 URL-safe characters, or more with dots).
func redactPrefix(s, prefix string) string {
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(s[i:], prefix)
		if j < 0 {
			break
		}
		j += i
		k := j + len(prefix)
		for k < len(s) && (urlSafe(s[k:k+1]) || s[k] == '.') {
			k++
		}
		if k-j-len(prefix) >= classicRandom {
			b.WriteString(s[i:j])
			b.WriteString(prefix + "…" + s[k-4:k])
		} else {
			b.WriteString(s[i:k])
		}
		i = k
	}
	if i == 0 {
		return s
	}
	b.WriteString(s[i:])
	return b.String()
}
