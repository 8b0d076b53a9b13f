// Package doc holds the user documentation: the man page,
// git-credential-glpat.1 (hand-written roff, checked against the table of
// commands by cmd/git-credential-glpat's tests), and the Markdown pages,
// whose links its tests check.
package doc
