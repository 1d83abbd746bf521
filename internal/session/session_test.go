package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/store"
)

func newSession(t *testing.T) *Session {
	t.Helper()
	keyring.MockInit()
	return &Session{Profile: "p", Store: store.NewKeychain(store.KeychainOptions{}), LockDir: t.TempDir(), Now: func() time.Time { return time.Unix(1_000_000, 0) }}
}

func TestLoadRefusesWhatCannotBeUsed(t *testing.T) {
	tests := []struct {
		name, raw string
		issuer    string
		want      string
	}{
		{"absent", "", "", "not logged in"},
		{"garbage", "{nope", "", "not valid JSON"},
		{"future format", `{"version":99,"access_token":"a"}`, "", "format version 99"},
		{"no access token", `{"version":1}`, "", "no access token"},
		{"other issuer", `{"version":1,"access_token":"a","endpoints":{"issuer":"https://old"}}`, "https://new", "another issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t)
			s.Issuer = tt.issuer
			if tt.raw != "" {
				if err := s.Store.Set(Key("p"), []byte(tt.raw)); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.Load()
			var lr *LoginRequiredError
			if !errors.As(err, &lr) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "sesame login --profile p") {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestFreshWithoutRefreshToken(t *testing.T) {
	s := newSession(t)
	if err := s.SaveLogin(context.Background(), &Tokens{AccessToken: "a", Expiry: s.Now().Add(30 * time.Second), Endpoints: provider.Endpoints{Token: "http://127.0.0.1:1/token"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fresh(context.Background(), time.Minute, false); err == nil || !strings.Contains(err.Error(), "no refresh token") {
		t.Fatalf("err %v", err)
	}
	// Outside the window the stored token is returned without any network.
	if tok, err := s.Fresh(context.Background(), 10*time.Second, false); err != nil || tok.AccessToken != "a" {
		t.Fatalf("%v %v", tok, err)
	}
}

func TestExpiresWithin(t *testing.T) {
	now := time.Unix(1000, 0)
	tok := &Tokens{Expiry: now.Add(time.Minute)}
	if tok.ExpiresWithin(now, 59*time.Second) || !tok.ExpiresWithin(now, time.Minute) {
		t.Error("boundary")
	}
	if (&Tokens{}).ExpiresWithin(now, time.Hour) {
		t.Error("unknown expiry counted as expired")
	}
}
