package testidp

import "net/http"

// EditDiscovery makes later discovery requests get the document as edit
// leaves it: a hostile or broken provider's metadata, such as an http
// token endpoint on a public host or a file: authorization endpoint.
func (p *IdP) EditDiscovery(edit func(md map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.editDiscovery = edit
}

// Intercept runs h before the provider's own handlers for every later
// request; when h reports that it answered, the provider does nothing
// more. Tests use it for what no option covers, such as a discovery
// document that moved within the provider's origin.
func (p *IdP) Intercept(h func(w http.ResponseWriter, r *http.Request) (answered bool)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.intercept = h
}

func (p *IdP) intercepting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		h := p.intercept
		p.mu.Unlock()
		if h != nil && h(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}
