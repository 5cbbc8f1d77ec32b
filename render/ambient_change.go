package render

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// Change plans of an ambient mesh. Its data plane lives in labels on the
// user's objects (a namespace's istio.io/dataplane-mode, a Service's
// istio.io/global and istio.io/use-waypoint), which the plans set; a change
// plan takes off what the new Mesh no longer asks for, and a cluster that
// leaves gets its pods out of the data plane before its ztunnel goes.

// unlabelSteps take off, in clusters that stay, the labels the old mesh put
// on Services (where they run, by its plan; on its stubs, by their
// manifest, which a user's Service may have taken over) that the new mesh
// no longer puts there, by its plan or its stubs' manifest: istio.io/global
// on a service that became cluster-local or left the Mesh (ambient reads a
// Service's scope from its labels alone, so it would stay global),
// istio.io/use-waypoint on one whose waypoint went (istiod would bind it to
// whatever later takes that name). kubectl apply of a stub does not take
// off a label kubectl label set, so a Service the new mesh stubs loses what
// its stub does not carry too.
func unlabelSteps(old, new *mesh.Mesh) []Step {
	var steps []Step
	for i := range new.Spec.Clusters {
		c := &new.Spec.Clusters[i]
		if old.Cluster(c.Name) == nil {
			continue
		}
		was, now := old.ServiceLabelsIn(c.Name), new.ServiceLabelsIn(c.Name)
		for _, key := range slices.Sorted(maps.Keys(was)) {
			keep := labelKeys(now[key])
			var drop []string
			for _, k := range labelKeys(was[key]) {
				if !slices.Contains(keep, k) {
					drop = append(drop, k+"-")
				}
			}
			if len(drop) == 0 {
				continue
			}
			ns, name, _ := strings.Cut(key, "/")
			kubectl := fmt.Sprintf("kubectl --context=%s -n %s", templates.Shell(c.Context), templates.Shell(ns))
			steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: fmt.Sprintf(
				"if %s get service %s >/dev/null 2>&1; then %s label service %s %s; fi",
				kubectl, templates.Shell(name), kubectl, templates.Shell(name), strings.Join(drop, " "))})
		}
	}
	return steps
}

// labelKeys are the keys of "key=value" labels.
func labelKeys(labels []string) []string {
	var keys []string
	for _, l := range labels {
		k, _, _ := strings.Cut(l, "=")
		keys = append(keys, k)
	}
	return keys
}

// ambientReleaseSeconds bounds how long a plan waits for istio-cni to take
// a cluster's pods out of the data plane.
const ambientReleaseSeconds = 120

// releaseAmbientSteps come, in a cluster that leaves an ambient mesh, before
// its uninstall. istio-cni's node agent takes a pod out of the data plane
// (its redirection inside the pod's network namespace) when the pod's
// namespace loses istio.io/dataplane-mode, but not when the agent itself is
// uninstalled: a pod still captured then sends its traffic to a ztunnel
// that is gone. So first each shared namespace loses the label the plan put
// on it, while istio-cni still runs; then a check waits until no pod of the
// cluster is marked captured (ambient.istio.io/redirection, enabled or
// pending), and stops the plan, listing them, if some still are (a pod or
// namespace the user put in ambient themselves).
func releaseAmbientSteps(c *mesh.Cluster, old *mesh.Mesh) []Step {
	if !old.Ambient() {
		return nil
	}
	ctx := templates.Shell(c.Context)
	var steps []Step
	for _, n := range old.Place(c).SharedNamespaces() {
		if old.NamespaceLabel(n)[1] != "ambient" {
			continue
		}
		ns := templates.Shell(n.Name)
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Destructive: true, Command: guarded(c, fmt.Sprintf(
			"if kubectl --context=%[1]s get namespace/%[2]s >/dev/null 2>&1; then kubectl --context=%[1]s label namespace %[2]s %[3]s; fi",
			ctx, ns, templates.Shell(mesh.DataPlaneModeLabel+"-")))})
	}
	captured := func(state string) string {
		return fmt.Sprintf("kubectl --context=%s get pods -A -o %s", ctx,
			templates.Shell(`jsonpath={range .items[?(@.metadata.annotations.ambient\.istio\.io/redirection=="`+state+`")]}pod/{.metadata.namespace}/{.metadata.name}{"\n"}{end}`))
	}
	msg := fmt.Sprintf("plan: cluster %s leaves the ambient mesh, but these pods are still in its data plane: uninstalling ztunnel and istio-cni now would cut them off. Take them out (label their namespace or pod istio.io/dataplane-mode=none, or delete them), then run the plan again:", c.Name)
	steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Destructive: true,
		Command: stopIfAnyAfter(captured("enabled")+" && "+captured("pending"), msg, ambientReleaseSeconds)})
	return steps
}
