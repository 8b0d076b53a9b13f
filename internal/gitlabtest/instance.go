package gitlabtest

// instance holds the instance settings and user attributes that change how
// the rotate endpoints answer, beyond SetVersion and SetMaxLifetime. It is
// guarded by Server.mu.
type instance struct {
	admins map[string]bool // usernames of administrators
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
