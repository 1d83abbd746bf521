package inspect

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sesame-cli/sesame/internal/term"
)

// Layout limits: a name wider than nameWidth gets its own line, a value
// wider than valueWidth wraps, and one needing more than maxLines lines is
// cut, so that a claim holding a whole document cannot bury the checks.
const (
	nameWidth  = 20
	valueWidth = 48
	maxLines   = 4
)

// leading are shown first, in this order; other claims follow sorted.
var leading = []string{"iss", "sub", "aud", "azp", "client_id", "scope", "exp", "nbf", "iat", "auth_time", "jti"}

// timeClaims are NumericDates (RFC 7519 §2) shown as times.
var timeClaims = []string{"exp", "nbf", "iat", "auth_time", "updated_at"}

// Render writes r for a person: the header, a table of claims with what
// each means, the checks, and a verdict. Every string from the token is
// stripped of control characters first: the token is untrusted input and
// must not drive the terminal. Colour is only used when color is true.
func Render(w io.Writer, r *Report, now time.Time, color bool) {
	p := painter(color)
	var b strings.Builder
	if len(r.Header) > 0 {
		b.WriteString(headerLine(r.Header) + "\n\n")
	}
	if len(r.Claims) > 0 {
		writeClaims(&b, r.Claims, now, p)
		b.WriteString("\n")
	}
	checked := map[string]bool{}
	for _, c := range r.Checks {
		checked[c.Name] = true
		mark := p(green, "✓")
		if !c.OK {
			mark = p(red, "✗")
		}
		fmt.Fprintf(&b, "%s %-9s  %s\n", mark, c.Name, term.Clean(c.Detail))
	}
	for _, prob := range r.Problems {
		if name, detail, _ := strings.Cut(prob, ": "); !checked[name] {
			fmt.Fprintf(&b, "%s %-9s  %s\n", p(red, "✗"), name, term.Clean(detail))
		}
	}
	if r.Valid {
		b.WriteString(p(green, "valid") + "\n")
	} else if len(r.Problems) > 0 {
		b.WriteString(p(red, "INVALID: "+term.Clean(r.Problems[0])) + "\n")
	} else {
		b.WriteString(p(red, "INVALID") + "\n")
	}
	_, _ = io.WriteString(w, b.String())
}

// headerLine is "alg=ES384  kid=abc  typ=JWT" and then any other header
// parameters.
func headerLine(h map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(h, []string{"alg", "kid", "typ"}) {
		parts = append(parts, term.Clean(k)+"="+cut(term.Clean(scalar(h[k])), 60))
	}
	return strings.Join(parts, "  ")
}

func writeClaims(b *strings.Builder, claims map[string]any, now time.Time, p func(string, string) string) {
	names := sortedKeys(claims, leading)
	values := make([][]string, len(names))
	nameW, valW := 0, 0
	for i, n := range names {
		values[i] = wrap(term.Clean(claimValue(n, claims[n], now)), valueWidth, maxLines)
		if w := utf8.RuneCountInString(term.Clean(n)); w <= nameWidth {
			nameW = max(nameW, w)
		}
		for _, l := range values[i] {
			valW = max(valW, utf8.RuneCountInString(l))
		}
	}
	for i, n := range names {
		label := term.Clean(n)
		if utf8.RuneCountInString(label) > nameWidth {
			// A long name (a namespaced claim URL) gets a line of its own
			// rather than pushing every other value right.
			fmt.Fprintf(b, "%s\n", label)
			label = ""
		}
		for j, line := range values[i] {
			note := ""
			if j == 0 {
				note = Explain(n)
			} else {
				label = ""
			}
			if note == "" {
				fmt.Fprintf(b, "%s  %s\n", pad(label, nameW), line)
				continue
			}
			fmt.Fprintf(b, "%s  %s  %s\n", pad(label, nameW), pad(line, valW), p(dim, note))
		}
	}
}

// claimValue formats one claim: times as RFC 3339 UTC and relative,
// arrays of strings joined, objects as compact JSON.
func claimValue(name string, v any, now time.Time) string {
	if slices.Contains(timeClaims, name) {
		if t, _, err := numericDate(map[string]any{name: v}, name); err == nil && !t.IsZero() {
			return term.Stamp(t) + " (" + term.Relative(t, now) + ")"
		}
	}
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = scalar(e)
		}
		return strings.Join(parts, ", ")
	}
	return scalar(v)
}

// scalar formats a value on its own: strings bare, the rest as JSON.
func scalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return asJSON(v)
}

// wrap breaks s into lines of at most width runes, preferring to break
// after a space or comma, and cuts it after maxLines lines.
func wrap(s string, width, maxLines int) []string {
	r := []rune(s)
	var lines []string
	for len(r) > width {
		if len(lines) == maxLines-1 {
			return append(lines, string(r[:width-1])+"…")
		}
		at := width
		for i := width; i > width/2; i-- {
			if r[i-1] == ' ' || r[i-1] == ',' {
				at = i
				break
			}
		}
		lines = append(lines, strings.TrimRight(string(r[:at]), " "))
		r = []rune(strings.TrimLeft(string(r[at:]), " "))
	}
	return append(lines, string(r))
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func pad(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s)))
}

// sortedKeys lists m's keys: those in first, in that order, then the rest
// sorted.
func sortedKeys(m map[string]any, first []string) []string {
	var keys, rest []string
	for _, k := range first {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	for k := range m {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(keys, rest...)
}

// ANSI SGR codes; painter returns a no-op unless colour is wanted.
const (
	green = "\x1b[32m"
	red   = "\x1b[31m"
	dim   = "\x1b[2m"
	reset = "\x1b[0m"
)

func painter(color bool) func(code, s string) string {
	return func(code, s string) string {
		if !color {
			return s
		}
		return code + s + reset
	}
}
