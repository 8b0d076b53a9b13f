// Package doc holds the man page, git-credential-glpat.1 (hand-written roff); its tests check that it renders cleanly and documents every command and flag.
package doc
