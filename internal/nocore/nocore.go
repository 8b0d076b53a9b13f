// Package nocore keeps the helper's memory, which holds tokens, out of core
// files.
package nocore
