package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/itchyny/gojq"

	"github.com/sesame-cli/sesame/internal/term"
)

// maxJQBody bounds the body --jq reads: a filter needs the whole JSON
// value in memory, and the server chooses its size.
const maxJQBody = 64 << 20

// filter is a compiled --jq expression.
type filter struct{ code *gojq.Code }

// compileJQ compiles expr before any request is made, so that a typo
// costs no token and no request.
func compileJQ(expr string) (*filter, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, usagef("--jq %q: %v", expr, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, usagef("--jq %q: %v", expr, err)
	}
	return &filter{code: code}, nil
}

// apply reads body whole and writes what the filter makes of each JSON
// value in it, one a line: strings raw, other values as compact JSON, as
// `gh api --jq` (and `jq -r`) do.
func (f *filter) apply(ctx context.Context, body io.Reader, w io.Writer) error {
	b, err := io.ReadAll(io.LimitReader(body, maxJQBody+1))
	if err != nil {
		return fmt.Errorf("the response broke off: %w", term.CleanError(err))
	}
	if len(b) > maxJQBody {
		return fmt.Errorf("the response is larger than %d MiB, more than --jq reads; without --jq it is streamed", maxJQBody>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keeps large integers exact
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("the response is not JSON, so --jq cannot filter it: %w", term.CleanError(err))
		}
		if err := f.run(ctx, v, w); err != nil {
			return err
		}
	}
}

func (f *filter) run(ctx context.Context, v any, w io.Writer) error {
	iter := f.code.RunWithContext(ctx, v)
	for {
		out, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, ok := out.(error); ok {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				return nil
			}
			return fmt.Errorf("--jq: %w", term.CleanError(err))
		}
		if _, err := w.Write(append(jqText(out), '\n')); err != nil {
			return fmt.Errorf("could not write the output: %w", err)
		}
	}
}

// jqText is v as `jq -r` prints it.
func jqText(v any) []byte {
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	b, _ := gojq.Marshal(v) // it fails on no value a filter emits
	return b
}
