package dpop

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Transport adds a fresh DPoP proof to every request and handles nonce
// challenges (RFC 9449 §8 at the token endpoint, §9 at resource servers):
// it keeps each server's latest nonce for the next proof, and answers a
// challenge that brings a new one by sending the request once more.
// Keep one Transport for as long as the key, so that the nonces last too.
// A Transport must not be copied after first use.
type Transport struct {
	Base http.RoundTripper // nil means http.DefaultTransport
	Key  *Key
	Now  func() time.Time // nil means time.Now
	// HTU, when set, gives the htu for a request; sesame-broker forwards
	// token requests to the provider, so the proof must name the
	// provider's token endpoint, not the broker. nil means HTU(req.URL).
	HTU func(*http.Request) (string, error)

	mu     sync.Mutex
	nonces map[string]string // by origin of the htu
}

// RoundTrip sends req with a DPoP proof, leaving req itself unchanged. A
// request that presents "Authorization: DPoP <token>" has the token's
// hash in its proof (§7). A nonce challenge is retried once, with the new
// nonce, when the body can be sent again (req.GetBody); otherwise, or
// when the server gave no new usable nonce, the challenge is the answer.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	htu, err := t.htu(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	origin := originOf(htu)
	sent := t.nonce(origin)
	resp, err := t.send(req, req.Body, htu, sent)
	if err != nil {
		return nil, err
	}
	fresh := t.remember(origin, resp)
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if fresh == "" || fresh == sent || !replayable || !IsNonceChallenge(resp) {
		return resp, nil
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	resp.Body.Close()
	resp, err = t.send(req, body, htu, fresh)
	if err != nil {
		return nil, err
	}
	t.remember(origin, resp)
	return resp, nil
}

// send sends a copy of req with body and a new proof.
func (t *Transport) send(req *http.Request, body io.ReadCloser, htu, nonce string) (*http.Response, error) {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	proof, err := t.Key.Proof(ProofClaims{Method: method, URL: htu, AccessToken: dpopToken(req.Header), Nonce: nonce, Now: now()})
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	r.Header.Set("DPoP", proof)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

func (t *Transport) htu(req *http.Request) (string, error) {
	if t.Key == nil {
		return "", errors.New("no DPoP key for the request")
	}
	if t.HTU != nil {
		raw, err := t.HTU(req)
		if err != nil {
			return "", fmt.Errorf("choose the DPoP proof's URL: %w", err)
		}
		return HTU(raw)
	}
	if req.URL == nil {
		return "", errors.New("the request has no URL")
	}
	return HTU(req.URL.String())
}

func (t *Transport) nonce(origin string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nonces[origin]
}

// remember keeps a response's DPoP-Nonce for the origin and returns it;
// a missing or invalid one changes nothing and gives "".
func (t *Transport) remember(origin string, resp *http.Response) string {
	n := resp.Header.Get("DPoP-Nonce")
	if !ValidNonce(n) {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nonces == nil {
		t.nonces = map[string]string{}
	}
	t.nonces[origin] = n
	return n
}

// dpopToken is the access token of an "Authorization: DPoP" header
// (RFC 9449 §7.1; the scheme is case-insensitive, RFC 9110 §11.1).
func dpopToken(h http.Header) string {
	scheme, token, ok := strings.Cut(h.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "DPoP") {
		return ""
	}
	return strings.TrimSpace(token)
}

// originOf is scheme://host[:port] of an htu, which HTU always gives a
// path.
func originOf(htu string) string {
	i := strings.Index(htu, "://") + 3
	return htu[:i+strings.IndexByte(htu[i:], '/')]
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
