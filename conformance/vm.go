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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"istio.io/istio/istioctl/pkg/cli"
	"istio.io/istio/istioctl/pkg/workload"
	"istio.io/istio/pilot/pkg/features"

	"meshc.dev/meshc/compiler"
)

// The generator's files that meshc does not render: the plan supplies them
// (checkVMPlan).
var vmFromPlan = []string{compiler.VMRootCertFile, compiler.VMTokenFile}

// generatorMu serializes runs of the generator: istioctl's workload
// package keeps its flags in package variables.
var generatorMu sync.Mutex

// checkVMs checks, on a primary that VMs register with, what the VMs and
// the cluster get: the WorkloadGroups and their service accounts in
// manifests/ hold what the Mesh says, istiod is exposed on the gateway the
// VMs dial and the cross-network Gateway is there for VMs on other
// networks, and each group's rendered VM files equal those Istio's own
// generator writes, run against a fake cluster holding the rendered
// objects and the generated control plane (the token aside: only a live
// cluster mints one).
func (v *clusterCheck) checkVMs(manifests []runtime.Object) {
	groups := v.mesh.WorkloadGroups(v.cluster.Name)
	if len(groups) == 0 || v.installFailed {
		return
	}
	rel := compiler.ManifestsDir + "/" + compiler.WorkloadGroupsFile
	wgs := map[string]*networkingv1.WorkloadGroup{}
	wes := map[string]*networkingv1.WorkloadEntry{}
	sas, nss := map[string]bool{}, map[string]bool{}
	var gatewayPorts []uint32
	crossNetwork := false
	for _, o := range manifests {
		switch o := o.(type) {
		case *networkingv1.WorkloadGroup:
			wgs[o.Namespace+"/"+o.Name] = o
		case *networkingv1.WorkloadEntry:
			wes[o.Namespace+"/"+o.Name] = o
		case *corev1.ServiceAccount:
			sas[o.Namespace+"/"+o.Name] = true
		case *corev1.Namespace:
			nss[o.Name] = true
		case *networkingv1.Gateway:
			for _, s := range o.Spec.GetServers() {
				gatewayPorts = append(gatewayPorts, s.GetPort().GetNumber())
				crossNetwork = crossNetwork || s.GetTls().GetMode().String() == "AUTO_PASSTHROUGH"
			}
		}
	}
	// Istiod reached through the east-west gateway: expose-istiod's 15012.
	if v.cluster.Istiod == nil && !slices.Contains(gatewayPorts, 15012) {
		v.failf(compiler.ManifestsDir, "no Gateway exposes istiod's 15012 on the east-west gateway, which VMs of %s dial", v.cluster.Name)
	}
	for _, g := range groups {
		key := g.Namespace + "/" + g.Name
		if g.Network != v.cluster.Network && !crossNetwork {
			v.failf(compiler.ManifestsDir, "no AUTO_PASSTHROUGH Gateway: VMs of %s on network %s reach the cluster's services only through one", key, g.Network)
		}
		if !nss[g.Namespace] {
			v.failf(compiler.ManifestsDir, "no Namespace %s for workload group %s", g.Namespace, key)
		}
		if !sas[g.Namespace+"/"+g.ServiceAccount] {
			v.failf(rel, "no ServiceAccount %s/%s, the identity of workload group %s", g.Namespace, g.ServiceAccount, key)
		}
		wg := wgs[key]
		if wg == nil {
			v.failf(rel, "no WorkloadGroup %s", key)
			continue
		}
		v.checkWorkloadGroup(rel, g, wg)
		for _, in := range g.Instances {
			we := wes[g.Namespace+"/"+in.Name]
			switch {
			case we == nil:
				v.failf(rel, "no WorkloadEntry %s/%s for instance %s of workload group %s", g.Namespace, in.Name, in.Address, key)
			case we.Spec.GetAddress() != in.Address || we.Spec.GetNetwork() != g.Network || we.Spec.GetServiceAccount() != g.ServiceAccount:
				v.failf(rel, "WorkloadEntry %s/%s: address %q, network %q, service account %q; want %q, %q, %q",
					g.Namespace, in.Name, we.Spec.GetAddress(), we.Spec.GetNetwork(), we.Spec.GetServiceAccount(), in.Address, g.Network, g.ServiceAccount)
			}
		}
		v.compareVMFiles(g, wg, sas[g.Namespace+"/"+g.ServiceAccount])
		v.checkVMPlan(g)
	}
	// Both features the VM guide turns on are on by default in the Istio
	// compiled in here, and the install must not turn them off.
	dir, controlPlane, _, _, _ := v.installFiles()
	for name, on := range map[string]bool{
		"PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION": features.WorkloadEntryAutoRegistration,
		"PILOT_ENABLE_WORKLOAD_ENTRY_HEALTHCHECKS":     features.WorkloadEntryHealthChecks,
	} {
		if !on {
			v.failf(dir, "%s is off by default in this Istio; the VM guide needs it", name)
		}
		if got := v.istiodEnv()[name]; got != "" && got != "true" {
			v.failf(dir+"/"+controlPlane, "istiod env %s=%q turns off what VM groups need", name, got)
		}
	}
}

// checkWorkloadGroup compares a rendered WorkloadGroup with the Mesh's group.
func (v *clusterCheck) checkWorkloadGroup(rel string, g *compiler.WorkloadGroup, wg *networkingv1.WorkloadGroup) {
	t := wg.Spec.GetTemplate()
	v.expect(rel, "WorkloadGroup "+wg.Name+" serviceAccount", t.GetServiceAccount(), g.ServiceAccount)
	v.expect(rel, "WorkloadGroup "+wg.Name+" network", t.GetNetwork(), g.Network)
	want := map[string]uint32{}
	for _, p := range g.Ports {
		want[p.Name] = uint32(p.Port)
	}
	if got := t.GetPorts(); !maps.Equal(got, want) && len(got)+len(want) > 0 {
		v.failf(rel, "WorkloadGroup %s ports: got %v, want %v", wg.Name, got, want)
	}
	if got := wg.Spec.GetMetadata().GetLabels(); !maps.Equal(got, g.Labels) && len(got)+len(g.Labels) > 0 {
		v.failf(rel, "WorkloadGroup %s labels: got %v, want %v", wg.Name, got, g.Labels)
	}
	p := wg.Spec.GetProbe()
	switch {
	case g.Probe == nil && p != nil:
		v.failf(rel, "WorkloadGroup %s has a probe the Mesh does not give", wg.Name)
	case g.Probe == nil:
	case p == nil:
		v.failf(rel, "WorkloadGroup %s has no probe", wg.Name)
	case g.Probe.HTTPGet != nil && (p.GetHttpGet().GetPort() != uint32(g.Probe.HTTPGet.Port) || p.GetHttpGet().GetPath() != g.Probe.HTTPGet.Path):
		v.failf(rel, "WorkloadGroup %s probe httpGet: got %v, want port %d path %s", wg.Name, p.GetHttpGet(), g.Probe.HTTPGet.Port, g.Probe.HTTPGet.Path)
	case g.Probe.TCPSocket != nil && p.GetTcpSocket().GetPort() != uint32(g.Probe.TCPSocket.Port):
		v.failf(rel, "WorkloadGroup %s probe tcpSocket: got %v, want port %d", wg.Name, p.GetTcpSocket(), g.Probe.TCPSocket.Port)
	case p.GetPeriodSeconds() != int32(g.Probe.PeriodSeconds) || p.GetInitialDelaySeconds() != int32(g.Probe.InitialDelaySeconds):
		v.failf(rel, "WorkloadGroup %s probe timing: got period %d delay %d, want %d %d", wg.Name,
			p.GetPeriodSeconds(), p.GetInitialDelaySeconds(), g.Probe.PeriodSeconds, g.Probe.InitialDelaySeconds)
	}
}

// compareVMFiles runs Istio's generator for the group against a fake
// cluster holding the generated control plane's config maps, the east-west
// gateway's Service with the address the Mesh gives, and the rendered
// WorkloadGroup and service account, and compares its files with meshc's.
func (v *clusterCheck) compareVMFiles(g *compiler.WorkloadGroup, wg *networkingv1.WorkloadGroup, haveSA bool) {
	dir := filepath.Join(v.root, filepath.FromSlash(g.Dir()))
	rel := strings.TrimPrefix(g.Dir(), v.cluster.Name+"/")
	gen, err := v.generateVMFiles(g, wg, haveSA)
	if err != nil {
		v.failf(rel, "Istio's generator (istioctl x workload entry configure): %v", err)
		return
	}
	rendered := map[string]bool{}
	for _, f := range compiler.VMRenderedFiles {
		rendered[f.Name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(gen)) {
		if slices.Contains(vmFromPlan, name) {
			continue
		}
		if !rendered[name] {
			v.failf(rel, "Istio's generator writes %s, which meshc does not render", name)
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			v.fail(rel+"/"+name, err)
			continue
		}
		if msg := vmFileDiff(name, got, gen[name]); msg != "" {
			v.failf(rel+"/"+name, "differs from Istio's generator: %s", msg)
		}
	}
	for _, name := range vmFromPlan {
		if _, ok := gen[name]; !ok {
			v.failf(rel, "Istio's generator wrote no %s, which the plan supplies", name)
		}
	}
}

// generateVMFiles runs `istioctl x workload entry configure` in process.
func (v *clusterCheck) generateVMFiles(g *compiler.WorkloadGroup, wg *networkingv1.WorkloadGroup, haveSA bool) (map[string][]byte, error) {
	generatorMu.Lock()
	defer generatorMu.Unlock()
	ctx := cli.NewFakeContext(&cli.NewFakeContextOption{IstioNamespace: "istio-system"})
	client, err := ctx.CLIClientWithRevision(ctx.RevisionOrDefault(""))
	if err != nil {
		return nil, err
	}
	bg := context.Background()
	for _, name := range []string{"istio", "istio-sidecar-injector"} {
		cm, err := configMap(v.installed, name)
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
	if len(g.Instances) == 0 {
		args = append(args, "--autoregister")
	}
	// The generator prints its success to the process's stdout.
	stdout := os.Stdout
	if null, err := os.Open(os.DevNull); err == nil {
		os.Stdout = null
		defer func() { os.Stdout = stdout; null.Close() }()
	}
	cmd := workload.Cmd(ctx)
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
				diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", k, orNone(g[k]), w[k]))
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

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// istiodEnv is the env of the generated istiod's discovery container.
func (v *clusterCheck) istiodEnv() map[string]string {
	var dep appsv1.Deployment
	if err := typed(v.installed, "Deployment", "istiod", &dep); err != nil {
		return nil
	}
	return containerEnv(dep.Spec.Template.Spec, "discovery")
}

// checkVMPlan requires plan.sh to gather the group's files with the two the
// cluster and `meshc certs` give: the mesh's root certificate (what istiod,
// signing with the plugged-in intermediate, publishes as istio-ca-root-cert)
// and a token of the group's service account for istiod's CA.
func (v *clusterCheck) checkVMPlan(g *compiler.WorkloadGroup) {
	script, err := os.ReadFile(filepath.Join(v.root, compiler.PlanScript))
	if err != nil {
		v.errs = append(v.errs, err)
		return
	}
	want := []string{
		`"${CERTS_DIR}/root-cert.pem"`,
		"--context=" + v.cluster.Context + " -n " + g.Namespace + " create token " + g.ServiceAccount + " --audience=istio-ca ",
		"/" + compiler.VMTokenFile + `"`,
	}
	for _, line := range strings.Split(string(script), "\n") {
		if !strings.Contains(line, g.Dir()+"/") {
			continue
		}
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(line, w) })
		if len(missing) == 0 {
			return
		}
	}
	v.errs = append(v.errs, fmt.Errorf("%s: no step gathers %s's files with the root certificate and a token (want a line with %q)", compiler.PlanScript, g.Dir(), want))
}
