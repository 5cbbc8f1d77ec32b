package render

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/templates"
)

// Ownership marks. A change plan deletes an object only through a selector
// on ManagedByLabel, so an object meshc did not make (or that its user took
// over, dropping the label) survives even when it has the name meshc gave
// its own; it removes an install (istioctl's or a Helm release) only after
// checking that istio-system carries ClusterLabel with the name of the
// cluster meshc installed there.
const (
	// ManagedByLabel and ManagedByValue: every object of a cluster's
	// manifests/ that a change plan may delete carries the label, and so do
	// the remote secrets the plan applies and the cacerts Secret of meshc
	// certs.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "meshc"
	// ClusterLabel, on istio-system, names the cluster of the Mesh meshc
	// installed into the kube context.
	ClusterLabel = "meshc.dev/cluster"
	// CACertsSecret is the Secret of the cluster's intermediate CA, from
	// meshc certs.
	CACertsSecret = "cacerts"
)

// RemoteSecretName is the Secret, in a primary's istio-system, that lets it
// read cluster source: the name istioctl create-remote-secret gives it.
func RemoteSecretName(source string) string { return "istio-remote-secret-" + source }

// holding is one thing a plan puts into a cluster, which a change plan takes
// out again when the new mesh no longer puts it there: an object, or an
// install (the istioctl or Helm row that installs a control plane or a
// gateway).
type holding struct {
	obj     object
	install *Artifact
	// namespace and release are an install's Helm release namespace and
	// name.
	namespace, release string
	// via is the phase that put it into the cluster.
	via string
	// stub: a Service of the stubs file, which a user's Service of the same
	// name may have taken over.
	stub bool
}

// ServiceStubsFile holds a cluster's stub Services: the shared services it
// calls without running them.
const ServiceStubsFile = "service-stubs.yaml"

// key identifies what the holding is in its cluster: an install by its file
// (a primary's and a remote's control plane are one install, replaced in
// place), an object by kind, namespace and name.
func (h holding) key() string {
	if h.install != nil {
		return "install " + path.Join(h.install.Dir, h.install.Name)
	}
	if h.obj.namespace == "" {
		return h.obj.kind + " " + h.obj.name
	}
	return h.obj.kind + " " + h.obj.namespace + "/" + h.obj.name
}

// what names the holding for people: an object as key does, an install by
// its Helm release or istioctl's input.
func (h holding) what() string {
	switch {
	case h.install == nil:
		return h.key()
	case h.install.Apply == Helm:
		return "helm release " + h.release
	}
	return "istioctl install " + path.Join(h.install.Dir, h.install.Name)
}

// holdings lists, per cluster, what the mesh's full plan p puts into it, in
// the plan's order, each once: the objects of the manifests its steps apply,
// the cacerts and remote Secrets, and its installs. The files a vm-files
// step gathers stay outside the cluster.
func holdings(m *mesh.Mesh, p *Plan, out *output.Output) map[string][]holding {
	held := map[string][]holding{}
	seen := map[string]bool{}
	add := func(cluster string, h holding) {
		if k := cluster + "\x00" + h.key(); !seen[k] {
			seen[k] = true
			held[cluster] = append(held[cluster], h)
		}
	}
	installs := map[string]*Artifact{}
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		for _, a := range ArtifactsFor(m.Place(c)) {
			if a.Apply == Istioctl || a.Apply == Helm {
				installs[a.Path(c.Name)] = a
			}
		}
	}
	for _, ph := range p.Phases {
		for _, s := range ph.Steps {
			switch ph.ID {
			case PhaseCACerts:
				// What issues cacerts (cert-manager's Certificate and Issuer)
				// before cacerts itself, so it is removed first and nothing
				// issues the Secret again.
				for _, f := range s.applies {
					for _, obj := range objectsOf(out.Lookup(f)) {
						add(s.Cluster, holding{obj: obj, via: ph.ID})
					}
				}
				add(s.Cluster, holding{obj: object{kind: "secret", name: CACertsSecret, namespace: IstioNamespace}, via: ph.ID})
			case PhaseRemoteSecrets:
				add(s.Cluster, holding{obj: object{kind: "secret", name: RemoteSecretName(s.Source), namespace: IstioNamespace}, via: ph.ID})
			case PhaseIstioCSR:
				// istio-csr's chart has cert-manager issue istiod's serving
				// certificate into a Secret the release does not own.
				a := installs[s.applies[0]]
				add(s.Cluster, holding{install: a, namespace: istioCSRChart.Namespace(m), release: a.ReleaseIn(m), via: ph.ID})
				add(s.Cluster, holding{obj: object{kind: "secret", name: IstiodTLSSecret, namespace: IstioNamespace}, via: ph.ID})
			case PhaseVMFiles:
			default:
				for _, f := range s.applies {
					if a := installs[f]; a != nil {
						add(s.Cluster, holding{install: a, namespace: a.Source.namespaceOf(m), release: a.ReleaseIn(a.meshOf(m)), via: ph.ID})
						continue
					}
					for _, obj := range objectsOf(out.Lookup(f)) {
						add(s.Cluster, holding{obj: obj, via: ph.ID, stub: path.Base(f) == ServiceStubsFile})
					}
				}
			}
		}
	}
	return held
}

// Kept is something the old mesh put into a cluster and the new one does
// not, which a change plan leaves in place, and why.
type Kept struct {
	Cluster string `json:"cluster"`
	Context string `json:"context"`
	// What names it: "namespace vm-apps", "serviceaccount vm-apps/db",
	// "helm release istiod", "istioctl install install/istio.yaml".
	What   string `json:"what"`
	Reason string `json:"reason"`

	key string // the holding's key
}

// Why a change plan keeps what it keeps.
const (
	keptNamespace      = "a namespace holds your workloads; delete it yourself once it is empty"
	keptServiceAccount = "pods may run as this service account too (it is an identity); delete it yourself once nothing does"
	keptAwaiting       = "the cluster's installs wait for its primary's address; what runs stays until the plan can install it again"
	keptIstiodTLS      = "istio-csr's chart had cert-manager issue istiod's serving certificate into it, and nothing marks it as meshc's; delete it yourself"
)

// removals are the destructive steps of a change plan, by phase, and what it
// keeps.
type removals struct {
	remoteSecrets, gateways, prune, uninstall []Step
	kept                                      []Kept
}

// planRemovals compares, cluster by cluster, what old's full plan put into
// the clusters with what new's puts there, and takes out the difference:
// remote secrets first, then objects and gateways, and last the installs of
// clusters that leave. changeAllowed has made sure each kube context keeps
// its cluster, so comparing by cluster is comparing by context.
func planRemovals(old, new *mesh.Mesh, oldPlan, newPlan *Plan, oldOut, newOut *output.Output) removals {
	was, now := holdings(old, oldPlan, oldOut), holdings(new, newPlan, newOut)
	var r removals
	for i := range old.Spec.Clusters {
		c := &old.Spec.Clusters[i]
		stays := map[string]bool{}
		for _, h := range now[c.Name] {
			stays[h.key()] = true
		}
		var gone []holding
		for _, h := range was[c.Name] {
			if !stays[h.key()] {
				gone = append(gone, h)
			}
		}
		r.remove(c, gone, old, new)
	}
	return r
}

// remove plans the removal of what is gone from cluster c of the old mesh.
func (r *removals) remove(c *mesh.Cluster, gone []holding, old, new *mesh.Mesh) {
	leaves := new.Cluster(c.Name) == nil
	awaits := !leaves && new.Place(new.Cluster(c.Name)).AwaitsAddress()
	step := func(cmd string, removes ...holding) Step {
		s := Step{Cluster: c.Name, Context: c.Context, Destructive: true, Command: cmd}
		for _, h := range removes {
			s.removes = append(s.removes, h.key())
		}
		return s
	}
	var uninstall []holding
	var cacerts []Step
	for _, h := range gone {
		reason := ""
		switch {
		case h.install != nil && leaves:
			uninstall = append(uninstall, h)
		case h.install != nil && h.install.Previous:
			// A revision that goes: the remove-revision phase takes it
			// out, once nothing uses it (canary.go).
		case h.install != nil && awaits:
			reason = keptAwaiting
		case h.install != nil && h.install.Chart == ChartIstioCSR:
			// Goes with the issuer it signs with, once istiod is gone.
			cacerts = append(cacerts, step(removeInstall(c, h), h))
		case h.install != nil:
			// Every cluster has a control plane; only a gateway goes.
			r.prune = append(r.prune, step(removeInstall(c, h), h))
		case h.via == PhaseIstioCSR:
			reason = keptIstiodTLS
		case h.obj.kind == "namespace":
			reason = keptNamespace
		case h.obj.kind == "serviceaccount":
			reason = keptServiceAccount
		case h.via == PhaseCACerts || h.via == PhaseIssuer:
			cacerts = append(cacerts, step(deleteOwned(c, h.obj), h))
		case h.via == PhaseRemoteSecrets:
			r.remoteSecrets = append(r.remoteSecrets, step(deleteOwned(c, h.obj), h))
		case h.obj.kind == istioGatewayKind:
			r.gateways = append(r.gateways, step(deleteOwned(c, h.obj), h))
		case h.stub:
			r.prune = append(r.prune, step(deleteStub(c, h.obj), h))
		case h.obj.kind == tagWebhookKind && strings.HasPrefix(h.obj.name, tagWebhookPrefix) && !leaves:
			// A cluster that leaves loses all of Istio, injection with it.
			r.prune = append(r.prune, step(deleteTag(c, h.obj, strings.TrimPrefix(h.obj.name, tagWebhookPrefix)), h))
		default:
			r.prune = append(r.prune, step(deleteOwned(c, h.obj), h))
		}
		if reason != "" {
			r.kept = append(r.kept, Kept{Cluster: c.Name, Context: c.Context, What: h.what(), Reason: reason, key: h.key()})
		}
	}
	if len(uninstall) > 0 {
		r.uninstall = append(r.uninstall, releaseAmbientSteps(c, old)...)
	}
	if len(uninstall) > 0 && uninstall[0].install.Apply == Istioctl {
		// --purge removes every istioctl install of the cluster at once.
		r.uninstall = append(r.uninstall, step(guarded(c, "istioctl uninstall --purge -y --context="+templates.Shell(c.Context)), uninstall...))
	} else {
		// The Helm releases, last installed first (base, with the CRDs,
		// last).
		for _, h := range slices.Backward(uninstall) {
			r.uninstall = append(r.uninstall, step(removeInstall(c, h), h))
		}
	}
	// The intermediate CA's key goes once istiod no longer signs with it:
	// after the uninstall in a cluster that leaves. In a cluster that stays
	// it is what an issuer change left behind (the new one is applied by
	// then), pruned with the rest, not under the uninstall's title.
	if leaves {
		r.uninstall = append(r.uninstall, cacerts...)
	} else {
		r.prune = append(r.prune, cacerts...)
	}
}

// istioGatewayKind is how objectsOf names an Istio Gateway.
const istioGatewayKind = "gateway.networking.istio.io"

// isGateway reports whether the row installs an east-west gateway (as
// opposed to a control plane or Istio's base).
func (a *Artifact) isGateway() bool {
	return a.Name == EastWestGatewayFile || a.Name == EastWestGatewayValuesFile
}

// deleteOwned is the command that deletes object o of cluster c only if it
// carries meshc's label: selected by the label and, server-side, by name. An
// object without it is left alone (kubectl prints "No resources found").
func deleteOwned(c *mesh.Cluster, o object) string {
	return fmt.Sprintf("kubectl --context=%s%s delete %s -l %s --field-selector %s",
		templates.Shell(c.Context), o.nsFlag(), templates.Shell(o.kind),
		templates.Shell(ManagedByLabel+"="+ManagedByValue), templates.Shell("metadata.name="+o.name))
}

// deleteStub is the command that deletes a stub Service of cluster c as
// deleteOwned does, and only while stubProbe still sees a stub: a Service
// with a selector or another type is a user's that took the stub's place (a
// server-side apply, as Flux does, keeps the label meshc's apply set), and
// stays. A probe that fails stops plan.sh; one that finds nothing deletes
// nothing.
func deleteStub(c *mesh.Cluster, o object) string {
	get := fmt.Sprintf("kubectl --context=%s%s get %s %s --ignore-not-found -o %s", templates.Shell(c.Context), o.nsFlag(), templates.Shell(o.kind),
		templates.Shell(o.name), templates.Shell(stubProbe))
	note := fmt.Sprintf("plan: service %s/%s in cluster %s is no longer meshc's stub (it has a selector or another type) but your Service, and stays", o.namespace, o.name, c.Name)
	return fmt.Sprintf("svc=$(%s); case \"$svc\" in '') ;; %s) %s ;; *) echo %s >&2 ;; esac", get, templates.Shell(stubSeen), deleteOwned(c, o), templates.Shell(note))
}

// Revision tags: each is a MutatingWebhookConfiguration of this name.
const (
	tagWebhookPrefix = "istio-revision-tag-"
	tagWebhookKind   = "mutatingwebhookconfiguration.admissionregistration.k8s.io"
)

// deleteTag is the command that deletes the webhook of revision tag from
// cluster c as deleteOwned does, once nothing in the cluster selects the
// tag: only its webhook injects a namespace or pod labelled istio.io/rev=tag
// (the revision's own matches its name), so their new pods would start
// without sidecars. The Mesh lists some namespaces (MC082); the cluster may
// hold more, and pods labelled by their own manifests. Otherwise the step
// lists them and stops plan.sh.
func deleteTag(c *mesh.Cluster, o object, tag string) string {
	ctx, sel := templates.Shell(c.Context), templates.Shell(mesh.RevLabel+"="+tag)
	note := fmt.Sprintf("plan: tag %s is still selected in cluster %s; label these with a tag the Mesh keeps (pods: kubectl get pods -A -l %s=%s), then run the plan again:", tag, c.Name, mesh.RevLabel, tag)
	list := fmt.Sprintf("kubectl --context=%[1]s get namespaces -l %[2]s -o name && kubectl --context=%[1]s get pods -A -l %[2]s -o name", ctx, sel)
	return stopIfAny(list, note) + "; " + deleteOwned(c, o)
}

// stopIfAny is the shell that runs list (commands that print what is left)
// and stops plan.sh, saying note and the list, if it printed anything; a
// list that fails stops it too (in an && list, set -e would not).
func stopIfAny(list, note string) string {
	return fmt.Sprintf("left=$(%s) || exit 1; %s", list, reportLeft(note))
}

// stopIfAnyAfter is stopIfAny for what goes by itself (pods being
// replaced or released): it runs list every 2 s until it prints nothing, and
// stops plan.sh only if it still prints something after seconds.
func stopIfAnyAfter(list, note string, seconds int) string {
	return fmt.Sprintf("for i in $(seq %d); do left=$(%s) || exit 1; [ -z \"$left\" ] && break; sleep 2; done; %s", seconds/2, list, reportLeft(note))
}

func reportLeft(note string) string {
	return fmt.Sprintf("[ -z \"$left\" ] || { echo %s >&2; echo \"$left\" >&2; exit 1; }", templates.Shell(note))
}

// removeInstall is the command that removes a Helm release, or an istioctl
// east-west gateway, from cluster c.
func removeInstall(c *mesh.Cluster, h holding) string {
	ctx := templates.Shell(c.Context)
	if a := h.install; a.Apply == Helm {
		return guarded(c, fmt.Sprintf("helm uninstall %s --namespace %s --kube-context %s --ignore-not-found", templates.Shell(h.release), templates.Shell(h.namespace), ctx))
	}
	return guarded(c, fmt.Sprintf("kubectl --context=%s -n %s delete deployment,service,serviceaccount,role,rolebinding,poddisruptionbudget,horizontalpodautoscaler -l app=istio-eastwestgateway --ignore-not-found", ctx, IstioNamespace))
}

// guarded runs remove only once istio-system proves that meshc installed
// cluster c into its context: its ClusterLabel names c (kubectl wait checks
// once and fails otherwise). In a subshell, so that in plan.sh a failing
// check stops the script like any failing step.
func guarded(c *mesh.Cluster, remove string) string {
	return fmt.Sprintf("(kubectl --context=%s wait namespace/%s %s --timeout=0s && %s)", templates.Shell(c.Context), IstioNamespace,
		templates.Shell(`--for=jsonpath={.metadata.labels.`+strings.ReplaceAll(ClusterLabel, ".", `\.`)+`}=`+c.Name), remove)
}
