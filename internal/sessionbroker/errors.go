package sessionbroker

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
)

// maxBody bounds a request body: the largest a client sends is a sealed
// session (sessions.MaxSealed, 16 KiB) with a few parameters.
const maxBody = 64 << 10

// apiError is an answer the handler makes itself, always an RFC 6749
// §5.2 error object: the one place a refusal or failure becomes an HTTP
// status. Its description is the broker's own words and never repeats
// what the caller sent.
type apiError struct {
	status      int
	code        string
	description string
	header      http.Header // Allow, Retry-After
}

func refuse(status int, code, description string) *apiError {
	return &apiError{status: status, code: code, description: description}
}

func invalidRequest(description string) *apiError {
	return refuse(http.StatusBadRequest, "invalid_request", description)
}

func invalidGrant(description string) *apiError {
	return refuse(http.StatusBadRequest, "invalid_grant", description)
}

// invalidProof is RFC 9449 §5's answer to a bad or missing proof at a
// token endpoint.
func invalidProof(description string) *apiError {
	return refuse(http.StatusBadRequest, "invalid_dpop_proof", description)
}

// storeDown is the answer whenever the Store cannot say whether a proof
// is fresh or a session revoked: refusing is the only safe answer.
func storeDown() *apiError {
	e := refuse(http.StatusServiceUnavailable, "temporarily_unavailable",
		"the session store is unavailable, so nothing could be checked or issued; try again shortly")
	e.header = http.Header{"Retry-After": {"5"}}
	return e
}

// badGateway is an upstream failure other than a refusal of the grant.
func badGateway(description string) *apiError {
	return refuse(http.StatusBadGateway, "server_error", description)
}

func internalError() *apiError {
	return refuse(http.StatusInternalServerError, "server_error", "the broker could not issue the session; see its log")
}

func methodNotAllowed(allow string) *apiError {
	e := refuse(http.StatusMethodNotAllowed, "invalid_request", "use "+allow)
	e.header = http.Header{"Allow": {allow}}
	return e
}

func notFound() *apiError {
	return refuse(http.StatusNotFound, "invalid_request", "no such endpoint of the broker's session mode; its discovery document names them")
}

func (e *apiError) write(w http.ResponseWriter) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	writeJSON(w, e.status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{e.code, e.description})
}

// writeJSON sends v. Nothing the session mode answers may be cached but
// its public documents, which set their own Cache-Control first.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// readForm reads a POSTed form body (RFC 6749 §3.2): parameters in the
// query are ignored, and none may repeat (§3.1).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *apiError) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, refuse(http.StatusUnsupportedMediaType, "invalid_request", "the body must be application/x-www-form-urlencoded (RFC 6749 §3.2)")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, refuse(http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
		}
		return nil, invalidRequest("the body is not a valid form")
	}
	for _, vs := range r.PostForm {
		if len(vs) > 1 {
			return nil, invalidRequest("a parameter is repeated; each may be sent once (RFC 6749 §3.1)")
		}
	}
	return r.PostForm, nil
}
