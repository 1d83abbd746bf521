package cli

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/broker"
	"github.com/sesame-cli/sesame/internal/store"
	"github.com/sesame-cli/sesame/internal/testidp"
)

const testSecret = "broker-held-secret-0123456789"

func TestLoginAndRefreshThroughBroker(t *testing.T) {
	h := newHarness(t, testidp.Options{ClientSecret: testSecret, AccessTokenTTL: 10 * time.Minute})
	cfg := broker.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Clients = []broker.Client{{ID: h.idp.ClientID(), Issuer: h.idp.Issuer, Secret: testSecret}}
	srv, err := broker.Start(context.Background(), cfg, broker.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)

	// Without the broker the confidential client cannot exchange the code,
	// and the user is told what to do.
	code, _, errb := h.run(testidp.Approve, "login", "--issuer", h.idp.Issuer, "--client-id", h.idp.ClientID(), "--timeout", "5s")
	if code != ExitError || !strings.Contains(errb, "invalid_client") || !strings.Contains(errb, "--broker") {
		t.Fatalf("login without broker: %d %s", code, errb)
	}

	h.login("--broker", srv.URL)
	if code, _, errb := h.run(testidp.Approve, "token"); code != 0 {
		t.Fatalf("token: %d %s", code, errb)
	}
	h.clock.Add(10 * time.Minute)
	if code, _, errb := h.run(testidp.Approve, "token"); code != 0 || h.idp.Grants("refresh_token") != 1 {
		t.Fatalf("refresh through the broker: %d %s", code, errb)
	}
	_, st, _ := h.run(testidp.Approve, "status")
	if !strings.Contains(st, "broker:   "+srv.URL) {
		t.Errorf("status lacks the broker:\n%s", st)
	}
	raw, err := store.NewKeychain(store.KeychainOptions{}).Get("default")
	if err != nil || !strings.Contains(string(raw), h.idp.Issuer) || strings.Contains(string(raw), testSecret) {
		t.Error("the secret reached the keychain")
	}
}
