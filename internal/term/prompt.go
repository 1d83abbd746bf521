package term

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// Prompter asks a person questions on the terminal, one line each.
type Prompter struct {
	in  *bufio.Reader
	out io.Writer
}

// NewPrompter reads answers from in and writes questions to out (which
// should be stderr: stdout carries data).
func NewPrompter(in io.Reader, out io.Writer) *Prompter {
	return &Prompter{in: bufio.NewReader(in), out: out}
}

// Prompt asks question, offering def, and returns the answer, or def when
// the answer is empty. The read runs apart from the caller, so that an
// interrupt (ctx cancelled by Ctrl-C) returns ctx's error at once instead
// of waiting for a line that never comes.
func (p *Prompter) Prompt(ctx context.Context, question, def string) (string, error) {
	if def != "" {
		fmt.Fprintf(p.out, "%s [%s]: ", question, def)
	} else {
		fmt.Fprintf(p.out, "%s: ", question)
	}
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		line, err := p.in.ReadString('\n')
		got <- answer{line, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(p.out)
		return "", ctx.Err()
	case a := <-got:
		if a.err != nil && a.line == "" {
			if a.err == io.EOF {
				return def, nil
			}
			return "", fmt.Errorf("read the answer: %w", a.err)
		}
		if line := strings.TrimSpace(a.line); line != "" {
			return line, nil
		}
		return def, nil
	}
}

// Defaults answers every question with its default: scripts are never
// prompted.
type Defaults struct{}

// Prompt returns def.
func (Defaults) Prompt(_ context.Context, _, def string) (string, error) { return def, nil }
