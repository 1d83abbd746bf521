package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/brokercmd"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/store"
)

// extras are the sections cobra does not write, for every page of one
// command tree: EXIT STATUS, ENVIRONMENT and FILES, and the pages of the
// other binary for SEE ALSO. Each comes from what the code itself uses,
// so that the pages cannot drift: the exit codes from the usage text
// (the "Exit codes:" block --help prints), the SESAME_* variables from
// the config struct tags and brokercmd's settings, the paths from the
// functions that compute them.
type extras struct {
	env     []item
	files   []item
	seeAlso []string // pages added to SEE ALSO, as "sesame-broker(1)"
}

// item is one tagged paragraph: a term and what it means.
type item struct{ term, text string }

// sesameExtras are the sections of sesame's pages.
func sesameExtras() extras {
	var env []item
	for _, v := range config.EnvVars() {
		text := "overrides the profile key " + v.Key
		if v.Format != "" {
			text += " (" + v.Format + ")"
		}
		env = append(env, item{v.Name, text})
	}
	env = append(env,
		item{"SESAME_PROFILE", "the profile to use when --profile is not given (before the config file's current profile, then \"default\")"},
		item{"SESAME_CONFIG", "the config file to use when --config is not given"},
		item{"SESAME_VERBOSE", "1 logs requests, keychain access and timings on stderr, as --verbose does"},
		item{"SESAME_ACCESS_TOKEN, SESAME_ID_TOKEN, SESAME_TOKEN_EXPIRES_AT", "set, not read: sesame exec passes the token to its command in SESAME_ACCESS_TOKEN (--env-name), and sesame token --format env prints them"},
		item{"BROWSER", "the browser to open, a colon-separated list of commands (%s stands for the URL)"},
		item{"DISPLAY, WAYLAND_DISPLAY", "without either (and without BROWSER) sesame takes the machine for headless and points to login --device"},
		item{"NO_COLOR, TERM", "NO_COLOR (any value) or TERM=dumb turn colour off"},
		item{"HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "the proxy for requests to the provider and the broker"},
		item{"HOME, XDG_CONFIG_HOME, XDG_STATE_HOME", "where the files below are; relative XDG values are ignored, as the XDG Base Directory Specification says"},
	)
	return extras{env: env, files: sesameFiles(), seeAlso: []string{"sesame-broker(1)"}}
}

// sesameFiles lists the config file and the state directory, computed by
// the functions sesame itself uses, with placeholders for the
// environment: once with XDG_* set, once from HOME alone.
func sesameFiles() []item {
	xdg := env(map[string]string{"XDG_CONFIG_HOME": "/$XDG_CONFIG_HOME", "XDG_STATE_HOME": "/$XDG_STATE_HOME", "HOME": "/~"})
	home := env(map[string]string{"HOME": "/~"})
	show := func(p string) string { return strings.TrimPrefix(p, "/") }
	state, _ := store.StateDir(xdg)
	homeState, _ := store.StateDir(home)
	tokens, _ := store.DefaultFileDir(xdg)
	locks, _ := store.DefaultLockDir(xdg)
	return []item{
		{show(config.StandardPath(xdg)), fmt.Sprintf("the profiles (%s when XDG_CONFIG_HOME is unset); SESAME_CONFIG or --config name another file. It must not be writable by others", show(config.StandardPath(home)))},
		{show(state) + "/", fmt.Sprintf("sesame's state (%s/ when XDG_STATE_HOME is unset): private to the user (0700), like everything in it", show(homeState))},
		{show(tokens) + "/", "the tokens of profiles with storage: file (login --insecure-storage), one 0600 file per entry; with the default storage they are in the OS keychain, under the service \"sesame\""},
		{show(locks) + "/", "one lock file per profile, held while its tokens are read, refreshed and written, so that concurrent sesame processes refresh once"},
	}
}

// brokerExtras are the sections of sesame-broker's page.
func brokerExtras() extras {
	var env []item
	for _, v := range brokercmd.EnvVars() {
		env = append(env, item{v.Name, v.Meaning})
	}
	env = append(env, item{"HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "the proxy for requests to the providers"})
	return extras{
		env:     env,
		files:   []item{{"the file named by --config", "YAML: the clients and settings (no file is read by default); each client's secret comes from its client_secret_file or client_secret_env, never from the file itself"}},
		seeAlso: []string{"sesame(1)", "sesame-login(1)"},
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// exitCodeLine is one line of the "Exit codes:" block of --help: the
// code, then what it means.
var exitCodeLine = regexp.MustCompile(`^\s+(\d+)\s+(.+)$`)

// exitCodes reads the "Exit codes:" block that the command's usage
// template ends with: the one list of codes, which --help shows too.
func exitCodes(cmd *cobra.Command) []item {
	_, block, ok := strings.Cut(cmd.UsageTemplate(), "Exit codes:\n")
	if !ok {
		return nil
	}
	var out []item
	for _, l := range strings.Split(block, "\n") {
		m := exitCodeLine.FindStringSubmatch(l)
		if m == nil {
			break
		}
		out = append(out, item{m[1], m[2]})
	}
	return out
}

// sections renders EXIT STATUS, ENVIRONMENT and FILES in roff; polish
// escapes the text lines afterwards, like the rest of the page.
func (x extras) sections(cmd *cobra.Command) []byte {
	var b bytes.Buffer
	section := func(title string, items []item, term string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&b, ".SH %s\n", title)
		for _, it := range items {
			fmt.Fprintf(&b, ".TP\n%s%s\\fR\n%s\n", term, it.term, it.text)
		}
		b.WriteString("\n")
	}
	section("EXIT STATUS", exitCodes(cmd), `\fB`)
	section("ENVIRONMENT", x.env, `\fB`)
	section("FILES", x.files, `\fI`)
	return b.Bytes()
}

// seeAlso matches cobra's SEE ALSO section, up to the end of its line.
var seeAlso = regexp.MustCompile(`(?m)^\.SH SEE ALSO\n(.*)$`)

// addSections puts the extra sections before SEE ALSO, as man-pages(7)
// orders them, and the other binary's pages into SEE ALSO, which it
// creates when cobra wrote none.
func (x extras) addSections(cmd *cobra.Command, page []byte) []byte {
	var refs []string
	for _, p := range x.seeAlso {
		name, sec, _ := strings.Cut(strings.TrimSuffix(p, ")"), "(")
		refs = append(refs, fmt.Sprintf(`\fB%s(%s)\fP`, name, sec))
	}
	extra := x.sections(cmd)
	if loc := seeAlso.FindSubmatchIndex(page); loc != nil {
		out := append([]byte{}, page[:loc[0]]...)
		out = append(out, extra...)
		out = append(out, page[loc[0]:loc[1]]...)
		if len(refs) > 0 {
			out = append(out, ", "+strings.Join(refs, ", ")...)
		}
		return append(out, page[loc[1]:]...)
	}
	out := append(bytes.TrimRight(page, "\n"), "\n\n\n"...)
	out = append(out, extra...)
	if len(refs) > 0 {
		out = append(out, ".SH SEE ALSO\n"+strings.Join(refs, ", ")+"\n"...)
	}
	return out
}
