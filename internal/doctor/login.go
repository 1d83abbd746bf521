package doctor

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/login"
	"github.com/sesame-cli/sesame/internal/provider"
	"github.com/sesame-cli/sesame/internal/session"
)

// Login signs in with profile p exactly as `sesame login` would (the same
// login.ForProfile), but stores nothing, and reports how long each step
// took, the userinfo call and the claims received. ui supplies the
// interaction: Browser, Stderr, Now, Interactive and Progress.
func Login(ctx context.Context, hc *http.Client, p config.Profile, ui login.Options) []Item {
	fail := func(step string, err error) []Item {
		return []Item{{Status: StatusFail, Check: "login " + step, Detail: err.Error(), Remedy: "see the checks above, and the provider's logs"}}
	}
	if p.ClientID == "" {
		return fail("setup", fmt.Errorf("the profile has no client_id"))
	}
	var mu sync.Mutex
	var steps []Item
	step := func(name string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, Item{Status: StatusOK, Check: "login " + name, Detail: d.Round(time.Millisecond).String()})
	}
	start := time.Now()
	lo, err := login.ForProfile(ctx, hc, p)
	if err != nil {
		return fail("discovery", err)
	}
	step("discovery", time.Since(start))
	var got *session.Tokens
	lo.Browser, lo.Stderr, lo.Now, lo.Interactive, lo.Progress = ui.Browser, ui.Stderr, ui.Now, ui.Interactive, ui.Progress
	lo.Trace = step
	lo.Save = func(t *session.Tokens) error { got = t; return nil }
	if _, err := login.Run(ctx, lo); err != nil {
		return append(steps, fail("flow", err)...)
	}
	if ep := lo.Endpoints.Userinfo; ep != "" {
		start = time.Now()
		resp, err := provider.Userinfo(ctx, hc, ep, got.AccessToken)
		switch {
		case err != nil:
			steps = append(steps, Item{Status: StatusFail, Check: "login userinfo", Detail: err.Error()})
		case resp.Status != http.StatusOK:
			steps = append(steps, Item{Status: StatusFail, Check: "login userinfo", Detail: fmt.Sprintf("HTTP %d", resp.Status)})
		default:
			step("userinfo", time.Since(start))
		}
	}
	claims := []string{}
	if id := got.Identity; id != nil {
		for k, v := range map[string]string{"sub": id.Subject, "name": id.Name, "email": id.Email, "preferred_username": id.Username} {
			if v != "" {
				claims = append(claims, k+"="+v)
			}
		}
	}
	slices.Sort(claims)
	detail := "scope " + got.Scope
	if len(claims) > 0 {
		detail = strings.Join(claims, " ") + "; " + detail
	}
	return append(steps, Item{Status: StatusOK, Check: "login claims", Detail: detail})
}
