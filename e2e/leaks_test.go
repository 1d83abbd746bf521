package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Every sesame the end-to-end suite runs has --verbose logging on
// (SESAME_VERBOSE=1). Its output is collected here, minus what a command
// was asked to print (a token on stdout), along with every token the
// keychain held and every client secret and authorization code the suite
// saw; after the suite, none may appear in that output.
var leaks = struct {
	sync.Mutex
	output  strings.Builder
	secrets map[string]string
}{secrets: map[string]string{}}

// dataCommands print tokens on stdout because they were asked to.
var dataCommands = map[string]bool{"token": true, "org-token": true, "exec": true, "claims": true}

func recordOutput(args []string, stdout, stderr string) {
	leaks.Lock()
	defer leaks.Unlock()
	leaks.output.WriteString(stderr)
	if len(args) > 0 && !dataCommands[args[0]] {
		leaks.output.WriteString(stdout)
	}
}

func recordSecret(kind, v string) {
	if len(v) < 8 {
		return
	}
	leaks.Lock()
	defer leaks.Unlock()
	leaks.secrets[kind+" "+v[:6]] = v
}

// recordStored notes the tokens in an env's keychain entry.
func (e *Env) recordStored() {
	if e.stored() == "" {
		return
	}
	var tk struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	if json.Unmarshal(e.decoded(), &tk) == nil {
		recordSecret("access token", tk.AccessToken)
		recordSecret("refresh token", tk.RefreshToken)
		recordSecret("ID token", tk.IDToken)
	}
}

// recordCodes notes the authorization codes the browser stand-in carried.
func (e *Env) recordCodes() {
	for _, l := range strings.Split(e.browserLog(), "\n") {
		var ev struct {
			FinalURL string `json:"final_url"`
		}
		if json.Unmarshal([]byte(l), &ev) == nil && strings.Contains(ev.FinalURL, "code=") {
			recordSecret("authorization code", strings.SplitN(strings.SplitN(ev.FinalURL, "code=", 2)[1], "&", 2)[0])
		}
	}
}

// checkLeaks reports secrets found in the collected output; TestMain fails
// the run when there are any.
func checkLeaks() bool {
	leaks.Lock()
	defer leaks.Unlock()
	out := leaks.output.String()
	ok := true
	for name, v := range leaks.secrets {
		if strings.Contains(out, v) {
			fmt.Fprintf(os.Stderr, "e2e: the %s… appears in sesame's verbose output\n", name)
			ok = false
		}
	}
	if len(leaks.secrets) > 0 {
		fmt.Printf("e2e: %d secrets checked against %d bytes of verbose output from the whole suite\n", len(leaks.secrets), len(out))
	}
	return ok
}

// withoutDebug drops --verbose lines, so that tests read sesame's messages.
func withoutDebug(stderr string) string {
	var keep []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if !strings.HasPrefix(l, "sesame: debug: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}
