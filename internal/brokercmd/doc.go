// Package brokercmd is the sesame-broker command: it turns flags,
// SESAME_BROKER_* variables and a YAML file into a broker.Config, runs
// the broker until its context ends, and maps the outcome to an exit
// code. The service itself (validation, forwarding, errors, rate limits,
// metrics) is package broker, which knows nothing of cobra, pflag or
// viper; cmd/sesame-broker only adds signal handling.
//
// One client comes from flags (--issuer URL --client-id ID, with the
// secret in $SESAME_BROKER_CLIENT_SECRET or --client-secret-file; there is
// no flag for the secret itself, as ps would show it), or any number of
// clients from --config FILE (the keys are broker.Config's; see package
// broker). Top-level keys may also be set by SESAME_BROKER_<KEY> variables
// and by the flag of the same name (the key with "-" for "_"): a flag wins
// over the environment, which wins over the file. Unknown keys are errors,
// and every problem is reported at once. --check validates the
// configuration and the secrets, then exits.
//
// Exit codes: 0 after a clean shutdown (SIGTERM or SIGINT drain in-flight
// requests for up to upstream_timeout + 5s), 1 for a runtime error, 2 for
// bad configuration or usage.
package brokercmd
