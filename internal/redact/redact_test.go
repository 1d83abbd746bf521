package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	got := URL("https://user:pw@idp/cb?code=SECRET1&state=SECRET2&iss=https%3A%2F%2Fidp&token=SECRET3#frag")
	for _, s := range []string{"SECRET", "pw", "frag"} {
		if strings.Contains(got, s) {
			t.Errorf("%q leaks %q", got, s)
		}
	}
	if !strings.Contains(got, "iss=https") || !strings.Contains(got, "code=REDACTED") {
		t.Errorf("%q", got)
	}
}
