package render

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// Phases only canary change plans have (docs/upgrade.md).
const (
	// PhaseRestartWorkloads restarts, cluster by cluster, the workloads of
	// the namespaces whose tag moved: their new pods are injected by the
	// revision the tag points at now.
	PhaseRestartWorkloads = "restart-workloads"
	// PhaseCheckClusters checks, first, that every cluster the canary
	// touches is the one meshc installed there: its manifests/ re-label
	// istio-system on the way, so the removal's own check would come too
	// late.
	PhaseCheckClusters = "check-clusters"
	// PhaseRemoveRevision removes the old revision's control plane from
	// every cluster, once nothing selects or runs it: last but the prune.
	PhaseRemoveRevision = "remove-revision"
	// PhaseDefaultValidator, on the Helm path, points the base chart's
	// default validating webhook at the new revision once every cluster
	// runs it (defaultValidatorSteps).
	PhaseDefaultValidator = "default-validator"
)

// Canary reports whether the change from old to new is a canary upgrade
// (or its rollback, or its end): the two install different revisions, so
// one runs beside another while the tags move, and a revision that goes is
// removed last.
func Canary(old, new *mesh.Mesh) bool {
	return old.Revisioned() && new.Revisioned() && !slices.Equal(sorted(old.InstalledRevisions()), sorted(new.InstalledRevisions()))
}

// movesWorkloads reports whether a change plan takes workloads from one
// revision to another: a canary, or a tag moved between the revisions both
// meshes install. Its phases then go in canary order, with the restarts.
func movesWorkloads(old, new *mesh.Mesh) bool {
	return Canary(old, new) || old.Revisioned() && len(movedTags(old, new)) > 0
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// versionChangeAllowed refuses the release and revision changes no plan
// makes safely (MC078 to MC083; rules/validate_revisions.go says what each
// prevents): a revision both meshes install changes in place, one only new
// installs is a canary of every revision old runs.
func versionChangeAllowed(old, new *mesh.Mesh) error {
	if old.Revisioned() != new.Revisioned() {
		from, to := describeRevision(old), describeRevision(new)
		return refuse(new, "spec.istio.revision", "MC083", "the control plane changes from %s to %s: namespaces labelled istio-injection=enabled and those labelled with a tag are injected by different webhooks, so this is no canary meshc can plan; keep the Mesh's revision setting, or move by hand (Istio's canary upgrade guide, with the default tag)", from, to)
	}
	if err := tagsKept(old, new); err != nil {
		return err
	}
	oldRevs := old.InstalledRevisions()
	for _, rev := range new.InstalledRevisions() {
		ov, nv := old.VersionOf(rev), new.VersionOf(rev)
		om, on := mesh.MinorOf(ov), mesh.MinorOf(nv)
		if slices.Contains(oldRevs, rev) {
			switch {
			case on < om:
				return refuse(new, "spec.istio.version", "MC080", "Istio %s is older than the running %s%s: an in-place downgrade replaces every istiod with no older one left to roll back to; install the older release as another revision (spec.istio.revision) and move the tags back", nv, ov, ofRevision(rev))
			case on > om+1:
				return refuse(new, "spec.istio.version", "MC080", "Istio %s is more than one minor release after the running %s%s: Istio supports in-place upgrades one minor at a time; plan through 1.%d first, or upgrade as a canary (another spec.istio.revision), which may skip one minor", nv, ov, ofRevision(rev), om+1)
			}
			continue
		}
		for _, was := range oldRevs {
			wv := old.VersionOf(was)
			d := abs(on - mesh.MinorOf(wv))
			if d > 2 {
				return refuse(new, "spec.istio.version", "MC079", "revision %s at Istio %s would run beside revision %s at %s, %d minor releases apart: a canary upgrade spans at most two; go through an intermediate release", rev, nv, was, wv, d)
			}
			if d > 1 && (len(old.Primaries()) > 1 || len(new.Primaries()) > 1) {
				return refuse(new, "spec.istio.version", "MC081", "Istio %s and %s are %d minor releases apart, and with several primaries one would run a control plane of each while they read each other's clusters; canary through 1.%d first", wv, nv, d, min(on, mesh.MinorOf(wv))+1)
			}
		}
	}
	for _, rev := range new.InstalledRevisions() {
		if old.Tag(rev) != nil && !slices.Contains(oldRevs, rev) {
			at := "spec.istio.revision"
			if rev != new.Spec.Istio.Revision {
				at = "spec.istio.previous.revision"
			}
			return refuse(new, at, "MC077", "revision %s has the name of a tag of the running mesh: until the plan prunes that tag's webhook, both select istio.io/rev=%s, and namespaces labelled with it move to the new revision without a restart; name the revision apart from every tag", rev, rev)
		}
	}
	for i, t := range new.Spec.Istio.Tags {
		if slices.Contains(oldRevs, t.Name) {
			return refuse(new, fmt.Sprintf("spec.istio.tags[%d].name", i), "MC077", "tag %s has the name of a revision the running mesh installs: its webhook and that revision's own both select istio.io/rev=%s, and pods are injected twice; name the tag apart from every revision", t.Name, t.Name)
		}
	}
	if !Canary(old, new) {
		return nil
	}
	if len(new.Spec.WorkloadGroups) > 0 || len(old.Spec.WorkloadGroups) > 0 {
		return refuse(new, "spec.workloadGroups", "MC100", "the mesh has workload groups: a VM's files name one revision's istiod and follow no tag, so a VM not reinstalled would lose its control plane when the plan removes a revision; meshc does not plan VMs through a canary: upgrade in place, or move the VMs out of the mesh first")
	}
	for i := range new.Spec.Clusters {
		p := new.Place(&new.Spec.Clusters[i])
		if p.ServesRemotesAtOneAddress() {
			return refuse(new, fmt.Sprintf("spec.clusters[%d]", i), "MC078", "primary %q serves its remotes at %s, one address for both revisions: the remotes' proxies and webhooks cannot reach each revision's istiod apart; serve them through the east-west gateway at an IP address for the upgrade, or upgrade in place", p.Cluster.Name, diag.Quote(p.Cluster.IstiodAddress()))
		}
	}
	return nil
}

// ofRevision names a revision in a message, after a version.
func ofRevision(rev string) string {
	if rev == mesh.DefaultRevision {
		return ""
	}
	return " of revision " + rev
}

// tagsKept refuses a new Mesh that drops a tag a namespace of the old one
// selects, unless the new Mesh relabels that namespace (the plan applies
// its label before the prune takes the tag's webhook out).
func tagsKept(old, new *mesh.Mesh) error {
	var dropped []string
	for _, n := range old.Spec.Namespaces {
		v := n.RevLabel()
		if old.Tag(v) == nil || new.Tag(v) != nil || slices.Contains(dropped, v) {
			continue
		}
		if i := slices.IndexFunc(new.Spec.Namespaces, func(m mesh.SharedNamespace) bool { return m.Name == n.Name }); i >= 0 && new.Spec.Namespaces[i].RevLabel() != v {
			continue
		}
		dropped = append(dropped, v)
	}
	if len(dropped) > 0 {
		return refuse(new, "spec.istio.tags", "MC082", "the new Mesh drops %s, which namespaces of the running mesh select and keep: their new pods would start without sidecars; keep the tags (pointing at revision %s), or select another tag in those namespaces", diag.Plural("tag", dropped), new.Spec.Istio.Revision)
	}
	return nil
}

func describeRevision(m *mesh.Mesh) string {
	if m.Revisioned() {
		return "revision " + m.Spec.Istio.Revision
	}
	return "the default revision (no spec.istio.revision)"
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// canaryOrder rearranges a canary change plan's phases as Istio's canary
// upgrade goes: the new revision beside the old on every primary, the
// remotes' configuration for it, and the tags moved cluster by cluster
// (each cluster's manifests/ carry its tags, applied after its install);
// then the workloads restarted, so their new pods are injected by the new
// revision; the east-west gateways after them; and the old revision
// removed last, before the prune of what it alone used.
func canaryOrder(old, new *mesh.Mesh, phases []Phase) []Phase {
	var out, gateways []Phase
	phases, validator := defaultValidatorSteps(old, new, phases)
	inserted := false
	insert := func() {
		out = appendNonEmpty(out, Phase{ID: PhaseRestartWorkloads, Title: "Restart the workloads of the namespaces whose tag moved", Steps: slices.Concat(defaultTagSteps(old, new), restartWorkloadSteps(old, new))})
		out = append(out, gateways...)
		// After the gateways: a remote's new revision may be reached
		// through a gateway this plan installs.
		out = appendNonEmpty(out, Phase{ID: PhaseDefaultValidator, Title: "Point Istio's default validation at the new revision, now that it runs everywhere", Steps: validator})
		out = appendNonEmpty(out, Phase{ID: PhaseRemoveRevision, Title: "Remove the old revision, once nothing selects or runs it", Steps: removeRevisionSteps(old, new)})
		inserted = true
	}
	for _, ph := range phases {
		switch ph.ID {
		case PhasePrimaryGateways, PhaseRemoteGateways:
			gateways = append(gateways, ph)
			continue
		case PhasePrune, PhaseUninstall:
			if !inserted {
				insert()
			}
		}
		out = append(out, ph)
	}
	if !inserted {
		insert()
	}
	var checks []Step
	for i := range old.Spec.Clusters {
		if c := &old.Spec.Clusters[i]; new.Cluster(c.Name) != nil {
			checks = append(checks, Step{Cluster: c.Name, Context: c.Context, Command: guarded(c, "true")})
		}
	}
	return append([]Phase{{ID: PhaseCheckClusters, Title: "Check that every cluster is the one meshc installed there", Steps: checks}}, out...)
}

// defaultValidatorSteps keep, on the Helm path, the base chart's default
// validating webhook (istiod-default-validator, which the chart points at
// istiod-<defaultRevision>) at the old revision while the new one is
// installed, and return the steps that move it afterwards, as Istio's Helm
// canary guide does. Moved with the CRDs, it would call a Service that does
// not exist yet, and a webhook that istiod has set to fail closed (a Helm
// upgrade renders no failurePolicy) would refuse every Istio resource in the
// cluster until the new istiod runs there, or forever if it never does. A
// change whose Mesh calls a revision already running (a staged canary's
// steps: Mesh.StableRevision) needs neither. A cluster that joins has
// no old revision, and its first install fails open.
func defaultValidatorSteps(old, new *mesh.Mesh, phases []Phase) ([]Phase, []Step) {
	if !new.UsesHelm() || !old.Revisioned() || slices.Contains(old.InstalledRevisions(), new.StableRevision()) {
		return phases, nil
	}
	keep := " --set " + templates.Shell("defaultRevision="+old.StableRevision())
	var moves []Step
	out := slices.Clone(phases)
	for i, ph := range out {
		if ph.ID != PhaseBase {
			continue
		}
		out[i].Steps = slices.Clone(ph.Steps)
		for j, st := range ph.Steps {
			if old.Cluster(st.Cluster) == nil {
				continue
			}
			moves = append(moves, st)
			out[i].Steps[j].Command += keep
		}
	}
	return out, moves
}

func appendNonEmpty(phases []Phase, ph Phase) []Phase {
	if len(ph.Steps) == 0 {
		return phases
	}
	return append(phases, ph)
}

// movedTags are the tags of new that point elsewhere than in old (or are
// new): the namespaces labelled with them move.
func movedTags(old, new *mesh.Mesh) []string {
	var moved []string
	for _, t := range new.Spec.Istio.Tags {
		if was := old.Tag(t.Name); was == nil || was.Revision != t.Revision {
			moved = append(moved, t.Name)
		}
	}
	return moved
}

// restartWorkloadSteps restart, in every cluster of new, the deployments,
// stateful sets and daemon sets of every namespace labelled with a moved
// tag: those the cluster has, not only those the Mesh lists. Where the plan
// moves istioctl's default tag (defaultTagSteps), the namespaces labelled
// istio-injection=enabled, which it injects, move too.
func restartWorkloadSteps(old, new *mesh.Mesh) []Step {
	moved := movedTags(old, new)
	defaultMoves := len(defaultTagSteps(old, new)) > 0 && old.StableRevision() != new.Spec.Istio.Revision
	if len(moved) == 0 && !defaultMoves {
		return nil
	}
	var steps []Step
	for _, c := range new.Spec.Clusters {
		ctx := templates.Shell(c.Context)
		var lists []string
		if len(moved) > 0 {
			lists = append(lists, fmt.Sprintf("kubectl --context=%s get namespaces -l %s -o name", ctx, templates.Shell(mesh.RevLabel+" in ("+strings.Join(moved, ",")+")")))
		}
		if defaultMoves && old.Cluster(c.Name) != nil {
			lists = append(lists, fmt.Sprintf("kubectl --context=%s get namespaces -l istio-injection=enabled -o name", ctx))
		}
		if len(lists) == 0 {
			continue
		}
		list := lists[0]
		if len(lists) > 1 {
			list = "{ " + strings.Join(lists, " && ") + "; } | sort -u"
		}
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Disruptive: true, Command: fmt.Sprintf(
			"%s | sed 's|^namespace/||' | xargs -r -n1 kubectl --context=%s rollout restart deployment,statefulset,daemonset -n",
			list, ctx)})
	}
	return steps
}

// revisionDrainSeconds bounds how long the remove-revision check waits for
// the pods the restarts replace.
const revisionDrainSeconds = 120

// removeRevisionSteps remove each revision old installs and new does not
// from every cluster that stays (clusters that leave lose all of Istio in
// the uninstall phase). First a check in every cluster, so that no
// cluster loses the revision while another still runs it: no namespace is
// labelled with it, no tag webhook points at it, and no pod was injected by
// it (the injector writes the revision as the pod's istio.io/rev
// annotation; istiod's own pod carries it as a label). Then the uninstall,
// each guarded like every removal: remotes before the primaries that serve
// them.
func removeRevisionSteps(old, new *mesh.Mesh) []Step {
	var checks, remotes, primaries []Step
	for _, rev := range old.InstalledRevisions() {
		if slices.Contains(new.InstalledRevisions(), rev) {
			continue
		}
		for i := range old.Spec.Clusters {
			c := &old.Spec.Clusters[i]
			if new.Cluster(c.Name) == nil {
				continue
			}
			ctx := templates.Shell(c.Context)
			injected := templates.Shell(`jsonpath={range .items[?(@.metadata.annotations.istio\.io/rev=="` + rev + `")]}pod/{.metadata.namespace}/{.metadata.name}{"\n"}{end}`)
			note := fmt.Sprintf("plan: revision %s still selected or running in cluster %s; move these to a tag of revision %s and restart them, then run the plan again:", rev, c.Name, new.Spec.Istio.Revision)
			// The restarts return before their rollouts end: the old pods
			// may take a while to go.
			check := stopIfAny(fmt.Sprintf("kubectl --context=%[1]s get namespaces -l %[2]s -o name && kubectl --context=%[1]s get mutatingwebhookconfigurations -l %[3]s -o name",
				ctx, templates.Shell(mesh.RevLabel+"="+rev), templates.Shell("istio.io/tag,"+mesh.RevLabel+"="+rev)), note) + "; " +
				stopIfAnyAfter(fmt.Sprintf("kubectl --context=%s get pods -A -o %s", ctx, injected), note, revisionDrainSeconds)
			checks = append(checks, Step{Cluster: c.Name, Context: c.Context, Command: check})
			// istioctl knows a revision only by its injection webhook and
			// refuses one it cannot find: a run after the revision went
			// from this cluster skips the step, as helm's flag does.
			remove := fmt.Sprintf("{ hooks=$(kubectl --context=%[1]s get mutatingwebhookconfigurations -l %[2]s -o name) && { [ -z \"$hooks\" ] || istioctl uninstall -y --context=%[1]s --revision %[3]s; }; }",
				ctx, templates.Shell(mesh.RevLabel+"="+rev), templates.Shell(rev))
			if old.UsesHelm() {
				remove = fmt.Sprintf("helm uninstall %s --namespace %s --kube-context %s --ignore-not-found", templates.Shell(ReleaseIstiod+"-"+rev), IstioNamespace, ctx)
			}
			step := Step{Cluster: c.Name, Context: c.Context, Destructive: true, Command: guarded(c, remove)}
			if c.IsPrimary() {
				primaries = append(primaries, step)
			} else {
				remotes = append(remotes, step)
			}
		}
	}
	return slices.Concat(checks, remotes, primaries)
}

// defaultTagSteps move, on the istioctl path, the default tag istioctl
// created with the first revision it installed in each cluster (it injects
// namespaces labelled istio-injection=enabled) to the Mesh's revision,
// before a revision it may point at is removed.
func defaultTagSteps(old, new *mesh.Mesh) []Step {
	if new.UsesHelm() || !slices.ContainsFunc(old.InstalledRevisions(), func(r string) bool { return !slices.Contains(new.InstalledRevisions(), r) }) {
		return nil
	}
	var steps []Step
	for _, c := range new.Spec.Clusters {
		if old.Cluster(c.Name) == nil {
			continue
		}
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: fmt.Sprintf(
			"istioctl tag set default --revision %s --overwrite --context=%s", templates.Shell(new.Spec.Istio.Revision), templates.Shell(c.Context))})
	}
	return steps
}

// readerRBACSteps apply, with a named revision, each read cluster's
// remote-access/istio-reader.yaml: the reader service account, token and
// role (the union of what releases 1.24 to 1.31 read) that every primary's
// remote secret for it uses, whichever revision's istiod reads.
func readerRBACSteps(m *mesh.Mesh) []Step {
	if !m.Revisioned() {
		return nil
	}
	read := map[string]bool{}
	for _, s := range mesh.RemoteSecrets(m) {
		read[s.Source.Name] = true
	}
	var steps []Step
	for _, c := range m.Spec.Clusters {
		if !read[c.Name] {
			continue
		}
		f := path.Join(c.Name, RemoteAccessDir, ReaderAccessFile)
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, applies: []string{f},
			Command: fmt.Sprintf("kubectl --context=%s apply -f %s", templates.Shell(c.Context), templates.Shell(f))})
	}
	return steps
}
