package sessions

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// redisServer is a real redis-server (Debian's package redis-server) that
// a test starts on a free loopback port, with no persistence, and kills at
// cleanup. Without the binary the test is skipped, except in CI, where it
// fails: CI must install the package.
type redisServer struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func startRedis(t *testing.T, extra ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed; the tests need a real Redis: apt-get install -y redis-server")
		}
		t.Skip("redis-server is not installed (apt-get install -y redis-server); skipping the tests against a real Redis")
	}
	var lastLog []byte
	for range 3 { // another process may take the free port first
		dir := t.TempDir()
		port := freePort(t)
		r := &redisServer{Addr: net.JoinHostPort("127.0.0.1", port), done: make(chan struct{}), log: filepath.Join(dir, "redis.log")}
		args := append([]string{
			"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", r.log, "--daemonize", "no",
		}, extra...)
		r.cmd = exec.Command(bin, args...)
		if err := r.cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		go func() { r.cmd.Wait(); close(r.done) }()
		t.Cleanup(r.Kill)
		if r.waitReady() {
			return r
		}
		r.Kill()
		lastLog, _ = os.ReadFile(r.log)
	}
	t.Fatalf("redis-server did not answer PING; its log:\n%s", lastLog)
	return nil
}

// waitReady waits up to 10 s for any answer to PING (NOAUTH counts: the
// server is up).
func (r *redisServer) waitReady() bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", r.Addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			_, err = c.Write([]byte("PING\r\n"))
			var line string
			if err == nil {
				line, err = bufio.NewReader(c).ReadString('\n')
			}
			c.Close()
			if err == nil && len(line) > 0 && (line[0] == '+' || line[0] == '-') {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Kill stops the server at once, as a crash would, and waits for it.
func (r *redisServer) Kill() {
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Kill()
	<-r.done
}

// freePort is a loopback TCP port nobody listens on, as of now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
