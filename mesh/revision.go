package mesh

// RevLabel is the label a namespace selects a control plane revision or
// revision tag with, and the label Istio gives every object of a revision.
const RevLabel = "istio.io/rev"

// DefaultRevision is the name Istio gives the control plane installed
// without a revision.
const DefaultRevision = "default"

// RevisionName is the revision the Mesh's control planes are installed as:
// spec.istio.revision, or "default".
func (m *Mesh) RevisionName() string {
	if m.Spec.Istio.Revision != "" {
		return m.Spec.Istio.Revision
	}
	return DefaultRevision
}

// Revisioned reports whether the control planes are installed as a named
// revision, beside which a canary of the next release can run.
func (m *Mesh) Revisioned() bool { return m.Spec.Istio.Revision != "" }

// IstiodService is the Service of the Mesh's istiod in istio-system:
// istiod, or istiod-<revision>. Sidecars, VMs and remotes reach istiod
// through it, and its DNS name is the SNI the east-west gateway routes by.
func (m *Mesh) IstiodService() string { return IstiodServiceOf(m.Spec.Istio.Revision) }

// IstiodServiceOf is the istiod Service of revision rev ("" for the
// default revision), as Istio's istiod chart names it.
func IstiodServiceOf(rev string) string {
	if rev == "" || rev == DefaultRevision {
		return "istiod"
	}
	return "istiod-" + rev
}

// IstiodHost is the DNS name of the Mesh's istiod Service.
func (m *Mesh) IstiodHost() string { return m.IstiodService() + ".istio-system.svc" }

// InstalledRevisions are the revisions the Mesh installs: its own, and the
// previous one an upgrade keeps beside it.
func (m *Mesh) InstalledRevisions() []string {
	revs := []string{m.RevisionName()}
	if p := m.Spec.Istio.Previous; p != nil {
		revs = append(revs, p.Revision)
	}
	return revs
}

// Previous is the Mesh as the previous revision's control planes see it:
// spec.istio is that revision's (without tags, which the Mesh's own
// revision renders); nil without a previous revision. Its control plane
// files are rendered from it.
func (m *Mesh) Previous() *Mesh {
	p := m.Spec.Istio.Previous
	if p == nil {
		return nil
	}
	prev := *m
	prev.Spec.Istio = Istio{Version: p.Version, Revision: p.Revision}
	prev.validator = m.Spec.Istio.Revision
	return &prev
}

// ValidatorRevision is the revision whose istiod Istio's default validating
// webhook calls (the charts' defaultRevision): the Mesh's own, also in the
// previous revision's install, so that reinstalling it never points the
// webhook back at the revision being replaced.
func (m *Mesh) ValidatorRevision() string {
	if m.validator != "" {
		return m.validator
	}
	return m.Spec.Istio.Revision
}

// StableRevision is the revision in charge while a canary is on trial: the
// previous revision while it runs beside the Mesh's own, else the Mesh's
// own. The base chart's default validating webhook (Helm's defaultRevision)
// calls it, as Istio's Helm canary guide switches defaultRevision only once
// the canary is done: istiod sets that webhook to fail closed and a Helm
// upgrade renders no failurePolicy, so it must always call an istiod that
// runs, and staged canary commits (GitOps) then never point it ahead of
// one. istioctl's default tag stays there too (change plans move it only
// when a revision goes).
func (m *Mesh) StableRevision() string {
	if p := m.Spec.Istio.Previous; p != nil {
		return p.Revision
	}
	return m.Spec.Istio.Revision
}

// HasPrevious reports whether the cluster also runs the previous revision.
func (p *Placement) HasPrevious() bool { return p.Mesh.Spec.Istio.Previous != nil }

// VersionOf is the Istio release of installed revision rev.
func (m *Mesh) VersionOf(rev string) string {
	if p := m.Spec.Istio.Previous; p != nil && p.Revision == rev {
		return p.Version
	}
	return m.Spec.Istio.Version
}

// Tag returns the revision tag called name, or nil.
func (m *Mesh) Tag(name string) *RevisionTag {
	for i := range m.Spec.Istio.Tags {
		if m.Spec.Istio.Tags[i].Name == name {
			return &m.Spec.Istio.Tags[i]
		}
	}
	return nil
}

// TagNames lists the revision tags in input order.
func (m *Mesh) TagNames() []string {
	names := make([]string, len(m.Spec.Istio.Tags))
	for i, t := range m.Spec.Istio.Tags {
		names[i] = t.Name
	}
	return names
}

// HasRevisionTags reports whether the cluster gets the mesh's revision
// tags: every cluster does, when the Mesh declares any (a remote's tags call
// its primary's istiod through the remote's istiod Service).
func (p *Placement) HasRevisionTags() bool { return len(p.Mesh.Spec.Istio.Tags) > 0 }

// Primaries lists the clusters that run istiod, in input order.
func (m *Mesh) Primaries() []*Cluster {
	var out []*Cluster
	for i := range m.Spec.Clusters {
		if m.Spec.Clusters[i].IsPrimary() {
			out = append(out, &m.Spec.Clusters[i])
		}
	}
	return out
}

// ServesRemotesAtOneAddress reports whether the primary's remotes reach
// its istiod at an address that cannot tell revisions apart: a hostname
// through its east-west gateway (their injection webhooks dial
// https://<hostname>:15017, one server name for every revision), or an
// istiod.address of its own, which fronts one istiod (MC078).
func (p *Placement) ServesRemotesAtOneAddress() bool {
	if !p.IsPrimary() || len(p.Remotes) == 0 {
		return false
	}
	own := p.Cluster.Istiod != nil && p.Cluster.Istiod.Address != ""
	return own || p.ExposesIstiod() && p.Cluster.IstiodHost() != ""
}
