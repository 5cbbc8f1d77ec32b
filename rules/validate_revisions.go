package rules

import (
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
		Protects: "A shared namespace whose tag (or revision) names no revision tag of spec.istio.tags, nor, in a Mesh without spec.istio.revision, the default revision.",
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
		Protects: "A change plan to another revision in a mesh whose remotes reach their primary's istiod by hostname through its east-west gateway.",
		Symptom:  "The remotes' injection webhooks dial one URL, https://<hostname>:15017, whose TLS server name is that hostname for both revisions: the gateway cannot tell which istiod a webhook call is for, and pod creation in the remotes goes to whichever revision's route Envoy matched first.",
	},
	{
		ID: "MC079", Name: "canary-jump",
		Protects: "A change plan whose new Mesh installs another revision at a release more than two minors away from the running one.",
		Symptom:  "Istio supports a canary upgrade across at most two minor releases: the new istiod reads CRDs, webhooks and remote clusters' objects written for a release it was never tested with, and proxies still on the old revision meet gateways and peers two releases away.",
	},
	{
		ID: "MC080", Name: "in-place-jump",
		Protects: "A change plan that upgrades the same revision in place across more than one minor release, or to an older release.",
		Symptom:  "Istio supports in-place upgrades one minor at a time and no in-place downgrade: every proxy reconnects to an istiod two releases newer (or older) than itself, whose configuration it may misread, with no old control plane left to roll back to.",
	},
	{
		ID: "MC081", Name: "primaries-skew",
		Protects: "A change plan after which, at some step, primaries run control planes more than one minor release apart: a canary across two minors in a mesh with several primaries.",
		Symptom:  "Each primary's istiod reads the other clusters with the reader role that cluster's own release grants: istiods of releases two apart disagree on what that role holds and on the objects they find, as mixed 1.28/1.29 meshes crashed on the configmaps 1.29 reads (istio/istio#59153).",
	},
	{
		ID: "MC082", Name: "tag-dropped",
		Protects: "A change plan whose new Mesh drops a revision tag that a shared namespace of the old Mesh selects.",
		Symptom:  "The plan prunes the tag's webhook: the namespace keeps istio.io/rev=<tag>, which no webhook selects any more, so its new pods start without sidecars.",
	},
	{
		ID: "MC083", Name: "revision-adopted",
		Protects: "A change plan between a control plane without a revision and one with (or the reverse).",
		Symptom:  "The default revision's webhooks select istio-injection=enabled, a revision's only istio.io/rev: without a plan that relabels every namespace (or sets the default tag and turns the default webhook off), pods move to the new control plane, or off the mesh, by whichever webhook answers.",
	},
}

// installedRevisions are the revisions the Mesh installs, by name.
func installedRevisions(m *mesh.Mesh) []string { return []string{m.RevisionName()} }

func checkUnknownTag(m *mesh.Mesh, report func(string, string, ...any)) {
	for i, n := range m.Spec.Namespaces {
		v := n.RevLabel()
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
	for _, r := range installedRevisions(m) {
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
		if t.Revision != m.Spec.Istio.Revision {
			report(path, "tag %q points at revision %q, which the Mesh does not install (it installs %q)", t.Name, t.Revision, m.Spec.Istio.Revision, diag.Suggested(m.Spec.Istio.Revision))
		}
	}
}

func checkRevisionNameClash(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Spec.Istio.Revision == mesh.DefaultRevision {
		report("spec.istio.revision", "\"default\" is Istio's name for the control plane without a revision: leave revision out for it, or name the revision after its release, as \"1-31\"")
	}
	seen := map[string]bool{}
	for i, t := range m.Spec.Istio.Tags {
		path := specPath("istio.tags", i, "name")
		switch {
		case t.Name == mesh.DefaultRevision:
			report(path, "meshc does not render the \"default\" tag, which also takes over namespaces labelled istio-injection=enabled; name the tag for what it means to workloads (prod, canary) and label the namespaces with it")
		case t.Name == m.Spec.Istio.Revision:
			report(path, "tag %q has the name of the revision spec.istio.revision installs; name tags for what they mean to workloads (prod, canary)", t.Name)
		case seen[t.Name]:
			report(path, "tag %q is declared twice", t.Name)
		}
		seen[t.Name] = true
	}
}
