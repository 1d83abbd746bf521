package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/session"
	"github.com/sesame-cli/sesame/internal/term"
)

// StatusOptions are the inputs of `sesame status`.
type StatusOptions struct {
	F     *Factory
	JSON  bool
	Check bool
}

// StatusReport is what `sesame status --json` prints: an object, so that
// it can grow.
type StatusReport struct {
	Current  string          `json:"current"`
	Profiles []ProfileStatus `json:"profiles"`
}

// ProfileStatus is one profile in `sesame status --json`. Every field is
// there on every path (logged in or not, ended, damaged), with its zero
// value when it does not apply: null for times and the check.
type ProfileStatus struct {
	Profile   string     `json:"profile"`
	Current   bool       `json:"current"`
	LoggedIn  bool       `json:"logged_in"`
	Issuer    string     `json:"issuer"`
	Subject   string     `json:"subject"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	ExpiresAt *time.Time `json:"expires_at"`
	Scopes    []string   `json:"scopes"`
	Refresh   bool       `json:"has_refresh_token"`
	Storage   string     `json:"storage"`
	Broker    string     `json:"broker"`
	TokenType string     `json:"token_type"`
	// Provider and SessionID: a sesame-broker session (session mode).
	Provider  string `json:"provider"`
	SessionID string `json:"session_id"`
	// DPoP is the key the tokens are bound to (RFC 9449); null for bearer
	// tokens.
	DPoP *session.Binding `json:"dpop"`
	// Ended: the provider refused the refresh token (invalid_grant), so
	// the login is over; EndedReason is its answer.
	Ended       bool       `json:"ended"`
	EndedReason string     `json:"ended_reason"`
	EndedAt     *time.Time `json:"ended_at"`
	Error       string     `json:"error"`
	// Tokens are the cached resource and organization tokens.
	Tokens []DerivedStatus `json:"tokens"`
	// Check is the provider's verdict with --check (current profile only).
	Check *CheckStatus `json:"check"`
}

// DerivedStatus is one cached resource or organization token.
type DerivedStatus struct {
	Resource     string     `json:"resource"`
	Organization string     `json:"organization_id"`
	ExpiresAt    *time.Time `json:"expires_at"`
}

// CheckStatus is what `status --check` learned from the provider.
type CheckStatus struct {
	OK bool `json:"ok"`
	// Method is how the provider was asked: refresh, userinfo or
	// introspection ("" when the check could not ask).
	Method string `json:"method"`
	Error  string `json:"error"`
}

// NewCmdStatus builds `sesame status`.
func NewCmdStatus(f *Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	o := &StatusOptions{F: f}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each profile's login: issuer, user, expiry, scopes, storage",
		Long: `Show each profile's login, as stored: no request is made. A login whose
refresh token the provider refused (invalid_grant) shows as ended, with the
provider's answer. Exits 4 when the current profile is not logged in or its
login has ended, so scripts can run: sesame status >/dev/null || sesame login

--check also asks the current profile's provider: a refresh when the access
token has expired, else its userinfo endpoint, else introspection, else a
refresh. It exits 4 when the grant is dead and 1 when the provider could not
be asked (network, an unusable answer).

--json prints one object: {"current": NAME, "profiles": [...]}, each profile
with the same fields whatever its state (see the README).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return statusRun(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print a JSON object: the current profile's name and one object per profile")
	cmd.Flags().BoolVar(&o.Check, "check", false, "also ask the provider whether the current profile's login is still good")
	return cmd
}

func statusRun(ctx context.Context, o *StatusOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	sel, err := f.Select(cfg, false) // an unknown --profile is a usage error
	if err != nil {
		return err
	}
	current := sel.Name
	names := cfg.ProfileNames()
	if !slices.Contains(names, current) {
		names = append(names, current)
		slices.Sort(names)
	}
	report := StatusReport{Current: current, Profiles: []ProfileStatus{}}
	currentIn := false
	var checkErr error
	for _, name := range names {
		p, err := cfg.Profile(name)
		if err != nil {
			return err
		}
		sess := f.Session(p)
		var check *CheckStatus
		if o.Check && name == current {
			// First, so that the row shows what the check found (a login
			// it found ended, a refreshed expiry).
			how, err := sess.Check(ctx)
			if errors.Is(err, context.Canceled) {
				return err
			}
			check = &CheckStatus{OK: err == nil, Method: how}
			if err != nil {
				check.Error, checkErr = err.Error(), err
			}
		}
		st := profileStatus(sess, p.Storage, p.Issuer, p.Broker)
		st.Profile, st.Current, st.Check = name, name == current, check
		if st.Current {
			currentIn = st.LoggedIn
		}
		report.Profiles = append(report.Profiles, st)
	}
	if o.JSON {
		enc := json.NewEncoder(f.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printStatus(f.HumanOut(), report.Profiles, f.Now(), f.StdoutIsTTY())
	}
	var lr *session.LoginRequiredError
	switch {
	case errors.As(checkErr, &lr):
		return checkErr // a dead grant, or none: exit 4, saying which
	case checkErr != nil:
		return fmt.Errorf("could not check the login of profile %q with the provider: %w", current, checkErr)
	case !currentIn:
		return &SilentError{Code: ExitLoginRequired}
	}
	return nil
}

// profileStatus describes the stored login of sess.
func profileStatus(sess *session.Session, storage, issuer, broker string) ProfileStatus {
	st := ProfileStatus{Storage: storage, Issuer: issuer, Broker: broker, Scopes: []string{}, Tokens: []DerivedStatus{}}
	if st.Storage == "" {
		st.Storage = "keychain"
	}
	t, err := sess.Load()
	var lr *session.LoginRequiredError
	switch {
	case errors.As(err, &lr) && lr.Ended != nil:
		at := lr.Ended.At
		st.Ended, st.EndedReason, st.EndedAt = true, lr.Ended.Reason, &at
	case errors.As(err, &lr) && lr.Unreadable:
		st.Error = err.Error() // damaged: say so, and how to recover
	case errors.As(err, &lr):
	case err != nil:
		st.Error = err.Error()
	default:
		st.LoggedIn = true
		st.Issuer = t.Endpoints.Issuer
		st.ExpiresAt, st.Refresh = timeOrNil(t.Expiry), t.RefreshToken != ""
		st.TokenType, st.DPoP = t.TokenType, t.Binding()
		st.Provider, st.SessionID = t.Provider, t.SessionID()
		st.Scopes = append(st.Scopes, strings.Fields(t.Scope)...)
		if id := t.Identity; id != nil {
			st.Subject, st.Name, st.Email = id.Subject, id.Name, id.Email
		}
		for _, d := range sess.DerivedTokens(t) {
			st.Tokens = append(st.Tokens, DerivedStatus{Resource: d.Resource, Organization: d.Org, ExpiresAt: timeOrNil(d.Expiry)})
		}
	}
	return st
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func printStatus(w io.Writer, all []ProfileStatus, now time.Time, tty bool) {
	for _, st := range all {
		head := st.Profile
		if st.Current {
			head += " (current)"
		}
		fmt.Fprintln(w, head)
		tw := term.Table(w)
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(tw, "  %s:\t%s\n", k, term.Clean(v))
			}
		}
		if !st.LoggedIn {
			msg := "not logged in"
			switch {
			case st.Ended:
				msg = "ended: the provider refused the refresh token"
				if st.EndedAt != nil {
					msg += " at " + term.Stamp(*st.EndedAt)
				}
				msg += " (" + st.EndedReason + "); log in again"
			case st.Error != "":
				msg = "unknown: " + st.Error
			}
			fmt.Fprintf(w, "  %s\n", term.Clean(msg))
			printCheck(row, st.Check)
			tw.Flush()
			continue
		}
		row("issuer", st.Issuer)
		row("subject", st.Subject)
		who := st.Name
		if st.Email != "" {
			who = strings.TrimSpace(who + " <" + st.Email + ">")
		}
		row("user", who)
		row("expires", expiryText(st.ExpiresAt, now, tty))
		row("scopes", strings.Join(st.Scopes, " "))
		row("refresh", map[bool]string{true: "yes", false: "no"}[st.Refresh])
		row("storage", st.Storage)
		row("broker", st.Broker)
		if st.Provider != "" {
			row("session", "sesame-broker session "+st.SessionID+" via provider "+st.Provider)
		}
		row("dpop", bindingText(st.DPoP))
		for _, d := range st.Tokens {
			what := strings.TrimSpace(strings.Join([]string{orgLabel(d.Organization), d.Resource}, " "))
			row("token", what+", expires "+expiryText(d.ExpiresAt, now, tty))
		}
		printCheck(row, st.Check)
		tw.Flush()
	}
}

// printCheck adds the --check verdict to a profile's rows.
func printCheck(row func(k, v string), c *CheckStatus) {
	switch {
	case c == nil:
	case c.OK:
		row("check", "ok (the provider answered a "+c.Method+")")
	default:
		row("check", "failed: "+c.Error)
	}
}

// expiryText shows the absolute time always (RFC 3339 for scripts, local
// time on a terminal) and the relative one for people.
func expiryText(tp *time.Time, now time.Time, tty bool) string {
	var t time.Time
	if tp != nil {
		t = *tp
	}
	switch {
	case t.IsZero():
		return "unknown (the provider sent no expires_in)"
	case !t.After(now):
		return term.Stamp(t) + " (expired " + term.Short(now.Sub(t)) + " ago)"
	case tty:
		return t.Local().Format("2006-01-02 15:04:05 MST") + " (" + term.Relative(t, now) + ")"
	}
	return term.When(t, now)
}

func orgLabel(id string) string {
	if id == "" {
		return ""
	}
	return "organization " + id
}

// bindingText says which key a bound login's tokens are tied to, and
// whether the access token names it.
func bindingText(b *session.Binding) string {
	switch {
	case b == nil:
		return ""
	case b.Error != "":
		return "unusable stored key: " + b.Error
	case b.Matches == nil:
		return "key " + b.KeyJKT + " (the access token is opaque: it does not say which key it is bound to)"
	case *b.Matches:
		return "key " + b.KeyJKT + ", the access token is bound to it (cnf.jkt)"
	}
	return "key " + b.KeyJKT + ", but the access token names another key (cnf.jkt " + b.TokenJKT + "); log in again"
}
