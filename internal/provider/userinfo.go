package provider

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// UserinfoResponse is what a userinfo endpoint answered.
type UserinfoResponse struct {
	Status      int
	ContentType string
	Body        []byte
}

// Userinfo calls the userinfo endpoint with a Bearer access token
// (OpenID Connect Core §5.3, RFC 6750 §2.1).
func Userinfo(ctx context.Context, hc *http.Client, endpoint, accessToken string) (*UserinfoResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("userinfo endpoint %q: %w", endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call the userinfo endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, fmt.Errorf("read the userinfo response: %w", err)
	}
	return &UserinfoResponse{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}
