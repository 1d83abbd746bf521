package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxUpstreamBody bounds what the broker reads from a provider; token
// responses are a few KiB even with large ID tokens.
const maxUpstreamBody = 1 << 20

// reply is a provider's answer the broker passes on unchanged.
type reply struct {
	status int
	header http.Header
	body   []byte
	// errCode is the provider's RFC 6749 §5.2 error code, for the log.
	errCode string
}

// forward sends a's parameters (and DPoP proof) to endpointURL,
// authenticated as a's client. Only the status, the headers RFC 6749 §5.1
// and §5.2 give meaning to, a valid DPoP-Nonce (RFC 9449 §8) and a JSON
// body come back: a provider's HTML error page or redirect is turned into
// a 502, never shown to the caller. The body, token_type included, is
// passed on as the provider wrote it.
func (b *Broker) forward(ctx context.Context, endpointURL string, a *accepted) (*reply, *apiError) {
	form, c := a.form, a.client
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpointURL, nil)
	if err != nil {
		return nil, badGateway("the provider's endpoint URL is unusable")
	}
	// The header values share one array: one allocation instead of one
	// per Header.Set; each value is a slice of its own, capped, so that
	// whoever appends to one cannot write over the next.
	vals := [...]string{"application/x-www-form-urlencoded", "application/json", "sesame-broker", c.basic, a.dpop}
	req.Header = make(http.Header, 5)
	req.Header["Content-Type"] = vals[0:1:1]
	req.Header["Accept"] = vals[1:2:2]
	req.Header["User-Agent"] = vals[2:3:3]
	if a.dpop != "" {
		req.Header[dpopHeader] = vals[4:5:5] // the caller's proof, byte for byte
	}
	switch c.authMethod {
	case AuthClientSecretPost:
		form.Set("client_id", c.id)
		form.Set("client_secret", c.secret)
	default:
		req.Header["Authorization"] = vals[3:4:4]
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))

	if b.direct != nil && b.direct.handles(req) {
		resp, data, err := b.direct.roundTrip(ctx, req, maxUpstreamBody)
		if err != nil {
			return nil, b.transportError(ctx, err)
		}
		return checkReply(resp, data)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, b.transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := readSized(io.LimitReader(resp.Body, maxUpstreamBody+1), resp.ContentLength, 64<<10)
	if err != nil {
		return nil, b.transportError(ctx, err)
	}
	return checkReply(resp, data)
}

func checkReply(resp *http.Response, data []byte) (*reply, *apiError) {
	switch {
	case len(data) > maxUpstreamBody:
		return nil, badGateway("the provider's answer is too large")
	case resp.StatusCode < 200 || resp.StatusCode >= 300 && resp.StatusCode < 400 || resp.StatusCode > 599:
		return nil, badGateway(fmt.Sprintf("the provider answered HTTP %d, which a token endpoint does not", resp.StatusCode))
	case len(data) > 0 && !json.Valid(data):
		return nil, badGateway(fmt.Sprintf("the provider answered HTTP %d with %s, not JSON", resp.StatusCode, mediaType(resp.Header)))
	}
	r := &reply{status: resp.StatusCode, header: make(http.Header, 5), body: data}
	if len(data) > 0 {
		ct := resp.Header.Get("Content-Type")
		if !isJSONType(ct) {
			ct = "application/json" // the body was checked to be JSON
		}
		r.header.Set("Content-Type", ct)
	}
	for _, k := range []string{"Cache-Control", "Pragma", "Www-Authenticate"} {
		if v := resp.Header.Values(k); len(v) > 0 {
			r.header[k] = v
		}
	}
	if n := dpopNonce(resp.Header); n != "" {
		r.header[dpopNonceHeader] = []string{n}
	}
	if r.header.Get("Cache-Control") == "" {
		// RFC 6749 §5.1 requires it of the provider; tokens must not be
		// cached on the way whether or not the provider remembered.
		r.header.Set("Cache-Control", "no-store")
	}
	if resp.StatusCode >= 400 && len(data) > 0 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil {
			r.errCode = knownErrorCode(e.Error)
		}
	}
	return r, nil
}

// transportError maps a failed exchange with the provider: a deadline is a
// 504, anything else a 502. A caller that went away (ctx, derived from the
// request's, was canceled rather than timed out) gets nothing.
func (b *Broker) transportError(ctx context.Context, err error) *apiError {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return &apiError{outcome: outcomeCanceled}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err):
		return gatewayTimeout(fmt.Sprintf("the provider did not answer within %v", b.cfg.UpstreamTimeout))
	default:
		b.log.Warn("provider unreachable", "error", err)
		return badGateway("the provider could not be reached")
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func (r *reply) write(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}

func mediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt == "" {
		return "no content type"
	}
	return mt
}

func isJSONType(ct string) bool {
	if ct == "application/json" { // what nearly every provider sends: no parsing
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// knownErrorCode keeps only registered error codes (RFC 6749 §5.2,
// RFC 7009 §2.2.1, RFC 8707 §2, RFC 9449 §5, RFC 6750 §3.1): the log gets
// the provider's error code, and a code that is not one of these could be
// anything, a token included.
func knownErrorCode(s string) string {
	switch s {
	case "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
		"unsupported_grant_type", "invalid_scope", "invalid_target", "unsupported_token_type",
		"invalid_dpop_proof", "use_dpop_nonce", "invalid_token", "insufficient_scope", "invalid_redirect_uri",
		"access_denied", "server_error", "temporarily_unavailable":
		return s
	case "":
		return ""
	}
	return "other"
}
