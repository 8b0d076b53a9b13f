//go:build !unix

package config

import "io/fs"

// checkPrivateDir does nothing where permissions are ACLs (Windows): the
// per-user directories the state lives in are already private.
func checkPrivateDir(string, fs.FileInfo) error { return nil }

// checkPrivate does nothing where permissions are ACLs.
func checkPrivate(string, fs.FileInfo, bool) error { return nil }

// checkConfigFile does nothing where permissions are ACLs.
func checkConfigFile(string, fs.FileInfo) error { return nil }
