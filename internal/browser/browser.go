// Package browser opens URLs in the user's browser.
package browser

import (
	"io"
	"sync"

	pkgbrowser "github.com/pkg/browser"
)

// Opener opens a URL for the user to visit.
type Opener interface {
	Open(url string) error
}

// System opens the system browser with github.com/pkg/browser.
type System struct {
	// Output receives whatever the launched program prints, which must
	// never reach sesame's stdout (scripts read tokens from it).
	Output io.Writer
}

// pkg/browser keeps its output writers in package variables; guard them.
var mu sync.Mutex

// Open starts the browser. On Linux pkg/browser waits for xdg-open, which
// returns once the browser is launched.
func (s System) Open(url string) error {
	mu.Lock()
	defer mu.Unlock()
	out := s.Output
	if out == nil {
		out = io.Discard
	}
	pkgbrowser.Stdout, pkgbrowser.Stderr = out, out
	return pkgbrowser.OpenURL(url)
}
