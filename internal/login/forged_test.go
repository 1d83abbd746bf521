package login

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// TestLoginRefusesForgedIDToken runs whole logins whose token response
// carries a crafted ID token: the login fails with the reason, and nothing
// is stored. The first case, an honest token built the same way, must
// succeed, so that a refusal is the check at work and not a broken stage.
// (provider's TestVerifyIDTokenRules covers each rule of VerifyIDToken;
// this covers that the login applies them, with its own nonce.)
func TestLoginRefusesForgedIDToken(t *testing.T) {
	other := testidp.New(t, testidp.Options{}) // RS256 too, with a key of its own
	tests := []struct {
		name string
		// forge makes the ID token from the provider's claims for this
		// login (with its nonce).
		forge func(idp *testidp.IdP, claims map[string]any) string
		want  string // "" for success
	}{
		{name: "honest", forge: func(idp *testidp.IdP, c map[string]any) string { return idp.SignIDToken(c) }},
		{name: "nonce of another login", want: "nonce does not match", forge: func(idp *testidp.IdP, c map[string]any) string {
			c["nonce"] = "the-nonce-of-an-earlier-login-replayed-here"
			return idp.SignIDToken(c)
		}},
		{name: "no nonce", want: "nonce does not match", forge: func(idp *testidp.IdP, c map[string]any) string {
			delete(c, "nonce")
			return idp.SignIDToken(c)
		}},
		{name: "claims changed after signing", want: "signature", forge: func(idp *testidp.IdP, c map[string]any) string {
			genuine := idp.SignIDToken(c)
			c["sub"] = "mallory"
			changed := idp.SignIDToken(c)
			// The header and claims of the changed token with the
			// signature of the genuine one.
			return changed[:strings.LastIndex(changed, ".")] + genuine[strings.LastIndex(genuine, "."):]
		}},
		{name: "signed by a key the provider never published", want: "signature", forge: func(idp *testidp.IdP, c map[string]any) string {
			return other.SignIDToken(c)
		}},
		{name: "the provider's kid on another key's signature", want: "signature", forge: func(idp *testidp.IdP, c map[string]any) string {
			header := map[string]any{"alg": "RS256", "typ": "JWT", "kid": idp.Key().KeyID}
			return testidp.ForgeJWT(header, c, func(input []byte) []byte {
				sum := sha256.Sum256(input)
				sig, err := rsa.SignPKCS1v15(rand.Reader, other.Key().Key.(*rsa.PrivateKey), crypto.SHA256, sum[:])
				if err != nil {
					panic(err)
				}
				return sig
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := testidp.New(t, testidp.Options{})
			b := newRecordingBrowser(idp)
			tokenPath := mustPath(t, idp.Endpoint("/token"))
			idp.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != tokenPath {
					return false
				}
				c := idp.Claims()
				c["nonce"] = b.query().Get("nonce") // the browser has been to the provider by now
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{
					"access_token": "at-forged", "token_type": "Bearer", "expires_in": 3600,
					"refresh_token": "rt-forged", "id_token": tt.forge(idp, c),
				})
				return true
			})
			var saved []*session.Tokens
			opts := options(t, idp, nil, &saved)
			opts.Browser = b
			toks, err := Run(context.Background(), opts)
			b.wait(t)
			if tt.want == "" {
				if err != nil || len(saved) != 1 || toks.Identity == nil || toks.Identity.Subject != testidp.Subject {
					t.Fatalf("the honest token was refused: %v (saved %d)", err, len(saved))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one containing %q", err, tt.want)
			}
			if len(saved) != 0 {
				t.Errorf("a login with a forged ID token stored %d token sets", len(saved))
			}
		})
	}
}
