package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// UserinfoResponse is what a userinfo endpoint answered.
type UserinfoResponse struct {
	Status      int
	ContentType string
	Body        []byte
	// Challenge is the WWW-Authenticate header (RFC 6750 §3), which names
	// the error when the token was refused.
	Challenge string
}

// Userinfo calls the userinfo endpoint with a Bearer access token
// (OpenID Connect Core §5.3, RFC 6750 §2.1). It follows no redirect: the
// token would go along (httpx.NoRedirects).
func Userinfo(ctx context.Context, hc *http.Client, endpoint, accessToken string) (*UserinfoResponse, error) {
	return UserinfoAs(ctx, hc, endpoint, "Bearer", accessToken)
}

// UserinfoAs is Userinfo with the Authorization scheme of the token's
// type: "DPoP" for a sender-constrained token (RFC 9449 §7.1), whose
// proof hc's transport adds.
func UserinfoAs(ctx context.Context, hc *http.Client, endpoint, scheme, accessToken string) (*UserinfoResponse, error) {
	if err := httpx.CheckEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("the userinfo endpoint %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("userinfo endpoint %q: %w", endpoint, err)
	}
	req.Header.Set("Authorization", scheme+" "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := httpx.NoRedirects(hc).Do(req)
	if err != nil {
		var rd *httpx.RedirectError
		if errors.As(err, &rd) {
			return nil, rd.Named("the userinfo endpoint")
		}
		if ur := httpx.Unreachable(err, ""); ur != nil {
			err = ur // the URL once, the cause, a hint
		}
		return nil, fmt.Errorf("call the userinfo endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the userinfo response: %w", err)
	}
	return &UserinfoResponse{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body,
		Challenge: resp.Header.Get("WWW-Authenticate")}, nil
}
