package broker

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Outcomes label requests in metrics and logs.
const (
	outcomeOK            = "ok"             // the provider answered 2xx
	outcomeProviderError = "provider_error" // the provider's 4xx/5xx JSON, passed on
	outcomeRefused       = "refused"        // the broker refused the request
	outcomeRateLimited   = "rate_limited"
	outcomeUnavailable   = "unavailable" // the provider's endpoints are not known yet
	outcomeBadGateway    = "bad_gateway" // unreachable provider or unusable answer
	outcomeTimeout       = "timeout"
	outcomeCanceled      = "canceled" // the caller went away first
)

// apiError is a response the broker makes itself, always as an RFC 6749
// §5.2 error object, so that OAuth clients show it like a provider's.
// It is the one place a refusal or failure becomes an HTTP status.
type apiError struct {
	status      int
	code        string
	description string
	outcome     string
	header      http.Header // extra headers: Allow, Retry-After, WWW-Authenticate
	// logNote replaces description in the log when the description
	// repeats something the caller sent, which may be a secret.
	logNote string
}

func (e *apiError) logText() string {
	if e.logNote != "" {
		return e.logNote
	}
	return e.description
}

func (e *apiError) Error() string { return e.code + ": " + e.description }

func refuse(status int, code, description string) *apiError {
	return &apiError{status: status, code: code, description: description, outcome: outcomeRefused}
}

func invalidRequest(description string) *apiError {
	return refuse(http.StatusBadRequest, "invalid_request", description)
}

// invalidClient is RFC 6749 §5.2's 401, which carries a challenge. The
// broker's callers authenticate by client_id alone, so the challenge only
// names the realm.
func invalidClient(description string) *apiError {
	e := refuse(http.StatusUnauthorized, "invalid_client", description)
	e.header = http.Header{"Www-Authenticate": {`Basic realm="sesame-broker"`}}
	return e
}

func unsupportedGrant(description string) *apiError {
	return refuse(http.StatusBadRequest, "unsupported_grant_type", description)
}

func methodNotAllowed(allow string) *apiError {
	e := refuse(http.StatusMethodNotAllowed, "invalid_request", "use "+allow)
	e.header = http.Header{"Allow": {allow}}
	return e
}

func bodyTooLarge() *apiError {
	return refuse(http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
}

func unsupportedMediaType() *apiError {
	return refuse(http.StatusUnsupportedMediaType, "invalid_request", "the body must be application/x-www-form-urlencoded (RFC 6749 §3.2)")
}

func notFound() *apiError {
	return refuse(http.StatusNotFound, "invalid_request", "no such endpoint; the broker serves POST /token, /revoke, /introspect and /par")
}

func rateLimited(retryAfter int) *apiError {
	e := &apiError{status: http.StatusTooManyRequests, code: "temporarily_unavailable",
		description: "too many requests from this address", outcome: outcomeRateLimited}
	e.header = http.Header{"Retry-After": {strconv.Itoa(retryAfter)}}
	return e
}

func unavailable(description string) *apiError {
	e := &apiError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		description: description, outcome: outcomeUnavailable}
	e.header = http.Header{"Retry-After": {"5"}}
	return e
}

func badGateway(description string) *apiError {
	return &apiError{status: http.StatusBadGateway, code: "server_error", description: description, outcome: outcomeBadGateway}
}

func gatewayTimeout(description string) *apiError {
	return &apiError{status: http.StatusGatewayTimeout, code: "temporarily_unavailable", description: description, outcome: outcomeTimeout}
}

// write sends e. Error responses are never cached (RFC 6749 §5.1 asks it
// of token responses; nothing is lost by asking it of errors too).
func (e *apiError) write(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range e.header {
		h[k] = v
	}
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.code, e.description})
	writeJSON(w, e.status, append(body, '\n'))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
