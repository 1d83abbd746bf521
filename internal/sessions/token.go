package sessions

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Session tokens are JWT access tokens typed at+jwt as RFC 9068 §2.1
// sets, signed ES256 by the broker's first key and bound to the CLI's
// DPoP key by cnf.jkt (RFC 9449 §6.1). They carry no aud or client_id:
// a session token is for every API that trusts the broker's JWKS. APIs verify them offline with the
// broker's JWKS, as Firebase session cookies are verified; the broker
// parses its own for introspection and revocation.

// The bounds of a session token's lifetime: short enough that a revocation
// reaches APIs that never ask the broker, long enough to be worth minting.
const (
	MinLifetime = 5 * time.Minute
	MaxLifetime = 336 * time.Hour // 14 days
)

// maxToken bounds what Parse reads; the broker's tokens are under 1 KiB.
const maxToken = 8 << 10

// Parse's refusals wrap one of these, so that introspection can answer
// "not active" for both and a log can tell them apart.
var (
	ErrInvalidToken = errors.New("not a session token of this broker")
	ErrExpiredToken = errors.New("the session token has expired")
)

// Session is what a session token says.
type Session struct {
	ID       string // sid: the sign-in the token belongs to, across renewals
	Subject  string // sub: SubjectFor the upstream user
	IDP      string // idp: the upstream provider's name
	Email    string
	Name     string
	JKT      string // cnf.jkt: the thumbprint of the CLI's DPoP key
	AuthTime time.Time
	IssuedAt time.Time
	Expiry   time.Time
}

// Minter mints and parses session tokens.
type Minter struct {
	Issuer   string
	Keys     *Keys
	Lifetime time.Duration    // within CheckLifetime's bounds
	Now      func() time.Time // time.Now when nil
}

type header struct {
	Alg  string   `json:"alg"`
	Typ  string   `json:"typ"`
	Kid  string   `json:"kid"`
	Crit []string `json:"crit,omitempty"`
}

type claims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	IDP      string `json:"idp"`
	SID      string `json:"sid"`
	AuthTime int64  `json:"auth_time"`
	Iat      int64  `json:"iat"`
	Exp      int64  `json:"exp"`
	JTI      string `json:"jti"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
	Cnf      struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// Mint signs a token for s, issued now and expiring Lifetime later; s's
// own IssuedAt and Expiry are ignored. ID, Subject, IDP, JKT and AuthTime
// are required: every token names its session, user and key.
func (m *Minter) Mint(s Session) (string, error) {
	switch {
	case m.Issuer == "" || m.Keys == nil:
		return "", errors.New("mint a session token: the minter needs an issuer and keys")
	case s.ID == "" || s.Subject == "" || s.IDP == "" || s.JKT == "" || s.AuthTime.IsZero():
		return "", errors.New("mint a session token: the session's ID, Subject, IDP, JKT and AuthTime are required")
	}
	if err := CheckLifetime(m.Lifetime); err != nil {
		return "", fmt.Errorf("mint a session token: %w", err)
	}
	iat := m.now().Unix()
	c := claims{
		Iss: m.Issuer, Sub: s.Subject, IDP: s.IDP, SID: s.ID,
		AuthTime: s.AuthTime.Unix(), Iat: iat, Exp: iat + int64(m.Lifetime/time.Second),
		JTI: NewSessionID(), Email: s.Email, Name: s.Name,
	}
	c.Cnf.JKT = s.JKT
	k := m.Keys.signer()
	h, _ := json.Marshal(header{Alg: "ES256", Typ: "at+jwt", Kid: k.kid})
	p, _ := json.Marshal(c) // strings and numbers always marshal
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	r, sv, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
	if err != nil {
		return "", fmt.Errorf("mint a session token: %w", err)
	}
	sig := make([]byte, 64) // RFC 7518 §3.4: R || S, 32 bytes each
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return input + "." + b64(sig), nil
}

// Parse verifies a session token: ES256 by a configured key (found by
// kid), typ at+jwt, iss exactly the minter's, not expired by the broker's
// own clock, with no leeway since the broker minted it by that clock.
// Errors wrap ErrInvalidToken or ErrExpiredToken and never quote the token.
func (m *Minter) Parse(token string) (*Session, error) {
	if m.Keys == nil {
		return nil, errors.New("parse a session token: the minter has no keys")
	}
	if len(token) > maxToken {
		return nil, fmt.Errorf("%w: longer than 8 KiB", ErrInvalidToken)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	var h header
	if err := decodePart(parts[0], &h); err != nil {
		return nil, fmt.Errorf("%w: damaged header", ErrInvalidToken)
	}
	switch {
	case h.Alg != "ES256":
		return nil, fmt.Errorf("%w: alg %.20q, not ES256", ErrInvalidToken, h.Alg)
	case !strings.EqualFold(h.Typ, "at+jwt") && !strings.EqualFold(h.Typ, "application/at+jwt"):
		return nil, fmt.Errorf("%w: typ %.40q, not at+jwt", ErrInvalidToken, h.Typ)
	case len(h.Crit) > 0:
		return nil, fmt.Errorf("%w: critical header parameters the broker never sets", ErrInvalidToken)
	}
	k := m.Keys.byKID(h.Kid)
	if k == nil {
		return nil, fmt.Errorf("%w: signed by a key the broker does not have", ErrInvalidToken)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, fmt.Errorf("%w: damaged signature", ErrInvalidToken)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&k.priv.PublicKey, sum[:], r, s) {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	var c claims
	if err := decodePart(parts[1], &c); err != nil {
		return nil, fmt.Errorf("%w: damaged claims", ErrInvalidToken)
	}
	switch {
	case c.Iss != m.Issuer:
		return nil, fmt.Errorf("%w: issued by another issuer", ErrInvalidToken)
	case c.Sub == "" || c.SID == "" || c.Exp == 0 || c.Cnf.JKT == "":
		return nil, fmt.Errorf("%w: sub, sid, exp or cnf.jkt missing", ErrInvalidToken)
	}
	exp := time.Unix(c.Exp, 0).UTC()
	if !m.now().Before(exp) {
		return nil, fmt.Errorf("%w (at %s)", ErrExpiredToken, exp.Format(time.RFC3339))
	}
	return &Session{
		ID: c.SID, Subject: c.Sub, IDP: c.IDP, Email: c.Email, Name: c.Name, JKT: c.Cnf.JKT,
		AuthTime: time.Unix(c.AuthTime, 0).UTC(), IssuedAt: time.Unix(c.Iat, 0).UTC(), Expiry: exp,
	}, nil
}

func (m *Minter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func decodePart(part string, v any) error {
	b, err := base64.RawURLEncoding.Strict().DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// SubjectFor is the broker's subject for an upstream user: "u_" and the
// unpadded base64url SHA-256 of issuer, NUL, sub. It depends on nothing
// the broker holds, so it survives restarts and key rotation, and it is
// distinct per upstream, since two providers' subjects may collide
// (OpenID Connect Core §2 makes sub unique only within an issuer).
func SubjectFor(upstreamIssuer, upstreamSub string) string {
	sum := sha256.Sum256([]byte(upstreamIssuer + "\x00" + upstreamSub))
	return "u_" + b64(sum[:])
}

// NewSessionID is 128 random bits, base64url: a session ID or a jti.
func NewSessionID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24)
	return b64(b)
}

// CheckLifetime refuses a session token lifetime outside
// [MinLifetime, MaxLifetime].
func CheckLifetime(d time.Duration) error {
	if d < MinLifetime || d > MaxLifetime {
		return fmt.Errorf("session lifetime %s is out of bounds: it must be between 5m and 336h (14 days), both included", d)
	}
	return nil
}
