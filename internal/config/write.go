package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/glpat-dev/git-credential-glpat/internal/atomicfile"
	"github.com/glpat-dev/git-credential-glpat/internal/safefile"
)

// MayNameBackend reports whether the config file at path might set
// backend, by looking for the word without parsing TOML: the hot path of
// `get` reads the file once and parses it only when this is true. A missing
// file names nothing.
func MayNameBackend(path string) (bool, error) {
	data, err := safefile.ReadPrivate(path, maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, readError(path, err)
	}
	return bytes.Contains(data, []byte("backend")), nil
}

// SetBackend writes `backend = "b"` into the config file at path, replacing
// a top-level backend line or adding one at the top, and leaves every other
// line as it was. See edit for how the file is written.
func SetBackend(path string, b Backend) error {
	// Compiled here, not at package init: Load is on every git fetch.
	backendLine := regexp.MustCompile(`(?m)^[ \t]*backend[ \t]*=.*$`)
	line := fmt.Sprintf("backend = %q", string(b))
	return edit(path, func(data []byte) []byte {
		// Only a line before the first table header is top-level.
		head, tail := data, []byte(nil)
		if i := tableHeader().FindIndex(data); i != nil {
			head, tail = data[:i[0]], data[i[0]:]
		}
		if backendLine.Match(head) {
			return append(backendLine.ReplaceAll(head, []byte(line)), tail...)
		}
		return append([]byte(line+"\n"), data...)
	}, func(cfg *Config) error {
		if cfg.Backend != b {
			return fmt.Errorf("backend would be %q after writing %q", cfg.Backend, b)
		}
		return nil
	})
}

// SetAPIURL writes `api_url = "u"` into the table [hosts."host"] of the
// config file at path (see setHostKey).
func SetAPIURL(path, host, u string) error {
	return setHostKey(path, host, "api_url", u, func(cfg *Config) string { return cfg.TokenAPIURL(host) })
}

// SetCAFile writes `ca_file = "file"` (an absolute path) into the table
// [hosts."host"] of the config file at path (see setHostKey).
func SetCAFile(path, host, file string) error {
	return setHostKey(path, host, "ca_file", file, func(cfg *Config) string { return cfg.Host(host).CAFile })
}

// setHostKey writes `key = "value"` into the table [hosts."host"] of the
// config file at path, replacing the table's line for key or adding one
// under its header, or adding the table at the end; every other line stays
// as it was. read is what the written file must then give. A host whose
// table the file spells otherwise (an inline table, dotted keys) is
// refused, and the file is left alone. See edit for how the file is
// written.
func setHostKey(path, host, key, value string, read func(*Config) string) error {
	line := fmt.Sprintf("%s = %q", key, value)
	keyLine := regexp.MustCompile(`(?m)^[ \t]*` + regexp.QuoteMeta(key) + `[ \t]*=.*$`)
	return edit(path, func(data []byte) []byte {
		start, end, ok := hostTable(data, host)
		if !ok {
			if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
				data = append(data, '\n')
			}
			if len(data) > 0 {
				data = append(data, '\n')
			}
			return append(data, fmt.Sprintf("[hosts.%q]\n%s\n", host, line)...)
		}
		body := data[start:end]
		if loc := keyLine.FindIndex(body); loc != nil {
			return slices.Concat(data[:start+loc[0]], []byte(line), data[start+loc[1]:])
		}
		head := data[:start]
		if !bytes.HasSuffix(head, []byte("\n")) {
			head = append(slices.Clip(head), '\n')
		}
		return slices.Concat(head, []byte(line+"\n"), data[start:])
	}, func(cfg *Config) error {
		if got := read(cfg); got != value {
			return fmt.Errorf("%s of %s would be %q after writing %q", key, host, got, value)
		}
		return nil
	})
}

// AddHost adds an empty table [hosts."host"] at the end of the config file
// at path, so that the host is a GitLab host: a password stored for it is
// asked about with its API whatever its prefix (personal_access_token_prefix
// is the instance's choice). The caller adds it only when the config does
// not name the host yet (Host(host).Known); every other line stays as it
// was. See edit for how the file is written.
func AddHost(path, host string) error {
	return edit(path, func(data []byte) []byte {
		if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
			data = append(data, '\n')
		}
		if len(data) > 0 {
			data = append(data, '\n')
		}
		return append(data, fmt.Sprintf("[hosts.%q]\n", host)...)
	}, func(cfg *Config) error {
		if !cfg.Host(host).Known {
			return fmt.Errorf("%s would not be named after adding [hosts.%q]", host, host)
		}
		return nil
	})
}

// tableHeader matches the first line of a table ([t] or [[t]]).
func tableHeader() *regexp.Regexp { return regexp.MustCompile(`(?m)^[ \t]*\[`) }

// hostTable finds the table [hosts."host"] in data (the key bare, quoted
// or literal; hosts compare without case, as Host does): start is just
// after its header line, end where the next table begins.
func hostTable(data []byte, host string) (start, end int, ok bool) {
	header := regexp.MustCompile(`(?m)^[ \t]*\[[ \t]*hosts[ \t]*\.[ \t]*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)[ \t]*\][ \t]*(?:#.*)?$`)
	for _, m := range header.FindAllSubmatchIndex(data, -1) {
		key := string(data[m[2]:m[3]])
		switch key[0] {
		case '"':
			var err error
			if key, err = strconv.Unquote(key); err != nil {
				continue
			}
		case '\'':
			key = key[1 : len(key)-1]
		}
		if !strings.EqualFold(key, host) {
			continue
		}
		start, end = m[1], len(data)
		if start < len(data) {
			start++ // the newline
		}
		if next := tableHeader().FindIndex(data[start:]); next != nil {
			end = start + next[0]
		}
		return start, end, true
	}
	return 0, 0, false
}

// edit rewrites the config file at path with change, and leaves it alone
// unless the result loads and passes check. A config kept elsewhere (a
// dotfiles repository) and linked here stays linked: the file it points to
// is rewritten. The file is created (0600, in a 0700 directory) when
// missing, and written atomically.
func edit(path string, change func([]byte) []byte, check func(*Config) error) error {
	// What is there is checked as Load checks it: the content carried
	// over decides where tokens go.
	data, err := safefile.ReadPrivate(path, maxFileSize)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return readError(path, err)
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	mode := os.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return &Error{File: path, Msg: err.Error()}
		}
	default:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	out := change(data)
	// Prove the new content before it replaces the file: a config that
	// does not load must not end up naming what was not meant. Parsed in
	// memory, so errors name the user's file and no scratch file is left
	// beside it.
	cfg := Default()
	cfg.Path = path
	if err := cfg.parse(out); err != nil {
		return fmt.Errorf("%s was not changed: changed, it would not load (%w)", path, err)
	}
	if err := check(cfg); err != nil {
		return &Error{File: path, Msg: err.Error() + "; not changed"}
	}
	if err := atomicfile.WriteFile(path, out, mode); err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	return nil
}
