package testidp

import "time"

// fault is a canned token endpoint response, for clients' error handling.
type fault struct {
	status            int
	contentType, body string
}

// FailNext makes the next n token requests get this raw response instead
// of being processed: an HTML error page, an empty body, truncated JSON, a
// 500. The requests still count in Grants.
func (p *IdP) FailNext(n, status int, contentType, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		p.failures = append(p.failures, fault{status, contentType, body})
	}
}

// Delay holds every later token response for d, for timeout tests.
func (p *IdP) Delay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// Grants counts token requests by grant_type, whatever their outcome.
func (p *IdP) Grants(grantType string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.grants[grantType]
}

// Errors counts the token endpoint's refusals by RFC 6749 §5.2 error code,
// such as "access_denied" for an organization the user is not a member
// of. FailNext's canned responses are not counted.
func (p *IdP) Errors(code string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs[code]
}

// ReuseDetected counts refresh tokens and codes presented after they were
// used, each of which revoked its grant.
func (p *IdP) ReuseDetected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reuse
}

// RevokeAll ends every grant so far, as an administrator signing the user
// out everywhere would: refreshes then fail with invalid_grant.
func (p *IdP) RevokeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.codes {
		c.grant.revoked = true
	}
}
