package login

import (
	"encoding/json"
	"html"
	"mime"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxPageText bounds what is quoted of a provider's error page: enough for
// "Client not found." or an AADSTS line, never the page.
const maxPageText = 200

// providerAnswer is what an error answer of the provider says: an OAuth
// error (RFC 6749 §4.1.2.1, §5.2) when it sends one, or else the visible
// text of its error page.
type providerAnswer struct {
	code, description string
	text              string // page text, when there is no code
}

// oauthCodes are the error codes recognised in an error page's text, where
// a provider without JSON errors shows them (oidc-provider, Keycloak's
// "invalid_redirect_uri", Google's "redirect_uri_mismatch").
var oauthCodes = lazyRegexp(`\b(invalid_client|invalid_redirect_uri|redirect_uri_mismatch|unauthorized_client|invalid_scope|invalid_target|invalid_request|unsupported_response_type|access_denied|server_error|temporarily_unavailable)\b`)

// readAnswer reads an error answer: a JSON error object, or the words of
// an HTML or plain text page. Nothing of it is printed raw: the caller
// cleans it (term.Clean), and the page text is clipped.
func readAnswer(contentType string, body []byte) providerAnswer {
	var oe struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &oe) == nil && oe.Code != "" {
		return providerAnswer{code: oe.Code, description: oe.Description}
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	text := string(body)
	if strings.Contains(mt, "html") || strings.HasPrefix(strings.TrimSpace(text), "<") {
		text = pageText(text)
	}
	text = clip(strings.Join(strings.Fields(text), " "), maxPageText)
	a := providerAnswer{text: text}
	if m := oauthCodes().FindString(text); m != "" {
		a.code = m
	}
	return a
}

// Compiled on first use: this package is linked into every sesame
// start-up, `sesame token` included, which never reads an error page.
var (
	comments  = lazyRegexp(`(?s)<!--.*?-->`)
	invisible = lazyRegexp(`(?is)<(head|script|style|noscript|template|svg)\b.*?</(head|script|style|noscript|template|svg)\s*>`)
	tag       = lazyRegexp(`(?s)<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>`)
	errorish  = lazyRegexp(`(?i)\b(id|class)\s*=\s*["']?[^"'>]*(error|alert|danger|feedback)`)
)

// voids are HTML elements without an end tag.
var voids = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// pageText returns what a person reads on an error page: the text of the
// elements marked as an error or alert (id or class), as Keycloak,
// oidc-provider and most login pages mark the message, or else the whole
// visible text. It is a reading aid, not a parser: the result is shown
// clipped and cleaned, and decides nothing.
func pageText(page string) string {
	page = invisible().ReplaceAllString(comments().ReplaceAllString(page, " "), " ")
	var all, marked strings.Builder
	depth := 0 // inside an error-ish element: how many open elements deep
	last := 0
	for _, m := range tag().FindAllStringSubmatchIndex(page, -1) {
		text := html.UnescapeString(page[last:m[0]])
		all.WriteString(text + " ")
		if depth > 0 {
			marked.WriteString(text + " ")
		}
		last = m[1]
		closing, name, attrs := page[m[2]:m[3]] == "/", strings.ToLower(page[m[4]:m[5]]), page[m[6]:m[7]]
		switch {
		case voids[name] || strings.HasSuffix(attrs, "/"):
		case closing && depth > 0:
			depth--
			if depth == 0 {
				marked.WriteString("\n")
			}
		case !closing && depth > 0:
			depth++
		case !closing && errorish().MatchString(attrs):
			depth = 1
		}
	}
	all.WriteString(html.UnescapeString(page[last:]))
	if parts := strings.Fields(strings.ReplaceAll(marked.String(), "\n", " \x00 ")); len(parts) > 0 {
		return joinParts(parts)
	}
	return all.String()
}

// joinParts joins the words of the marked elements, one element's words
// separated from the next one's by " · ".
func joinParts(words []string) string {
	var b strings.Builder
	sep := ""
	for _, w := range words {
		if w == "\x00" {
			if b.Len() > 0 {
				sep = " · "
			}
			continue
		}
		b.WriteString(sep)
		sep = " "
		b.WriteString(w)
	}
	return b.String()
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

// lazyRegexp compiles expr the first time the result is called.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
