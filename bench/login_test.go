package bench

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/login"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

// BenchmarkLoginAfterCallback times what sesame does between the provider's
// redirect reaching the loopback listener and the tokens being stored: the
// code exchange (PKCE), the ID token verification (JWKS fetch, signature,
// claims) and SaveLogin into the keychain store (go-keyring's in-memory
// backend, the lock file included). The browser, the IdP's pages and the
// success page sent afterwards are outside the timer: login.Options.Trace
// starts it at "callback", Save stops it. Every login gets a new HTTP
// transport, as every `sesame login` process does.
//
//	go test ./bench -run '^$' -bench LoginAfterCallback -benchtime 200x
func BenchmarkLoginAfterCallback(b *testing.B) {
	for _, alg := range []string{"RS256", "ES384", "EdDSA"} {
		b.Run(alg, func(b *testing.B) { benchLogin(b, alg) })
	}
}

func benchLogin(b *testing.B, alg string) {
	keyring.MockInit()
	idp := testidp.New(b, testidp.Options{Alg: alg})
	ep, err := provider.Resolve(context.Background(), http.DefaultClient, provider.Endpoints{Issuer: idp.Issuer})
	if err != nil {
		b.Fatal(err)
	}
	sess := &session.Session{Profile: "default", Store: store.NewKeychain(store.KeychainOptions{}),
		LockDir: filepath.Join(b.TempDir(), "locks")}
	var exchange, verification, save time.Duration
	ctx := context.Background()
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		opts := login.Options{
			Endpoints: ep, ClientID: idp.ClientID(),
			Scopes:  []string{"openid", "profile", "email", "offline_access"},
			Timeout: 10 * time.Second, Browser: idp.Browser(testidp.Approve), Stderr: &bytes.Buffer{}, HTTP: hc,
			// "callback" and Save run on this goroutine ("browser" does not).
			Trace: func(step string, d time.Duration) {
				switch step {
				case "callback":
					b.StartTimer()
				case "exchange":
					exchange += d
				case "verification":
					verification += d
				}
			},
			Save: func(t *session.Tokens) error {
				start := time.Now()
				err := sess.SaveLogin(ctx, t)
				save += time.Since(start)
				b.StopTimer()
				return err
			},
		}
		if _, err := login.Run(ctx, opts); err != nil {
			b.Fatal(err)
		}
		tr.CloseIdleConnections()
	}
	n := float64(b.N)
	b.ReportMetric(float64(exchange.Nanoseconds())/n, "exchange-ns/op")
	b.ReportMetric(float64(verification.Nanoseconds())/n, "verify-ns/op")
	b.ReportMetric(float64(save.Nanoseconds())/n, "store-ns/op")
}
