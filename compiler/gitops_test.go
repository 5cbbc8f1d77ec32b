package compiler_test

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/certs"
	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

// gitopsExamples are the examples with spec.gitops.
func gitopsExamples(t *testing.T) map[string]*mesh.Mesh {
	t.Helper()
	out := map[string]*mesh.Mesh{}
	for _, ex := range examples(t) {
		m, err := mesh.LoadFile(filepath.Join("../examples", ex, "mesh.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Spec.GitOps != nil {
			out[ex] = m
		}
	}
	if len(out) < 2 {
		t.Fatalf("want a gitops example per engine, have %d", len(out))
	}
	return out
}

// Key material a scanner must never find in what is committed: a PEM block,
// a JSON web token (a service account token), a long base64 run (a key or
// certificate without its PEM armour, a Secret's data).
var (
	pemBlock = regexp.MustCompile(`-----BEGIN [A-Z ]+-----`)
	jwt      = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`)
	base64ed = regexp.MustCompile(`[A-Za-z0-9+/]{60,}={0,2}`)
	// secretKind is a Secret object (an ExternalSecret is a reference).
	secretKind = regexp.MustCompile(`(?m)^kind: Secret$`)
)

// secretsIn reports what in data looks like key material: the patterns
// above, or a fragment of one of the given secrets (in PEM or base64).
func secretsIn(data []byte, known [][]byte) []string {
	var found []string
	for _, re := range []*regexp.Regexp{pemBlock, jwt, base64ed, secretKind} {
		if loc := re.Find(data); loc != nil {
			found = append(found, re.String()+": "+string(loc[:min(len(loc), 40)]))
		}
	}
	for _, k := range known {
		if bytes.Contains(data, k) {
			found = append(found, "a fragment of generated key material: "+string(k[:20]))
		}
	}
	return found
}

// meshRoot is spec.ca.root as render writes it (PEM, afresh), from the
// Mesh; nil without one.
func meshRoot(m *mesh.Mesh) []byte {
	if m.Spec.CA.Root == nil {
		return nil
	}
	b, _ := pem.Decode([]byte(m.Spec.CA.Root.PEM))
	return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})
}

// withoutRootLines drops the lines of data that are, but for their
// indentation, lines of root.
func withoutRootLines(data, root []byte) []byte {
	if root == nil {
		return data
	}
	lines := map[string]bool{}
	for l := range bytes.Lines(root) {
		lines[string(bytes.TrimSpace(l))] = true
	}
	var out []byte
	for l := range bytes.Lines(data) {
		if !lines[string(bytes.TrimSpace(l))] || len(bytes.TrimSpace(l)) == 0 {
			out = append(out, l...)
		}
	}
	return out
}

// keyMaterial returns fragments of every certificate and key under dir:
// a 48-byte slice of each PEM body and of its base64 as a Secret holds it.
func keyMaterial(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".pem") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
			body := base64.StdEncoding.EncodeToString(b.Bytes)
			out = append(out, []byte(body[100:148]), []byte(base64.StdEncoding.EncodeToString(data)[100:148]))
		}
		return nil
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("no key material under %s: %v", dir, err)
	}
	return out
}

// TestGitOpsTreeHoldsNoSecret renders every GitOps example into a
// repository that also holds real certificates (meshc certs, the root key
// included) and scans everything render wrote: no PEM block, token, base64
// key material or Secret object, and no fragment of the generated keys.
// The scanner is shown to find the certificates themselves, so a clean
// tree is a finding, not a blind spot.
func TestGitOpsTreeHoldsNoSecret(t *testing.T) {
	for ex, m := range gitopsExamples(t) {
		t.Run(ex, func(t *testing.T) {
			repo := t.TempDir()
			certDir := filepath.Join(repo, "certs")
			if _, err := certs.Generate(certs.Options{Dir: certDir, Mesh: m.Metadata.Name, Clusters: m.ClusterNames(), KeyBits: 2048}); err != nil {
				t.Fatal(err)
			}
			known := keyMaterial(t, certDir)
			cacerts, err := os.ReadFile(filepath.Join(certDir, m.Spec.Clusters[0].Name, "cacerts.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if len(secretsIn(cacerts, known)) == 0 {
				t.Fatal("the scanner finds nothing in a cacerts Secret")
			}
			if len(secretsIn([]byte("users:\n- user:\n    token: eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2ln\n"), nil)) == 0 {
				t.Fatal("the scanner finds no service account token")
			}

			_, out, err := compiler.Compile(ex+"/mesh.yaml", mustRead(t, filepath.Join("../examples", ex, "mesh.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			outDir := filepath.Join(repo, "out")
			if err := output.Write(out, outDir); err != nil {
				t.Fatal(err)
			}
			gitops := 0
			err = filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(outDir, p)
				if strings.HasPrefix(filepath.ToSlash(rel), render.GitOpsDir+"/") {
					gitops++
				}
				if strings.HasSuffix(p, ".svg") {
					return nil // drawing paths, not text
				}
				// The mesh's root is public and the Mesh's own, as a file or
				// a YAML block at any indentation: everything else is still
				// scanned.
				data = withoutRootLines(data, meshRoot(m))
				for _, f := range secretsIn(data, known) {
					t.Errorf("%s: %s", rel, f)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if gitops == 0 {
				t.Fatal("no gitops/ tree rendered")
			}
		})
	}
}

// TestGitOpsOrder: the engine applies the units in the plan's order. Every
// step of the plan that applies a rendered file to a cluster has a unit in
// that cluster and phase; every unit's dependencies come from an earlier
// phase; an Argo CD wave is its phase's place in the plan.
func TestGitOpsOrder(t *testing.T) {
	for ex, m := range gitopsExamples(t) {
		units := render.GitOpsUnits(m)
		byObject := map[string]*render.GitOpsUnit{}
		have := map[[2]string]bool{}
		for _, u := range units {
			byObject[u.Object()] = u
			have[[2]string{u.Cluster.Name, u.Phase}] = true
		}
		for _, u := range units {
			for _, d := range u.DependsOn {
				dep := byObject[d]
				if dep == nil || dep.Wave() >= u.Wave() {
					t.Errorf("%s: %s depends on %s, which is not from an earlier phase", ex, u.Object(), d)
				}
			}
			if u.Wave() != render.PhaseOrder(u.Phase) || u.Wave() < 0 {
				t.Errorf("%s: %s: wave %d for phase %s", ex, u.Object(), u.Wave(), u.Phase)
			}
		}
		for _, ph := range render.BuildPlan(m).Phases {
			for _, s := range ph.Steps {
				if ph.ID == render.PhaseLearnAddresses || ph.ID == render.PhaseCertManager || ph.ID == render.PhaseVerifyRoot {
					continue // checks no engine runs: PLAN.md's GitOps section has them run by hand
				}
				if c := m.Cluster(s.Cluster); strings.Contains(s.Command, " apply -k ") && len(render.Resources(m.Place(c))) == 1 {
					continue // manifests/ holds only istio-system: the istio-system unit applies it
				}
				// The Issuer (and cacerts' Certificate) is in the istio-system unit.
				inIstioSystem := (ph.ID == render.PhaseCACerts || ph.ID == render.PhaseIssuer) && have[[2]string{s.Cluster, render.PhaseNamespaces}]
				if !have[[2]string{s.Cluster, ph.ID}] && !inIstioSystem {
					t.Errorf("%s: plan step %q in phase %s has no GitOps unit", ex, s.Command, ph.ID)
				}
			}
		}
		// A remote's install waits for its primary.
		for _, u := range units {
			if !u.Cluster.IsPrimary() && u.Chart != nil && u.Chart.Chart == render.ChartIstiod &&
				!slices.ContainsFunc(u.DependsOn, func(d string) bool { return byObject[d].Cluster.Name == u.Cluster.ControlPlane }) {
				t.Errorf("%s: remote %s's istiod does not wait for its primary", ex, u.Cluster.Name)
			}
		}
	}
}

// TestFluxRef checks the GitRepository follows what revision names: Flux
// reads ref.branch only as a branch, so a full commit ID becomes ref.commit.
func TestFluxRef(t *testing.T) {
	m, err := mesh.LoadFile("../examples/gitops-flux/mesh.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sha1 := strings.Repeat("0123456789", 4)
	for rev, want := range map[string]string{
		"main": "branch", "release-1.28": "branch", sha1: "commit", strings.Repeat("ab", 32): "commit",
		sha1[:39]: "branch", sha1 + "a": "branch", strings.Repeat("AB", 20): "commit",
	} {
		m.Spec.GitOps.Revision = rev
		out, err := render.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		var repo struct {
			Kind string
			Spec struct{ Ref map[string]string }
		}
		root := out.Lookup("gitops/root.yaml")
		for doc := range strings.SplitSeq(string(root.Data), "\n---\n") {
			if err := yaml.Unmarshal([]byte(doc), &repo); err != nil {
				t.Fatal(err)
			}
			if repo.Kind == "GitRepository" {
				break
			}
		}
		if repo.Kind != "GitRepository" || len(repo.Spec.Ref) != 1 || repo.Spec.Ref[want] != rev {
			t.Errorf("revision %q: GitRepository %s ref %v, want %s: %s", rev, repo.Kind, repo.Spec.Ref, want, rev)
		}
	}
}
