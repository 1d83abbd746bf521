// Package term owns what sesame writes for people: it makes text that came
// from a provider or a token safe to show on a terminal.
//
// Every string an identity provider sends (names, emails, error
// descriptions, claims, discovery fields, device codes) is attacker-chosen.
// Written raw, it can drive the user's terminal: ESC sequences clear the
// screen or set the window title, OSC 52 writes the clipboard, a carriage
// return or a bidi override makes one text look like another, and a newline
// forges a line that seems to come from sesame. Clean makes one value
// harmless; Writer is the net under every human-facing stream, so a printer
// that forgets Clean still cannot emit a control sequence.
//
// JSON output does not pass through here: encoding/json escapes control
// characters itself, and scripts must get the exact values.
package term

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s as one line of inert text. Control characters (C0
// including CR, LF and TAB, DEL and C1), bidirectional formatting
// characters, line and paragraph separators and invalid UTF-8 become
// visible escapes such as \x1b, \n or \u202e, so that what was hidden
// stays visible and nothing reaches the terminal as a command.
func Clean(s string) string {
	if isPlain(s) {
		return s // the common case allocates nothing
	}
	var b strings.Builder
	escape(&b, s, false)
	return b.String()
}

// isPlain reports whether s needs no escaping at all.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			return isPlainUnicode(s[i:])
		}
	}
	return true
}

func isPlainUnicode(s string) bool {
	for _, r := range s {
		if unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune reports runes a terminal may act on or that change how the
// surrounding text is displayed. utf8.RuneError stands for invalid bytes.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
		r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// escape writes s to b with unsafe runes escaped. keepLayout keeps LF and
// TAB (text sesame composed itself) and SGR colour sequences ESC [ … m,
// which only change colours.
func escape(b *strings.Builder, s string, keepLayout bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case keepLayout && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case keepLayout && r == 0x1b && sgrLen(s[i:]) > 0:
			n := sgrLen(s[i:])
			b.WriteString(s[i : i+n])
			size = n
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(b, `\x%02x`, s[i])
		case r < 0x80 && unsafeRune(r):
			b.WriteString(asciiEscape(byte(r)))
		case unsafeRune(r):
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

func asciiEscape(c byte) string {
	switch c {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	return fmt.Sprintf(`\x%02x`, c)
}

// sgrLen returns the length of the SGR sequence (ESC [ digits/semicolons m)
// at the start of s, or 0 when s does not start with one.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s) && i < 32; i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case c == ';' || '0' <= c && c <= '9':
		default:
			return 0
		}
	}
	return 0
}

// Writer escapes what is written through it as Clean does, but keeps line
// breaks, tabs and colour (SGR) sequences, which sesame's own output uses.
// A multi-byte character split across two writes is carried over.
type Writer struct {
	w     io.Writer
	carry []byte
}

// NewWriter returns a Writer that writes the safe form of its input to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write implements io.Writer. It reports len(p) when the safe form was
// written whole.
func (t *Writer) Write(p []byte) (int, error) {
	data := p
	if len(t.carry) > 0 {
		data = append(t.carry, p...)
		t.carry = nil
	}
	// Keep an incomplete UTF-8 sequence at the end for the next write.
	if tail := incompleteTail(data); tail > 0 {
		t.carry = append([]byte(nil), data[len(data)-tail:]...)
		data = data[:len(data)-tail]
	}
	s := string(data)
	if isPlainLayout(s) {
		if _, err := io.WriteString(t.w, s); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	var b strings.Builder
	escape(&b, s, true)
	if _, err := io.WriteString(t.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// isPlainLayout is isPlain allowing LF and TAB.
func isPlainLayout(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' || c == '\t' {
			continue
		}
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			return isPlainUnicodeLayout(s[i:])
		}
	}
	return true
}

func isPlainUnicodeLayout(s string) bool {
	for _, r := range s {
		if r != '\n' && r != '\t' && unsafeRune(r) {
			return false
		}
	}
	return true
}

// incompleteTail returns how many bytes at the end of p start a UTF-8
// sequence that p does not finish (0 to 3).
func incompleteTail(p []byte) int {
	for n := 1; n <= 3 && n <= len(p); n++ {
		c := p[len(p)-n]
		if c < 0x80 {
			return 0 // ASCII: nothing pending
		}
		if c >= 0xc0 { // a lead byte: is its sequence complete?
			need := 2
			switch {
			case c >= 0xf0:
				need = 4
			case c >= 0xe0:
				need = 3
			}
			if need > n {
				return n
			}
			return 0
		}
	}
	return 0
}

// CleanError wraps err, whose text quotes a provider or a token (a library
// error naming an unexpected aud, say), so that its message is Clean while
// errors.Is and errors.As still see err.
func CleanError(err error) error {
	if err == nil {
		return nil
	}
	return cleanError{err}
}

type cleanError struct{ err error }

func (e cleanError) Error() string { return Clean(e.err.Error()) }
func (e cleanError) Unwrap() error { return e.err }
