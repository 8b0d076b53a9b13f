// Package secretstest provides an in-memory secrets.Store with fault
// injection, for unit tests of logic only; behaviour is proven against the
// real backends.
package secretstest

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/glpat-dev/git-credential-glpat/internal/secrets"
)

// Memory is an in-memory secrets.Store. Its zero value is ready to use.
type Memory struct {
	mu    sync.Mutex
	items map[string]string
	// Err, when set, is returned by every call instead of doing anything.
	Err   error
	calls int
	sets  int
}

// Get implements secrets.Store.
func (m *Memory) Get(ctx context.Context, account string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.Err != nil {
		return "", m.Err
	}
	v, ok := m.items[account]
	if !ok {
		return "", fmt.Errorf("memory: %s: %w", account, secrets.ErrNotFound)
	}
	return v, nil
}

// Set implements secrets.Store.
func (m *Memory) Set(ctx context.Context, account, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	m.sets++
	if m.Err != nil {
		return m.Err
	}
	if m.items == nil {
		m.items = make(map[string]string)
	}
	m.items[account] = secret
	return nil
}

// Delete implements secrets.Store.
func (m *Memory) Delete(ctx context.Context, account string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.Err != nil {
		return m.Err
	}
	if _, ok := m.items[account]; !ok {
		return fmt.Errorf("memory: %s: %w", account, secrets.ErrNotFound)
	}
	delete(m.items, account)
	return nil
}

// Accounts lists the stored account names, sorted.
func (m *Memory) Accounts() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.items {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Calls is the number of calls made so far, failed ones included.
func (m *Memory) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// Sets is the number of Set calls made so far, failed ones included.
func (m *Memory) Sets() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sets
}
