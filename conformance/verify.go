package conformance

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// Verify checks the output meshc rendered for m into dir (one directory per
// cluster, as `meshc render` writes it) with Istio's own code; see the package
// documentation for what it checks. It returns every finding, joined, each
// prefixed with the file it concerns relative to dir; nil means Istio accepts
// all of the output and it has the topology m describes.
//
// Expected values (addresses, names, which primary serves which remote) come
// from m, not from meshc's renderer, so a rendering bug cannot hide itself.
func Verify(m *mesh.Mesh, dir string) error {
	var errs diag.Problems
	checks := map[string]*clusterCheck{}
	for _, c := range m.Spec.Clusters {
		v := &clusterCheck{mesh: m, cluster: c, root: dir}
		checks[c.Name] = v
		v.checkInstalls()
	}
	// A primary's istiod configures the gateways of the remotes it serves
	// from the Gateways in its own API server: they select pods installed
	// there as much as its own.
	for _, c := range m.Spec.Clusters {
		if c.Role == mesh.RoleRemote {
			if p := checks[c.ControlPlane]; p != nil {
				p.served = append(p.served, checks[c.Name].installed...)
			}
		}
	}
	for _, c := range m.Spec.Clusters {
		v := checks[c.Name]
		v.checkApplied()
		v.checkAmbient()
		v.checkAmbientGateway()
		errs = append(errs, v.errs...)
	}
	// With cert-manager, what issues each cluster's cacerts (certmanager.go).
	if err := VerifyCertManager(m, dir); err != nil {
		errs = append(errs, problemsOf(CheckCertManager, err)...)
	}
	// With istio-csr, its chart's values and Istio's CA settings (istiocsr.go).
	if err := VerifyIstioCSR(m, dir); err != nil {
		errs = append(errs, problemsOf(CheckIstioCSR, err)...)
	}
	return errs.Err()
}

// clusterCheck verifies one cluster's directory and collects findings.
type clusterCheck struct {
	mesh    *mesh.Mesh
	cluster mesh.Cluster
	root    string
	errs    diag.Problems

	// installed is every object Istio generated from the cluster's
	// IstioOperators: what the cluster runs once istioctl install is done.
	// It is incomplete when installFailed.
	installed     []*unstructured.Unstructured
	installFailed bool
	// served is what the installs of the remotes this primary serves
	// put into their clusters.
	served []*unstructured.Unstructured
}

// file is a path relative to the cluster's directory, as findings name it.
func (v *clusterCheck) file(rel string) string {
	return filepath.ToSlash(filepath.Join(v.cluster.Name, rel))
}

func (v *clusterCheck) fail(rel string, err error) {
	if err != nil {
		v.errs = append(v.errs, problemAt(CheckAcceptance, v.file(rel), err.Error()))
	}
}

func (v *clusterCheck) failf(rel, format string, a ...any) {
	v.fail(rel, fmt.Errorf(format, a...))
}

// installFiles names, for the Mesh's installer, the directory of a
// cluster's install inputs, its control-plane file, its east-west gateway
// file and any other file every cluster needs there (Helm's base chart).
func (v *clusterCheck) installFiles() (dir, controlPlane, eastWest string, others []string, what string) {
	if v.mesh.UsesHelm() {
		return render.HelmDir, render.IstiodValuesFile, render.EastWestGatewayValuesFile,
			[]string{render.BaseValuesFile}, "values file (the istiod chart)"
	}
	return render.InstallDir, render.ControlPlaneFile, render.EastWestGatewayFile, nil, "IstioOperator"
}

// previousFile is the install file of the previous revision
// (spec.istio.previous) on the Mesh's install path; "" without one.
func (v *clusterCheck) previousFile() string {
	switch {
	case v.mesh.Spec.Istio.Previous == nil:
		return ""
	case v.mesh.UsesHelm():
		return render.PreviousIstiodValuesFile
	}
	return render.PreviousControlPlaneFile
}

// checkInstalls checks the cluster's installs (install/ or helm/) and
// keeps what they install.
func (v *clusterCheck) checkInstalls() {
	v.checkArtifacts()
	dir, controlPlane, eastWest, others, what := v.installFiles()
	install, err := yamlFiles(filepath.Join(v.root, v.cluster.Name, dir))
	if err != nil {
		v.fail(dir, err)
		return
	}
	if !slices.Contains(install, controlPlane) {
		v.failf(dir, "no %s: every cluster needs a control plane %s", controlPlane, what)
		v.installFailed = true
	}
	for _, name := range others {
		if !slices.Contains(install, name) {
			v.failf(dir, "no %s: every cluster needs it", name)
			v.installFailed = true
		}
	}
	// An ambient mesh's east-west gateway is a Gateway API object of
	// manifests/ (checkAmbientGateway), not an install.
	switch has, declared := slices.Contains(install, eastWest), v.cluster.EastWestGateway != nil && !v.mesh.Ambient(); {
	case has && !declared:
		v.failf(dir, "%s is rendered, but the Mesh declares no east-west gateway in %s", eastWest, v.cluster.Name)
	case !has && declared:
		v.failf(dir, "no %s, but the Mesh declares an east-west gateway in %s", eastWest, v.cluster.Name)
	}
	for _, name := range install {
		rel := dir + "/" + name
		objs, err := v.install(dir, name)
		if err != nil {
			v.fail(rel, err)
			v.installFailed = true
			continue
		}
		v.installed = append(v.installed, objs...)
		switch name {
		case controlPlane:
			if v.cluster.Role == mesh.RoleRemote {
				v.checkRemote(rel, objs)
			} else {
				v.checkPrimary(rel, objs)
			}
			v.checkRevision(rel, objs, v.mesh.Spec.Istio.Revision)
		case v.previousFile():
			v.checkRevision(rel, objs, v.mesh.Spec.Istio.Previous.Revision)
		case eastWest:
			v.checkEastWestGateway(rel, objs)
		}
	}
	v.checkDefaultValidator()
	v.checkRevisionTags()
}

// checkApplied checks everything else meshc writes for the cluster, which
// is applied with kubectl: manifests/, and remote-access/ and
// remote-secrets/ when the Mesh asks for declarative remote secrets.
func (v *clusterCheck) checkApplied() {
	var fed federationObjects
	defer func() { v.checkFederation(&fed) }()
	entries, err := os.ReadDir(filepath.Join(v.root, v.cluster.Name))
	if err != nil {
		v.fail(".", err)
		return
	}
	var manifests []runtime.Object
	for _, e := range entries {
		if !e.IsDir() || e.Name() == render.InstallDir || e.Name() == render.HelmDir || e.Name() == mesh.CADir {
			continue // ca/: cert-manager's, checked by VerifyCertManager
		}
		names, err := yamlFiles(filepath.Join(v.root, v.cluster.Name, e.Name()))
		if err != nil {
			v.fail(e.Name(), err)
			continue
		}
		for _, name := range names {
			if name == render.KustomizationFile {
				continue // kustomize's input, not an object applied to the cluster
			}
			rel := e.Name() + "/" + name
			path := filepath.Join(v.root, v.file(rel))
			v.fail(rel, Validate(path))
			objs, err := Decode(path)
			v.fail(rel, err)
			for _, o := range objs {
				v.checkManifest(rel, o)
				fed.add(o)
			}
			if e.Name() == render.ManifestsDir {
				manifests = append(manifests, objs...)
			}
		}
	}
	v.checkVMs(manifests)
}

// checkArtifacts compares the cluster's install/ and manifests/ with the rows
// of meshc's artifact table that apply to it: the table names the files and
// when each exists; the checks that follow say whether their content is right.
func (v *clusterCheck) checkArtifacts() {
	place := v.mesh.Place(&v.cluster)
	if place == nil {
		v.failf(".", "control plane %q is not a cluster of the mesh", v.cluster.ControlPlane)
		return
	}
	want := map[string]bool{}
	for _, a := range render.ArtifactsFor(place) {
		want[a.Dir+"/"+a.Name] = true
	}
	for _, dir := range []string{".", render.InstallDir, render.HelmDir, render.ManifestsDir, mesh.CADir} {
		list := yamlFiles
		if dir == mesh.CADir {
			list = allFiles // root-cert.pem too
		}
		names, err := list(filepath.Join(v.root, v.cluster.Name, dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue // each file it should hold is reported missing below
		}
		if err != nil {
			v.fail(dir, err)
			continue
		}
		for _, name := range names {
			if !want[dir+"/"+name] {
				v.failf(dir+"/"+name, "rendered, but no artifact meshc declares applies to %s", v.cluster.Name)
			}
			delete(want, dir+"/"+name)
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(want)) {
		v.failf(rel, "missing: meshc's artifact table says %s has it", v.cluster.Name)
	}
}

// install generates the objects an install input in dir creates: Istio's
// manifest generation for an IstioOperator, the chart its artifact row names
// for Helm values.
func (v *clusterCheck) install(dir, name string) ([]*unstructured.Unstructured, error) {
	path := filepath.Join(v.root, v.file(dir+"/"+name))
	if dir == render.InstallDir {
		return Generate(path, releaseWarnings(v.mesh)...)
	}
	for _, a := range render.Catalogue {
		if a.Scope == render.PerCluster && a.Dir == dir && a.Name == name && a.Apply == render.Helm {
			m := v.mesh
			if a.Previous {
				m = v.mesh.Previous() // its release is istiod-<previous>
			}
			return RenderChart(a.Chart, a.ReleaseIn(m), path)
		}
	}
	return nil, fmt.Errorf("no artifact of meshc's table says which chart %s holds values for", name)
}

// allFiles lists the files in dir, sorted.
func allFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// yamlFiles lists the .yaml files in dir, sorted.
func yamlFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
