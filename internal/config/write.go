package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
)

// MayNameBackend reports whether the config file at path might set
// backend, by looking for the word without parsing TOML: the hot path of
// `get` reads the file once and parses it only when this is true. A missing
// file names nothing.
func MayNameBackend(path string) (bool, error) {
	data, err := safefile.ReadFile(path, maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, &Error{File: path, Msg: err.Error()}
	}
	return bytes.Contains(data, []byte("backend")), nil
}

// SetBackend writes `backend = "b"` into the config file at path, replacing
// a top-level backend line or adding one at the top, and leaves every other
// line as it was. The file is created (0600, in a 0700 directory) when
// missing, and written atomically. The result is loaded back to prove it.
func SetBackend(path string, b Backend) error {
	// A config kept elsewhere (a dotfiles repository) and linked here stays
	// linked: the file it points to is rewritten.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	data, err := os.ReadFile(path)
	mode := os.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return &Error{File: path, Msg: err.Error()}
		}
	case err != nil:
		return &Error{File: path, Msg: err.Error()}
	default:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	// Compiled here, not at package init: Load is on every git fetch.
	backendLine := regexp.MustCompile(`(?m)^[ \t]*backend[ \t]*=.*$`)
	line := fmt.Sprintf("backend = %q", string(b))
	var out []byte
	// Only a line before the first table header is top-level.
	head, tail := data, []byte(nil)
	if i := regexp.MustCompile(`(?m)^[ \t]*\[`).FindIndex(data); i != nil {
		head, tail = data[:i[0]], data[i[0]:]
	}
	if backendLine.Match(head) {
		out = append(backendLine.ReplaceAll(head, []byte(line)), tail...)
	} else {
		out = append([]byte(line+"\n"), data...)
	}
	// Prove the new content before it replaces the file: a config that
	// does not load must not end up naming a backend nothing was moved to.
	probe := filepath.Join(filepath.Dir(path), ".config-check.toml")
	if err := atomicfile.WriteFile(probe, out, 0o600); err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	cfg, err := Load(probe)
	os.Remove(probe)
	if err != nil {
		return fmt.Errorf("%s was not changed: %w", path, err)
	}
	if cfg.Backend != b {
		return &Error{File: path, Msg: fmt.Sprintf("backend would be %q after writing %q; not changed", cfg.Backend, b)}
	}
	if err := atomicfile.WriteFile(path, out, mode); err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	return nil
}
