package verify_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/sesame-cli/sesame/verify"
)

// An API that serves its handlers only to people signed in through the
// broker, and checks with the broker before a sensitive operation.
func ExampleMiddleware() {
	v := &verify.Verifier{Issuer: "https://broker.example.com"}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/me", func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "%s signed in at %s as %s\n", c.Subject, c.IDP, c.Email)
	})
	api := verify.Middleware(v, verify.MiddlewareOptions{
		OnError: func(r *http.Request, status int, err error) {
			log.Printf("%s %s: %d: %v", r.Method, r.URL.Path, status, err)
		},
	})(mux)

	// Deleting an account must stop as soon as the session ends: ask the
	// broker every time.
	sensitive := verify.Middleware(v, verify.MiddlewareOptions{RequireActive: true})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}))

	root := http.NewServeMux()
	root.Handle("/v1/", api)
	root.Handle("DELETE /v1/account", sensitive)
	log.Fatal(http.ListenAndServe(":8080", root))
}

// Checking a request by hand, to answer in the API's own format.
func ExampleVerifier_VerifyRequest() {
	v := &verify.Verifier{Issuer: "https://broker.example.com"}
	http.HandleFunc("/v1/things", func(w http.ResponseWriter, r *http.Request) {
		c, err := v.VerifyRequest(r)
		if err != nil {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"owner":%q}`, c.Subject)
	})
}
