//go:build !unix

package config

import "io/fs"

// checkPrivateDir does nothing where permissions are ACLs (Windows): the
// per-user directories the state lives in are already private.
func checkPrivateDir(string, fs.FileInfo) error { return nil }

// checkStateDir does nothing where permissions are ACLs.
func checkStateDir(string, fs.FileInfo) error { return nil }
