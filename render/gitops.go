package render

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/templates"
)

// Names of the GitOps tree, spec.gitops's output. gitops/ sits next to the
// cluster directories in the output, so its kustomizations reach each
// cluster's manifests/ by a relative path, wherever the output is committed.
const (
	GitOpsDir = "gitops"
	// GitOpsRootFile is what bootstraps the engine: Argo CD's root
	// Application, or Flux's GitRepository and root Kustomization.
	GitOpsRootFile = "root.yaml"
	// GitOpsFleetDir holds, per cluster, the engine's objects (Argo CD
	// Applications; Flux Kustomizations) and a kustomization of them all,
	// which the root applies to the management cluster.
	GitOpsFleetDir = "fleet"
	// GitOpsClustersDir holds, per cluster and unit, the kustomization the
	// unit applies.
	GitOpsClustersDir = "clusters"
	// GitOpsSourcesFile is, for Flux, Istio's HelmRepository.
	GitOpsSourcesFile = "sources.yaml"
	// ArgoProjectFile is, for Argo CD, the AppProject of the mesh's
	// Applications.
	ArgoProjectFile = "project.yaml"
	// CACertsFile is, in a cluster's istio-system unit, the ExternalSecret
	// of its cacerts.
	CACertsFile = "cacerts.yaml"
	// HelmReleaseFile is, for Flux, a Helm unit's HelmRelease.
	HelmReleaseFile = "helmrelease.yaml"

	// ArgoCDNamespace and FluxNamespace are where the engines' objects live
	// on the management cluster: each engine's default install namespace.
	ArgoCDNamespace = "argocd"
	FluxNamespace   = "flux-system"
	// HelmRepositoryObject names Flux's HelmRepository of Istio's charts.
	HelmRepositoryObject = HelmRepoName
)

// Unit names that are not Helm releases.
const (
	// UnitIstioSystem: istio-system and, with external-secrets, cacerts.
	UnitIstioSystem = "istio-system"
	// UnitManifests: the cluster's manifests/ but for its namespace.
	UnitManifests = "manifests"
	// UnitRemoteSecrets: a primary's remote secrets, as ExternalSecrets.
	UnitRemoteSecrets = "remote-secrets"
	// UnitReaderRBAC: with a named revision, the reader role of every
	// release in a cluster a primary reads (PhaseReaderRBAC).
	UnitReaderRBAC = "reader-rbac"
)

// GitOpsUnit is one thing the engine applies to one cluster and orders
// against the others: an Argo CD Application, a Flux Kustomization. Units
// come from the artifact table, a cluster's rows with a phase of their own
// (its namespace, each chart, its manifests/ kustomization), plus the two
// phases the plan runs without a rendered file: cacerts (in the istio-system
// unit) and remote secrets. Their order is the plan's.
type GitOpsUnit struct {
	Cluster *mesh.Cluster
	// Name is the unit's name within its cluster: UnitIstioSystem,
	// UnitManifests, UnitRemoteSecrets or a Helm release.
	Name  string
	Phase string
	// Chart is the Helm row of a chart unit; nil otherwise.
	Chart *Artifact
	// DependsOn are the object names of the units that must be ready
	// first: those of the latest earlier phase in the unit's cluster and,
	// for a remote's install (phase remotes and later), in its primary.
	DependsOn []string
}

// Object is the unit's object name on the management cluster: unique across
// the mesh.
func (u *GitOpsUnit) Object() string { return u.Cluster.Name + "-" + u.Name }

// Wave is the unit's Argo CD sync wave: its phase's position in the plan.
func (u *GitOpsUnit) Wave() int { return PhaseOrder(u.Phase) }

// Dir is the unit's kustomization in the output, for units that have one
// (every unit but Argo CD's chart units, which read the chart repository).
func (u *GitOpsUnit) Dir() string {
	return path.Join(GitOpsDir, GitOpsClustersDir, u.Cluster.Name, u.Name)
}

// PhaseOrder is the position of phase in the plan's phases.
func PhaseOrder(phase string) int {
	return slices.IndexFunc(planPhases, func(p struct{ id, title string }) bool { return p.id == phase })
}

// GitOpsUnits lists the units of every cluster, cluster by cluster in input
// order, each cluster's in phase order. The mesh must have passed Validate.
func GitOpsUnits(m *mesh.Mesh) []*GitOpsUnit {
	external := m.Spec.GitOps != nil && m.Spec.GitOps.Secrets == mesh.SecretsExternal
	read := map[string]bool{}
	for _, s := range readerRBACSteps(m) {
		read[s.Cluster] = true
	}
	byCluster := map[string][]*GitOpsUnit{}
	var all []*GitOpsUnit
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		p := m.Place(c)
		var units []*GitOpsUnit
		for _, a := range ArtifactsFor(p) {
			switch a.Apply {
			case Kubectl:
				if a.Dir == mesh.CADir {
					continue // in the istio-system unit (gitopsWriter.unitDir)
				}
				units = append(units, &GitOpsUnit{Cluster: c, Name: UnitIstioSystem, Phase: a.Phase})
			case Helm:
				// istiod's unit is named for its revision's release: a
				// revision keeps its Application or HelmRelease while an
				// upgrade adds the next beside it and, later, drops it.
				units = append(units, &GitOpsUnit{Cluster: c, Name: a.ReleaseIn(a.meshOf(m)), Phase: a.Phase, Chart: a})
			case Kustomize:
				// Without its namespace (the istio-system unit's), a
				// manifests/ of nothing else is no unit.
				if len(Resources(p)) > 1 {
					units = append(units, &GitOpsUnit{Cluster: c, Name: UnitManifests, Phase: a.Phase})
				}
			}
		}
		if read[c.Name] {
			units = append(units, &GitOpsUnit{Cluster: c, Name: UnitReaderRBAC, Phase: PhaseReaderRBAC})
		}
		if external && c.IsPrimary() && len(m.Spec.Clusters) > 1 {
			units = append(units, &GitOpsUnit{Cluster: c, Name: UnitRemoteSecrets, Phase: PhaseRemoteSecrets})
		}
		slices.SortStableFunc(units, func(a, b *GitOpsUnit) int { return a.Wave() - b.Wave() })
		byCluster[c.Name] = units
		all = append(all, units...)
	}
	for _, u := range all {
		clusters := []string{u.Cluster.Name}
		if !u.Cluster.IsPrimary() && u.Wave() >= PhaseOrder(PhaseRemotes) {
			clusters = append(clusters, u.Cluster.ControlPlane)
		}
		for _, c := range clusters {
			u.DependsOn = append(u.DependsOn, latestBefore(byCluster[c], u.Wave())...)
		}
	}
	return all
}

// latestBefore names the units of the latest phase before wave.
func latestBefore(units []*GitOpsUnit, wave int) []string {
	best := -1
	for _, u := range units {
		if w := u.Wave(); w < wave && w > best {
			best = w
		}
	}
	var names []string
	for _, u := range units {
		if u.Wave() == best {
			names = append(names, u.Object())
		}
	}
	return names
}

// rewritesWebhook reports whether a chart installs a validating webhook
// whose failurePolicy istiod rewrites at run time (to Fail, once it is
// ready): base's istiod-default-validator and istiod's own. Engines must
// not call that drift.
func rewritesWebhook(a *Artifact) bool { return a.Chart == ChartBase || a.Chart == ChartIstiod }

// GitOpsBootstrap is, in the plan of a Mesh with spec.gitops, how to hand
// the mesh to the engine instead of running the phases: register every
// cluster with the engine, commit the output, apply the root.
type GitOpsBootstrap struct {
	Engine   string `json:"engine"`
	RepoURL  string `json:"repoURL"`
	Path     string `json:"path"`
	Revision string `json:"revision"`
	// Secrets is spec.gitops.secrets; SecretStore its store.
	Secrets     string `json:"secrets"`
	SecretStore string `json:"secretStore,omitempty"`
	// Register gives the engine each cluster, on the management cluster.
	Register []Step `json:"register"`
	// RepositoryCredentials is, for Flux and an ssh:// repository, the
	// command that stores the deploy key the GitRepository clones with.
	RepositoryCredentials string `json:"repositoryCredentials,omitempty"`
	RepositorySecret      string `json:"repositorySecret,omitempty"`
	// Root is the file that, applied to the management cluster, installs
	// the mesh: the root Application or Flux's GitRepository and
	// Kustomization.
	Root string `json:"root"`
	// Namespace is where the engine runs on the management cluster.
	Namespace string `json:"namespace"`
	// Keys are the secret store's entries the ExternalSecrets read.
	Keys []string `json:"keys,omitempty"`
}

// ManagementContextVar is the kubeconfig context of the cluster the
// GitOps engine runs on, in the bootstrap commands.
const ManagementContextVar = "MANAGEMENT_CONTEXT"

// gitopsBootstrap is m's bootstrap; nil without spec.gitops.
func gitopsBootstrap(m *mesh.Mesh) *GitOpsBootstrap {
	g := m.Spec.GitOps
	if g == nil {
		return nil
	}
	b := &GitOpsBootstrap{Engine: g.Engine, RepoURL: g.RepoURL, Path: g.Path, Revision: g.Revision, Secrets: g.Secrets,
		Root: path.Join(GitOpsDir, GitOpsRootFile), Namespace: ArgoCDNamespace}
	if g.Engine == mesh.EngineFlux {
		b.Namespace = FluxNamespace
	}
	for _, c := range m.Spec.Clusters {
		ctx := templates.Shell(c.Context)
		var cmd string
		switch {
		case g.Engine == mesh.EngineFlux:
			cmd = fmt.Sprintf(`kubectl --context="${%s}" -n %s create secret generic %s-kubeconfig --from-file=value=%s.kubeconfig`,
				ManagementContextVar, FluxNamespace, c.Name, templates.Shell(c.Name))
		case g.Destination == mesh.DestinationAPIServer:
			cmd = fmt.Sprintf("argocd cluster add %s --yes   # must register %s", ctx, templates.Shell(c.APIServer))
		default:
			cmd = fmt.Sprintf("argocd cluster add %s --name %s --yes", ctx, templates.Shell(c.Name))
		}
		b.Register = append(b.Register, Step{Cluster: c.Name, Context: c.Context, Command: cmd})
	}
	if g.Engine == mesh.EngineFlux && strings.HasPrefix(g.RepoURL, "ssh://") {
		b.RepositorySecret = GitCredentialsSecret(m)
		b.RepositoryCredentials = fmt.Sprintf(
			`flux create secret git %s --context="${%s}" --namespace=%s --url=%s --private-key-file=deploy-key`,
			GitCredentialsSecret(m), ManagementContextVar, FluxNamespace, templates.Shell(g.RepoURL))
	}
	if g.Secrets == mesh.SecretsExternal {
		b.SecretStore = g.SecretStore
		for _, c := range m.Spec.Clusters {
			if !m.UsesCertManager() {
				b.Keys = append(b.Keys, CACertsKey(m, c.Name))
			}
		}
		seen := map[string]bool{}
		for _, s := range mesh.RemoteSecrets(m) {
			if !seen[s.Source.Name] {
				seen[s.Source.Name] = true
				b.Keys = append(b.Keys, RemoteSecretKey(m, s.Source.Name))
			}
		}
	}
	return b
}

// RegisterScript is the register commands, one per line.
func (b *GitOpsBootstrap) RegisterScript() string { return Phase{Steps: b.Register}.Script() }

// ApplyRoot is the command that hands the mesh to the engine.
func (b *GitOpsBootstrap) ApplyRoot() string {
	return fmt.Sprintf(`kubectl --context="${%s}" apply -f %s`, ManagementContextVar, b.Root)
}
