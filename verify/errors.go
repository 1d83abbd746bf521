package verify

import "errors"

// Every refusal matches one of these with errors.Is. They decide how an
// API answers (Middleware maps them, in status, to 401, 400 and 503):
// what the client did wrong is not what the broker failed to do.
var (
	// ErrNoToken: the request carries no DPoP or Bearer Authorization
	// header, so the client is asked for one, without an error code
	// (RFC 6750 §3.1).
	ErrNoToken = errors.New("no access token")
	// ErrInvalidRequest: the request is malformed, as with two
	// Authorization headers (RFC 6750 §3.1, invalid_request).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrInvalidToken: the token is not one of the broker's, has expired,
	// or is presented in a way its binding forbids (invalid_token).
	ErrInvalidToken = errors.New("invalid token")
	// ErrInvalidProof: the DPoP proof is missing, malformed, stale,
	// replayed, or made for another request or by another key
	// (RFC 9449 §7.1, invalid_dpop_proof).
	ErrInvalidProof = errors.New("invalid DPoP proof")
	// ErrUnavailable: the broker's keys or its introspection endpoint
	// could not be reached, or the replay cache is full. Nothing is
	// known about the token, so it is refused, but the client may retry.
	ErrUnavailable = errors.New("the broker is unavailable")
)

// verifyError is a refusal: msg, in the package's own words, is what a
// client may be told (it never quotes the token, the proof, or anything
// read from them); err, the cause, is for logs and may name the broker's
// URLs.
type verifyError struct {
	kind error
	msg  string
	err  error
}

func (e *verifyError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *verifyError) Is(target error) bool { return target == e.kind }
func (e *verifyError) Unwrap() error        { return e.err }

func tokenError(msg string) error { return &verifyError{kind: ErrInvalidToken, msg: msg} }
func proofError(msg string) error { return &verifyError{kind: ErrInvalidProof, msg: msg} }

func unavailable(msg string, cause error) error {
	return &verifyError{kind: ErrUnavailable, msg: msg, err: cause}
}

// description is what a client is told about err: its message without
// the cause.
func description(err error) string {
	var ve *verifyError
	if errors.As(err, &ve) {
		return ve.msg
	}
	return "the request could not be verified"
}
