package gitlabtest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Repo is a Git repository of the fake, a GitLab project.
type Repo struct {
	// ID is the project id, for a ProjectToken's OwnerID.
	ID int
	// Path is the project's full path, such as "group/project".
	Path string
	// GroupID is the id of the group the project sits in, for a GroupToken's
	// OwnerID. A group token also reaches projects of its subgroups.
	GroupID int
	// URL is the HTTP clone URL: Server.URL + "/" + Path + ".git".
	URL string
}

var pathSegment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// CreateRepo makes a bare repository at path ("namespace/project", nested
// namespaces allowed, without ".git") holding one commit on main, and
// registers the project and its groups. It fails the test on error.
//
// Git runs with a temporary HOME and neither system nor global config, so
// nothing of the user's own Git setup is read or written.
func (s *Server) CreateRepo(p string) Repo {
	s.tb.Helper()
	p = strings.TrimSuffix(p, ".git")
	segs := strings.Split(p, "/")
	if len(segs) < 2 || slices.ContainsFunc(segs, func(seg string) bool { return !pathSegment.MatchString(seg) || strings.HasSuffix(seg, ".git") }) {
		s.tb.Fatalf("gitlabtest: CreateRepo: bad project path %q (want namespace/project)", p)
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		s.tb.Fatalf("gitlabtest: CreateRepo: %v", err)
	}

	s.mu.Lock()
	if _, dup := s.repos[p]; dup {
		s.mu.Unlock()
		s.tb.Fatalf("gitlabtest: CreateRepo: %q exists already", p)
	}
	repo := &Repo{ID: s.nextID.project, Path: p, URL: s.URL + "/" + p + ".git"}
	s.nextID.project++
	for i := 1; i < len(segs); i++ {
		ns := strings.Join(segs[:i], "/")
		if _, ok := s.groups[ns]; !ok {
			s.groups[ns] = s.nextID.group
			s.nextID.group++
		}
	}
	repo.GroupID = s.groups[path.Dir(p)]
	// Reserve the path now; the repository is served once it is on disk.
	s.repos[p] = nil
	s.mu.Unlock()

	dir := filepath.Join(s.repoRoot, filepath.FromSlash(p)+".git")
	env := append(gitEnv(s.gitHome),
		// Fixed dates make the first commit the same in every run.
		"GIT_AUTHOR_DATE=2020-01-01T00:00:00Z",
		"GIT_COMMITTER_DATE=2020-01-01T00:00:00Z",
	)
	git := func(stdin string, args ...string) string {
		s.tb.Helper()
		cmd := exec.Command(gitPath, args...)
		cmd.Dir = dir
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			s.tb.Fatalf("gitlabtest: CreateRepo %s: git %s: %v: %s", p, strings.Join(args, " "), err, stderr.Bytes())
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.tb.Fatalf("gitlabtest: CreateRepo: %v", err)
	}
	git("", "init", "--quiet", "--bare", "--initial-branch=main")
	blob := git("# "+path.Base(p)+"\n", "hash-object", "-w", "--stdin")
	tree := git("100644 blob "+blob+"\tREADME.md\n", "mktree")
	commit := git("", "commit-tree", tree, "-m", "Initial commit")
	git("", "update-ref", "refs/heads/main", commit)

	s.mu.Lock()
	s.repos[p] = repo
	s.mu.Unlock()
	return *repo
}

// GitEnv returns an environment for running the real git in a test: PATH,
// a new temporary HOME, no system or global config
// (GIT_CONFIG_NOSYSTEM=1, GIT_CONFIG_GLOBAL=/dev/null), no terminal prompt,
// and a fixed identity. Nothing else of the caller's environment is passed
// (no proxies, no askpass). Append to it to override: exec.Cmd uses the last
// value of a repeated variable.
func GitEnv(tb testing.TB) []string {
	tb.Helper()
	return gitEnv(tb.TempDir())
}

func gitEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
		"GIT_AUTHOR_NAME=Test Author",
		"GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Test Committer",
		"GIT_COMMITTER_EMAIL=committer@example.com",
	}
}

// parseGitPath splits a smart HTTP path, "/<project path>.git/<operation>",
// into the project path and the operation.
func parseGitPath(p string) (repo, op string, ok bool) {
	i := strings.Index(p, ".git/")
	if i < 1 || p[0] != '/' {
		return "", "", false
	}
	repo, op = p[1:i], p[i+len(".git/"):]
	switch op {
	case "info/refs", "git-upload-pack", "git-receive-pack":
	default:
		return "", "", false
	}
	segs := strings.Split(repo, "/")
	if len(segs) < 2 || slices.ContainsFunc(segs, func(seg string) bool { return !pathSegment.MatchString(seg) }) {
		return "", "", false
	}
	return repo, op, true
}

// Git smart HTTP answers, from app/controllers/repositories/
// git_http_client_controller.rb and lib/gitlab/git_access.rb.
const (
	gitAccessDenied  = "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See %s/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied"
	gitAuthDownload  = "You are not allowed to download code."
	gitAuthUpload    = "You are not allowed to upload code."
	gitNotAllowed    = "The command you're trying to execute is not allowed."
	gitNotFound      = "The project you were looking for could not be found or you don't have permission to view it."
	maxBufferedGitIn = 256 << 20
)

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// serveGit authenticates a smart HTTP request as GitLab does and hands it
// to git http-backend.
//
// Authentication (Gitlab::Auth.find_for_git_client, from
// app/controllers/repositories/git_http_client_controller.rb): HTTP Basic
// with a live token as password and any username, blank included
// (personal_access_token_check reads only the password;
// https://docs.gitlab.com/user/profile/personal_access_tokens/). The token
// of a bot (project or group token) also needs to be able to read the
// project, when it exists (personal_access_token_check: can_read_project?),
// so such a token on another project fails to authenticate, though it is
// valid. No credentials, or credentials that fail, get 401 with the
// challenge `Basic realm="GitLab"` and render_access_denied's text; only
// the second kind counts as a failed login (rate_limit! in lib/gitlab/auth.rb,
// toward an IP ban).
//
// Authorization (Gitlab::GitAccess#check, lib/gitlab/git_access.rb): the
// token's scopes give abilities (Gitlab::Auth#abilities_for_scopes):
// download_code from api, read_api, read_repository or write_repository;
// push_code from api or write_repository. A live token without the ability
// gets 403 "You are not allowed to download code." or "... upload code."
// (check_authentication_abilities!, before the project is looked at; not
// 401, so Git does not reject the credential: http.c rejects only on 401).
// Then the project must exist and be visible; otherwise 404.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request, repoPath, op string) {
	if !s.arrive(w, r, EndpointGit) {
		return
	}
	service := op
	if op == "info/refs" {
		service = r.URL.Query().Get("service")
	}

	username, password, hasCreds := r.BasicAuth()
	s.mu.Lock()
	repo := s.repos[repoPath]
	var t *token
	if hasCreds {
		t = s.bySecret[password]
		if t == nil && username == "oauth2" {
			// An OAuth access token: GitLab takes one for git only under
			// the username oauth2 (oauth_access_token_check in
			// lib/gitlab/auth.rb); oauth.go.
			t = s.oauthGitTokenLocked(password)
		}
		switch {
		case password == "" || t == nil || t.revoked || s.expiredLocked(t),
			t.user.bot && repo != nil && !s.canSeeLocked(t, repo):
			t = nil
			s.calls[EndpointGitAuthFail]++
		default:
			s.markUsedLocked(t, r)
		}
	}
	if t == nil {
		s.mu.Unlock()
		w.Header().Set("Www-Authenticate", `Basic realm="GitLab"`)
		plain(w, http.StatusUnauthorized, fmt.Sprintf(gitAccessDenied, s.URL))
		return
	}
	canDownload := hasAnyScope(t, "api", "read_api", "read_repository", "write_repository")
	canPush := hasAnyScope(t, "api", "write_repository")
	visible := repo != nil && s.canSeeLocked(t, repo)
	s.mu.Unlock()

	switch {
	case service == "git-upload-pack" && !canDownload:
		plain(w, http.StatusForbidden, gitAuthDownload)
		return
	case service == "git-receive-pack" && !canPush:
		plain(w, http.StatusForbidden, gitAuthUpload)
		return
	case service != "git-upload-pack" && service != "git-receive-pack":
		plain(w, http.StatusForbidden, gitNotAllowed)
		return
	case !visible:
		plain(w, http.StatusNotFound, gitNotFound)
		return
	}
	s.runHTTPBackend(w, r, username)
}

func hasAnyScope(t *token, scopes ...string) bool {
	return slices.ContainsFunc(t.scopes, func(sc string) bool { return slices.Contains(scopes, sc) })
}

func (s *Server) canSeeLocked(t *token, repo *Repo) bool {
	switch t.kind {
	case ProjectToken:
		return repo.ID == t.ownerID
	case GroupToken:
		ns := path.Dir(repo.Path)
		for gp, id := range s.groups {
			if id == t.ownerID {
				return ns == gp || strings.HasPrefix(ns, gp+"/")
			}
		}
		return false
	}
	return true
}

// runHTTPBackend serves the request with git http-backend through CGI,
// pushing enabled (http.receivepack) and every repository exported.
func (s *Server) runHTTPBackend(w http.ResponseWriter, r *http.Request, username string) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		plain(w, http.StatusInternalServerError, "git not found")
		return
	}
	// The credentials stay here: the CGI would pass them to git http-backend
	// as HTTP_AUTHORIZATION in its environment.
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	r.Header.Del("Private-Token")
	// net/http/cgi refuses chunked bodies, which Git sends for a large push.
	if r.ContentLength < 0 || slices.Contains(r.TransferEncoding, "chunked") {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedGitIn))
		if err != nil {
			plain(w, http.StatusBadRequest, "cannot read request body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
	}
	logw := &testLogWriter{s: s}
	h := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Dir:  s.repoRoot,
		Env: append(gitEnv(s.gitHome),
			"GIT_PROJECT_ROOT="+s.repoRoot,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER="+username,
			"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.receivepack",
			"GIT_CONFIG_VALUE_0=true",
		),
		Stderr: logw,
		Logger: log.New(logw, "", 0),
	}
	h.ServeHTTP(w, r)
}

// testLogWriter passes git http-backend's complaints to the test log, which
// holds no secret: the request reaches the CGI without its credentials.
type testLogWriter struct{ s *Server }

func (l *testLogWriter) Write(p []byte) (int, error) {
	select {
	case <-l.s.done:
	default:
		l.s.tb.Logf("gitlabtest: git http-backend: %s", bytes.TrimSpace(p))
	}
	return len(p), nil
}
