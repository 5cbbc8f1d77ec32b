package compiler_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/output"
)

// checkWellFormed parses what a program reads of out: every document of
// every YAML file, and the SVG as XML. Scripts are for bash -n
// (shellScripts), which is too slow for the fuzz loop.
func checkWellFormed(t testing.TB, out *output.Output) {
	t.Helper()
	for _, f := range out.Files {
		switch path.Ext(f.Path) {
		case ".yaml":
			dec := yaml.NewDecoder(bytes.NewReader(f.Data))
			for {
				var n yaml.Node
				err := dec.Decode(&n)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Errorf("%s is not YAML: %v", f.Path, err)
					break
				}
			}
		case ".svg":
			dec := xml.NewDecoder(bytes.NewReader(f.Data))
			for {
				_, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Errorf("%s is not well-formed XML: %v", f.Path, err)
					break
				}
			}
		}
	}
}

// shellScripts are the files of out that a shell reads: the plan, the
// VMs' install.sh, and cluster.env, which Istio's sidecar sources.
func shellScripts(out *output.Output) []output.File {
	var files []output.File
	for _, f := range out.Files {
		if strings.HasSuffix(f.Path, ".sh") || path.Base(f.Path) == "cluster.env" {
			files = append(files, f)
		}
	}
	return files
}

// TestRenderedOutputWellFormed renders every example, the rich meshes with
// plain and with hostile values, and inputs the hostile-input probes found,
// and requires every input to be refused or to render output that parses:
// YAML documents, XML for the SVG, and bash -n for every script.
func TestRenderedOutputWellFormed(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("the scripts are bash: ", err)
	}
	inputs := map[string][]byte{}
	examples, _ := filepath.Glob("../examples/*/mesh.yaml")
	nested, _ := filepath.Glob("../examples/*/*/mesh.yaml")
	for _, f := range append(examples, nested...) {
		inputs[f] = mustRead(t, f)
	}
	for _, f := range richMeshes {
		inputs[f] = mustRead(t, f)
		inputs[f+" (hostile)"], _ = hostileMesh(t, f)
	}
	// A carriage return in a PEM header: a line break to YAML, so the
	// header's rest lands outside the block scalar it was written into.
	doc := parseMesh(t, richMeshes[0])
	_, maps := schemaStrings()
	for _, s := range scalars(doc, maps) {
		switch s.norm {
		case "spec.peers[].trustAnchor.pem":
			s.n.Value = strings.Replace(s.n.Value, "\n", "\nX: yQQCRQQz: {\n", 1)
			s.n.Style = yaml.DoubleQuotedStyle
		case "spec.clusters[].context":
			// U+FFFE, which XML does not allow, in the SVG's labels.
			s.n.Value, s.n.Style = s.n.Value+"QQFFFEQQ", yaml.DoubleQuotedStyle
		}
	}
	inputs["carriage return in a PEM header, U+FFFE in contexts"] = encodeYAML(t, doc, map[string]string{"QQCRQQ": `\r`, "QQFFFEQQ": `\uFFFE`})

	dir := t.TempDir()
	var scripts []string
	for name, data := range inputs {
		_, out, err := compiler.Compile("mesh.yaml", data)
		if err != nil {
			var ps diag.Problems
			if !errors.As(err, &ps) {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		t.Run(name, func(t *testing.T) { checkWellFormed(t, out) })
		for _, f := range shellScripts(out) {
			p := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(name+"/"+f.Path))
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			scripts = append(scripts, p)
		}
	}
	if len(scripts) < 20 {
		t.Fatalf("only %d scripts rendered", len(scripts))
	}
	// One bash runs bash -n on every script and names those that fail.
	cmd := exec.Command(bash, append([]string{"-c", `for f; do bash -n "$f" 2>&1 || echo "bash -n failed: $f"; done`, "bash"}, scripts...)...)
	if b, err := cmd.CombinedOutput(); err != nil || len(b) > 0 {
		t.Errorf("bash -n: %v\n%s", err, b)
	}
}
