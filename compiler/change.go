package compiler

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"meshc.dev/meshc/templates"
)

// Phases only change plans have: removals, which delete from clusters.
const (
	// PhaseRemoveRemoteSecrets deletes, from every primary, the remote
	// secrets of clusters that leave the mesh: first, so no istiod keeps
	// watching a cluster that is being torn down.
	PhaseRemoveRemoteSecrets = "remove-remote-secrets"
	// PhaseRestartIstiod restarts the istiod of primaries whose
	// intermediate CA was re-issued, so it signs with the new one.
	PhaseRestartIstiod = "restart-istiod"
	// PhasePrune deletes what the old mesh rendered for a cluster that stays
	// and the new one does not.
	PhasePrune = "prune"
	// PhaseUninstall removes Istio from clusters that leave the mesh: last.
	PhaseUninstall = "uninstall"
)

// AllowDestructiveVar is the variable a change plan's script requires set
// to 1 before it runs a plan that deletes anything.
const AllowDestructiveVar = "MESHC_ALLOW_DESTRUCTIVE"

// RefusedChange is a change between two meshes that no plan makes safely in
// place; Reason says why and what to do instead.
type RefusedChange struct{ Reason string }

func (e *RefusedChange) Error() string { return "no change plan: " + e.Reason }

// ChangeOptions are what a change plan needs beyond the two meshes.
type ChangeOptions struct {
	// Reissued names clusters whose intermediate CA `meshc certs --force`
	// re-issued: their cacerts are applied again and, on primaries, istiod
	// restarted to sign with it.
	Reissued []string
}

// BuildChangePlan returns the steps that take a running mesh, installed
// from old's plan, to new: every step of new's full plan that old's does not
// have with the same command and the same rendered files, in new's order;
// the removals (remote secrets of clusters that leave, first; files the new
// mesh no longer renders and the uninstall of clusters that leave, last);
// and, for re-issued intermediates, their cacerts and an istiod restart.
// Both meshes must have passed Validate. It refuses changes no plan can make
// safely in place, with the reason.
func BuildChangePlan(old, new *Mesh, opts ChangeOptions) (*Plan, error) {
	if err := changeAllowed(old, new); err != nil {
		return nil, err
	}
	for _, name := range opts.Reissued {
		if new.Cluster(name) == nil {
			return nil, refuse("re-issued cluster %q is not in mesh %q (clusters: %s)", name, new.Metadata.Name, strings.Join(new.ClusterNames(), ", "))
		}
	}
	oldOut, err := Render(old)
	if err != nil {
		return nil, err
	}
	newOut, err := Render(new)
	if err != nil {
		return nil, err
	}
	oldPlan, full := BuildPlan(old), BuildPlan(new)
	ran := map[string]bool{}
	for _, ph := range oldPlan.Phases {
		for _, s := range ph.Steps {
			ran[stepKey(s, old, oldOut)] = true
		}
	}

	p := &Plan{APIVersion: full.APIVersion, Kind: full.Kind, Name: full.Name, MeshID: full.MeshID,
		IstioVersion: full.IstioVersion, RemoteSecrets: full.RemoteSecrets, Variables: full.Variables,
		Installer: full.Installer, HelmRepository: full.HelmRepository,
		From: old.File}
	if p.From == "" {
		p.From = old.Metadata.Name
	}
	add := func(id, title string, steps []Step) {
		if len(steps) > 0 {
			p.Phases = append(p.Phases, Phase{ID: id, Title: title, Steps: steps})
		}
	}
	left := leaving(old, new)
	add(PhaseRemoveRemoteSecrets, "Stop every primary watching the clusters that leave the mesh", removeSecretSteps(old, new, left))
	for _, ph := range full.Phases {
		var steps []Step
		for _, s := range ph.Steps {
			if !ran[stepKey(s, new, newOut)] || ph.ID == PhaseCACerts && slices.Contains(opts.Reissued, s.Cluster) {
				steps = append(steps, s)
			}
		}
		add(ph.ID, ph.Title, steps)
		if ph.ID == PhasePrimaries {
			add(PhaseRestartIstiod, "Restart istiod where the intermediate CA was re-issued", restartSteps(new, opts.Reissued))
		}
	}
	add(PhasePrune, "Delete what the new mesh no longer renders", pruneSteps(old, oldOut, newOut, left))
	add(PhaseUninstall, "Uninstall Istio from the clusters that leave the mesh", uninstallSteps(old, left))
	return p, nil
}

// changeAllowed refuses the changes that are not one step: a new mesh
// identity, a new trust domain, a downgrade or a jump of several minors.
func changeAllowed(old, new *Mesh) error {
	if old.Spec.MeshID != new.Spec.MeshID {
		return refuse("the mesh ID changes from %q to %q: every sidecar's identity and every cluster's configuration carry it, so this is a new mesh, not a change; install it alongside and move workloads over", old.Spec.MeshID, new.Spec.MeshID)
	}
	if old.Spec.TrustDomain != new.Spec.TrustDomain {
		return refuse("the trust domain changes from %q to %q: workloads would stop trusting each other mid-change; it takes a transition in which every control plane accepts both (meshConfig.trustDomainAliases), which meshc does not plan", old.Spec.TrustDomain, new.Spec.TrustDomain)
	}
	if old.Spec.Installer != new.Spec.Installer {
		return refuse("the installer changes from %s to %s: Helm does not adopt what istioctl installed, nor the reverse; migrate each cluster by hand (Istio's guide to moving from istioctl to Helm) and plan from a Mesh that names the installer in use", old.Spec.Installer, new.Spec.Installer)
	}
	om, on := old.IstioMinor(), new.IstioMinor()
	switch {
	case on < om:
		return refuse("Istio %s is older than the running %s: meshc plans upgrades only; downgrade by reinstalling the older version", new.Spec.Istio.Version, old.Spec.Istio.Version)
	case on > om+1:
		return refuse("Istio %s is more than one minor release after the running %s: Istio supports in-place upgrades one minor at a time; plan through 1.%d first", new.Spec.Istio.Version, old.Spec.Istio.Version, om+1)
	}
	return nil
}

func refuse(format string, args ...any) error {
	return &RefusedChange{Reason: fmt.Sprintf(format, args...)}
}

// stepKey identifies what a step does: where, how, and the content of the
// files it applies. Comment lines do not count (a comment naming a new
// remote is no reason to reinstall its primary), but the Istio version does
// for istioctl steps: it is what istioctl installs, though the files name
// it only in their header comment.
func stepKey(s Step, m *Mesh, out *Output) string {
	h := sha256.New()
	io.WriteString(h, s.Context+"\x00"+s.Command)
	if strings.HasPrefix(s.Command, "istioctl install ") {
		io.WriteString(h, "\x00"+m.Spec.Istio.Version)
	}
	for _, p := range s.applies {
		h.Write([]byte{0})
		if f := out.Lookup(p); f != nil {
			for _, line := range bytes.SplitAfter(f.Data, []byte("\n")) {
				if t := bytes.TrimSpace(line); len(t) == 0 || t[0] != '#' {
					h.Write(line)
				}
			}
		}
	}
	return string(h.Sum(nil))
}

// leaving lists the clusters of old that new does not have, in old's order.
func leaving(old, new *Mesh) []*Cluster {
	var out []*Cluster
	for i := range old.Spec.Clusters {
		if c := &old.Spec.Clusters[i]; new.Cluster(c.Name) == nil {
			out = append(out, c)
		}
	}
	return out
}

func removeSecretSteps(old, new *Mesh, left []*Cluster) []Step {
	var steps []Step
	for i := range new.Spec.Clusters {
		r := &new.Spec.Clusters[i]
		if was := old.Cluster(r.Name); was == nil || !was.IsPrimary() {
			continue // it never read the leaving clusters
		}
		for _, c := range left {
			steps = append(steps, Step{Cluster: r.Name, Context: r.Context, Source: c.Name, Destructive: true,
				Command: fmt.Sprintf("kubectl --context=%s -n istio-system delete secret %s --ignore-not-found",
					templates.Shell(r.Context), templates.Shell("istio-remote-secret-"+c.Name))})
		}
	}
	return steps
}

func restartSteps(m *Mesh, reissued []string) []Step {
	var steps []Step
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		if c.IsPrimary() && slices.Contains(reissued, c.Name) {
			steps = append(steps, Step{Cluster: c.Name, Context: c.Context,
				Command: fmt.Sprintf("kubectl --context=%s -n istio-system rollout restart deployment/istiod", templates.Shell(c.Context))})
		}
	}
	return steps
}

func uninstallSteps(old *Mesh, left []*Cluster) []Step {
	var steps []Step
	for _, c := range left {
		if !old.UsesHelm() {
			steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Destructive: true,
				Command: fmt.Sprintf("istioctl uninstall --purge -y --context=%s", templates.Shell(c.Context))})
			continue
		}
		// The Helm releases, last installed first (base, with the CRDs, last).
		arts := ArtifactsFor(old.Place(c))
		for i := len(arts) - 1; i >= 0; i-- {
			if a := arts[i]; a.Apply == Helm {
				steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Destructive: true, Command: helmUninstall(a, c)})
			}
		}
	}
	return steps
}

// helmUninstall is the command that removes the release of a Helm row.
func helmUninstall(a *Artifact, c *Cluster) string {
	return fmt.Sprintf("helm uninstall %s --namespace %s --kube-context %s --ignore-not-found",
		a.Release, IstioNamespace, templates.Shell(c.Context))
}

// pruneSteps deletes, in clusters that stay, the objects of files old
// rendered and new does not: a manifest's objects by kind and name, an east-
// west gateway's workload by its labels.
func pruneSteps(old *Mesh, oldOut, newOut *Output, left []*Cluster) []Step {
	var steps []Step
	for i := range old.Spec.Clusters {
		c := &old.Spec.Clusters[i]
		if slices.Contains(left, c) {
			continue
		}
		ctx := templates.Shell(c.Context)
		// What the new mesh still applies to the cluster, in any file: an
		// object that only moved between files stays.
		kept := map[object]bool{}
		for _, p := range newOut.Manifests[c.Name] {
			for _, obj := range objectsOf(newOut.Lookup(p)) {
				kept[obj] = true
			}
		}
		for _, a := range ArtifactsFor(old.Place(c)) {
			p := a.Path(c.Name)
			if a.Name == KustomizationFile || newOut.Lookup(p) != nil && a.Dir != ManifestsDir {
				continue
			}
			switch {
			case a.Apply == Helm:
				steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Destructive: true, applies: []string{p}, Command: helmUninstall(a, c)})
			case a.Dir == InstallDir && a.Name == EastWestGatewayFile:
				steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Destructive: true, applies: []string{p}, Command: fmt.Sprintf(
					"kubectl --context=%s -n istio-system delete deployment,service,serviceaccount,role,rolebinding,poddisruptionbudget,horizontalpodautoscaler -l app=istio-eastwestgateway --ignore-not-found", ctx)})
			case a.Dir == ManifestsDir:
				// Object by object: a file that stays may have lost some
				// (a workload group, a service stub).
				for _, obj := range objectsOf(oldOut.Lookup(p)) {
					if obj.kind == "namespace" || kept[obj] {
						continue // never a namespace: it holds the user's workloads
					}
					steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Destructive: true, applies: []string{p}, Command: fmt.Sprintf(
						"kubectl --context=%s%s delete %s %s --ignore-not-found", ctx, obj.nsFlag(), templates.Shell(obj.kind), templates.Shell(obj.name))})
				}
			}
		}
	}
	return steps
}

// object is what kubectl delete needs of one rendered object; kind is
// kubectl's resource.group form ("gateway.networking.istio.io"), so an
// Istio Gateway is never taken for a Gateway API one.
type object struct{ kind, name, namespace string }

func (o object) nsFlag() string {
	if o.namespace == "" {
		return ""
	}
	return " -n " + templates.Shell(o.namespace)
}

// objectsOf reads kind, metadata.name and metadata.namespace of each
// document meshc rendered into f. meshc's own templates write them at fixed
// indentation, so this is a line scan, not a YAML parse.
func objectsOf(f *File) []object {
	if f == nil {
		return nil
	}
	var objs []object
	for _, doc := range bytes.Split(f.Data, []byte("\n---\n")) {
		var o object
		group := ""
		inMeta := false
		for _, line := range strings.Split(string(doc), "\n") {
			switch {
			case strings.HasPrefix(line, "apiVersion: "):
				if g, _, ok := strings.Cut(strings.TrimPrefix(line, "apiVersion: "), "/"); ok {
					group = "." + g
				}
			case strings.HasPrefix(line, "kind: "):
				o.kind = strings.ToLower(strings.TrimPrefix(line, "kind: "))
			case line == "metadata:":
				inMeta = true
			case inMeta && strings.HasPrefix(line, "  name: "):
				o.name = unquote(strings.TrimPrefix(line, "  name: "))
			case inMeta && strings.HasPrefix(line, "  namespace: "):
				o.namespace = unquote(strings.TrimPrefix(line, "  namespace: "))
			case !strings.HasPrefix(line, " "):
				inMeta = false
			}
		}
		if o.kind != "" && o.name != "" {
			o.kind += group
			objs = append(objs, o)
		}
	}
	return objs
}

// unquote reverses templates.String.
func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// AllowDestructiveVar is the variable the plan's script requires before it
// runs a destructive step (for the templates).
func (p *Plan) AllowDestructiveVar() string { return AllowDestructiveVar }

// Destructive reports whether any step of the plan deletes from a cluster.
func (p *Plan) Destructive() bool {
	for _, ph := range p.Phases {
		if ph.Destructive() {
			return true
		}
	}
	return false
}

// Destructive reports whether any step of the phase deletes from a cluster.
func (ph Phase) Destructive() bool {
	for _, s := range ph.Steps {
		if s.Destructive {
			return true
		}
	}
	return false
}
