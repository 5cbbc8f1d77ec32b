package conformance

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"istio.io/istio/istioctl/pkg/cli"
	istioworkload "istio.io/istio/istioctl/pkg/workload"

	"meshc.dev/meshc/mesh"
)

// generatorMu serializes runs of the generator: istioctl's workload
// package keeps its flags in package variables.
var generatorMu sync.Mutex

// generateVMFiles runs `istioctl x workload entry configure` in process.
func (v *clusterCheck) generateVMFiles(g *mesh.WorkloadGroup, wg *networkingv1.WorkloadGroup, haveSA bool) (map[string][]byte, error) {
	generatorMu.Lock()
	defer generatorMu.Unlock()
	ctx := cli.NewFakeContext(&cli.NewFakeContextOption{IstioNamespace: "istio-system"})
	// The client the command gets for the revision it is given.
	client, err := ctx.CLIClientWithRevision(ctx.RevisionOrDefault(v.mesh.Spec.Istio.Revision))
	if err != nil {
		return nil, err
	}
	bg := context.Background()
	for _, name := range []string{"istio", "istio-sidecar-injector"} {
		cm, err := configMap(v.installed, revisioned(name, v.mesh.Spec.Istio.Revision))
		if err != nil {
			return nil, err
		}
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm.Name, Namespace: cm.Namespace}, Data: cm.Data}
		if _, err := client.Kube().CoreV1().ConfigMaps(cm.Namespace).Create(bg, cm, metav1.CreateOptions{}); err != nil {
			return nil, err
		}
	}
	// What istiod publishes in every namespace; the plan copies the same
	// root from `meshc certs` (checked with the plan, not here).
	if _, err := client.Kube().CoreV1().ConfigMaps(g.Namespace).Create(bg, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "istio-ca-root-cert", Namespace: g.Namespace},
		Data:       map[string]string{"root-cert.pem": "root of the mesh"},
	}, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	// The east-west gateway once its load balancer has the address the
	// Mesh gives.
	if gw := v.cluster.EastWestGateway; gw != nil && gw.Address != "" {
		if _, err := client.Kube().CoreV1().Services("istio-system").Create(bg, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: eastWestGateway, Namespace: "istio-system"},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
				Ingress: []corev1.LoadBalancerIngress{{IP: gw.Address}},
			}},
		}, metav1.CreateOptions{}); err != nil {
			return nil, err
		}
	}
	if haveSA {
		if _, err := client.Kube().CoreV1().ServiceAccounts(g.Namespace).Create(bg, &corev1.ServiceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: g.ServiceAccount, Namespace: g.Namespace},
		}, metav1.CreateOptions{}); err != nil {
			return nil, err
		}
	}
	if _, err := client.Istio().NetworkingV1().WorkloadGroups(g.Namespace).Create(bg, wg.DeepCopy(), metav1.CreateOptions{}); err != nil {
		return nil, err
	}

	out, err := os.MkdirTemp("", "meshc-vm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	args := []string{"entry", "configure", "--name", g.Name, "--namespace", g.Namespace, "-o", out}
	if v.cluster.Istiod != nil {
		// Not the gateway: the VMs dial istiod at the address the Mesh
		// gives, as an operator would tell the generator.
		args = append(args, "--ingressIP", v.cluster.Istiod.Address)
	}
	if rev := v.mesh.Spec.Istio.Revision; rev != "" {
		// The generator reads the revision's ConfigMaps and names its
		// istiod, as `--revision` tells istioctl.
		args = append(args, "--revision", rev)
	}
	if len(g.Instances) == 0 {
		args = append(args, "--autoregister")
	}
	// The generator prints its success to the process's stdout.
	stdout := os.Stdout
	if null, err := os.Open(os.DevNull); err == nil {
		os.Stdout = null
		defer func() { os.Stdout = stdout; null.Close() }()
	}
	cmd := istioworkload.Cmd(ctx)
	var log bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&log)
	cmd.SetErr(&log)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, strings.TrimSpace(log.String()))
	}
	files := map[string][]byte{}
	entries, err := os.ReadDir(out)

	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = data
	}
	return files, nil
}

// vmFileDiff compares a file meshc rendered with the generator's: hosts
// byte for byte; cluster.env line by line, except ISTIO_INBOUND_PORTS,
// which the generator writes in map order and is compared as a set;
// mesh.yaml as YAML (the generator's key order and quoting are its YAML
// library's). It returns "" when they are equal.
func vmFileDiff(name string, got, want []byte) string {
	switch name {
	case "cluster.env":
		g, w := envLines(got), envLines(want)
		var diffs []string
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if g[k] != w[k] {
				diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", k, envOrNone(g[k]), w[k]))
			}
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: got %s, want none", k, g[k]))
			}
		}
		if len(diffs) == 0 && !bytes.Equal(stripInbound(got), stripInbound(want)) {
			diffs = append(diffs, fmt.Sprintf("same values, other bytes:\n%s\nwant:\n%s", got, want))
		}
		return strings.Join(diffs, "; ")
	case "mesh.yaml":
		var g, w any
		if err := yaml.Unmarshal(got, &g); err != nil {
			return err.Error()
		}
		if err := yaml.Unmarshal(want, &w); err != nil {
			return "generator's: " + err.Error()
		}
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("got\n%s\nwant\n%s", got, want)
		}
		return ""
	}
	if !bytes.Equal(got, want) {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	return ""
}

// envLines maps cluster.env's keys to their lines' values, the inbound
// ports sorted.
func envLines(data []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, val, _ := strings.Cut(line, "=")
		if k == "ISTIO_INBOUND_PORTS" {
			ports := strings.Split(strings.Trim(val, "'"), ",")
			slices.Sort(ports)
			val = strings.Join(ports, ",")
		}
		out[k] = val
	}
	return out
}

func stripInbound(data []byte) []byte {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "ISTIO_INBOUND_PORTS=") {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

func envOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
