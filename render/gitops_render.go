package render

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/templates"
)

// The GitOps tree's objects are built in Go and marshalled as
// sigs.k8s.io/yaml does (keys sorted, so the bytes are stable), not templated:
// they are mostly references between objects, which Go builds from one
// GitOpsUnit list and yaml quotes correctly. Only the namespace, a file the
// artifact table already renders, comes from its template.

// obj is one Kubernetes object or kustomization, as marshalled.
type obj = map[string]any

// gitopsRender writes the tree for m.Spec.GitOps. values returns a rendered
// file of the cluster tree by path (Flux's HelmReleases carry the values).
func gitopsRender(m *mesh.Mesh, values func(string) []byte) ([]output.File, error) {
	g := m.Spec.GitOps
	r := &gitopsWriter{m: m, g: g, watches: map[*mesh.Cluster][]*mesh.Cluster{}, remoteSecrets: map[*mesh.Cluster][]byte{}}
	for _, s := range mesh.RemoteSecrets(m) {
		r.watches[s.Reader] = append(r.watches[s.Reader], s.Source)
	}
	if err := r.header(); err != nil {
		return nil, err
	}
	units := GitOpsUnits(m)
	for _, u := range units {
		if err := r.unitDir(u, values); err != nil {
			return nil, fmt.Errorf("cluster %q: gitops unit %s: %w", u.Cluster.Name, u.Name, err)
		}
	}
	var fleet []string
	if g.Engine == mesh.EngineFlux {
		fleet = append(fleet, GitOpsSourcesFile)
		var repos []obj
		for _, repo := range chartRepositories(units) {
			repos = append(repos, fluxHelmRepository(repo))
		}
		r.add(path.Join(GitOpsDir, GitOpsFleetDir, GitOpsSourcesFile), repos...)
	} else {
		fleet = append(fleet, ArgoProjectFile)
		r.add(path.Join(GitOpsDir, GitOpsFleetDir, ArgoProjectFile), r.argoProject(units))
	}
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		var objs []obj
		for _, u := range units {
			if u.Cluster != c {
				continue
			}
			if g.Engine == mesh.EngineFlux {
				objs = append(objs, r.fluxKustomization(u))
			} else {
				objs = append(objs, r.argoApplication(u))
			}
		}
		name := c.Name + ".yaml"
		fleet = append(fleet, name)
		r.add(path.Join(GitOpsDir, GitOpsFleetDir, name), objs...)
	}
	r.add(path.Join(GitOpsDir, GitOpsFleetDir, KustomizationFile), kustomization(fleet))
	if g.Engine == mesh.EngineFlux {
		r.add(path.Join(GitOpsDir, GitOpsRootFile), r.fluxRoot()...)
	} else {
		r.add(path.Join(GitOpsDir, GitOpsRootFile), r.argoRoot())
	}
	return r.files, r.err
}

type gitopsWriter struct {
	m *mesh.Mesh
	g *mesh.GitOps
	// watches lists, per primary, the clusters it reads (RemoteSecrets).
	watches map[*mesh.Cluster][]*mesh.Cluster
	// remoteSecrets holds the bytes of each source cluster's remote secret.
	remoteSecrets map[*mesh.Cluster][]byte
	head          []byte
	files         []output.File
	err           error
}

func (r *gitopsWriter) header() error {
	var buf bytes.Buffer
	if err := templates.Set.ExecuteTemplate(&buf, "header.tmpl", struct{ Mesh *mesh.Mesh }{r.m}); err != nil {
		return fmt.Errorf("rendering gitops header: %w", err)
	}
	r.head = bytes.Clone(buf.Bytes())
	return nil
}

// add writes objs as one YAML stream, after the header.
func (r *gitopsWriter) add(p string, objs ...obj) {
	var b bytes.Buffer
	b.Write(r.head)
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		y, err := marshalYAML(o)
		if err != nil && r.err == nil {
			r.err = fmt.Errorf("%s: %w", p, err)
		}
		b.Write(y)
	}
	r.files = append(r.files, output.File{Path: p, Data: b.Bytes()})
}

// repoPath is p, a path in the output, as a path in the Git repository.
func (r *gitopsWriter) repoPath(p string) string { return path.Join(r.g.Path, p) }

// unitDir writes the kustomization a unit applies, and what it lists.
func (r *gitopsWriter) unitDir(u *GitOpsUnit, values func(string) []byte) error {
	dir := u.Dir()
	external := r.g.Secrets == mesh.SecretsExternal
	switch {
	case u.Name == UnitIstioSystem:
		var buf bytes.Buffer
		if err := templates.Set.ExecuteTemplate(&buf, "namespace.yaml.tmpl", r.m.Place(u.Cluster)); err != nil {
			return err
		}
		r.files = append(r.files, output.File{Path: path.Join(dir, NamespaceFile), Data: bytes.Clone(buf.Bytes())})
		res := []string{NamespaceFile}
		switch {
		case r.m.UsesCertManager():
			res = append(res, mesh.CAIssuerFile)
			r.files = append(r.files, output.File{Path: path.Join(dir, mesh.CAIssuerFile), Data: values(path.Join(u.Cluster.Name, mesh.CADir, mesh.CAIssuerFile))})
		case external:
			res = append(res, CACertsFile)
			r.add(path.Join(dir, CACertsFile), r.cacerts(u.Cluster))
		}
		r.add(path.Join(dir, KustomizationFile), kustomization(res))
	case u.Name == UnitManifests:
		// The cluster's manifests/ as they are, but for istio-system, which
		// the istio-system unit owns: one object, one owner.
		k := kustomization([]string{path.Join("../../../..", u.Cluster.Name, ManifestsDir)})
		k["patches"] = []obj{{"patch": "$patch: delete\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + IstioNamespace + "\n"}}
		r.add(path.Join(dir, KustomizationFile), k)
	case u.Name == UnitReaderRBAC:
		// The rendered file as it is: kustomize reads no file outside the
		// unit's directory but a kustomization's.
		r.files = append(r.files, output.File{Path: path.Join(dir, ReaderAccessFile), Data: values(path.Join(u.Cluster.Name, RemoteAccessDir, ReaderAccessFile))})
		r.add(path.Join(dir, KustomizationFile), kustomization([]string{ReaderAccessFile}))
	case u.Name == UnitRemoteSecrets:
		var res []string
		for _, source := range r.watches[u.Cluster] {
			name := RemoteSecretFile(source.Name)
			res = append(res, name)
			// The same file in every primary that reads source: P×(N−1)
			// files, marshalled N times.
			data, ok := r.remoteSecrets[source]
			if !ok {
				r.add(path.Join(dir, name), r.remoteSecret(source))
				data = r.files[len(r.files)-1].Data
				r.remoteSecrets[source] = data
			} else {
				r.files = append(r.files, output.File{Path: path.Join(dir, name), Data: data})
			}
		}
		r.add(path.Join(dir, KustomizationFile), kustomization(res))
	case u.Chart != nil && r.g.Engine == mesh.EngineFlux:
		hr, err := r.fluxHelmRelease(u, values(u.Chart.Path(u.Cluster.Name)))
		if err != nil {
			return err
		}
		r.add(path.Join(dir, HelmReleaseFile), hr)
		r.add(path.Join(dir, KustomizationFile), kustomization([]string{HelmReleaseFile}))
	}
	return nil
}

func kustomization(resources []string) obj {
	return obj{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}
}

// labels mark every engine object with its mesh, cluster and phase, for
// selectors and dashboards.
func (r *gitopsWriter) labels(u *GitOpsUnit) obj {
	return obj{"app.kubernetes.io/managed-by": "meshc", "meshc.dev/mesh": r.m.Metadata.Name,
		"meshc.dev/cluster": u.Cluster.Name, "meshc.dev/phase": u.Phase}
}

// SecretStoreKey is where, in the secret store, the ExternalSecrets read a
// cluster's cacerts (CACertsKey) or the kubeconfig a primary's istiod
// reads a source cluster with (RemoteSecretKey).
func CACertsKey(m *mesh.Mesh, cluster string) string {
	return m.Spec.MeshID + "/" + cluster + "/cacerts"
}

// RemoteSecretKey: see CACertsKey. Every primary reads a source cluster
// with the same kubeconfig, so the key names the source only.
func RemoteSecretKey(m *mesh.Mesh, source string) string {
	return m.Spec.MeshID + "/remote-secrets/" + source
}

// cacertsKeys are the cacerts Secret's keys, as meshc certs writes them and
// Istio's plug-in CA reads them.
var cacertsKeys = []string{"ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"}

func (r *gitopsWriter) externalSecret(name string, target obj, data []obj) obj {
	target["name"] = name
	target["creationPolicy"] = "Owner"
	return obj{
		"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
		"metadata": obj{"name": name, "namespace": IstioNamespace},
		"spec": obj{
			"refreshInterval": "1h",
			"secretStoreRef":  obj{"kind": "ClusterSecretStore", "name": r.g.SecretStore},
			"target":          target,
			"data":            data,
		},
	}
}

// cacerts is the ExternalSecret that makes a cluster's cacerts from the
// secret store: a reference, never the key.
func (r *gitopsWriter) cacerts(c *mesh.Cluster) obj {
	var data []obj
	for _, k := range cacertsKeys {
		data = append(data, obj{"secretKey": k, "remoteRef": obj{"key": CACertsKey(r.m, c.Name), "property": k}})
	}
	return r.externalSecret("cacerts", obj{}, data)
}

// remoteSecret is the ExternalSecret that makes, in a primary, the remote
// secret istioctl create-remote-secret would: labelled for istiod, one key
// named for the source cluster holding its kubeconfig.
func (r *gitopsWriter) remoteSecret(source *mesh.Cluster) obj {
	return r.externalSecret("istio-remote-secret-"+source.Name, obj{"template": obj{
		// Merge: the template adds istiod's label and annotation and keeps
		// the data the store returned.
		"mergePolicy": "Merge",
		"metadata": obj{
			"labels":      obj{"istio/multiCluster": "true"},
			"annotations": obj{"networking.istio.io/cluster": source.Name},
		},
	}}, []obj{{"secretKey": source.Name, "remoteRef": obj{"key": RemoteSecretKey(r.m, source.Name), "property": "kubeconfig"}}})
}

// argoApplication is a unit as an Argo CD Application: its sync wave is its
// phase's place in the plan.
func (r *gitopsWriter) argoApplication(u *GitOpsUnit) obj {
	dest := obj{"namespace": IstioNamespace}
	if u.Chart != nil {
		dest["namespace"] = u.Chart.Source.Namespace(r.m)
	}
	if r.g.Destination == mesh.DestinationAPIServer {
		dest["server"] = u.Cluster.APIServer
	} else {
		dest["name"] = u.Cluster.Name
	}
	spec := obj{
		"project":     r.m.Metadata.Name,
		"destination": dest,
		"syncPolicy": obj{
			"automated":   obj{"prune": true, "selfHeal": true},
			"syncOptions": []string{"ServerSideApply=true", "RespectIgnoreDifferences=true"},
			"retry":       obj{"limit": 10, "backoff": obj{"duration": "10s", "factor": 2, "maxDuration": "5m"}},
		},
	}
	if a := u.Chart; a != nil {
		spec["sources"] = []obj{
			{"repoURL": a.Source.Repo.URL, "chart": a.Chart, "targetRevision": a.Source.Version(a.meshOf(r.m)),
				"helm": obj{"releaseName": a.ReleaseIn(a.meshOf(r.m)), "valueFiles": []string{"$values/" + r.repoPath(a.Path(u.Cluster.Name))}}},
			{"repoURL": r.g.RepoURL, "targetRevision": r.g.Revision, "ref": "values"},
		}
		if rewritesWebhook(a) {
			spec["ignoreDifferences"] = []obj{{"group": "admissionregistration.k8s.io", "kind": "ValidatingWebhookConfiguration",
				"jqPathExpressions": []string{".webhooks[]?.failurePolicy"}}}
		}
	} else {
		spec["source"] = obj{"repoURL": r.g.RepoURL, "targetRevision": r.g.Revision, "path": r.repoPath(u.Dir())}
	}
	return obj{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": obj{"name": u.Object(), "namespace": ArgoCDNamespace, "labels": r.labels(u),
			"annotations": obj{"argocd.argoproj.io/sync-wave": strconv.Itoa(u.Wave())}},
		"spec": spec,
	}
}

// argoProject is the AppProject of the mesh's Applications: they may read
// only the fleet repository and Istio's charts and deploy only to the
// mesh's clusters. Cluster-scoped kinds are allowed (base installs CRDs,
// webhooks and ClusterRoles; manifests/ shared namespaces). Its wave puts it
// before every Application that names it.
func (r *gitopsWriter) argoProject(units []*GitOpsUnit) obj {
	sourceRepos := []string{r.g.RepoURL}
	for _, repo := range chartRepositories(units) {
		sourceRepos = append(sourceRepos, repo.URL)
	}
	var dests []obj
	for _, c := range r.m.Spec.Clusters {
		d := obj{"namespace": "*"}
		if r.g.Destination == mesh.DestinationAPIServer {
			d["server"] = c.APIServer
		} else {
			d["name"] = c.Name
		}
		dests = append(dests, d)
	}
	return obj{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": obj{"name": r.m.Metadata.Name, "namespace": ArgoCDNamespace,
			"labels":      obj{"app.kubernetes.io/managed-by": "meshc", "meshc.dev/mesh": r.m.Metadata.Name},
			"annotations": obj{"argocd.argoproj.io/sync-wave": strconv.Itoa(PhaseOrder(planPhases[0].id) - 1)}},
		"spec": obj{
			"description":              "Istio mesh " + r.m.Spec.MeshID + ", rendered by meshc from Mesh " + r.m.Metadata.Name,
			"sourceRepos":              sourceRepos,
			"destinations":             dests,
			"clusterResourceWhitelist": []obj{{"group": "*", "kind": "*"}},
		},
	}
}

// argoRoot is the app of apps: every cluster's Applications, from fleet/.
func (r *gitopsWriter) argoRoot() obj {
	return obj{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": obj{"name": r.m.Metadata.Name, "namespace": ArgoCDNamespace, "labels": obj{"app.kubernetes.io/managed-by": "meshc", "meshc.dev/mesh": r.m.Metadata.Name}},
		"spec": obj{
			"project":     "default",
			"source":      obj{"repoURL": r.g.RepoURL, "targetRevision": r.g.Revision, "path": r.repoPath(path.Join(GitOpsDir, GitOpsFleetDir))},
			"destination": obj{"server": "https://kubernetes.default.svc", "namespace": ArgoCDNamespace},
			"syncPolicy":  obj{"automated": obj{"prune": true, "selfHeal": true}},
		},
	}
}

func (r *gitopsWriter) kubeConfig(c *mesh.Cluster) obj {
	return obj{"secretRef": obj{"name": c.Name + "-kubeconfig", "key": "value"}}
}

// fluxKustomization is a unit as a Flux Kustomization on the management
// cluster. A chart unit applies its HelmRelease there and is ready when the
// release is (a health check); the others apply to the cluster through its
// kubeconfig, and wait for what they apply where later units need it
// (ExternalSecrets synced, or cert-manager's Certificate issued: cacerts
// before istiod).
func (r *gitopsWriter) fluxKustomization(u *GitOpsUnit) obj {
	spec := obj{
		"interval":  "10m",
		"timeout":   "10m",
		"path":      "./" + r.repoPath(u.Dir()),
		"prune":     true,
		"sourceRef": obj{"kind": "GitRepository", "name": r.m.Metadata.Name},
	}
	if len(u.DependsOn) > 0 {
		deps := make([]obj, len(u.DependsOn))
		for i, d := range u.DependsOn {
			deps[i] = obj{"name": d}
		}
		spec["dependsOn"] = deps
	}
	if u.Chart != nil {
		spec["healthChecks"] = []obj{{"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "name": u.Object(), "namespace": FluxNamespace}}
	} else {
		spec["kubeConfig"] = r.kubeConfig(u.Cluster)
		// With cert-manager, the istio-system unit is ready when cacerts is
		// issued (the Certificate's Ready condition).
		if u.Name != UnitManifests && (r.g.Secrets == mesh.SecretsExternal || u.Name == UnitIstioSystem && r.m.UsesCertManager()) {
			spec["wait"] = true
		}
	}
	return obj{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": obj{"name": u.Object(), "namespace": FluxNamespace, "labels": r.labels(u)},
		"spec":     spec,
	}
}

// fluxHelmRelease installs a chart unit into its cluster through the
// cluster's kubeconfig, with the values of the unit's values file (the same
// bytes render writes to helm/). helm's --wait as in the plan.
func (r *gitopsWriter) fluxHelmRelease(u *GitOpsUnit, valuesFile []byte) (obj, error) {
	a := u.Chart
	var values obj
	if err := yaml.Unmarshal(valuesFile, &values); err != nil {
		return nil, fmt.Errorf("reading %s: %w", a.Path(u.Cluster.Name), err)
	}
	ns := a.Source.Namespace(r.m)
	spec := obj{
		"interval":         "10m",
		"releaseName":      a.ReleaseIn(a.meshOf(r.m)),
		"targetNamespace":  ns,
		"storageNamespace": ns,
		"kubeConfig":       r.kubeConfig(u.Cluster),
		"chart": obj{"spec": obj{"chart": a.Chart, "version": a.Source.Version(a.meshOf(r.m)),
			"sourceRef": obj{"kind": "HelmRepository", "name": a.Source.Repo.Name}}},
		"install": obj{"disableWait": !a.Wait, "remediation": obj{"retries": 3}},
		"upgrade": obj{"disableWait": !a.Wait, "remediation": obj{"retries": 3}},
	}
	if len(values) > 0 {
		spec["values"] = values
	}
	if rewritesWebhook(a) {
		spec["driftDetection"] = obj{"mode": "enabled", "ignore": []obj{{
			"paths": []string{"/webhooks/0/failurePolicy"}, "target": obj{"kind": "ValidatingWebhookConfiguration"}}}}
	}
	return obj{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": obj{"name": u.Object(), "namespace": FluxNamespace, "labels": r.labels(u)},
		"spec":     spec,
	}, nil
}

func fluxHelmRepository(repo HelmRepository) obj {
	return obj{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
		"metadata": obj{"name": repo.Name, "namespace": FluxNamespace},
		"spec":     obj{"interval": "1h", "url": repo.URL},
	}
}

// chartRepositories are the Helm repositories the chart units install
// from, Istio's first, each once.
func chartRepositories(units []*GitOpsUnit) []HelmRepository {
	repos := []HelmRepository{istioCharts.Repo}
	for _, u := range units {
		if u.Chart != nil && !slices.Contains(repos, u.Chart.Source.Repo) {
			repos = append(repos, u.Chart.Source.Repo)
		}
	}
	return repos
}

// fluxRef is the GitRepository ref that checks out revision: Flux reads
// ref.branch as a branch name only, so a full commit ID (SHA-1 or SHA-256,
// which no branch is named by convention) is its ref.commit.
func fluxRef(revision string) obj {
	if fullCommit.MatchString(revision) {
		return obj{"commit": revision}
	}
	return obj{"branch": revision}
}

var fullCommit = regexp.MustCompile(`^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$`)

// fluxRoot is what bootstraps Flux on the management cluster: the Git
// repository and the Kustomization that applies fleet/.
func (r *gitopsWriter) fluxRoot() []obj {
	name := r.m.Metadata.Name
	meta := obj{"name": name, "namespace": FluxNamespace, "labels": obj{"app.kubernetes.io/managed-by": "meshc", "meshc.dev/mesh": name}}
	repo := obj{"interval": "5m", "url": r.g.RepoURL, "ref": fluxRef(r.g.Revision)}
	if strings.HasPrefix(r.g.RepoURL, "ssh://") {
		// Flux clones over SSH only with a key and known hosts: the
		// bootstrap creates this Secret (flux create secret git).
		repo["secretRef"] = obj{"name": GitCredentialsSecret(r.m)}
	}
	return []obj{
		{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": meta, "spec": repo},
		{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": meta,
			"spec": obj{"interval": "10m", "path": "./" + r.repoPath(path.Join(GitOpsDir, GitOpsFleetDir)), "prune": true,
				"sourceRef": obj{"kind": "GitRepository", "name": name}}},
	}
}

// GitCredentialsSecret names, for Flux and an ssh:// repository, the Secret
// with the deploy key the GitRepository clones with.
func GitCredentialsSecret(m *mesh.Mesh) string { return m.Metadata.Name + "-git" }
