package tokencmd

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/cmdutil"
	"github.com/sesame-cli/sesame/internal/store"
)

// defaultMinTTL is --min-ttl's default (addTokenFlags).
const defaultMinTTL = 60 * time.Second

// Fast answers the plain `sesame token` (no flags but --profile/-p) when
// the stored access token is valid for the default --min-ttl, before the
// cobra tree is built and before any signal handling is installed: scripts
// and kubectl call it on every request. It reads the config and the store
// as the command does, with the lean Secret Service read
// (store.KeychainOptions.LeanRead), and prints exactly what the command
// prints. Anything else — other flags or arguments, --verbose or
// SESAME_VERBOSE, a token that is due, any error — returns handled=false
// having written nothing, and the caller runs the full command, which then
// behaves exactly as without Fast (it reads everything again).
func Fast(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) (handled bool, code int) {
	profile, ok := fastArgs(args)
	if !ok || getenv("SESAME_VERBOSE") == "1" {
		return false, 0
	}
	// Warnings (config, plain-file storage) are held back: on a fallback
	// the full command prints them itself.
	var warn bytes.Buffer
	f := cmdutil.NewFactory(stdin, stdout, &warn, getenv)
	f.ProfileFlag = profile
	f.Keychain = func() store.Store { return store.NewKeychain(store.KeychainOptions{LeanRead: true}) }
	_, p, err := f.Profile()
	if err != nil {
		return false, 0
	}
	sess := f.Session(p)
	t, err := sess.Load()
	if err != nil {
		return false, 0
	}
	// Session.due with the default --min-ttl, capped at half the token's
	// lifetime (ExactMinTTL is false without --min-ttl).
	minTTL := defaultMinTTL
	if !t.ObtainedAt.IsZero() && t.Expiry.After(t.ObtainedAt) {
		minTTL = min(minTTL, t.Expiry.Sub(t.ObtainedAt)/2)
	}
	if t.ExpiresWithin(f.Now(), minTTL) {
		return false, 0
	}
	var out bytes.Buffer
	_ = printToken(&out, FormatRaw, "", issued{Token: t.AccessToken, Kind: "access_token"})
	stderr.Write(warn.Bytes())
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "sesame: %v\n", err)
		return true, 1
	}
	return true, 0
}

// fastArgs accepts exactly `token`, optionally followed by one
// `--profile X`, `--profile=X` or `-p X`, and returns the profile flag.
func fastArgs(args []string) (profile string, ok bool) {
	if len(args) == 0 || args[0] != "token" {
		return "", false
	}
	switch rest := args[1:]; {
	case len(rest) == 0:
		return "", true
	case len(rest) == 2 && (rest[0] == "--profile" || rest[0] == "-p") && !strings.HasPrefix(rest[1], "-"):
		return rest[1], true
	case len(rest) == 1 && strings.HasPrefix(rest[0], "--profile=") && len(rest[0]) > len("--profile="):
		return strings.TrimPrefix(rest[0], "--profile="), true
	}
	return "", false
}
