package backend

import (
	"context"
	"fmt"

	"github.com/glpat-dev/git-credential-glpat/internal/config"
	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
	"github.com/glpat-dev/git-credential-glpat/internal/store"
)

// Move is what MoveAll moves: every credential of an index into Target.
type Move struct {
	Index *store.Store // its Secrets are in Current
	// Current is the backend the config names; Index's secrets are in it.
	Current  config.Backend
	StateDir string
	Options  []Option
	Target   config.Backend
	// SwitchConfig points the config at Target. It is called once the
	// first group of secrets is copied and verified (or at once when there
	// is nothing to copy), and not when the config already names Target.
	SwitchConfig func() error
	// Hook is called at "migrate-after-switch" and "migrate-after-remove"
	// (the crash-safety tests kill the process there).
	Hook func(point string)
}

// MoveReport says what MoveAll did, for a person.
type MoveReport struct {
	Dest string // Target, described
	// AlreadyThere: nothing was to move and the config names Target.
	AlreadyThere bool
	Groups       []MovedGroup
}

// MovedGroup is what moved out of one old backend.
type MovedGroup struct {
	From    string // described
	Moved   int
	Missing []string // not found in the old backend, nor in the new one
	Kept    []string // still also in the old backend (it refused the delete)
}

// TargetError: the new backend cannot be used (MoveAll changed nothing).
type TargetError struct {
	Target config.Backend
	Err    error
}

func (e *TargetError) Error() string { return fmt.Sprintf("%s: %v", e.Target, e.Err) }
func (e *TargetError) Unwrap() error { return e.Err }

// MoveError: the move of a group stopped part-way; nothing was lost, and
// running MoveAll again finishes it. The report says what did move.
type MoveError struct{ Err error }

func (e *MoveError) Error() string { return e.Err.Error() }
func (e *MoveError) Unwrap() error { return e.Err }

// MoveAll moves every credential of the index into m.Target with Migrate,
// one old backend at a time, and points each index record at the backend
// that now holds its secret. The caller holds the backend lock exclusively
// and has checked that the config loads (it is switched at the end: the
// move would be undone for nothing).
func MoveAll(ctx context.Context, m Move) (*MoveReport, error) {
	hook := m.Hook
	if hook == nil {
		hook = func(string) {}
	}
	dest, err := Open(m.Target, m.StateDir, m.Options...)
	if err != nil {
		return nil, err
	}
	rep := &MoveReport{Dest: Describe(dest)}
	groups, err := m.sources(ctx)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 && m.Current == m.Target {
		rep.AlreadyThere = true
		return rep, nil
	}
	if err := Check(ctx, dest); err != nil {
		return nil, &TargetError{Target: m.Target, Err: err}
	}
	switchConfig := func() error {
		if m.Current == m.Target {
			return nil
		}
		if err := m.SwitchConfig(); err != nil {
			return err
		}
		hook("migrate-after-switch")
		return nil
	}
	if len(groups) == 0 {
		if err := switchConfig(); err != nil {
			return nil, err
		}
	}
	for _, g := range groups {
		res, err := Migrate(ctx, g.from, dest, g.accounts, BeforeRemoving(switchConfig))
		hook("migrate-after-remove")
		// Whatever happened, every record whose secret the new backend now
		// holds says so; the others still name the old one.
		settled := m.recordMoves(ctx, g, dest)
		mg := MovedGroup{From: Describe(g.from), Moved: max(len(res.Moved), settled), Kept: res.Kept}
		for _, a := range res.Missing {
			if !g.inDest[a] {
				mg.Missing = append(mg.Missing, a)
			}
		}
		rep.Groups = append(rep.Groups, mg)
		if err != nil {
			return rep, &MoveError{Err: err}
		}
	}
	return rep, nil
}

// moveSource is one backend to move credentials out of.
type moveSource struct {
	kind     config.Backend
	from     secrets.Store
	accounts []string
	records  []store.Record
	// inDest marks the accounts the new backend held after the move.
	inDest map[string]bool
}

// sources groups what is to move into Target by the backend that holds it:
// the backend the index names for each record (an old record, which names
// none, is in the backend the config named), and, for a backend that can
// list, what it holds that the index does not name. So a move finishes
// whatever state it is run from: the config naming the old backend or
// already the new one, a migrate killed half-way, records of several
// backends.
func (m *Move) sources(ctx context.Context) ([]*moveSource, error) {
	recs, err := m.Index.List()
	if err != nil {
		// A damaged index file cannot be moved; what it listed stays.
		return nil, err
	}
	byKind := map[config.Backend]*moveSource{}
	var order []config.Backend
	get := func(k config.Backend) (*moveSource, error) {
		if g := byKind[k]; g != nil {
			return g, nil
		}
		from := m.Index.Secrets
		if k != m.Current {
			var err error
			if from, err = Open(k, m.StateDir, m.Options...); err != nil {
				return nil, err
			}
		}
		g := &moveSource{kind: k, from: from, inDest: map[string]bool{}}
		byKind[k] = g
		order = append(order, k)
		return g, nil
	}
	if m.Current != m.Target {
		get(m.Current) // the config's backend goes first, even if the index names nothing in it
	}
	for _, r := range recs {
		k := config.Backend(r.Backend)
		if k == "" {
			k = m.Current
		}
		if k == m.Target {
			continue
		}
		g, err := get(k)
		if err != nil {
			return nil, err
		}
		g.records = append(g.records, r)
		g.accounts = append(g.accounts, r.Account)
	}
	var out []*moveSource
	for _, k := range order {
		g := byKind[k]
		if g.accounts, err = Accounts(ctx, g.from, g.accounts); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if len(g.accounts) > 0 || k == m.Current {
			out = append(out, g)
		}
	}
	return out, nil
}

// recordMoves points the index records of g at Target where dest holds
// their secret, and returns how many it did. A record whose secret dest
// lacks keeps naming its old backend (where it still is).
func (m *Move) recordMoves(ctx context.Context, g *moveSource, dest secrets.Store) int {
	n := 0
	for i := range g.records {
		r := g.records[i]
		if _, err := dest.Get(ctx, r.Account); err != nil {
			continue
		}
		g.inDest[r.Account] = true
		r.Backend = string(m.Target)
		if m.Index.UpdateRecord(ctx, &r) == nil {
			n++
		}
	}
	return n
}
