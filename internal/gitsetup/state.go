package gitsetup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/config"
)

// stateFileName is the file in the state directory that records what
// setup wrote to the git config.
const stateFileName = "gitsetup.json"

// state is the record of what setup wrote, so that undo removes exactly that.
type state struct {
	path    string
	Version int          `json:"version"`
	Entries []stateEntry `json:"entries"`
}

type stateEntry struct {
	Key     string    `json:"key"`    // like "credential.https://gitlab.com.helper"
	Values  []string  `json:"values"` // appended in this order
	Written time.Time `json:"written"`
}

func loadState(dir string) (*state, error) {
	st := &state{path: filepath.Join(dir, stateFileName), Version: 1}
	data, err := os.ReadFile(st.path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gitsetup: read record of setup: %w", err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("gitsetup: %s is damaged (%v); move it away and check your git config by hand: git config --global --edit", st.path, err)
	}
	if st.Version != 1 {
		return nil, fmt.Errorf("gitsetup: %s has version %d; this program knows version 1", st.path, st.Version)
	}
	return st, nil
}

// find returns the record for credential.<url>.<name>, or nil.
func (st *state) find(url, name string) *stateEntry {
	key := "credential." + url + "." + name
	for i := range st.Entries {
		if st.Entries[i].Key == key {
			return &st.Entries[i]
		}
	}
	return nil
}

func (st *state) put(key string, values []string) {
	st.remove(key)
	st.Entries = append(st.Entries, stateEntry{Key: key, Values: values, Written: time.Now().UTC()})
}

func (st *state) remove(key string) {
	st.Entries = slices.DeleteFunc(st.Entries, func(e stateEntry) bool { return e.Key == key })
}

// save writes the record atomically: a private temp file, synced, renamed
// over the old one, in a 0700 directory.
func (st *state) save() error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("gitsetup: record setup: %w", err)
	}
	data = append(data, '\n')
	if err := config.EnsurePrivateDir(filepath.Dir(st.path)); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(st.path, data, 0o600); err != nil {
		return fmt.Errorf("gitsetup: record setup: %w", err)
	}
	return nil
}
