// Package browser opens URLs in the user's browser: $BROWSER when set,
// WSL's Windows browser when running under WSL, else the platform's opener
// through github.com/pkg/browser.
package browser

import (
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"

	pkgbrowser "github.com/pkg/browser"
)

// Opener opens a URL for the user to visit.
type Opener interface {
	Open(url string) error
}

// System opens the user's browser.
type System struct {
	// Output receives whatever the launched program prints, which must
	// never reach sesame's stdout (scripts read tokens from it).
	Output io.Writer
	Getenv func(string) string
}

// pkg/browser keeps its output writers in package variables; guard them.
var mu sync.Mutex

// Open starts the browser without waiting for it to exit. It opens only
// what CheckURL accepts.
func (s System) Open(url string) error {
	if err := CheckURL(url); err != nil {
		return err
	}
	out := s.Output
	if out == nil {
		out = io.Discard
	}
	if b := s.getenv("BROWSER"); b != "" {
		return openWithBROWSER(b, url, out)
	}
	if _, err := exec.LookPath("xdg-open"); err != nil && IsWSL(s.getenv) {
		return openOnWindows(url, out)
	}
	mu.Lock()
	defer mu.Unlock()
	pkgbrowser.Stdout, pkgbrowser.Stderr = out, out
	return pkgbrowser.OpenURL(url)
}

// CheckURL accepts only an absolute http or https URL made of the
// characters RFC 3986 §2 allows. Every URL sesame opens (authorization,
// end-session, a device's verification page) is a web page; a file: URL,
// a custom scheme or javascript: would make the browser, or the program
// $BROWSER names, do something else on the provider's say-so, and cmd.exe
// (WSL) treats some characters outside that set as commands.
func CheckURL(raw string) error {
	u, err := neturl.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("sesame opens only http(s) URLs in the browser, not %q", raw)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			return fmt.Errorf("the URL %q has characters a URL must percent-encode (RFC 3986 §2); sesame does not open it", raw)
		}
	}
	return nil
}

func (s System) getenv(k string) string {
	if s.Getenv == nil {
		return os.Getenv(k)
	}
	return s.Getenv(k)
}

// openWithBROWSER follows the $BROWSER convention: a colon-separated list
// of commands, each tried in turn; %s in a command stands for the URL,
// else the URL is the last argument.
func openWithBROWSER(list, url string, out io.Writer) error {
	var errs []error
	for _, entry := range strings.Split(list, ":") {
		fields := strings.Fields(entry)
		if len(fields) == 0 {
			continue
		}
		args, used := make([]string, 0, len(fields)+1), false
		for _, f := range fields[1:] {
			if strings.Contains(f, "%s") {
				f, used = strings.ReplaceAll(f, "%s", url), true
			}
			args = append(args, f)
		}
		if !used {
			args = append(args, url)
		}
		if err := start(out, fields[0], args...); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return fmt.Errorf("$BROWSER: %w", errors.Join(errs...))
}

// openOnWindows opens the Windows default browser from WSL: wslview when
// installed (wslu), else cmd.exe, whose start command needs & escaped.
func openOnWindows(url string, out io.Writer) error {
	if _, err := exec.LookPath("wslview"); err == nil {
		return start(out, "wslview", url)
	}
	return start(out, "cmd.exe", "/c", "start", `""`, strings.ReplaceAll(url, "&", "^&"))
}

func start(out io.Writer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it; the browser outlives the wait for the callback
	return nil
}

// IsWSL reports whether sesame runs under the Windows Subsystem for Linux.
func IsWSL(getenv func(string) string) bool {
	if runtime.GOOS != "linux" {
		return false
	}
	if getenv("WSL_DISTRO_NAME") != "" || getenv("WSL_INTEROP") != "" {
		return true
	}
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.Contains(strings.ToLower(string(b)), "microsoft")
}

// Headless reports a machine where no browser can be opened: no $BROWSER,
// no X11 or Wayland display, not macOS or Windows, not WSL. An SSH session
// or a container, typically, where a loopback login cannot complete.
func Headless(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return false
	}
	return getenv("BROWSER") == "" && getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" && !IsWSL(getenv)
}
