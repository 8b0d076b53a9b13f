package store

import (
	"fmt"

	"github.com/glpat-dev/git-credential-glpat/internal/hostarg"
)

// What the store does on its own, or will not do, it reports as these
// errors (through Store.Notice, or returned): they say what happened, and
// the caller, which makes the messages, says what to do about it.

// ElsewhereError is a credential whose secret is in another backend than
// the store's (Record.Backend): it is not served from here.
type ElsewhereError struct {
	Record Record
	// Backend is the store's backend, the one the config names.
	Backend string
}

func (e *ElsewhereError) Error() string {
	return fmt.Sprintf("store: the credential for %s (%s) is in the %s backend, and the config names %s",
		hostarg.Format(e.Record.Protocol, e.Record.Host), e.Record.Username, e.Record.Backend, e.Backend)
}

// InconsistentError is an index file holding N records whose protocol,
// host or account disagrees with the file or the credential (see
// consistentAccount): they are not served, nor used to delete anything.
type InconsistentError struct {
	File string
	N    int
}

func (e *InconsistentError) Error() string {
	return fmt.Sprintf("store: %s holds %d record(s) whose protocol, host or account disagrees with the file or the credential; they are not served", e.File, e.N)
}

// SetAsideError is a damaged index file kept as Aside (by a store, which
// started a new one): the credentials it listed are in the backend,
// unlisted.
type SetAsideError struct {
	Aside string
}

func (e *SetAsideError) Error() string {
	return fmt.Sprintf("store: %s is a damaged index set aside; the credentials it listed are still in the backend but unlisted", e.Aside)
}
