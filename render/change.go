package render

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/templates"
)

// Phases only change plans have: removals, which delete from clusters.
const (
	// PhaseRemoveRemoteSecrets deletes the remote secrets the new mesh
	// does not have (of clusters that leave, held by primaries that leave
	// or become remotes): first, so no istiod keeps watching a cluster that
	// is being torn down, and no cluster that leaves keeps credentials for
	// the others.
	PhaseRemoveRemoteSecrets = "remove-remote-secrets"
	// PhaseRestartIstiod restarts the istiod of primaries whose
	// intermediate CA was re-issued, so it signs with the new one.
	PhaseRestartIstiod = "restart-istiod"
	// PhaseRestartReaders restarts, in an ambient mesh on several
	// networks, the istiod of each primary whose remote secret for a
	// cluster it already read changed: such an istiod may stop sending
	// that cluster's network gateway until it restarts (docs/ambient.md).
	PhaseRestartReaders = "restart-readers"
	// PhaseReplaceGateways deletes the Istio Gateways the new mesh no
	// longer renders just before the expose phase applies the new ones:
	// two Gateways passing a host on one port give Envoy two identical
	// filter chains, and it rejects the east-west gateway's whole listener
	// (a gateway pod that starts meanwhile gets none). A moment without
	// the old Gateway's hosts is the lesser harm.
	PhaseReplaceGateways = "replace-gateways"
	// PhasePrune deletes what the old mesh put into a cluster and the new
	// one does not (removals.go): objects, east-west gateways.
	PhasePrune = "prune"
	// PhaseUninstall removes Istio, and then the intermediate CA, from
	// clusters that leave the mesh: last.
	PhaseUninstall = "uninstall"
)

// AllowDestructiveVar is the variable a change plan's script requires set
// to 1 before it runs a plan that deletes anything.
const AllowDestructiveVar = "MESHC_ALLOW_DESTRUCTIVE"

// RefusedChange is a change between two meshes that no plan makes safely in
// place. Its problems point into the new Mesh, at the value that changed,
// with the rule refused (MC078–MC083, MC096–MC099), and say why
// and what to do instead.
type RefusedChange struct{ Problems diag.Problems }

func (e *RefusedChange) Error() string { return "no change plan: " + e.Problems.Error() }

// Unwrap makes the refusal's problems reachable with errors.As, so it is
// printed as any other problem of the input is.
func (e *RefusedChange) Unwrap() error { return e.Problems }

// The rules of change plans: each refusal names one (see rules.Rules).
const (
	// ChangeIdentityRule refuses a new mesh ID or trust domain.
	ChangeIdentityRule = "MC096"
	// ChangeContextRule refuses a kube context or API server that
	// changes hands.
	ChangeContextRule = "MC097"
	// ChangeInstallerRule refuses another installer (Istio's releases and
	// revisions are MC078–MC083's).
	ChangeInstallerRule = "MC098"
	// ChangeCARule refuses the moves of issuers and roots meshc does not
	// plan.
	ChangeCARule = "MC099"
)

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
func BuildChangePlan(old, new *mesh.Mesh, opts ChangeOptions) (*Plan, error) {
	if err := changeAllowed(old, new); err != nil {
		return nil, err
	}
	for _, name := range opts.Reissued {
		if new.Cluster(name) == nil {
			return nil, refuse(new, "spec.clusters", "", "re-issued cluster %q is not in mesh %q (clusters: %s)", name, new.Metadata.Name, strings.Join(new.ClusterNames(), ", "))
		}
	}
	// Only what steps apply is compared: the clusters' and VM groups'
	// files and the plans' phases, not the plan files, the picture or the
	// GitOps tree.
	oldOut, err := renderClusters(old)
	if err != nil {
		return nil, err
	}
	newOut, err := renderClusters(new)
	if err != nil {
		return nil, err
	}
	oldPlaced, newPlaced := placementsOf(old), placementsOf(new)
	oldPlan := &Plan{Phases: installPhases(old, oldPlaced)}
	full := &Plan{Phases: installPhases(new, newPlaced)}
	// ranAsPrevious: the old steps as the previous revision's install
	// would match them (previousKey).
	ran, ranAsPrevious := map[string]bool{}, map[string]bool{}
	for _, ph := range oldPlan.Phases {
		for _, s := range ph.Steps {
			ran[stepKey(s, old, oldOut)] = true
			ranAsPrevious[previousKey(s, old, oldOut)] = true
		}
	}

	p := newPlan(new, newPlaced)
	p.From = old.File
	if p.From == "" {
		p.From = old.Metadata.Name
	}
	add := func(id, title string, steps []Step) {
		if len(steps) > 0 {
			p.Phases = append(p.Phases, Phase{ID: id, Title: title, Steps: steps})
		}
	}
	rm := planRemovals(old, new, oldPlan, full, oldOut, newOut)
	p.Kept = rm.kept
	add(PhaseRemoveRemoteSecrets, "Delete the remote secrets the new mesh no longer needs", rm.remoteSecrets)
	// The steps of new's full plan that must run, phase by phase; a move
	// of the issuer puts its own phases among them.
	var pending []Phase
	for _, ph := range full.Phases {
		var steps []Step
		for _, s := range ph.Steps {
			done := ran[stepKey(s, new, newOut)] || s.as != "" && ranAsPrevious[previousKey(s, new, newOut)]
			if !done || ph.ID == PhaseCACerts && slices.Contains(opts.Reissued, s.Cluster) {
				steps = append(steps, s)
			}
		}
		pending = append(pending, Phase{ID: ph.ID, Title: ph.Title, Steps: steps})
	}
	if un := unlabelSteps(old, new); len(un) > 0 {
		i := slices.IndexFunc(pending, func(ph Phase) bool { return ph.ID == PhaseGlobalServices })
		if i < 0 {
			// The last install phase; the new mesh labels nothing.
			pending = append(pending, Phase{ID: PhaseGlobalServices, Title: phaseTitle(PhaseGlobalServices)})
			i = len(pending) - 1
		}
		pending[i].Steps = append(pending[i].Steps, un...)
	}
	restart := opts.Reissued
	mv := caMoveOf(old, new)
	if mv != nil {
		pending = mv.arrange(pending)
		restart = append(slices.Clone(restart), mv.restarts()...)
	}
	gatewaysGone := false
	for _, ph := range pending {
		if ph.ID == PhaseExpose {
			add(PhaseReplaceGateways, "Delete the Istio Gateways the new mesh no longer renders, before it applies its own", rm.gateways)
			gatewaysGone = true
		}
		add(ph.ID, ph.Title, ph.Steps)
		if ph.ID == PhaseRemoteSecrets && new.AmbientMultiNetwork() {
			add(PhaseRestartReaders, "Restart the istiods whose remote secret for a cluster they read changed (ambient, several networks)", restartSteps(new, changedReaders(oldPlan, ph.Steps)))
		}
		if ph.ID == PhasePrimaries {
			add(PhaseRestartIstiod, "Restart istiod where the intermediate CA was re-issued or moved", restartSteps(new, restart))
			if mv != nil {
				add(PhaseRenewWorkloads, "Restart the workloads, so every certificate chains to the new root", mv.renewSteps())
			}
			add(PhaseForgetRoot, "Restart the workloads, so no sidecar keeps trusting the previous root", moveEndSteps(old, new))
		}
	}
	if !gatewaysGone {
		rm.prune = append(rm.gateways, rm.prune...)
	}
	add(PhasePrune, "Delete what the new mesh no longer renders", rm.prune)
	add(PhaseUninstall, "Uninstall Istio from the clusters that leave the mesh", rm.uninstall)
	if movesWorkloads(old, new) {
		p.Phases = canaryOrder(old, new, p.Phases)
	}
	return p, nil
}

// changeAllowed refuses the changes that are not one step: a new mesh
// identity, a new trust domain, a downgrade or a jump of several minors, and
// a kube context that changes hands.
func changeAllowed(old, new *mesh.Mesh) error {
	if err := contextsKept(old, new); err != nil {
		return err
	}
	if err := caChangeAllowed(old, new); err != nil {
		return err
	}
	if old.Spec.MeshID != new.Spec.MeshID {
		return refuse(new, "spec.meshID", ChangeIdentityRule, "the mesh ID changes from %q to %q: every sidecar's identity and every cluster's configuration carry it, so this is a new mesh, not a change; install it alongside and move workloads over", old.Spec.MeshID, new.Spec.MeshID)
	}
	if old.Spec.TrustDomain != new.Spec.TrustDomain {
		return refuse(new, "spec.trustDomain", ChangeIdentityRule, "the trust domain changes from %q to %q: workloads would stop trusting each other mid-change; it takes a transition in which every control plane accepts both (meshConfig.trustDomainAliases), which meshc does not plan", old.Spec.TrustDomain, new.Spec.TrustDomain)
	}
	if err := dataPlaneKept(old, new); err != nil {
		return err
	}
	if old.Spec.Installer != new.Spec.Installer {
		return refuse(new, "spec.installer", ChangeInstallerRule, "the installer changes from %s to %s: Helm does not adopt what istioctl installed, nor the reverse; migrate each cluster by hand (Istio's guide to moving from istioctl to Helm) and plan from a Mesh that names the installer in use", old.Spec.Installer, new.Spec.Installer)
	}
	return versionChangeAllowed(old, new)
}

// dataPlaneKept refuses a change of spec.dataPlane, pointing at it in the
// new Mesh. Between sidecar and ambient every workload changes how it joins
// the mesh, and no state in between is safe to leave clusters in: istiod's
// AMBIENT_ENABLE_MULTI_NETWORK drops the remote endpoints of sidecars still
// running (istio/istio#61713), and pods keep their sidecars until
// restarted. Upstream migrates one namespace at a time, which is not a
// change of this Mesh.
func dataPlaneKept(old, new *mesh.Mesh) error {
	if old.Spec.DataPlane == new.Spec.DataPlane {
		return nil
	}
	how := "install the ambient mesh alongside (another Mesh, meshID and clusters) and move workloads over, or migrate by hand with Istio's sidecar-to-ambient guide and plan from a Mesh that names the data plane in use"
	if new.Spec.DataPlane == mesh.DataPlaneSidecar {
		how = "move workloads back to sidecars namespace by namespace by hand (label, restart), uninstall ztunnel and istio-cni, and plan from a Mesh that names the data plane in use"
	}
	// No rule ID yet: the ambient work's range (MC084–MC093) has none for it.
	return refuse(new, "spec.dataPlane", "",
		"the data plane changes from %s to %s, which no plan does in one step: every pod changes how it joins the mesh (sidecars need a restart, ambient pods none), and AMBIENT_ENABLE_MULTI_NETWORK, which ambient across networks needs, drops the remote endpoints of sidecars still running (istio/istio#61713); %s",
		old.Spec.DataPlane, new.Spec.DataPlane, how)
}

// contextsKept refuses a change in which a kube context changes hands: a
// cluster of new in a context old gave another cluster (a rename, or a new
// cluster where one leaves), or a cluster that moves to another context.
// The plan removes what the old mesh put into a context by the old
// cluster's name, and uninstalls Istio from a cluster that leaves: in a
// context the new mesh uses, that would take out what the plan just
// installed. meshc cannot tell a context renamed in a kubeconfig from a
// move to another cluster either.
func contextsKept(old, new *mesh.Mesh) error {
	var reasons []string
	first := ""                      // the path of the first reason
	byContext := map[string]string{} // old kube context → its cluster
	byServer := map[string]string{}  // old API server (apiServerKey) → its cluster
	for i := range old.Spec.Clusters {
		c := &old.Spec.Clusters[i]
		byContext[c.Context] = c.Name
		if c.APIServer != "" {
			byServer[mesh.APIServerKey(c.APIServer)] = c.Name
		}
	}
	for i := range new.Spec.Clusters {
		c := &new.Spec.Clusters[i]
		at := func(field string) {
			if first == "" {
				first = fmt.Sprintf("spec.clusters[%d].%s", i, field)
			}
		}
		if was := old.Cluster(c.Name); was != nil && was.Context != c.Context {
			at("context")
			reasons = append(reasons, fmt.Sprintf("cluster %q moves from kube context %s to %s: meshc cannot tell a context renamed in your kubeconfig from a move to another Kubernetes cluster; if only the name changed, plan from a copy of the old Mesh file with the new context; to move the cluster, take it out of the mesh with one change plan and add it back with the next",
				c.Name, diag.Quote(was.Context), diag.Quote(c.Context)))
		}
		if other, ok := byContext[c.Context]; ok && other != c.Name {
			at("context")
			reasons = append(reasons, fmt.Sprintf("cluster %q takes kube context %s from cluster %q: the plan would install %s there and %s. A cluster's name is its Istio cluster ID, so renaming one is not a change in place: keep the name %q, or take %q out of the mesh with one change plan and add %q with the next",
				c.Name, diag.Quote(c.Context), other, c.Name, thenFor(new, other), other, other, c.Name))
		}
		// The API server is the cluster to remote secrets and to Argo CD
		// destinations, as the context is to the plan.
		if c.APIServer == "" {
			continue
		}
		if other, ok := byServer[mesh.APIServerKey(c.APIServer)]; ok && other != c.Name {
			at("apiServer")
			reasons = append(reasons, fmt.Sprintf("cluster %q takes API server %s from cluster %q: remote secrets and GitOps destinations would send %s's configuration to the Kubernetes cluster %q ran on; swap or reuse API servers only by taking the clusters out of the mesh with one change plan and adding them with the next",
				c.Name, diag.Quote(c.APIServer), other, c.Name, other))
		}
	}
	if len(reasons) > 0 {
		return refuse(new, first, ChangeContextRule, "%s", joinCapped(reasons))
	}
	return nil
}

// thenFor says what the plan would do next in the context of old cluster
// name: uninstall Istio if it leaves, else delete what it no longer has.
func thenFor(new *mesh.Mesh, name string) string {
	if new.Cluster(name) != nil {
		return "then delete from it what " + name + " no longer has there"
	}
	return "then uninstall Istio from it"
}

// joinCapped joins a refusal's reasons, the first ten of them, so the
// message stays bounded however many clusters a change touches.
func joinCapped(reasons []string) string {
	const most = 10
	if len(reasons) <= most {
		return strings.Join(reasons, "; ")
	}
	return fmt.Sprintf("%s; and %d more alike", strings.Join(reasons[:most], "; "), len(reasons)-most)
}

// refuse is a refused change under rule, at path of the new mesh m.
func refuse(m *mesh.Mesh, path, rule, format string, args ...any) error {
	return &RefusedChange{Problems: diag.Problems{{Pos: m.Pos(path), Path: path, Rule: rule, Message: fmt.Sprintf(format, args...)}}}
}

// stepKey identifies what a step does: where, how, and the content of the
// files it applies. Comment lines do not count (a comment naming a new
// remote is no reason to reinstall its primary), but the Istio version does
// for istioctl steps: it is what istioctl installs, though the files name
// it only in their header comment.
func stepKey(s Step, m *mesh.Mesh, out *output.Output) string {
	return keyOf(s, m, out, false)
}

// previousKey is stepKey without the default validating webhook's
// revision (defaultRevision), which the previous revision's install sets to
// the Mesh's own (ValidatorRevision): the revision a canary keeps, installed
// before from the Mesh's own file, matches its install in the file it moved
// to by it, and is not installed again (the new revision's install points
// the webhook).
func previousKey(s Step, m *mesh.Mesh, out *output.Output) string {
	return keyOf(s, m, out, true)
}

func keyOf(s Step, m *mesh.Mesh, out *output.Output, withoutValidator bool) string {
	h := sha256.New()
	io.WriteString(h, s.Context+"\x00"+cmp.Or(s.as, s.Command))
	if strings.HasPrefix(cmp.Or(s.as, s.Command), "istioctl install ") {
		io.WriteString(h, "\x00"+cmp.Or(s.version, m.Spec.Istio.Version))
	}
	for _, p := range s.applies {
		h.Write([]byte{0})
		if f := out.Lookup(p); f != nil {
			for _, line := range bytes.SplitAfter(f.Data, []byte("\n")) {
				t := bytes.TrimSpace(line)
				if withoutValidator && bytes.HasPrefix(t, []byte("defaultRevision:")) {
					continue
				}
				if len(t) == 0 || t[0] != '#' {
					h.Write(line)
				}
			}
		}
	}
	return string(h.Sum(nil))
}

// changedReaders are the primaries among steps (a change plan's
// remote-secret steps) whose secret for that cluster the old plan had
// applied already: a secret that changes, not one that is added.
func changedReaders(oldPlan *Plan, steps []Step) []string {
	had := map[string]bool{}
	for _, ph := range oldPlan.Phases {
		if ph.ID == PhaseRemoteSecrets {
			for _, s := range ph.Steps {
				had[s.Cluster+"\x00"+s.Source] = true
			}
		}
	}
	var readers []string
	for _, s := range steps {
		if had[s.Cluster+"\x00"+s.Source] && !slices.Contains(readers, s.Cluster) {
			readers = append(readers, s.Cluster)
		}
	}
	return readers
}

func restartSteps(m *mesh.Mesh, reissued []string) []Step {
	var steps []Step
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		if c.IsPrimary() && slices.Contains(reissued, c.Name) {
			steps = append(steps, Step{Cluster: c.Name, Context: c.Context,
				Command: fmt.Sprintf("kubectl --context=%[1]s -n istio-system rollout restart deployment/istiod || exit 1; kubectl --context=%[1]s -n istio-system rollout status deployment/istiod --timeout=300s", templates.Shell(c.Context))})
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
func objectsOf(f *output.File) []object {
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

// Disruptive reports whether any step of the phase restarts workloads.
func (ph Phase) Disruptive() bool {
	for _, s := range ph.Steps {
		if s.Disruptive {
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
