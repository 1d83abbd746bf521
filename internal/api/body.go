package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

const (
	jsonType = "application/json"
	formType = "application/x-www-form-urlencoded"
)

// body is a request body that can be opened once per send, so that a
// retry with a renewed token, a DPoP nonce challenge or a 307 redirect
// sends it again; a file is reopened and streamed each time. A body from
// standard input is kept in memory up to maxStdinBody, as curl's -d @-
// does; a larger one is streamed once (stdin is then true) and cannot be
// sent again.
type body struct {
	contentType string
	stdin       bool
	// open returns the body from its start and its length, -1 when unknown.
	open func() (io.ReadCloser, int64, error)
}

// maxStdinBody is how much of standard input a request keeps so that it
// can be sent again.
const maxStdinBody = 8 << 20

func bytesBody(b []byte, contentType string) *body {
	return &body{contentType: contentType, open: func() (io.ReadCloser, int64, error) {
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	}}
}

// dataBody is -d: a string, "@file" or "@-".
func dataBody(data string, form bool, stdin io.Reader) (*body, error) {
	ct := jsonType
	if form {
		ct = formType
	}
	switch {
	case data == "@-":
		if stdin == nil {
			return nil, usagef("-d @-: there is no standard input to read")
		}
		b := &body{contentType: ct}
		var kept []byte
		read := false
		b.open = func() (io.ReadCloser, int64, error) {
			switch {
			case b.stdin:
				return nil, 0, errors.New("the request body came from standard input, which can be sent only once")
			case read:
				return io.NopCloser(bytes.NewReader(kept)), int64(len(kept)), nil
			}
			read = true
			head, err := io.ReadAll(io.LimitReader(stdin, maxStdinBody+1))
			if err != nil {
				return nil, 0, fmt.Errorf("could not read the request body from standard input: %w", err)
			}
			if len(head) <= maxStdinBody {
				kept = head
				return io.NopCloser(bytes.NewReader(kept)), int64(len(kept)), nil
			}
			b.stdin = true // too large to keep: streamed, once
			return io.NopCloser(io.MultiReader(bytes.NewReader(head), stdin)), -1, nil
		}
		return b, nil
	case strings.HasPrefix(data, "@"):
		path := data[1:]
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("could not read the request body: %w", err)
		}
		return &body{contentType: ct, open: func() (io.ReadCloser, int64, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, 0, fmt.Errorf("could not read the request body: %w", err)
			}
			size := int64(-1)
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				size = fi.Size()
			}
			return f, size, nil
		}}, nil
	}
	return bytesBody([]byte(data), ct), nil
}

// field is one -F key=value: text is the value as given (a file's
// contents for "@file"), value its JSON form.
type field struct {
	key, text string
	value     any
}

// parseFields reads -F pairs. The values follow gh: true, false and null
// are JSON literals, a JSON number is a number, "@file" and "@-" read a
// file or standard input, anything else is a string.
func parseFields(pairs []string, stdin io.Reader) ([]field, error) {
	fields := make([]field, 0, len(pairs))
	seen := make(map[string]bool, len(pairs))
	stdinRead := false
	for _, p := range pairs {
		key, v, ok := strings.Cut(p, "=")
		switch {
		case !ok || key == "":
			return nil, usagef("-F %q: a field is key=value", p)
		case seen[key]:
			return nil, usagef("-F %s: the key is given twice", key)
		}
		seen[key] = true
		f := field{key: key, text: v, value: literal(v)}
		if path, ok := strings.CutPrefix(v, "@"); ok {
			var b []byte
			var err error
			switch {
			case path != "-":
				b, err = os.ReadFile(path)
			case stdin == nil || stdinRead:
				return nil, usagef("-F %s=@-: standard input can be read once, by one field", key)
			default:
				stdinRead = true
				b, err = io.ReadAll(stdin)
			}
			if err != nil {
				return nil, fmt.Errorf("could not read the value of field %s: %w", key, err)
			}
			f.text, f.value = string(b), string(b)
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// literal is v as a JSON value: a literal or number when v spells one.
func literal(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if v != "" && (v[0] == '-' || '0' <= v[0] && v[0] <= '9') && json.Valid([]byte(v)) {
		return json.Number(v)
	}
	return v
}

// fieldsBody is the body the fields make: a JSON object, or with form an
// application/x-www-form-urlencoded one.
func fieldsBody(pairs []string, form bool, stdin io.Reader) (*body, error) {
	fields, err := parseFields(pairs, stdin)
	if err != nil {
		return nil, err
	}
	if form {
		return bytesBody([]byte(values(fields).Encode()), formType), nil
	}
	obj := make(map[string]any, len(fields))
	for _, f := range fields {
		obj[f.key] = f.value
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, fmt.Errorf("could not encode the fields as JSON: %w", err)
	}
	return bytesBody(bytes.TrimSuffix(b.Bytes(), []byte("\n")), jsonType), nil
}

// fieldsQuery is the fields as a query string, for GET and HEAD.
func fieldsQuery(pairs []string, stdin io.Reader) (string, error) {
	fields, err := parseFields(pairs, stdin)
	if err != nil {
		return "", err
	}
	return values(fields).Encode(), nil
}

func values(fields []field) url.Values {
	v := make(url.Values, len(fields))
	for _, f := range fields {
		v.Set(f.key, f.text)
	}
	return v
}
