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
	F    *Factory
	JSON bool
}

// ProfileStatus is one profile's line in `sesame status --json`.
type ProfileStatus struct {
	Profile   string    `json:"profile"`
	Current   bool      `json:"current"`
	LoggedIn  bool      `json:"logged_in"`
	Issuer    string    `json:"issuer,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Scopes    []string  `json:"scopes,omitempty"`
	Refresh   bool      `json:"has_refresh_token"`
	Storage   string    `json:"storage"`
	Broker    string    `json:"broker,omitempty"`
	Error     string    `json:"error,omitempty"`
	// Tokens are the cached resource and organization tokens.
	Tokens []DerivedStatus `json:"tokens,omitempty"`
}

// DerivedStatus is one cached resource or organization token.
type DerivedStatus struct {
	Resource     string    `json:"resource,omitempty"`
	Organization string    `json:"organization_id,omitempty"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
}

// NewCmdStatus builds `sesame status`.
func NewCmdStatus(f *Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	o := &StatusOptions{F: f}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each profile's login: issuer, user, expiry, scopes, storage",
		Long: `Show each profile's login. Exits 4 when the current profile is not logged in,
so scripts can run: sesame status >/dev/null || sesame login`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return statusRun(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print a JSON array, one object per profile")
	return cmd
}

func statusRun(_ context.Context, o *StatusOptions) error {
	f := o.F
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	current := cfg.ProfileName(f.ProfileFlag)
	names := cfg.ProfileNames()
	if !slices.Contains(names, current) {
		names = append(names, current)
		slices.Sort(names)
	}
	var all []ProfileStatus
	currentIn := false
	for _, name := range names {
		p, err := cfg.Profile(name)
		if err != nil {
			return err
		}
		st := ProfileStatus{Profile: name, Current: name == current, Storage: p.Storage, Issuer: p.Issuer, Broker: p.Broker}
		if st.Storage == "" {
			st.Storage = "keychain"
		}
		sess := f.Session(p)
		t, err := sess.Load()
		var lr *session.LoginRequiredError
		switch {
		case errors.As(err, &lr) && lr.Unreadable:
			st.Error = err.Error() // damaged: say so, and how to recover
		case errors.As(err, &lr):
		case err != nil:
			st.Error = err.Error()
		default:
			st.LoggedIn = true
			st.Issuer = t.Endpoints.Issuer
			st.ExpiresAt, st.Refresh = t.Expiry, t.RefreshToken != ""
			st.Scopes = strings.Fields(t.Scope)
			if id := t.Identity; id != nil {
				st.Subject, st.Name, st.Email = id.Subject, id.Name, id.Email
			}
			for _, d := range sess.DerivedTokens(t) {
				st.Tokens = append(st.Tokens, DerivedStatus{Resource: d.Resource, Organization: d.Org, ExpiresAt: d.Expiry})
			}
		}
		if st.Current {
			currentIn = st.LoggedIn
		}
		all = append(all, st)
	}
	if o.JSON {
		enc := json.NewEncoder(f.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return err
		}
	} else {
		printStatus(f.HumanOut(), all, f.Now(), f.StdoutIsTTY())
	}
	if !currentIn {
		return &SilentError{Code: ExitLoginRequired}
	}
	return nil
}

func printStatus(w io.Writer, all []ProfileStatus, now time.Time, tty bool) {
	for _, st := range all {
		head := st.Profile
		if st.Current {
			head += " (current)"
		}
		fmt.Fprintln(w, head)
		if !st.LoggedIn {
			msg := "not logged in"
			if st.Error != "" {
				msg = "unknown: " + term.Clean(st.Error)
			}
			fmt.Fprintf(w, "  %s\n", msg)
			continue
		}
		tw := term.Table(w)
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(tw, "  %s:\t%s\n", k, term.Clean(v))
			}
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
		for _, d := range st.Tokens {
			what := strings.TrimSpace(strings.Join([]string{orgLabel(d.Organization), d.Resource}, " "))
			row("token", what+", expires "+expiryText(d.ExpiresAt, now, tty))
		}
		tw.Flush()
	}
}

// expiryText shows the absolute time always (RFC 3339 for scripts, local
// time on a terminal) and the relative one for people.
func expiryText(t, now time.Time, tty bool) string {
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
