package login

import (
	"strings"
	"testing"
)

// readAnswer takes the provider's OAuth error when there is one, and else
// what a person reads on its error page: the marked error text, or the
// visible words, never scripts, styles or markup, and never much of it.
func TestReadAnswer(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		code, desc, text        string
	}{
		{"JSON error", "application/json", `{"error":"invalid_client","error_description":"unknown client"}`, "invalid_client", "unknown client", ""},
		{"oidc-provider page", "text/html; charset=utf-8", oidcProviderErrorPage, "invalid_client", "", "invalid_client · client is invalid"},
		{"Keycloak page", "text/html", keycloakErrorPage, "", "", "Client not found."},
		{"no marked element", "text/html", "<html><head><title>x</title></head><body><h1>Bad Request</h1><p>The &#39;redirect_uri&#39; parameter must be a Login redirect URI</p></body></html>",
			"", "", "Bad Request The 'redirect_uri' parameter must be a Login redirect URI"},
		{"HTML without a content type", "", "<p>redirect_uri_mismatch</p>", "redirect_uri_mismatch", "", "redirect_uri_mismatch"},
		{"plain text", "text/plain", "Error:\n\tinvalid_scope  (unknown)\n", "invalid_scope", "", "Error: invalid_scope (unknown)"},
		{"comment and nested markup", "text/html", `<!-- invalid_client --><div class="alert alert-danger"><p>The <b>client</b> is <i>disabled</i></p></div><p>Footer</p>`,
			"", "", "The client is disabled"},
		{"two marked elements", "text/html", `<span id="error">access_denied</span><br/><span id="error_description">no</span>`, "access_denied", "", "access_denied · no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := readAnswer(tt.contentType, []byte(tt.body))
			if a.code != tt.code || a.description != tt.desc || a.text != tt.text {
				t.Errorf("got code %q desc %q text %q, want %q %q %q", a.code, a.description, a.text, tt.code, tt.desc, tt.text)
			}
		})
	}
	long := readAnswer("text/html", []byte("<p>"+strings.Repeat("é", 300)+"</p>"))
	if len(long.text) > maxPageText+len("…") || !strings.HasSuffix(long.text, "é…") {
		t.Errorf("clipped to %d bytes: %q", len(long.text), long.text)
	}
}
