package cmdutil

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/browser"
)

// TestStderrIsSanitised: every byte the production wiring writes to stderr,
// sesame's messages and the browser launcher's chatter alike, passes term's
// sanitiser, so a printer that forgets term.Clean still cannot put an
// escape sequence from a provider on the terminal (README: "stderr as a
// whole passes the same sanitiser"). Line breaks, tabs and colour stay.
func TestStderrIsSanitised(t *testing.T) {
	var stderr bytes.Buffer
	f := NewFactory(strings.NewReader(""), io.Discard, &stderr, func(string) string { return "" })
	hostile := "evil\x1b]52;c;ZWNobyBoaQ==\x07 \x1b[2J\rforged\u202eexe.txt"
	fmt.Fprintf(f.Stderr, "error: the provider said %s\n\t\x1b[1mbold\x1b[0m\n", hostile)
	got := stderr.String()
	for _, raw := range []string{"\x1b]", "\x07", "\x1b[2J", "\r", "\u202e"} {
		if strings.Contains(got, raw) {
			t.Errorf("stderr carries %q raw: %q", raw, got)
		}
	}
	if !strings.HasSuffix(got, "\n\t\x1b[1mbold\x1b[0m\n") || !strings.Contains(got, `\x1b]52`) {
		t.Errorf("layout, colour or the escaped text lost: %q", got)
	}

	b, ok := f.Browser.(browser.System)
	if !ok || b.Output != f.Stderr {
		t.Errorf("the browser launcher writes to %T %v, not the sanitised stderr", f.Browser, b.Output)
	}
}
