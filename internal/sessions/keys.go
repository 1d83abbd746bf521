package sessions

import (
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/sesame-cli/sesame/internal/fsperm"
)

// maxKeyFile bounds a key file: a PKCS#8 P-256 key is about 240 bytes.
const maxKeyFile = 64 << 10

// makeKey is the hint every refusal of a key's kind ends with.
const makeKey = "make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out session-key.pem"

// Keys are the broker's session keys, in the order configured: the first
// signs session tokens and seals blobs; all of them verify and open, so a
// new key goes first and the old one stays second until everything it
// signed or sealed has expired.
type Keys struct {
	keys     []*key
	jwks     []byte
	warnings []string
}

type key struct {
	file string
	priv *ecdsa.PrivateKey
	kid  string
	jwk  map[string]string // public members (RFC 7518 §6.2.1)
	aead cipher.AEAD       // seals and opens blobs (seal.go)
}

// LoadKeys reads EC P-256 private keys from PKCS#8 PEM files ("-----BEGIN
// PRIVATE KEY-----", what openssl genpkey writes). A file that others can
// write is refused, as fsperm refuses the CLI's own secrets: whoever can
// replace the key can mint sessions. A file that others can read is used
// and reported by Warnings: in a container its mode often says nothing
// about who can reach it.
func LoadKeys(files []string) (*Keys, error) {
	if len(files) == 0 {
		return nil, errors.New("no session signing key: name at least one PKCS#8 EC P-256 key file; " + makeKey)
	}
	k := &Keys{}
	seen := map[string]string{}
	set := struct {
		Keys []map[string]string `json:"keys"`
	}{}
	for _, file := range files {
		kk, warning, err := loadKey(file)
		if err != nil {
			return nil, err
		}
		if other, ok := seen[kk.kid]; ok {
			return nil, fmt.Errorf("session key %s is the same key as %s: name each key once", file, other)
		}
		seen[kk.kid] = file
		if warning != "" {
			k.warnings = append(k.warnings, warning)
		}
		k.keys = append(k.keys, kk)
		pub := map[string]string{"alg": "ES256", "use": "sig", "kid": kk.kid}
		for name, v := range kk.jwk {
			pub[name] = v
		}
		set.Keys = append(set.Keys, pub)
	}
	k.jwks, _ = json.Marshal(set) // maps of strings always marshal
	return k, nil
}

// JWKS is the public JWK Set (RFC 7517 §5) of every key, for APIs that
// verify session tokens offline: kid is the key's RFC 7638 thumbprint,
// alg ES256, use sig.
func (k *Keys) JWKS() []byte { return append([]byte(nil), k.jwks...) }

// Warnings lists what LoadKeys accepted but an operator should hear about:
// key files that others can read.
func (k *Keys) Warnings() []string { return append([]string(nil), k.warnings...) }

// signer is the key that signs and seals.
func (k *Keys) signer() *key { return k.keys[0] }

// byKID finds the key a token names, nil for none.
func (k *Keys) byKID(kid string) *key {
	for _, kk := range k.keys {
		if kk.kid == kid {
			return kk
		}
	}
	return nil
}

func loadKey(file string) (*key, string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read session key %s: %w", file, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("cannot read session key %s: %w", file, err)
	}
	if err := fsperm.Config(file, fi); err != nil {
		return nil, "", err
	}
	var warning string
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o044 != 0 {
		warning = fmt.Sprintf("session key %s is readable by others (mode %04o): whoever reads it can mint sessions; chmod go-r %s unless only this service can reach the file", file, fi.Mode().Perm(), file)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, "", fmt.Errorf("cannot read session key %s: %w", file, err)
	}
	if len(data) > maxKeyFile {
		return nil, "", fmt.Errorf("session key %s is larger than 64 KiB: it is not a key file", file)
	}
	priv, err := parseKey(file, data)
	if err != nil {
		return nil, "", err
	}
	kk, err := newKey(file, priv)
	return kk, warning, err
}

// parseKey finds the one private key in a PEM file. Its errors never quote
// the file's contents, nor wrap the decoders' errors, which might.
func parseKey(file string, data []byte) (*ecdsa.PrivateKey, error) {
	var blocks []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "EC PARAMETERS" { // openssl ecparam writes one first
			blocks = append(blocks, b)
		}
	}
	switch {
	case len(blocks) == 0:
		return nil, fmt.Errorf("session key %s is not a PEM file: expected a \"-----BEGIN PRIVATE KEY-----\" block (PKCS#8); %s", file, makeKey)
	case len(blocks) > 1:
		return nil, fmt.Errorf("session key %s holds %d PEM blocks: put one key in each file", file, len(blocks))
	}
	b := blocks[0]
	switch b.Type {
	case "PRIVATE KEY":
	case "EC PRIVATE KEY":
		return nil, fmt.Errorf("session key %s is a SEC 1 \"EC PRIVATE KEY\"; the broker reads PKCS#8: convert it with: openssl pkcs8 -topk8 -nocrypt -in %s -out session-key.pem", file, file)
	case "RSA PRIVATE KEY":
		return nil, fmt.Errorf("session key %s is an RSA key; session tokens are signed ES256 with an EC P-256 key: %s", file, makeKey)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("session key %s is encrypted and the broker asks nobody for a passphrase: decrypt it with: openssl pkcs8 -in %s -out session-key.pem", file, file)
	case "PUBLIC KEY":
		return nil, fmt.Errorf("session key %s holds a public key, not a private key", file)
	case "CERTIFICATE":
		return nil, fmt.Errorf("session key %s holds a certificate, not a private key", file)
	default:
		return nil, fmt.Errorf("session key %s holds a %.40q PEM block, not a PKCS#8 \"PRIVATE KEY\"; %s", file, b.Type, makeKey)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("session key %s is not a valid PKCS#8 private key: damaged DER; %s", file, makeKey)
	}
	switch p := parsed.(type) {
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("session key %s is an EC key on %s; session tokens are signed ES256, which needs P-256: %s", file, p.Curve.Params().Name, makeKey)
		}
		return p, nil
	case *rsa.PrivateKey:
		return nil, fmt.Errorf("session key %s is an RSA key (%d bits); session tokens are signed ES256 with an EC P-256 key: %s", file, p.N.BitLen(), makeKey)
	case ed25519.PrivateKey:
		return nil, fmt.Errorf("session key %s is an Ed25519 key; session tokens are signed ES256 with an EC P-256 key: %s", file, makeKey)
	case *ecdh.PrivateKey:
		return nil, fmt.Errorf("session key %s is an X25519 key, which cannot sign; session tokens are signed ES256 with an EC P-256 key: %s", file, makeKey)
	}
	return nil, fmt.Errorf("session key %s is a %T; session tokens are signed ES256 with an EC P-256 key: %s", file, parsed, makeKey)
}

func newKey(file string, priv *ecdsa.PrivateKey) (*key, error) {
	pt, err := priv.PublicKey.Bytes() // 0x04 || X || Y, 32 bytes each
	if err != nil {
		return nil, fmt.Errorf("session key %s: %w", file, err)
	}
	jwk := map[string]string{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:])}
	// RFC 7638 §3.3: the required members, sorted, no whitespace, which
	// json.Marshal gives a map of strings.
	canon, _ := json.Marshal(jwk)
	sum := sha256.Sum256(canon)
	aead, err := sealerFor(priv)
	if err != nil {
		return nil, fmt.Errorf("session key %s: %w", file, err)
	}
	return &key{file: file, priv: priv, kid: b64(sum[:]), jwk: jwk, aead: aead}, nil
}
