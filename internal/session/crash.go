package session

import "os"

// CrashHook returns a lifecycle hook that kills this process, as kill -9
// would, when a rotation reaches point. The crash-safety tests set
// GLPAT_TEST_KILL_AT; nothing else should.
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
