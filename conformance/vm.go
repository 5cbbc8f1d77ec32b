package conformance

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model/status"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// The generator's files that meshc does not render: the plan supplies them
// (checkVMPlan).
var vmFromPlan = []string{render.VMRootCertFile, render.VMTokenFile}

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
	rel := render.ManifestsDir + "/" + render.WorkloadGroupsFile
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
		v.failf(render.ManifestsDir, "no Gateway exposes istiod's 15012 on the east-west gateway, which VMs of %s dial", v.cluster.Name)
	}
	for _, g := range groups {
		key := g.Namespace + "/" + g.Name
		if g.Network != v.cluster.Network && !crossNetwork {
			v.failf(render.ManifestsDir, "no AUTO_PASSTHROUGH Gateway: VMs of %s on network %s reach the cluster's services only through one", key, g.Network)
		}
		if !nss[g.Namespace] {
			v.failf(render.ManifestsDir, "no Namespace %s for workload group %s", g.Namespace, key)
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
			// istiod runs a static entry's probe against traffic only when
			// the entry asks for health checks; without a probe nothing
			// would report, and the annotation would keep the VM out.
			if we != nil {
				_, checked := we.Annotations[status.WorkloadEntryHealthCheckAnnotation]
				if want := g.Probe != nil; checked != want || checked && we.Annotations[status.WorkloadEntryHealthCheckAnnotation] != "true" {
					v.failf(rel, "WorkloadEntry %s/%s: annotation %s=%q; want it \"true\" exactly when group %s has a probe (it has: %v)",
						g.Namespace, in.Name, status.WorkloadEntryHealthCheckAnnotation, we.Annotations[status.WorkloadEntryHealthCheckAnnotation], key, want)
				}
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
func (v *clusterCheck) checkWorkloadGroup(rel string, g *mesh.WorkloadGroup, wg *networkingv1.WorkloadGroup) {
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
func (v *clusterCheck) compareVMFiles(g *mesh.WorkloadGroup, wg *networkingv1.WorkloadGroup, haveSA bool) {
	dir := filepath.Join(v.root, filepath.FromSlash(g.Dir()))
	rel := strings.TrimPrefix(g.Dir(), v.cluster.Name+"/")
	gen, err := v.generateVMFiles(g, wg, haveSA)
	if err != nil {
		v.failf(rel, "Istio's generator (istioctl x workload entry configure): %v", err)
		return
	}
	rendered := map[string]bool{}
	for _, f := range render.GroupFiles() {
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

// istiodEnv is the env of the generated istiod's discovery container.
func (v *clusterCheck) istiodEnv() map[string]string {
	var dep appsv1.Deployment
	if err := typed(v.installed, "Deployment", revisioned("istiod", v.mesh.Spec.Istio.Revision), &dep); err != nil {
		return nil
	}
	return containerEnv(dep.Spec.Template.Spec, "discovery")
}

// checkVMPlan requires plan.sh to gather the group's files with the two the
// cluster and `meshc certs` give: the mesh's root certificate (what istiod,
// signing with the plugged-in intermediate, publishes as istio-ca-root-cert)
// and a token of the group's service account for istiod's CA.
func (v *clusterCheck) checkVMPlan(g *mesh.WorkloadGroup) {
	script, err := os.ReadFile(filepath.Join(v.root, render.PlanScript))
	if err != nil {
		v.errs = append(v.errs, problemAt(CheckAcceptance, render.PlanScript, err.Error()))
		return
	}
	want := []string{
		`"${CERTS_DIR}/root-cert.pem"`,
		"--context=" + v.cluster.Context + " -n " + g.Namespace + " create token " + g.ServiceAccount + " --audience=istio-ca ",
		"/" + render.VMTokenFile + `"`,
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
	v.errs = append(v.errs, problemAt(CheckAcceptance, render.PlanScript, fmt.Sprintf("no step gathers %s's files with the root certificate and a token (want a line with %q)", g.Dir(), want)))
}
