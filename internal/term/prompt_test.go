package term

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestPrompt(t *testing.T) {
	var out bytes.Buffer
	p := NewPrompter(strings.NewReader("alice\n\n"), &out)
	if a, err := p.Prompt(context.Background(), "Name", "bob"); a != "alice" || err != nil {
		t.Fatalf("%q %v", a, err)
	}
	if a, err := p.Prompt(context.Background(), "Port", "8765"); a != "8765" || err != nil {
		t.Fatalf("empty answer: %q %v", a, err)
	}
	if a, err := p.Prompt(context.Background(), "More", "d"); a != "d" || err != nil {
		t.Fatalf("EOF: %q %v", a, err)
	}
	if want := "Name [bob]: Port [8765]: More [d]: "; out.String() != want {
		t.Errorf("asked %q", out.String())
	}
}

// TestPromptInterrupted: Ctrl-C while a question waits ends it at once,
// with the context's error, even though no line ever comes.
func TestPromptInterrupted(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	p := NewPrompter(r, io.Discard)
	done := make(chan error, 1)
	go func() {
		_, err := p.Prompt(ctx, "Client id", "")
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the prompt did not return on interrupt")
	}
}

func TestDefaults(t *testing.T) {
	if a, err := (Defaults{}).Prompt(context.Background(), "q", "x"); a != "x" || err != nil {
		t.Fatal(a, err)
	}
}
