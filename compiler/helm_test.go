package compiler_test

import (
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/internal/meshgen"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
	"meshc.dev/meshc/rules"
)

// TestHelmRows keeps the Helm rows of Istio's charts to the charts the
// guides install from 1.24 on: base, istiod (profile remote on remotes, never
// the istiod-remote chart of earlier releases) and gateway, and cni and
// ztunnel in an ambient mesh, all in helm/.
// The one other chart is istio-csr's, in ca/ with what it signs with.
func TestHelmRows(t *testing.T) {
	charts := []string{render.ChartBase, render.ChartIstiod, render.ChartGateway, render.ChartCNI, render.ChartZtunnel}
	for _, a := range render.Catalogue {
		istio := a.Apply == render.Helm && a.Chart != render.ChartIstioCSR
		if istio != (a.Dir == render.HelmDir) {
			t.Errorf("%s/%s: the rows of Istio's charts, and only they, live in %s/", a.Dir, a.Name, render.HelmDir)
		}
		if istio && (!slices.Contains(charts, a.Chart) || a.Release == "") {
			t.Errorf("%s/%s: chart %q release %q; want one of %v and a release", a.Dir, a.Name, a.Chart, a.Release, charts)
		}
		if a.Apply == render.Helm && (a.Source == nil || a.Release == "") {
			t.Errorf("%s/%s: a Helm row needs its chart's source and a release", a.Dir, a.Name)
		}
		if a.Chart == render.ChartIstioCSR && a.Dir != mesh.CADir {
			t.Errorf("%s/%s: istio-csr's values live in %s/", a.Dir, a.Name, mesh.CADir)
		}
	}
}

// removedValues are chart values Istio 1.27 removed (mesh.IstioChanges):
// meshc must not emit them for any release, on either path.
var removedValues = [][]string{
	{"global", "multiCluster", "enabled"},
	{"global", "multiCluster", "globalDomainSuffix"},
	{"global", "multiCluster", "includeEnvoyFilter"},
}

// TestNoRemovedValues scans every rendered values file and IstioOperator of
// the examples and of generated meshes on both paths.
func TestNoRemovedValues(t *testing.T) {
	inputs := map[string][]byte{}
	for _, ex := range examples(t) {
		inputs[ex] = mustRead(t, "../examples/"+ex+"/mesh.yaml")
	}
	for _, topo := range meshgen.Topologies {
		s := meshgen.Shape{Topology: topo, Clusters: 12}
		data := meshgen.Generate(s)
		inputs[s.String()] = data
		inputs[s.String()+"-helm"] = []byte(strings.Replace(string(data), "\nspec:\n", "\nspec:\n  installer: helm\n", 1))
	}
	for name, data := range inputs {
		_, out, err := compiler.Compile("mesh.yaml", data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checked := 0
		for _, f := range out.Files {
			var root []string
			switch {
			case strings.Contains(f.Path, "/"+render.HelmDir+"/"):
			case strings.Contains(f.Path, "/"+render.InstallDir+"/"):
				root = []string{"spec", "values"}
			default:
				continue
			}
			checked++
			var doc map[string]any
			if err := yaml.Unmarshal(f.Data, &doc); err != nil {
				t.Fatalf("%s: %s: %v", name, f.Path, err)
			}
			for _, p := range removedValues {
				if has(doc, append(slices.Clone(root), p...)) {
					t.Errorf("%s: %s sets %s, which Istio 1.27 removed", name, f.Path, strings.Join(p, "."))
				}
			}
			if strings.Contains(string(f.Data), "istiod-remote") {
				t.Errorf("%s: %s names the istiod-remote chart, gone since Istio 1.24", name, f.Path)
			}
		}
		if checked == 0 {
			t.Errorf("%s: no values files or IstioOperators rendered", name)
		}
	}
}

func has(doc map[string]any, path []string) bool {
	var v any = doc
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

// TestIstioChanges checks the version table's bounds: inside the releases
// meshc accepts, ordered, and every rule it names exists.
func TestIstioChanges(t *testing.T) {
	for _, c := range mesh.IstioChanges {
		if c.Since != 0 && (c.Since < 24 || c.Since > 31) || c.Until != 0 && (c.Until < 25 || c.Until > 32) {
			t.Errorf("%q: releases %s are outside 1.24–1.31", c.What, c.Releases())
		}
		if c.Rule != "" && !slices.ContainsFunc(rules.Rules, func(r rules.Rule) bool { return r.ID == c.Rule }) {
			t.Errorf("%q: rule %s does not exist", c.What, c.Rule)
		}
	}
}
