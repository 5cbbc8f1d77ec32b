package rules

import (
	"slices"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// revisionRules check the control plane's revision, its tags and the
// namespaces that select them (docs/upgrade.md). The change-plan rules
// (MC080 to MC083) compare two Meshes: BuildChangePlan applies them, and
// their cases are change cases (compiler/testdata/changes).
var revisionRules = []Rule{
	{
		ID: "MC074", Name: "unknown-tag",
		Protects: "A shared namespace whose tag (or revision) names no revision tag of spec.istio.tags, nor, in a Mesh without spec.istio.revision, the default revision; or, in a Mesh with spec.istio.revision, an injected shared namespace that selects no tag at all.",
		Symptom:  "No injection webhook selects istio.io/rev=<name>, and the label turns istio-injection off: the namespace's pods start without sidecars and silently leave the mesh (no mTLS, no cross-cluster routing).",
		check:    checkUnknownTag,
	},
	{
		ID: "MC075", Name: "namespace-revision-label",
		Protects: "A shared namespace labelled with a revision's name (istio.io/rev: <revision>) instead of a revision tag.",
		Symptom:  "The revision's own webhook keeps injecting the namespace when an upgrade moves the tags: its pods stay on the old control plane, and once that revision is removed they are created without sidecars, or not at all while its webhook is half gone.",
		check:    checkNamespaceRevisionLabel,
	},
	{
		ID: "MC076", Name: "tag-without-revision",
		Protects: "A revision tag that points at a revision the Mesh does not install (not spec.istio.revision), or tags in a Mesh without spec.istio.revision.",
		Symptom:  "The tag's webhook calls istiod-<revision>, a Service that does not exist: with the webhook's failurePolicy Fail, every pod created in a namespace with the tag is refused (failed calling webhook ... service not found).",
		check:    checkTagWithoutRevision,
	},
	{
		ID: "MC077", Name: "revision-name-clash",
		Protects: "A revision tag named like the revision it stands beside, two tags of one name, or \"default\" as the name of a revision or a tag.",
		Symptom:  "Two webhooks select istio.io/rev=<name> (the revision's and the tag's), or the second tag's webhook replaces the first's: pods are injected twice and fail to start, or a namespace follows a revision nobody meant; istioctl tag set refuses a tag named like a revision for that reason. \"default\" is Istio's name for the control plane without a revision, and its tag also takes over istio-injection=enabled namespaces, which meshc does not render.",
		check:    checkRevisionNameClash,
	},
	// Rules across two Meshes: BuildChangePlan refuses with them.
	{
		ID: "MC078", Name: "canary-istiod-hostname",
		Protects: "A change plan to another revision, or a Mesh with a previous revision, where remotes reach their primary's istiod at one address for every revision: a hostname through its east-west gateway, or an istiod.address of its own.",
		Symptom:  "The remotes' injection webhooks dial one URL, https://<hostname>:15017, whose TLS server name is that hostname for both revisions: the gateway cannot tell which istiod a webhook call is for, and pod creation in the remotes goes to whichever revision's route Envoy matched first.",
		check:    checkCanaryIstiodHostname,
	},
	{
		ID: "MC079", Name: "canary-jump",
		Protects: "A change plan whose new Mesh installs another revision at a release more than two minors away from the running one, or a Mesh whose previous revision is that far from its own.",
		Symptom:  "Istio supports a canary upgrade across at most two minor releases: the new istiod reads CRDs, webhooks and remote clusters' objects written for a release it was never tested with, and proxies still on the old revision meet gateways and peers two releases away.",
		check:    checkCanaryJump,
	},
	{
		ID: "MC080", Name: "in-place-jump",
		Protects: "A change plan that upgrades the same revision in place across more than one minor release, or to an older release.",
		Symptom:  "Istio supports in-place upgrades one minor at a time and no in-place downgrade: every proxy reconnects to an istiod two releases newer (or older) than itself, whose configuration it may misread, with no old control plane left to roll back to.",
	},
	{
		ID: "MC081", Name: "primaries-skew",
		Protects: "A change plan after which, at some step, primaries run control planes more than one minor release apart: a canary across two minors in a mesh with several primaries (or such a Mesh with a previous revision).",
		Symptom:  "Each primary's istiod reads the other clusters with the reader role that cluster's own release grants: istiods of releases two apart disagree on what that role holds and on the objects they find, as mixed 1.28/1.29 meshes crashed on the configmaps 1.29 reads (istio/istio#59153).",
		check:    checkPrimariesSkew,
	},
	{
		ID: "MC082", Name: "tag-dropped",
		Protects: "A change plan whose new Mesh drops a revision tag that a shared namespace of the old Mesh selects.",
		Symptom:  "The plan prunes the tag's webhook: the namespace keeps istio.io/rev=<tag>, which no webhook selects any more, so its new pods start without sidecars.",
	},
	{
		ID: "MC083", Name: "revision-adopted",
		Protects: "A change plan between a control plane without a revision and one with (or the reverse), or a previous revision beside the default one.",
		Symptom:  "The default revision's webhooks select istio-injection=enabled, a revision's only istio.io/rev: without a plan that relabels every namespace (or sets the default tag and turns the default webhook off), pods move to the new control plane, or off the mesh, by whichever webhook answers.",
		check:    checkRevisionAdopted,
	},
	{
		ID: "MC100", Name: "canary-vms",
		Protects: "A Mesh with a previous revision, or a change plan to another revision, in a mesh with workloadGroups (virtual machines).",
		Symptom:  "A VM's files name one revision's istiod (discoveryAddress, CA_ADDR) and follow no revision tag: a VM not reinstalled keeps dialing the old revision, which the plan removes, and its sidecar loses its configuration and certificates without warning.",
		check:    checkCanaryVMs,
	},
}

func checkUnknownTag(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, n := range m.Spec.Namespaces {
		v := n.RevLabel()
		if v == "" && m.Revisioned() && n.IstioInjection != "disabled" {
			// istio-injection=enabled: on the Helm path no webhook selects
			// it beside a revision; on the istioctl path only the default
			// tag istioctl makes, which meshc does not manage.
			report(namespacePath(i, "name"), "namespace %q selects no tag, and beside revision %q istio-injection=enabled injects it only through a default tag meshc does not render: select one of the tags (%s), or set istioInjection: disabled", n.Name, m.Spec.Istio.Revision, diag.ListNames(m.TagNames()))
			continue
		}
		if v == "" || m.Tag(v) != nil || isRevision(m, v) {
			continue // isRevision: MC075
		}
		if v == mesh.DefaultRevision && !m.Revisioned() {
			continue
		}
		field := "tag"
		if n.Tag == "" {
			field = "revision"
		}
		tags := m.TagNames()
		switch {
		case len(tags) > 0:
			report(namespacePath(i, field), "namespace %q selects %q, which is no revision tag (tags: %s)", n.Name, v, diag.ListNames(tags), diag.Suggested(diag.Suggest(v, tags)))
		case m.Revisioned():
			report(namespacePath(i, field), "namespace %q selects %q, but the Mesh declares no revision tags: add one to spec.istio.tags pointing at revision %q, and select it with tag", n.Name, v, m.Spec.Istio.Revision)
		default:
			report(namespacePath(i, field), "namespace %q selects revision %q, but the Mesh installs only the default revision: use istioInjection, revision: default, or give spec.istio a revision and tags", n.Name, v)
		}
	}
}

func isRevision(m *mesh.Mesh, name string) bool {
	for _, r := range m.InstalledRevisions() {
		if r == name && r != mesh.DefaultRevision {
			return true
		}
	}
	for _, t := range m.Spec.Istio.Tags {
		if t.Revision == name && m.Tag(name) == nil {
			return true
		}
	}
	return false
}

func checkNamespaceRevisionLabel(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, n := range m.Spec.Namespaces {
		v := n.RevLabel()
		if v == "" || m.Tag(v) != nil || !isRevision(m, v) {
			continue
		}
		field := "tag"
		if n.Tag == "" {
			field = "revision"
		}
		var pointing []string
		for _, t := range m.Spec.Istio.Tags {
			if t.Revision == v {
				pointing = append(pointing, t.Name)
			}
		}
		if len(pointing) > 0 {
			report(namespacePath(i, field), "namespace %q is labelled with revision %q itself: an upgrade moves tags, not namespaces; select a tag that points at it (%s)", n.Name, v, diag.ListNames(pointing), diag.Suggested(pointing[0]))
			continue
		}
		report(namespacePath(i, field), "namespace %q is labelled with revision %q itself: an upgrade moves tags, not namespaces; declare a tag in spec.istio.tags that points at %q and select it", n.Name, v, v)
	}
}

func checkTagWithoutRevision(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, t := range m.Spec.Istio.Tags {
		path := specPath("istio.tags", i, "revision")
		if !m.Revisioned() {
			report(path, "tag %q points at revision %q, but the Mesh installs the default revision: set spec.istio.revision to install a named one", t.Name, t.Revision)
			continue
		}
		if revs := m.InstalledRevisions(); !slices.Contains(revs, t.Revision) {
			report(path, "tag %q points at revision %q, which the Mesh does not install (it installs %s)", t.Name, t.Revision, diag.ListNames(revs), diag.Suggested(diag.Suggest(t.Revision, revs)))
		}
	}
}

func checkRevisionNameClash(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Spec.Istio.Revision == mesh.DefaultRevision {
		report("spec.istio.revision", "\"default\" is Istio's name for the control plane without a revision: leave revision out for it, or name the revision after its release, as \"1-31\"")
	}
	if p := m.Spec.Istio.Previous; p != nil && (p.Revision == m.Spec.Istio.Revision || p.Revision == mesh.DefaultRevision) {
		report("spec.istio.previous.revision", "the previous revision is named %q, like %s: each control plane needs a revision name of its own", p.Revision, map[bool]string{true: "the revision spec.istio.revision installs", false: "Istio's control plane without a revision"}[p.Revision == m.Spec.Istio.Revision])
	}
	seen := map[string]bool{}
	for i, t := range m.Spec.Istio.Tags {
		path := specPath("istio.tags", i, "name")
		switch {
		case t.Name == mesh.DefaultRevision:
			report(path, "meshc does not render the \"default\" tag, which also takes over namespaces labelled istio-injection=enabled; name the tag for what it means to workloads (prod, canary) and label the namespaces with it")
		case slices.Contains(m.InstalledRevisions(), t.Name):
			report(path, "tag %q has the name of a revision the Mesh installs; name tags for what they mean to workloads (prod, canary)", t.Name)
		case seen[t.Name]:
			report(path, "tag %q is declared twice", t.Name)
		}
		seen[t.Name] = true
	}
}

// previousGap is the number of minor releases between the Mesh's revision
// and its previous one; 0 without a previous revision.
func previousGap(m *mesh.Mesh) int {
	p := m.Spec.Istio.Previous
	if p == nil {
		return 0
	}
	d := m.IstioMinor() - mesh.MinorOf(p.Version)
	if d < 0 {
		return -d
	}
	return d
}

func checkCanaryJump(m *mesh.Mesh, report func(string, string, ...any)) {
	if d := previousGap(m); d > 2 {
		report("spec.istio.previous.version", "the previous revision runs Istio %s, %d minor releases from %s: a canary upgrade spans at most two", m.Spec.Istio.Previous.Version, d, m.Spec.Istio.Version)
	}
}

func checkPrimariesSkew(m *mesh.Mesh, report func(string, string, ...any)) {
	if d := previousGap(m); d == 2 && len(m.Primaries()) > 1 {
		report("spec.istio.previous.version", "the previous revision runs Istio %s, two minor releases from %s, and with several primaries each would run a control plane of both while they read each other's clusters; canary through 1.%d first", m.Spec.Istio.Previous.Version, m.Spec.Istio.Version, min(m.IstioMinor(), mesh.MinorOf(m.Spec.Istio.Previous.Version))+1)
	}
}

func checkRevisionAdopted(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Spec.Istio.Previous != nil && !m.Revisioned() {
		report("spec.istio.previous", "a previous revision beside the default one: the default revision selects namespaces by istio-injection, a revision by its tags, and meshc does not relabel them; give spec.istio a revision")
	}
}

func checkCanaryIstiodHostname(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Spec.Istio.Previous == nil {
		return
	}
	for i := range m.Spec.Clusters {
		p := m.Place(&m.Spec.Clusters[i])
		if p != nil && p.ServesRemotesAtOneAddress() {
			field := "eastWestGateway.address"
			if c := p.Cluster; c.Istiod != nil && c.Istiod.Address != "" {
				field = "istiod.address"
			}
			report(clusterPath(i, field), "primary %q serves its remotes at %s, one address for both revisions: the remotes' proxies and webhooks cannot reach each revision's istiod apart; serve them through the east-west gateway at an IP address for the upgrade", p.Cluster.Name, diag.Quote(p.Cluster.IstiodAddress()))
		}
	}
}

func checkCanaryVMs(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Spec.Istio.Previous != nil && len(m.Spec.WorkloadGroups) > 0 {
		report("spec.istio.previous", "a previous revision in a mesh with workload groups: a VM's files name one revision's istiod and follow no tag, and meshc does not plan VMs through a canary; upgrade in place, or move the VMs out of the mesh first")
	}
}
