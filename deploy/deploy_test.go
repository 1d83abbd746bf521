// Package deploy holds the container build and Kubernetes manifests of
// sesame-broker; its test keeps them consistent with the broker itself.
package deploy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sesame-cli/sesame/internal/brokercmd"
)

func docs(t *testing.T, file string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("kubernetes", file))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, m)
	}
}

func dig(m any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m = m.(map[string]any)[k]
		case int:
			m = m.([]any)[k]
		}
	}
	return m
}

// The ConfigMap's broker.yaml passes the broker's own validation, with the
// secret where the Deployment mounts it.
func TestConfigMapIsValidBrokerConfig(t *testing.T) {
	cm := docs(t, "configmap.yaml")[0]
	cfg := dig(cm, "data", "broker.yaml").(string)
	dep := docs(t, "deployment.yaml")[0]
	mounts := dig(dep, "spec", "template", "spec", "containers", 0, "volumeMounts").([]any)
	secretDir := ""
	for _, m := range mounts {
		if m.(map[string]any)["name"] == "client-secret" {
			secretDir = m.(map[string]any)["mountPath"].(string)
		}
	}
	if secretDir == "" || !strings.Contains(cfg, secretDir+"/client-secret") {
		t.Fatalf("config does not read the secret from the mounted %q", secretDir)
	}
	keyDir := ""
	for _, m := range mounts {
		if m.(map[string]any)["name"] == "session-key" {
			keyDir = m.(map[string]any)["mountPath"].(string)
		}
	}
	if keyDir == "" || !strings.Contains(cfg, keyDir+"/key.pem") {
		t.Fatalf("config does not read the session key from the mounted %q", keyDir)
	}
	if !strings.Contains(cfg, "store: redis://sesame-broker-redis:6379/") || !strings.Contains(string(readFile(t, "redis.yaml")), "name: sesame-broker-redis") {
		t.Fatal("the sessions store is not the Redis Service of redis.yaml")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "client-secret"), []byte("s3cret-for-the-check"), 0o600)
	writeSessionKey(t, filepath.Join(dir, "key.pem"))
	cfg = strings.ReplaceAll(strings.ReplaceAll(cfg, secretDir+"/", dir+"/"), keyDir+"/", dir+"/")
	// --check pings the store; this test has no Redis of its own.
	cfg = strings.Replace(cfg, "store: redis://sesame-broker-redis:6379/0", "store: memory", 1)
	cfgPath := filepath.Join(dir, "broker.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o600)

	var out, errb bytes.Buffer
	code := brokercmd.Main(context.Background(), []string{"--config", cfgPath, "--check"}, &out, &errb, func(string) string { return "" })
	if code != 0 || !strings.Contains(errb.String(), "session mode") {
		t.Fatalf("broker --check: exit %d\n%s", code, errb.String())
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeSessionKey writes a new EC P-256 key as PKCS#8 PEM, as openssl
// genpkey does.
func writeSessionKey(t *testing.T, path string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestProbesAndPorts(t *testing.T) {
	dep := docs(t, "deployment.yaml")[0]
	c := dig(dep, "spec", "template", "spec", "containers", 0)
	if p := dig(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("liveness probe %v", p)
	}
	if p := dig(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
		t.Errorf("readiness probe %v", p)
	}
	if r := dig(dep, "spec", "replicas").(int); r < 2 {
		t.Errorf("%d replicas", r)
	}
	cfg := dig(docs(t, "configmap.yaml")[0], "data", "broker.yaml").(string)
	if !strings.Contains(cfg, ":8787") || !strings.Contains(cfg, ":9787") {
		t.Error("configmap ports differ from the container ports")
	}
	svc := docs(t, "service.yaml")[0]
	if dig(svc, "spec", "ports", 0, "targetPort") != "http" {
		t.Error("service does not target the http port")
	}
}
