package loopback

import (
	"html/template"
	"net/http"
	"sync"
)

// The page never echoes query parameters other than through html/template,
// and never shows a code or token.
// Parsed on first use: `sesame token` links this package but never serves
// a page, and start-up time matters there.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sesame: {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}h1{font-size:1.4em}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))
})

func render(w http.ResponseWriter, status int, p Page) {
	title := "Sign-in failed"
	if p.OK {
		title = "Signed in"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The callback URL holds the authorization code: never leak it onwards.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = pageTmpl().Execute(w, struct{ Title, Message string }{title, p.Message})
}
