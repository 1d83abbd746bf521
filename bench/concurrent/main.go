// Command concurrent starts N copies of a command at once and reports the
// wall time until the last one exits, and whether they all succeeded and
// printed the same thing (for `sesame token`: the same access token).
//
//	go run ./bench/concurrent -n 50 -- sesame token --profile short
//
// It prints one JSON object on stdout:
//
//	{"n":50,"wall_ms":61.2,"failed":0,"distinct_outputs":1}
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

func main() {
	n := flag.Int("n", 10, "processes to start at once")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: concurrent -n N -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	cmds := make([]*exec.Cmd, *n)
	outs := make([]bytes.Buffer, *n)
	errs := make([]bytes.Buffer, *n)
	for i := range cmds {
		cmds[i] = exec.Command(args[0], args[1:]...)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errs[i]
	}
	var wg sync.WaitGroup
	failed := make([]bool, *n)
	start := time.Now()
	for i, c := range cmds {
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "concurrent:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			failed[i] = c.Wait() != nil
		}()
	}
	wg.Wait()
	wall := time.Since(start)

	distinct := map[string]bool{}
	nfailed := 0
	for i := range cmds {
		if failed[i] {
			nfailed++
			fmt.Fprintf(os.Stderr, "concurrent: process %d failed: %s", i, errs[i].String())
			continue
		}
		distinct[outs[i].String()] = true
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"n": *n, "wall_ms": float64(wall.Microseconds()) / 1000, "failed": nfailed, "distinct_outputs": len(distinct),
	})
	if nfailed > 0 {
		os.Exit(1)
	}
}
