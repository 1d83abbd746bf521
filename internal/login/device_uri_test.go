package login

import (
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/grant"
)

// TestDeviceVerificationURIs: what the device flow tells the user to open
// is a web page (RFC 8628 §3.2), as for what sesame opens itself; a
// provider cannot send the user to a script, a file or a custom scheme
// handler, in either URI.
func TestDeviceVerificationURIs(t *testing.T) {
	tests := []struct {
		uri, complete string
		want          string // "" when usable
	}{
		{uri: "https://idp.example/device"},
		{uri: "https://idp.example/device", complete: "https://idp.example/device?user_code=ABCD-EFGH"},
		{uri: "http://127.0.0.1:8080/device"},
		{uri: "", want: "no verification_uri"},
		{uri: "javascript:alert(document.cookie)", want: "verification_uri is unusable"},
		{uri: "file:///etc/passwd", want: "verification_uri is unusable"},
		{uri: "ms-settings:privacy", want: "verification_uri is unusable"},
		{uri: "data:text/html,<script>alert(1)</script>", want: "verification_uri is unusable"},
		{uri: "https://idp.example/device\n  and open evil.example", want: "verification_uri is unusable"},
		{uri: "https://idp.example/device", complete: "javascript:alert(1)", want: "verification_uri_complete is unusable"},
		{uri: "https://idp.example/device", complete: "vscode://run?cmd=x", want: "verification_uri_complete is unusable"},
	}
	for _, tt := range tests {
		err := checkVerificationURIs(&grant.DeviceCode{UserCode: "ABCD-EFGH", VerificationURI: tt.uri, VerificationURIComplete: tt.complete})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q, %q refused: %v", tt.uri, tt.complete, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q, %q: err %v, want %q", tt.uri, tt.complete, err, tt.want)
		}
	}
}
