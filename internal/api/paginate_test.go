package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// pager serves /items?page=N for N in 1..3, each page linking to the next
// with link(N), a JSON array of two ids.
func pager(t *testing.T, link func(page int) string) (string, *recorder) {
	t.Helper()
	srv, rec := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		if l := link(page); l != "" {
			w.Header().Add("Link", l)
		}
		if page == 99 {
			w.WriteHeader(http.StatusInternalServerError)
		}
		fmt.Fprintf(w, `[{"id":%d},{"id":%d}]`, 2*page-1, 2*page)
	})
	return srv.URL, rec
}

func TestPaginate(t *testing.T) {
	foreign, caught := server(t, nil)
	pages := `[{"id":1},{"id":2}][{"id":3},{"id":4}][{"id":5},{"id":6}]`
	tests := []struct {
		name       string
		link       func(base string, page int) string
		o          Options
		wantHits   int
		wantStdout string
		wantErr    string // in the error; "" for none
	}{
		{name: "three pages, absolute and relative links", o: Options{Target: "/items"},
			link: func(base string, p int) string {
				switch p {
				case 1:
					return fmt.Sprintf(`<%s/items?page=2>; rel="next", <%s/items?page=3>; rel="last"`, base, base)
				case 2:
					return `</items?page=1>; rel="prev first", </items?page=3#frag>; rel="next"`
				}
				return `</items?page=1>; rel="first"`
			}, wantHits: 3, wantStdout: pages},
		{name: "with --jq, each page", o: Options{Target: "/items", JQ: ".[].id"},
			link:     upTo3,
			wantHits: 3, wantStdout: "1\n2\n3\n4\n5\n6\n"},
		{name: "the following pages are GETs without a body", o: Options{Target: "/items", Fields: []string{"q=x"}},
			link:     upTo3,
			wantHits: 3, wantStdout: pages},
		{name: "a next link to another origin", o: Options{Target: "/items"},
			link:     func(_ string, p int) string { return fmt.Sprintf(`<%s/items?page=2>; rel="next"`, foreign.URL) },
			wantHits: 1, wantStdout: `[{"id":1},{"id":2}]`, wantErr: "the next page is at another origin, " + foreign.URL},
		{name: "a next link back to an earlier page", o: Options{Target: "/items?page=1"},
			link:     func(_ string, p int) string { return linkTo(p%2 + 1) },
			wantHits: 2, wantStdout: `[{"id":1},{"id":2}][{"id":3},{"id":4}]`, wantErr: "leads back to a page already fetched"},
		{name: "a page that is not 2xx ends it", o: Options{Target: "/items"},
			link:     func(_ string, p int) string { return linkTo(99) },
			wantHits: 2, wantStdout: `[{"id":1},{"id":2}][{"id":197},{"id":198}]`, wantErr: "HTTP 500"},
		{name: "without --paginate, one page", o: Options{Target: "/items"},
			link:     func(_ string, p int) string { return linkTo(p + 1) },
			wantHits: 1, wantStdout: `[{"id":1},{"id":2}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base string
			var rec *recorder
			base, rec = pager(t, func(p int) string { return tt.link(base, p) })
			tt.o.BaseURL = base
			tt.o.Paginate = tt.name != "without --paginate, one page"
			ts := &tokens{}
			res := run(t, tt.o, ts)
			hits := rec.all()
			if len(hits) != tt.wantHits || len(ts.calls) != tt.wantHits {
				t.Fatalf("%d hit(s), %d token call(s); want %d", len(hits), len(ts.calls), tt.wantHits)
			}
			for i, h := range hits {
				if h.Header.Get("Authorization") != fmt.Sprintf("Bearer tok-%d", i+1) {
					t.Errorf("page %d: Authorization %q", i+1, h.Header.Get("Authorization"))
				}
				if i > 0 && (h.Method != "GET" || h.Body != "" || h.Header.Get("Content-Type") != "") {
					t.Errorf("page %d: %s %q %q", i+1, h.Method, h.Body, h.Header.Get("Content-Type"))
				}
			}
			if res.stdout != tt.wantStdout {
				t.Errorf("stdout %q, want %q", res.stdout, tt.wantStdout)
			}
			if tt.wantErr == "" && res.err != nil || tt.wantErr != "" && (res.err == nil || !strings.Contains(res.err.Error(), tt.wantErr)) {
				t.Errorf("err %v, want %q", res.err, tt.wantErr)
			}
			if len(caught.all()) != 0 {
				t.Errorf("the other origin got %d request(s)", len(caught.all()))
			}
		})
	}
}

func linkTo(page int) string { return fmt.Sprintf(`</items?page=%d>; rel="next"`, page) }

// upTo3 links pages 1 and 2 to the next one.
func upTo3(_ string, page int) string {
	if page < 3 {
		return linkTo(page + 1)
	}
	return ""
}

// TestPaginateBound: a server that links to a new page forever is
// stopped at maxPages.
func TestPaginateBound(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 requests")
	}
	srv, rec := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Link", fmt.Sprintf("<?n=%d>; rel=next", n+1))
	})
	res := run(t, Options{Target: srv.URL + "/?n=0", Paginate: true, Silent: true}, nil)
	if res.err == nil || !strings.Contains(res.err.Error(), "stopped after 10000 pages") || len(rec.all()) != maxPages {
		t.Errorf("err %v after %d request(s)", res.err, len(rec.all()))
	}
}

func TestNextLink(t *testing.T) {
	tests := []struct {
		name, link, want string
	}{
		{"plain", `<https://a.example/2>; rel="next"`, "https://a.example/2"},
		{"unquoted", `</2>; rel=next`, "/2"},
		{"among others", `</1>; rel="first", </3>; rel="last", </2>; rel="next"`, "/2"},
		{"a list of types, any case", `</2>; rel="prefetch NEXT"`, "/2"},
		{"other params first", `</2>; title="a, b; c"; rel="next"`, "/2"},
		{"escaped quotes", `</2>; title="say \"hi\", rel=next"; rel="next"`, "/2"},
		{"the first rel counts", `</x>; rel="prev"; rel="next", </2>; rel="next"`, "/2"},
		{"next as a title is not a rel", `</x>; title="next"`, ""},
		{"nextish is not next", `</x>; rel="next-archive"`, ""},
		{"no link", ``, ""},
		{"malformed", `https://a.example/2; rel="next"`, ""},
		{"unclosed quote", `</x>; rel="next`, ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.link != "" {
			h.Add("Link", tt.link)
		}
		got, ok := nextLink(h)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: nextLink(%q) = %q, %v; want %q", tt.name, tt.link, got, ok, tt.want)
		}
	}
	h := http.Header{"Link": {`</1>; rel="prev"`, `</2>; rel="next"`}}
	if got, _ := nextLink(h); got != "/2" {
		t.Errorf("two Link headers: %q", got)
	}
}

// TestPaginateInclude: each page's headers come before its body.
func TestPaginateInclude(t *testing.T) {
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request, _ hit) {
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", linkTo(2))
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header()["Date"] = nil
		io.WriteString(w, "body "+r.URL.RawQuery+"\n")
	})
	res := run(t, Options{Target: srv.URL + "/items", Paginate: true, Include: true}, nil)
	want := "HTTP/1.1 200 OK\nContent-Length: 6\nContent-Type: text/plain\nLink: </items?page=2>; rel=\"next\"\n\nbody \n" +
		"HTTP/1.1 200 OK\nContent-Length: 12\nContent-Type: text/plain\n\nbody page=2\n"
	if res.err != nil || res.stdout != want {
		t.Errorf("got %q, %v; want %q", res.stdout, res.err, want)
	}
	var se *StatusError
	if errors.As(res.err, &se) {
		t.Error(se)
	}
}
