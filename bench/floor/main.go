// Command floor is the lower bound for `sesame token` with a valid cached
// token: one read of the profile's entry from the OS keychain with
// go-keyring (the library sesame uses) and one print. It prints the raw
// entry (sesame stores base64); only the cost matters.
//
//	go build -trimpath -o /tmp/floor ./bench/floor
//	/tmp/floor [PROFILE]   # default: default
package main

import (
	"fmt"
	"os"

	"github.com/zalando/go-keyring"
)

func main() {
	key := "default"
	if len(os.Args) > 1 {
		key = os.Args[1]
	}
	v, err := keyring.Get("sesame", key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Println(v)
}
