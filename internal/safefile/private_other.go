//go:build !unix

package safefile

import "io/fs"

// openNoFollow is not needed where nothing is resolved ahead of the open.
const openNoFollow = 0

// resolvePrivate checks nothing where permissions are ACLs (Windows): the
// per-user directories the files live in are already private.
func resolvePrivate(name string) (string, error) { return name, nil }

// checkFile checks nothing where permissions are ACLs.
func checkFile(string, fs.FileInfo) error { return nil }
