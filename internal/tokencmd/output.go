package tokencmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/cmdutil"
)

// Token output formats of `sesame token` and `sesame org-token`.
const (
	FormatRaw     = "raw"
	FormatJSON    = "json"
	FormatEnv     = "env"
	FormatKubectl = "kubectl"
)

var formats = []string{FormatRaw, FormatJSON, FormatEnv, FormatKubectl}

// issued is a token to print, whatever kind it is.
type issued struct {
	Token     string
	Kind      string // "access_token" or "id_token"
	TokenType string
	Expiry    time.Time
	Scope     string
}

// printToken writes t in format; stdout gets nothing else.
func printToken(w io.Writer, format, envName string, t issued) error {
	exp := ""
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	switch format {
	case FormatRaw, "":
		_, err := fmt.Fprintln(w, t.Token)
		return err
	case FormatJSON:
		out := map[string]string{t.Kind: t.Token}
		for k, v := range map[string]string{"token_type": t.TokenType, "expires_at": exp, "scope": t.Scope} {
			if v != "" {
				out[k] = v
			}
		}
		return json.NewEncoder(w).Encode(out)
	case FormatEnv:
		var b strings.Builder
		fmt.Fprintf(&b, "export %s=%s\n", envName, shellQuote(t.Token))
		if t.TokenType != "" {
			fmt.Fprintf(&b, "export SESAME_TOKEN_TYPE=%s\n", shellQuote(t.TokenType))
		}
		if exp != "" {
			fmt.Fprintf(&b, "export SESAME_TOKEN_EXPIRES_AT=%s\n", shellQuote(exp))
		}
		_, err := io.WriteString(w, b.String())
		return err
	case FormatKubectl:
		// client.authentication.k8s.io/v1 ExecCredential: kubectl caches the
		// token until expirationTimestamp and runs sesame again after.
		status := map[string]string{"token": t.Token}
		if exp != "" {
			status["expirationTimestamp"] = exp
		}
		return json.NewEncoder(w).Encode(map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1",
			"kind":       "ExecCredential",
			"status":     status,
		})
	}
	return cmdutil.FlagErrorf("unknown --format %q (want %s)", format, strings.Join(formats, ", "))
}

// shellQuote makes s one word for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
