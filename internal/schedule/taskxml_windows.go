package schedule

import "github.com/glpat-dev/git-credential-glpat/internal/schedule/taskxml"

// readTaskXML reads schtasks' XML (see taskxml_other.go).
var readTaskXML = taskxml.Decode
