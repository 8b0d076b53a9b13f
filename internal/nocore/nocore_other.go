//go:build !unix

package nocore

// Enable does nothing on Windows: there is no core-file limit, and the Go
// runtime already turns off the Windows Error Reporting dialog at start;
// a crash dump needs an administrator's LocalDumps setting or
// GOTRACEBACK=wer.
func Enable() error { return nil }
