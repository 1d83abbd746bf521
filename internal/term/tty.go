package term

import (
	"os"

	xterm "golang.org/x/term"
)

// IsTerminal reports whether s (a reader or writer) is a terminal a person
// uses: an *os.File that is a terminal, with TERM other than "dumb".
// Formats, colour, progress lines and prompts depend on it, and nothing
// else decides it.
func IsTerminal(s any, getenv func(string) string) bool {
	f, ok := s.(*os.File)
	return ok && xterm.IsTerminal(int(f.Fd())) && getenv("TERM") != "dumb"
}

// Color reports whether output to w may be coloured: a terminal, and
// NO_COLOR (https://no-color.org) unset.
func Color(w any, getenv func(string) string) bool {
	return IsTerminal(w, getenv) && getenv("NO_COLOR") == ""
}
