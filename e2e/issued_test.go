package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"testing"
)

// Issued is one line of a provider's secrets file (server.js --secrets):
// a secret it issued or received.
type Issued struct {
	Kind     string `json:"kind"`
	Value    string `json:"value"`
	ClientID string `json:"client_id"`
	Source   string `json:"source"` // "issued", "received at token", "answered at token", …
}

// issued returns the secrets the provider recorded since the last call,
// and adds them to those the leak checks search for. Its file only grows.
func (p *IdP) issued(t *testing.T) []Issued {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.Open(p.Secrets)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(p.secretsRead, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	b = b[:bytes.LastIndexByte(b, '\n')+1] // whole lines only
	p.secretsRead += int64(len(b))
	var out []Issued
	for l := range bytes.Lines(b) {
		var s Issued
		if err := json.Unmarshal(l, &s); err != nil {
			t.Fatalf("secrets file line %.80q: %v", l, err)
		}
		out = append(out, s)
	}
	leaks.Lock()
	for _, s := range out {
		leaks.secrets.add(s.Kind, s.Value)
		p.all.add(s.Kind, s.Value)
		if s.ClientID != "" {
			if p.byClient[s.ClientID] == nil {
				p.byClient[s.ClientID] = secretSet{}
			}
			p.byClient[s.ClientID].add(s.Kind, s.Value)
		}
	}
	leaks.Unlock()
	return out
}

// secrets is every secret the provider issued or received so far, and its
// client secret.
func (p *IdP) secrets(t *testing.T) secretSet {
	t.Helper()
	p.issued(t)
	leaks.Lock()
	defer leaks.Unlock()
	s := secretSet{}
	s.add("client secret", p.Secret)
	for v, k := range p.all {
		s.add(k, v)
	}
	return s
}

// secretsOf is what the provider issued to, or received from, one client.
func (p *IdP) secretsOf(t *testing.T, clientID string) secretSet {
	t.Helper()
	p.issued(t)
	leaks.Lock()
	defer leaks.Unlock()
	s := secretSet{}
	for v, k := range p.byClient[clientID] {
		s.add(k, v)
	}
	return s
}

// count counts the secrets of one kind.
func (s secretSet) count(kind string) int {
	n := 0
	for _, k := range s {
		if k == kind {
			n++
		}
	}
	return n
}
