package main

// Shell completions and man pages, written to completions/ and man/ at the
// repository root from the cobra command trees.
//go:generate go run . -dir ../..
