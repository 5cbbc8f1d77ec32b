package conformance

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	fluxmeta "github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	apiservercel "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// The CRDs of the engines' objects that have no Go API module this suite
// can import (Argo CD's pulls in its gitops-engine; External Secrets' its
// providers), at the versions testdata/crds/README.md names.
//
//go:embed testdata/crds/*.yaml
var crdFiles embed.FS

// crdSchema validates objects of one CRD version as the API server does:
// defaulting, then the structural schema's types, enums, patterns, sizes
// (maxItems and the like) and required fields, the list types
// (x-kubernetes-list-type set and map: unique items and keys) and the CEL
// rules (x-kubernetes-validations), and pruning, which here is a finding
// (an unknown field the server would drop).
type crdSchema struct {
	structural *structuralschema.Structural
	validator  validation.SchemaValidator
	cel        *apiservercel.Validator // nil when the schema has no CEL rules
}

var (
	crdOnce    sync.Once
	crdSchemas map[string]*crdSchema // by apiVersion + " " + kind
	crdErr     error
)

func loadCRDs() (map[string]*crdSchema, error) {
	crdOnce.Do(func() {
		crdSchemas = map[string]*crdSchema{}
		entries, err := fs.Glob(crdFiles, "testdata/crds/*.yaml")
		if err != nil {
			crdErr = err
			return
		}
		for _, e := range entries {
			data, err := crdFiles.ReadFile(e)
			if err != nil {
				crdErr = err
				return
			}
			var crd apiextensionsv1.CustomResourceDefinition
			if err := yaml.Unmarshal(data, &crd); err != nil {
				crdErr = fmt.Errorf("%s: %w", e, err)
				return
			}
			for _, v := range crd.Spec.Versions {
				if !v.Served || v.Schema == nil {
					continue
				}
				var internal apiextensions.JSONSchemaProps
				if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
					crdErr = fmt.Errorf("%s %s: %w", e, v.Name, err)
					return
				}
				s, err := structuralschema.NewStructural(&internal)
				if err != nil {
					crdErr = fmt.Errorf("%s %s: %w", e, v.Name, err)
					return
				}
				val, _, err := validation.NewSchemaValidator(&internal)
				if err != nil {
					crdErr = fmt.Errorf("%s %s: %w", e, v.Name, err)
					return
				}
				crdSchemas[crd.Spec.Group+"/"+v.Name+" "+crd.Spec.Names.Kind] = &crdSchema{structural: s, validator: val,
					cel: apiservercel.NewValidator(s, true, celconfig.PerCallLimit)}
			}
		}
	})
	return crdSchemas, crdErr
}

// validate checks o against its CRD schema, as the API server does on
// create: prune (a finding here), default, then validate.
func (s *crdSchema) validate(o *unstructured.Unstructured) error {
	var errs []error
	c := o.DeepCopy()
	for _, p := range pruning.PruneWithOptions(c.Object, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		errs = append(errs, fmt.Errorf("unknown field %q", p))
	}
	defaulting.Default(c.Object, s.structural)
	for _, e := range validation.ValidateCustomResource(nil, c.Object, s.validator) {
		errs = append(errs, e)
	}
	for _, e := range listtype.ValidateListSetsAndMaps(nil, s.structural, c.Object) {
		errs = append(errs, e)
	}
	if s.cel != nil {
		found, _ := s.cel.Validate(context.Background(), nil, s.structural, c.Object, nil, celconfig.RuntimeCELCostBudget)
		for _, e := range found {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// strictInto decodes o into a Go API type, refusing unknown fields.
func strictInto(o *unstructured.Unstructured, into any) error {
	data, err := json.Marshal(o.Object)
	if err != nil {
		return err
	}
	return yaml.UnmarshalStrict(data, into)
}

// runtimeInto decodes o into a Go API type as a controller would, for the
// cross-checks: unknown fields are validateObject's findings.
func runtimeInto(o *unstructured.Unstructured, into any) error {
	data, err := json.Marshal(o.Object)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

// validateObject checks one object of the GitOps tree against its engine's
// API: Flux's Go types, strictly; Argo CD's and External Secrets' CRD
// schemas; Kubernetes' own types. ok is false for a kind it does not know.
func validateObject(o *unstructured.Unstructured) (ok bool, err error) {
	gvk := o.GetAPIVersion() + " " + o.GetKind()
	switch gvk {
	case helmv2.GroupVersion.String() + " " + helmv2.HelmReleaseKind:
		return true, strictInto(o, &helmv2.HelmRelease{})
	case kustomizev1.GroupVersion.String() + " " + kustomizev1.KustomizationKind:
		return true, strictInto(o, &kustomizev1.Kustomization{})
	case sourcev1.GroupVersion.String() + " " + sourcev1.GitRepositoryKind:
		return true, strictInto(o, &sourcev1.GitRepository{})
	case sourcev1.GroupVersion.String() + " " + sourcev1.HelmRepositoryKind:
		return true, strictInto(o, &sourcev1.HelmRepository{})
	case "v1 Namespace":
		return true, strictInto(o, &corev1.Namespace{})
	}
	if ok, err := validateCertManagerObject(o); ok {
		return true, err
	}
	crds, err := loadCRDs()
	if err != nil {
		return true, err
	}
	if s := crds[gvk]; s != nil {
		return true, s.validate(o)
	}
	return false, nil
}

// gitopsCheck verifies a rendered GitOps tree and collects findings.
type gitopsCheck struct {
	mesh *mesh.Mesh
	root string // the output directory
	errs diag.Problems
	// built is, per kustomization directory of gitops/ (relative to root),
	// what kustomize builds from it.
	built map[string][]*unstructured.Unstructured
	// rootObjs are the objects of gitops/root.yaml.
	rootObjs []*unstructured.Unstructured
}

func (g *gitopsCheck) failf(rel, format string, a ...any) {
	g.errs = append(g.errs, problemAt(CheckGitOps, rel, fmt.Sprintf(format, a...)))
}

// VerifyGitOps checks the gitops/ tree meshc rendered for m into dir:
//
//   - every directory with a kustomization.yaml builds with kustomize's own
//     packages, with the default load restrictions Argo CD uses (nothing from
//     outside the directory but other kustomizations), and every other file
//     is a resource of its directory's kustomization or root.yaml;
//   - every object decodes against its engine's API: Flux's Go types
//     strictly, Argo CD Applications and ExternalSecrets against their CRDs'
//     structural schemas (testdata/crds), Namespaces against Kubernetes';
//   - the references hold: sources, dependsOn, health checks, paths in the
//     repository, values files, destinations; the Namespace istio-system has
//     one owner;
//   - the order is the plan's, from m and the plan rather than from the
//     renderer's units: Argo CD's waves follow the plan's phases; a Flux
//     object waits, through dependsOn, for everything of its cluster in an
//     earlier phase, and a remote's istiod for its primary's istiod;
//   - Flux's HelmReleases carry exactly the values of helm/.
//
// Findings are joined, each prefixed with the file it concerns relative to
// dir.
func VerifyGitOps(m *mesh.Mesh, dir string) error {
	if m.Spec.GitOps == nil {
		return diag.Problems{problemAt(CheckGitOps, "", "the Mesh has no spec.gitops")}
	}
	g := &gitopsCheck{mesh: m, root: dir, built: map[string][]*unstructured.Unstructured{}}
	g.build()
	if m.Spec.GitOps.Engine == mesh.EngineFlux {
		g.checkFlux()
	} else {
		g.checkArgoCD()
	}
	return g.errs.Err()
}

// build runs kustomize on every kustomization of gitops/ and validates
// every object of the tree.
func (g *gitopsCheck) build() {
	top := filepath.Join(g.root, render.GitOpsDir)
	listed := map[string]bool{}
	var files []string
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(g.root, p)
		rel = filepath.ToSlash(rel)
		files = append(files, rel)
		if d.Name() != render.KustomizationFile {
			return nil
		}
		var k types.Kustomization
		if err := yaml.UnmarshalStrict(mustRead(p), &k); err != nil {
			g.failf(rel, "%v", err)
			return nil
		}
		for _, r := range k.Resources {
			f := path.Join(path.Dir(rel), r)
			listed[f] = true
			if info, err := os.Stat(filepath.Join(g.root, f)); err == nil && !info.IsDir() {
				g.validateFile(f)
			}
		}
		res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Dir(p))
		if err != nil {
			g.failf(rel, "kustomize build: %v", err)
			return nil
		}
		data, err := res.AsYaml()
		if err != nil {
			g.failf(rel, "%v", err)
			return nil
		}
		objs, err := decodeObjects(data)
		if err != nil {
			g.failf(rel, "%v", err)
		}
		g.built[path.Dir(rel)] = objs
		if path.Base(path.Dir(rel)) == render.UnitManifests {
			// The cluster's manifests/, which Verify checks; here, only
			// that istio-system has one owner.
			for _, o := range objs {
				if o.GetKind() == "Namespace" && o.GetName() == render.IstioNamespace {
					g.failf(rel, "Namespace %s is also applied by the istio-system unit: two owners", render.IstioNamespace)
				}
			}
		}
		return nil
	})
	if err != nil {
		g.errs = append(g.errs, problemAt(CheckGitOps, render.GitOpsDir, err.Error()))
		return
	}
	rootFile := path.Join(render.GitOpsDir, render.GitOpsRootFile)
	for _, f := range files {
		if f != rootFile && path.Base(f) != render.KustomizationFile && !listed[f] {
			g.failf(f, "not a resource of %s, so nothing applies it", path.Join(path.Dir(f), render.KustomizationFile))
		}
	}
	g.rootObjs = g.validateFile(rootFile)
}

// validateFile checks every object of a file of the tree against its API.
func (g *gitopsCheck) validateFile(rel string) []*unstructured.Unstructured {
	objs, err := decodeObjects(mustRead(filepath.Join(g.root, rel)))
	if err != nil {
		g.failf(rel, "%v", err)
	}
	for _, o := range objs {
		known, err := validateObject(o)
		switch {
		case !known:
			g.failf(rel, "%s %s: no API to check it against", o.GetAPIVersion(), o.GetKind())
		case err != nil:
			g.failf(rel, "%s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	return objs
}

// repoDir maps a path in the Git repository to the output directory; ok is
// false when it lies outside spec.gitops.path.
func (g *gitopsCheck) repoDir(p string) (string, bool) {
	p = path.Clean(strings.TrimPrefix(p, "./"))
	base := path.Clean(g.mesh.Spec.GitOps.Path)
	if base == "." {
		return p, true
	}
	rel, ok := strings.CutPrefix(p, base+"/")
	return rel, ok
}

// phaseRank is each phase's place in the plan, from the plan itself.
func (g *gitopsCheck) phaseRank() map[string]int {
	rank := map[string]int{}
	for i, ph := range render.BuildPlan(g.mesh).Phases {
		rank[ph.ID] = i
	}
	return rank
}

func (g *gitopsCheck) fleet() []*unstructured.Unstructured {
	return g.built[path.Join(render.GitOpsDir, render.GitOpsFleetDir)]
}

func (g *gitopsCheck) checkArgoCD() {
	gs := g.mesh.Spec.GitOps
	rank := g.phaseRank()
	rank[render.PhaseNamespaces] = -1 // before any phase of the plan that has steps
	fleet := path.Join(render.GitOpsDir, render.GitOpsFleetDir)
	var apps []*unstructured.Unstructured
	var project *unstructured.Unstructured
	for _, o := range g.fleet() {
		switch o.GetKind() {
		case "Application":
			apps = append(apps, o)
		case "AppProject":
			if project != nil {
				g.failf(fleet, "two AppProjects")
			}
			project = o
		default:
			g.failf(fleet, "%s %s: not an Argo CD object", o.GetKind(), o.GetName())
		}
	}
	if project == nil {
		g.failf(fleet, "no AppProject")
		return
	}
	if len(g.rootObjs) != 1 {
		g.failf(path.Join(render.GitOpsDir, render.GitOpsRootFile), "want one root Application, have %d objects", len(g.rootObjs))
	} else if p, _, _ := unstructured.NestedString(g.rootObjs[0].Object, "spec", "source", "path"); !g.sameDir(p, fleet) {
		g.failf(path.Join(render.GitOpsDir, render.GitOpsRootFile), "root Application applies %q, not %s", p, fleet)
	}
	type placed struct {
		wave  int
		phase string
	}
	byCluster := map[string][]placed{}
	projectWave, _ := strconv.Atoi(project.GetAnnotations()["argocd.argoproj.io/sync-wave"])
	for _, a := range apps {
		name := a.GetName()
		rel := fleet + "/" + a.GetLabels()["meshc.dev/cluster"] + ".yaml"
		c := g.mesh.Cluster(a.GetLabels()["meshc.dev/cluster"])
		if c == nil {
			g.failf(rel, "Application %s: no cluster label", name)
			continue
		}
		dest, _, _ := unstructured.NestedStringMap(a.Object, "spec", "destination")
		if want := map[string]string{"namespace": render.IstioNamespace, "name": c.Name}; gs.Destination == mesh.DestinationAPIServer {
			delete(want, "name")
			want["server"] = c.APIServer
			if !reflect.DeepEqual(dest, want) {
				g.failf(rel, "Application %s: destination %v, want %v", name, dest, want)
			}
		} else if !reflect.DeepEqual(dest, want) {
			g.failf(rel, "Application %s: destination %v, want %v", name, dest, want)
		}
		wave, err := strconv.Atoi(a.GetAnnotations()["argocd.argoproj.io/sync-wave"])
		if err != nil {
			g.failf(rel, "Application %s: sync wave: %v", name, err)
		}
		g.checkArgoProject(rel, a, project, projectWave, wave)
		phase := a.GetLabels()["meshc.dev/phase"]
		if _, ok := rank[phase]; !ok {
			g.failf(rel, "Application %s: phase %q is not one of the plan's", name, phase)
		}
		byCluster[c.Name] = append(byCluster[c.Name], placed{wave, phase})
		g.checkArgoSources(rel, a)
	}
	// Waves follow the plan across the whole mesh: the root syncs every
	// cluster's Applications wave by wave.
	var all []placed
	for _, ps := range byCluster {
		all = append(all, ps...)
	}
	for _, a := range all {
		for _, b := range all {
			if rank[a.phase] < rank[b.phase] && a.wave >= b.wave {
				g.failf(fleet, "phase %s (wave %d) is not synced before phase %s (wave %d)", a.phase, a.wave, b.phase, b.wave)
			}
		}
	}
}

// checkArgoProject: an Application is in the mesh's AppProject, which
// exists before it (an earlier wave) and allows its destination and
// sources.
func (g *gitopsCheck) checkArgoProject(rel string, a, project *unstructured.Unstructured, projectWave, wave int) {
	name := a.GetName()
	if p, _, _ := unstructured.NestedString(a.Object, "spec", "project"); p != project.GetName() {
		g.failf(rel, "Application %s: project %q, not the mesh's AppProject %q", name, p, project.GetName())
	}
	if projectWave >= wave {
		g.failf(rel, "Application %s (wave %d) is synced before its AppProject (wave %d)", name, wave, projectWave)
	}
	dest, _, _ := unstructured.NestedStringMap(a.Object, "spec", "destination")
	dests, _, _ := unstructured.NestedSlice(project.Object, "spec", "destinations")
	if !slices.ContainsFunc(dests, func(d any) bool {
		dm, _ := d.(map[string]any)
		return dm["name"] == nonEmpty(dest["name"]) && dm["server"] == nonEmpty(dest["server"]) &&
			(dm["namespace"] == "*" || dm["namespace"] == dest["namespace"])
	}) {
		g.failf(rel, "Application %s: destination %v is not allowed by AppProject %s", name, dest, project.GetName())
	}
	repos, _, _ := unstructured.NestedStringSlice(project.Object, "spec", "sourceRepos")
	var srcs []any
	if s, ok, _ := unstructured.NestedMap(a.Object, "spec", "source"); ok {
		srcs = append(srcs, s)
	}
	more, _, _ := unstructured.NestedSlice(a.Object, "spec", "sources")
	for _, s := range append(srcs, more...) {
		sm, _ := s.(map[string]any)
		if u, _ := sm["repoURL"].(string); !slices.Contains(repos, u) {
			g.failf(rel, "Application %s: source %s is not allowed by AppProject %s", name, u, project.GetName())
		}
	}
}

// nonEmpty is s, or nil for "" (an absent field of an unstructured object).
func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (g *gitopsCheck) sameDir(repoPath, outPath string) bool {
	p, ok := g.repoDir(repoPath)
	return ok && p == outPath
}

// checkArgoSources: a chart Application installs Istio's chart at the
// Mesh's version with the values file of its cluster in helm/; the others
// apply a kustomization of the tree.
func (g *gitopsCheck) checkArgoSources(rel string, a *unstructured.Unstructured) {
	gs := g.mesh.Spec.GitOps
	name := a.GetName()
	if src, ok, _ := unstructured.NestedMap(a.Object, "spec", "source"); ok {
		p, _ := src["path"].(string)
		dir, ok := g.repoDir(p)
		if _, built := g.built[dir]; !ok || !built {
			g.failf(rel, "Application %s: path %q is no kustomization of the tree", name, p)
		}
		if src["repoURL"] != gs.RepoURL || src["targetRevision"] != gs.Revision {
			g.failf(rel, "Application %s: source %v, %v is not the Mesh's repository", name, src["repoURL"], src["targetRevision"])
		}
		return
	}
	srcs, _, _ := unstructured.NestedSlice(a.Object, "spec", "sources")
	var chart, values map[string]any
	for _, s := range srcs {
		s, _ := s.(map[string]any)
		if s["ref"] == "values" {
			values = s
		} else {
			chart = s
		}
	}
	if chart == nil || values == nil || len(srcs) != 2 {
		g.failf(rel, "Application %s: want a chart source and a values ref", name)
		return
	}
	if values["repoURL"] != gs.RepoURL || values["targetRevision"] != gs.Revision {
		g.failf(rel, "Application %s: values ref is not the Mesh's repository", name)
	}
	helm, _ := chart["helm"].(map[string]any)
	if want := chartVersion(g.mesh, fmt.Sprint(helm["releaseName"])); chart["repoURL"] != render.HelmRepoURL || chart["targetRevision"] != want {
		g.failf(rel, "Application %s: chart %v at %v, want Istio's repository at %s", name, chart["repoURL"], chart["targetRevision"], want)
	}
	files, _, _ := unstructured.NestedStringSlice(chart, "helm", "valueFiles")
	for _, f := range files {
		p, ok := g.repoDir(strings.TrimPrefix(f, "$values/"))
		if !strings.HasPrefix(f, "$values/") || !ok || !strings.HasPrefix(p, a.GetLabels()["meshc.dev/cluster"]+"/"+render.HelmDir+"/") {
			g.failf(rel, "Application %s: values file %q is not its cluster's", name, f)
		} else if _, err := os.Stat(filepath.Join(g.root, p)); err != nil {
			g.failf(rel, "Application %s: values file %q: %v", name, f, err)
		}
	}
	if c, _ := chart["chart"].(string); c == render.ChartBase || c == render.ChartIstiod {
		ign, _, _ := unstructured.NestedSlice(a.Object, "spec", "ignoreDifferences")
		if !slices.ContainsFunc(ign, func(d any) bool {
			d2, _ := d.(map[string]any)
			return d2["group"] == "admissionregistration.k8s.io" && d2["kind"] == "ValidatingWebhookConfiguration" &&
				strings.Contains(fmt.Sprint(d2["jqPathExpressions"], d2["jsonPointers"]), "failurePolicy")
		}) {
			g.failf(rel, "Application %s: no ignoreDifferences for the webhook failurePolicy istiod rewrites", name)
		}
	}
}

func (g *gitopsCheck) checkFlux() {
	gs := g.mesh.Spec.GitOps
	rootRel := path.Join(render.GitOpsDir, render.GitOpsRootFile)
	sources := map[string]bool{}
	for _, o := range append(slices.Clone(g.rootObjs), g.fleet()...) {
		if strings.HasPrefix(o.GetAPIVersion(), sourcev1.GroupVersion.Group+"/") {
			sources[o.GetKind()+"/"+o.GetName()] = true
		}
	}
	var repo sourcev1.GitRepository
	for _, o := range g.rootObjs {
		if o.GetKind() == sourcev1.GitRepositoryKind {
			_ = runtimeInto(o, &repo)
		}
	}
	if repo.Spec.URL != gs.RepoURL || repo.Spec.Reference == nil || repo.Spec.Reference.Branch != gs.Revision {
		g.failf(rootRel, "GitRepository %q is not the Mesh's repository and revision", repo.Spec.URL)
	}
	ks := map[string]*kustomizev1.Kustomization{}
	rank := g.phaseRank()
	rank[render.PhaseNamespaces] = -1
	for _, o := range append(slices.Clone(g.rootObjs), g.fleet()...) {
		if o.GetKind() != kustomizev1.KustomizationKind {
			continue
		}
		var k kustomizev1.Kustomization
		if err := runtimeInto(o, &k); err != nil {
			continue
		}
		ks[k.Name] = &k
		rel := rootRel
		if c := k.Labels["meshc.dev/cluster"]; c != "" {
			rel = path.Join(render.GitOpsDir, render.GitOpsFleetDir, c+".yaml")
		}
		if !sources[k.Spec.SourceRef.Kind+"/"+k.Spec.SourceRef.Name] {
			g.failf(rel, "Kustomization %s: source %s/%s is not in the tree", k.Name, k.Spec.SourceRef.Kind, k.Spec.SourceRef.Name)
		}
		dir, ok := g.repoDir(k.Spec.Path)
		if _, built := g.built[dir]; !ok || !built {
			g.failf(rel, "Kustomization %s: path %q is no kustomization of the tree", k.Name, k.Spec.Path)
			continue
		}
		if c := g.mesh.Cluster(k.Labels["meshc.dev/cluster"]); c != nil {
			g.checkFluxUnit(rel, &k, c, g.built[dir], sources)
		}
	}
	// Order: everything of a cluster in an earlier phase, and for a
	// remote's istiod its primary's istiod, is reached through dependsOn.
	for _, k := range ks {
		c := g.mesh.Cluster(k.Labels["meshc.dev/cluster"])
		if c == nil {
			continue
		}
		rel := path.Join(render.GitOpsDir, render.GitOpsFleetDir, c.Name+".yaml")
		before := reach(ks, k.Name)
		for _, o := range ks {
			oc := o.Labels["meshc.dev/cluster"]
			earlier := rank[o.Labels["meshc.dev/phase"]] < rank[k.Labels["meshc.dev/phase"]]
			mustWait := oc == c.Name && earlier
			if !c.IsPrimary() && oc == c.ControlPlane && earlier && strings.HasSuffix(k.Name, "-"+render.ReleaseIstiod) &&
				strings.HasSuffix(o.Name, "-"+render.ReleaseIstiod) {
				mustWait = true
			}
			if mustWait && !before[o.Name] {
				g.failf(rel, "Kustomization %s (phase %s) does not wait for %s (phase %s)", k.Name, k.Labels["meshc.dev/phase"], o.Name, o.Labels["meshc.dev/phase"])
			}
		}
	}
}

// reach lists the Kustomizations name waits for, directly or not.
func reach(ks map[string]*kustomizev1.Kustomization, name string) map[string]bool {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		k := ks[n]
		if k == nil {
			return
		}
		for _, d := range k.Spec.DependsOn {
			if !seen[d.Name] {
				seen[d.Name] = true
				walk(d.Name)
			}
		}
	}
	walk(name)
	return seen
}

// checkFluxUnit: a unit that applies to the cluster does so through the
// cluster's kubeconfig; a chart unit's HelmRelease does, is health-checked,
// and holds its helm/ values.
func (g *gitopsCheck) checkFluxUnit(rel string, k *kustomizev1.Kustomization, c *mesh.Cluster, objs []*unstructured.Unstructured, sources map[string]bool) {
	kubeconfig := c.Name + "-kubeconfig"
	var releases []*helmv2.HelmRelease
	for _, o := range objs {
		if o.GetKind() == helmv2.HelmReleaseKind {
			var hr helmv2.HelmRelease
			if err := runtimeInto(o, &hr); err == nil {
				releases = append(releases, &hr)
			}
		}
	}
	if len(releases) == 0 {
		if k.Spec.KubeConfig == nil || k.Spec.KubeConfig.SecretRef == nil || k.Spec.KubeConfig.SecretRef.Name != kubeconfig {
			g.failf(rel, "Kustomization %s: does not apply to %s through Secret %s", k.Name, c.Name, kubeconfig)
		}
		return
	}
	for _, hr := range releases {
		if hr.Spec.KubeConfig == nil || hr.Spec.KubeConfig.SecretRef == nil || hr.Spec.KubeConfig.SecretRef.Name != kubeconfig {
			g.failf(rel, "HelmRelease %s: does not install into %s through Secret %s", hr.Name, c.Name, kubeconfig)
		}
		if !slices.ContainsFunc(k.Spec.HealthChecks, func(h fluxmeta.NamespacedObjectKindReference) bool {
			return h.Kind == helmv2.HelmReleaseKind && h.Name == hr.Name
		}) {
			g.failf(rel, "Kustomization %s: does not wait for HelmRelease %s", k.Name, hr.Name)
		}
		cs := hr.Spec.Chart
		if want := chartVersion(g.mesh, hr.Spec.ReleaseName); cs == nil || !sources[cs.Spec.SourceRef.Kind+"/"+cs.Spec.SourceRef.Name] || cs.Spec.Version != want {
			g.failf(rel, "HelmRelease %s: chart is not from a HelmRepository of the tree at %s", hr.Name, want)
			continue
		}
		var values map[string]any
		for _, a := range render.ArtifactsFor(g.mesh.Place(c)) {
			if a.Apply == render.Helm && a.ReleaseIn(g.mesh) == hr.Spec.ReleaseName && a.Chart == cs.Spec.Chart {
				if err := yaml.Unmarshal(mustRead(filepath.Join(g.root, a.Path(c.Name))), &values); err != nil {
					g.failf(rel, "%v", err)
				}
				break
			}
		}
		var got map[string]any
		if hr.Spec.Values != nil {
			_ = json.Unmarshal(hr.Spec.Values.Raw, &got)
		}
		if len(got) != 0 || len(values) != 0 {
			if !reflect.DeepEqual(got, values) {
				g.failf(rel, "HelmRelease %s: values differ from %s/%s's helm/ values", hr.Name, c.Name, hr.Spec.ReleaseName)
			}
		}
	}
}

func decodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	d := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var o map[string]any
		if err := d.Decode(&o); err != nil {
			if err.Error() == "EOF" {
				return objs, nil
			}
			return objs, err
		}
		if len(o) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: o})
		}
	}
}

func mustRead(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}

// chartVersion is the release of Istio's charts a Helm release installs,
// from the Mesh: the previous revision's istiod at its own release, every
// other chart at the Mesh's.
func chartVersion(m *mesh.Mesh, release string) string {
	if p := m.Spec.Istio.Previous; p != nil && release == "istiod-"+p.Revision {
		return p.Version
	}
	return m.Spec.Istio.Version
}
