package main

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// genManPages adds a page for cmd and every available subcommand, named
// the way cobra's GenManTree names them (sesame-login.1), each with the
// sections of x.
func genManPages(cmd *cobra.Command, x extras, out map[string][]byte) error {
	cmd.DisableAutoGenTag = true
	date := time.Unix(0, 0).UTC() // replaced by header; never the clock
	h := &doc.GenManHeader{Section: "1", Source: "sesame", Manual: "sesame manual", Date: &date}
	var b bytes.Buffer
	if err := doc.GenMan(cmd, h, &b); err != nil {
		return err
	}
	m := header.FindSubmatchIndex(b.Bytes())
	if m == nil {
		return errors.New("no .TH line at the start of the page for " + cmd.CommandPath())
	}
	page := header.Expand(nil, []byte("${1}\"\"${2}.nr HY 0\n.nh\n"), b.Bytes(), m)
	body := polish(x.addSections(cmd, b.Bytes()[m[1]:]))
	page = append(append(page, fallbacks(body)...), body...)
	out[strings.ReplaceAll(cmd.CommandPath(), " ", "-")+".1"] = page
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := genManPages(c, x, out); err != nil {
			return err
		}
	}
	return nil
}

// literalHelp makes the help texts of cmd and its subcommands literal
// Markdown, which cobra renders pages from: they are plain text, and
// SESAME_BROKER_<KEY> must not become an HTML tag, nor _x_ emphasis. Flag
// usages lose pflag's backquotes around the value name, as in --help.
// Examples need nothing: cobra puts them in a code block.
func literalHelp(cmd *cobra.Command, seen map[*pflag.Flag]bool) {
	cmd.Short, cmd.Long = markdownLiteral(cmd.Short), markdownLiteral(cmd.Long)
	escape := func(f *pflag.Flag) {
		if !seen[f] { // inherited flags are shared with the parent
			seen[f] = true
			_, usage := pflag.UnquoteUsage(f)
			f.Usage = markdownLiteral(usage)
		}
	}
	cmd.Flags().VisitAll(escape)
	cmd.PersistentFlags().VisitAll(escape)
	for _, c := range cmd.Commands() {
		literalHelp(c, seen)
	}
}

// markdownLiteral backslash-escapes every character that Markdown (as
// blackfriday parses it) could read as markup.
func markdownLiteral(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]()#+-.!:|&<>~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// header matches the start of go-md2man's page: .nh (no hyphenation),
// which has no effect before .TH, and .TH with the date cobra always
// fills. The date is left empty, as a fixed one would be as wrong as the
// current one after the next release. Hyphenation is turned off after .TH,
// and in HY too, which .EE restores it from, so that flags and URLs are
// not split.
var header = regexp.MustCompile(`\A(?:\.nh\n)?(\.TH "[^"]*" "[^"]*" )"[^"]*"(.*\n)`)

// flagItem is cobra's rendering of one flag: its name line, then the usage
// indented by a tab, which man shows run together on one line.
var flagItem = regexp.MustCompile(`(?m)^(?:\.PP\n)?(\\fB-.*)\n\t`)

// asciiFallback is what terminals without the glyph show instead: the
// help of sesame doctor explains its ✓ and ✗.
var asciiFallback = []struct {
	r rune
	s string
}{{'✓', "+"}, {'✗', "x"}}

// polish fixes what go-md2man leaves for man to get wrong:
//   - each flag becomes a tagged paragraph (.TP), its usage indented below;
//   - "-" outside requests becomes "\-": troff reads "-" as a hyphen, which
//     some systems print as U+2010, and a flag copied from the page would
//     not work;
//   - characters outside ASCII become \[uXXXX], so that the page does not
//     depend on the encoding man assumes, and ✓ and ✗ get an ASCII
//     fallback, as in the C locale they would vanish.
func polish(page []byte) []byte {
	page = flagItem.ReplaceAll(page, []byte(".TP\n$1\n"))
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(page, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(".")) || bytes.HasPrefix(line, []byte("'")) {
			out.Write(line)
			continue
		}
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == '\\': // an escape: keep it and the character it escapes
				out.WriteByte(c)
				if i+1 < len(line) {
					i++
					out.WriteByte(line[i])
				}
			case c == '-':
				out.WriteString(`\-`)
			case c >= utf8.RuneSelf:
				r, n := utf8.DecodeRune(line[i:])
				fmt.Fprintf(&out, `\[u%04X]`, r)
				i += n - 1
			default:
				out.WriteByte(c)
			}
		}
	}
	return out.Bytes()
}

// fallbacks defines the ASCII stand-ins of the glyphs body uses.
func fallbacks(body []byte) []byte {
	var defs bytes.Buffer
	for _, f := range asciiFallback {
		if name := fmt.Sprintf(`\[u%04X]`, f.r); bytes.Contains(body, []byte(name)) {
			fmt.Fprintf(&defs, ".if !c%s .char %s %s\n", name, name, f.s)
		}
	}
	return defs.Bytes()
}
