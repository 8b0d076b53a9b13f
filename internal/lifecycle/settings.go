package lifecycle

import "github.com/glpat-dev/git-credential-glpat/internal/store"

// SettingsFor returns the rotation settings that apply to rec.
func (m *Manager) SettingsFor(rec *store.Record) Settings { return m.settings(rec) }
