//go:build !unix

package safefile

// openNonblock is not needed where opening never waits for a writer.
const openNonblock = 0
