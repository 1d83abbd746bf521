package brokercmd

import "strings"

// EnvVar is a variable sesame-broker reads, for its man page.
type EnvVar struct{ Name, Meaning string }

// EnvVars lists every variable sesame-broker reads: the client secret,
// then one per top-level setting, from the same list loadConfig uses.
func EnvVars() []EnvVar {
	out := []EnvVar{{SecretEnv, "the client secret of the client given by flags (there is no flag for it: a command line shows in ps)"}}
	for _, key := range topLevelKeys() {
		out = append(out, EnvVar{envPrefix + strings.ToUpper(key),
			"the setting " + key + " (--" + strings.ReplaceAll(key, "_", "-") + "); a flag wins over it, and it over the file"})
	}
	return out
}
