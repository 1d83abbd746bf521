package version

import (
	"runtime"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	Version, Commit, Date = "v1.2.3", "0123456789abcdef0123", "2026-11-21T10:00:00Z"
	t.Cleanup(func() { Version, Commit, Date = "", "", "" })
	i := Get()
	if i.Version != "v1.2.3" || i.GoVersion != runtime.Version() {
		t.Errorf("%+v", i)
	}
	if s := i.String(); !strings.HasPrefix(s, "v1.2.3 (0123456789ab, 2026-11-21T10:00:00Z), go") {
		t.Errorf("%q", s)
	}
	Version, Commit, Date = "", "", ""
	if Get().Version == "" {
		t.Error("no fallback version")
	}
}
