package doctor

import (
	"testing"

	"github.com/sesame-cli/sesame/internal/provider"
)

func TestCheckDPoP(t *testing.T) {
	for _, tc := range []struct {
		algs []string
		want bool
		st   Status
	}{
		{nil, false, StatusOK},
		{nil, true, StatusWarn},
		{[]string{"ES256", "RS256"}, true, StatusOK},
		{[]string{"EdDSA"}, false, StatusOK},
		{[]string{"RS256", "PS256"}, false, StatusWarn},
		{[]string{"RS256", "PS256"}, true, StatusFail},
	} {
		it := checkDPoP(&provider.Metadata{DPoPSigningAlgValuesSupported: tc.algs}, tc.want)
		if it.Check != "dpop" || it.Status != tc.st {
			t.Errorf("algs %v, profile dpop %v: %s %q, want %s", tc.algs, tc.want, it.Status, it.Detail, tc.st)
		}
	}
}
