package session

import "os"

// CrashHook returns a lifecycle hook that kills this process, as kill -9
// would, when a rotation reaches point. Only the crash-safety tests name a
// point, through a binary built with -tags glpat_testhooks.
func CrashHook(point string) func(string) {
	if point == "" {
		return nil
	}
	return func(p string) {
		if p == point {
			self, _ := os.FindProcess(os.Getpid())
			self.Kill()
			select {} // the kill is asynchronous on some systems
		}
	}
}
