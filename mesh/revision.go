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
