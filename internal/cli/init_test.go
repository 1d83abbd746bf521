package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/testidp"
)

// interruptAt answers questions until it reaches the one that contains
// at, then behaves as Ctrl-C does: the context is cancelled while the
// question waits.
type interruptAt struct {
	at     string
	cancel context.CancelFunc
	asked  []string
}

func (p *interruptAt) Prompt(ctx context.Context, question, def string) (string, error) {
	p.asked = append(p.asked, question)
	if strings.Contains(question, p.at) {
		p.cancel()
		<-ctx.Done()
		return "", ctx.Err()
	}
	return def, nil
}

// TestInitInterruptedWritesNothing: Ctrl-C at any question of `sesame
// init` exits 130 with "sesame: interrupted" and leaves no config file.
func TestInitInterruptedWritesNothing(t *testing.T) {
	for _, at := range []string{"Profile name", "Client id", "Scopes", "Loopback port"} {
		t.Run(at, func(t *testing.T) {
			h := newHarness(t, testidp.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, errb bytes.Buffer
			f := NewFactory(strings.NewReader(""), &out, &errb, func(k string) string { return h.env[k] })
			p := &interruptAt{at: at, cancel: cancel}
			f.Prompter = p
			args := []string{"init", h.idp.Issuer}
			if at != "Client id" {
				args = append(args, "--client-id", "cli")
			}
			code := Run(ctx, f, args)
			if code != ExitInterrupted || !strings.Contains(errb.String(), "sesame: interrupted") {
				t.Fatalf("exit %d, asked %q\n%s", code, p.asked, errb.String())
			}
			if _, err := os.Stat(filepath.Join(h.home, "config", "sesame", "config.yaml")); !os.IsNotExist(err) {
				t.Errorf("a config file was written (%v)", err)
			}
		})
	}
}
