package compiler_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/render"
)

// Names that are valid DNS-1123 labels but that YAML readers take for
// something other than a string: kubectl and client-go read YAML 1.1, where
// "on" and "no" are booleans, and every reader takes "123" for a number.
var trickyNames = []string{"123", "on", "no", "1e3", "y", "off"}

const trickyMesh = `apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata:
  name: "off"
spec:
  meshID: "1e3"
  topology: primary-remote
  remoteSecrets: declarative
  istio:
    version: "1.28.0"
  networks:
    - name: "no"
    - name: "y"
  clusters:
    - name: "123"
      network: "no"
      role: primary
      eastWestGateway:
        address: 192.0.2.10
    - name: "on"
      network: "y"
      role: primary
      eastWestGateway:
        address: 192.0.2.11
    - name: "off"
      network: "y"
      role: remote
      controlPlane: "on"
      eastWestGateway: {}
`

// TestNamesStayStrings renders a mesh whose every name YAML could misread
// and requires each of those names, wherever it stands as a whole YAML value
// or key in any rendered manifest (and in the kubeconfigs inside remote
// Secrets, which istiod parses again), to be quoted.
func TestNamesStayStrings(t *testing.T) {
	_, out, err := compiler.Compile("mesh.yaml", []byte(trickyMesh))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range out.Files {
		if !strings.HasSuffix(f.Path, ".yaml") {
			continue
		}
		checked++
		checkQuoted(t, f.Path, f.Data)
	}
	if checked < 10 {
		t.Fatalf("only %d YAML files rendered; the mesh should exercise every template", checked)
	}
}

func checkQuoted(t *testing.T, file string, data []byte) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode {
				for _, name := range trickyNames {
					if n.Value == name && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
						t.Errorf("%s:%d:%d: %q is not quoted; YAML 1.1 readers take it for a non-string", file, n.Line, n.Column, name)
					}
				}
				if n.Style&yaml.LiteralStyle != 0 && strings.Contains(n.Value, "kind: Config") {
					checkQuoted(t, file+" (embedded kubeconfig)", []byte(n.Value))
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
	}
}

// TestIstioOperatorNamesDiffer: istioctl labels what it installs with the
// IstioOperator's name and prunes, on the next install under that name,
// whatever the new one lacks. If the control plane and the east-west gateway
// shared a name, installing the gateway would delete istiod. A cluster named
// like the gateway's IstioOperator must not make them collide.
func TestIstioOperatorNamesDiffer(t *testing.T) {
	mesh := strings.Replace(trickyMesh, `"123"`, "eastwest", -1)
	_, out, err := compiler.Compile("mesh.yaml", []byte(mesh))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]map[string]string{} // cluster -> IstioOperator name -> file
	for _, f := range out.Files {
		cluster, rest, _ := strings.Cut(f.Path, "/")
		if !strings.HasPrefix(rest, render.InstallDir+"/") {
			continue
		}
		var iop struct {
			Kind     string
			Metadata struct{ Name string }
		}
		if err := yaml.Unmarshal(f.Data, &iop); err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if iop.Kind != "IstioOperator" || iop.Metadata.Name == "" {
			t.Fatalf("%s: kind %q name %q, want a named IstioOperator", f.Path, iop.Kind, iop.Metadata.Name)
		}
		if names[cluster] == nil {
			names[cluster] = map[string]string{}
		}
		if other, ok := names[cluster][iop.Metadata.Name]; ok {
			t.Errorf("%s and %s are both IstioOperator %q: installing one prunes the other", other, f.Path, iop.Metadata.Name)
		}
		names[cluster][iop.Metadata.Name] = f.Path
	}
	if len(names["eastwest"]) != 2 {
		t.Fatalf("cluster eastwest has IstioOperators %v, want a control plane and a gateway", names["eastwest"])
	}
}
