package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// GetDocument keeps what each caller needs: status, headers, the whole
// body, the time taken; and a body that cannot be read still comes with
// its status, so "no answer" and "an unreadable answer" stay apart.
func TestGetDocument(t *testing.T) {
	foreign, hits := catcher(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/doc":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
			w.Header().Set("X-Accept", r.Header.Get("Accept"))
			w.Header().Set("X-Cache-Control", r.Header.Get("Cache-Control"))
			time.Sleep(20 * time.Millisecond)
			io.WriteString(w, `{"ok":true}`)
		case "/moved":
			http.Redirect(w, r, "/doc", http.StatusFound)
		case "/away":
			http.Redirect(w, r, foreign.URL+"/doc", http.StatusFound)
		case "/missing":
			http.NotFound(w, r)
		case "/huge":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write(make([]byte, MaxBody+1))
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	r, err := GetDocument(ctx, nil, srv.URL+"/doc", http.Header{"accept": {"application/json"}, "Cache-Control": {"no-cache"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.URL != srv.URL+"/doc" || r.Status != 200 || string(r.Body) != `{"ok":true}` || r.Header.Get("Date") == "" ||
		r.Header.Get("X-Accept") != "application/json" || r.Header.Get("X-Cache-Control") != "no-cache" || r.Elapsed < 20*time.Millisecond {
		t.Errorf("got %+v", r)
	}

	if r, err := GetDocument(ctx, nil, srv.URL+"/moved", nil); err != nil || string(r.Body) != `{"ok":true}` || r.URL != srv.URL+"/moved" {
		t.Errorf("a same-origin redirect: %+v, %v", r, err)
	}
	if r, err := GetDocument(ctx, nil, srv.URL+"/missing", nil); err != nil || r.Status != http.StatusNotFound {
		t.Errorf("a 404 is an answer, not an error: %+v, %v", r, err)
	}

	r, err = GetDocument(ctx, nil, srv.URL+"/away", nil)
	var rd *RedirectError
	if r != nil || !errors.As(err, &rd) || !strings.HasPrefix(err.Error(), srv.URL+"/away answered HTTP 302") || hits.Load() != 0 {
		t.Errorf("a redirect to another origin: %+v, %v, %d hit(s) there", r, err, hits.Load())
	}

	r, err = GetDocument(ctx, nil, srv.URL+"/huge", nil)
	var tl *TooLargeError
	if r == nil || r.Status != http.StatusInternalServerError || len(r.Body) != MaxBody || !errors.As(err, &tl) ||
		!strings.HasPrefix(err.Error(), "read "+srv.URL+"/huge: ") {
		t.Errorf("a body past MaxBody: %v, %v", r != nil, err)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	r, err = GetDocument(ctx, nil, closed.URL+"/doc", nil)
	var ue *url.Error
	if r != nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), closed.URL+"/doc") {
		t.Errorf("no answer: %+v, %v", r, err)
	}
}
