// Package deploy holds the container build and Kubernetes manifests of
// sesame-broker; its test keeps them consistent with the broker itself.
package deploy

import (
	"bytes"
	"context"
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
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "client-secret"), []byte("s3cret-for-the-check"), 0o600)
	cfgPath := filepath.Join(dir, "broker.yaml")
	os.WriteFile(cfgPath, []byte(strings.ReplaceAll(cfg, secretDir, dir)), 0o600)

	var out, errb bytes.Buffer
	code := brokercmd.Main(context.Background(), []string{"--config", cfgPath, "--check"}, &out, &errb, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("broker --check: exit %d\n%s", code, errb.String())
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
