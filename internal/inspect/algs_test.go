package inspect

import (
	"testing"

	"github.com/sesame-cli/sesame/internal/provider"
)

// inspect verifies exactly what ID token verification accepts
// (provider.SigningAlgs) and knows the key each of them needs.
func TestAlgorithmsAreProviders(t *testing.T) {
	for _, alg := range provider.SigningAlgs() {
		if why := refusal(alg); why != "" {
			t.Errorf("%s is refused: %s", alg, why)
		}
		if keyFor(alg).kty == "" {
			t.Errorf("%s: no key type", alg)
		}
	}
	for _, alg := range []string{"none", "HS256", "ES256K", "RSA-OAEP", "Ed25519"} {
		if refusal(alg) == "" {
			t.Errorf("%s is accepted", alg)
		}
	}
}
