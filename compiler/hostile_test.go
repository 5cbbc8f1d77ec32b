package compiler_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// meshWith is a valid one-cluster mesh with extra lines appended to the
// cluster (indented six spaces) and to spec (two).
func meshWith(cluster, spec string) string {
	return `apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata:
  name: demo
spec:
  meshID: mesh1
  topology: multi-primary
  istio:
    version: "1.28.0"
  networks:
    - name: network1
  clusters:
    - name: cluster1
      network: network1
      role: primary
` + cluster + spec
}

// TestHostileInputs: values that would reach a shell script or Markdown
// with a control character are errors at their position; messages stay on
// one line and short whatever the value; reports stop at MaxProblems.
func TestHostileInputs(t *testing.T) {
	manyKeys := strings.Builder{}
	for i := range mesh.MaxKeys + 1 {
		fmt.Fprintf(&manyKeys, "  k%d: 1\n", i)
	}
	manyItems := strings.Builder{}
	manyItems.WriteString("  extra:\n")
	for range mesh.MaxItems + 1 {
		manyItems.WriteString("    - 1\n")
	}
	manyBad := strings.Builder{}
	for i := range mesh.MaxProblems + 5 {
		fmt.Fprintf(&manyBad, "      bad%d: 1\n", i)
	}
	long := strings.Repeat("x", 1000) // YAML's longest implicit key
	cases := []struct {
		name, in string
		want     []string
	}{
		{"nul", meshWith(`      context: "a\0b"`+"\n", ""), []string{
			`in.yaml:16:16: spec.clusters[0].context: "a\x00b" holds NUL (U+0000) at character 2; only printable characters are allowed`}},
		{"vertical tab", meshWith(`      context: "kind-\vx"`+"\n", ""), []string{
			`in.yaml:16:16: spec.clusters[0].context: "kind-\vx" holds a vertical tab (U+000B) at character 6; only printable characters are allowed`}},
		{"line separator", meshWith(`      context: "a\u2028touch owned"`+"\n", ""), []string{
			`in.yaml:16:16: spec.clusters[0].context: "a\u2028touch owned" holds a line separator (U+2028) at character 2; only printable characters are allowed`}},
		{"paragraph separator", meshWith(`      apiServer: "https://a\u2029b"`+"\n", ""), []string{
			`in.yaml:16:18: spec.clusters[0].apiServer: "https://a\u2029b" holds a paragraph separator (U+2029) at character 10; only printable characters are allowed`}},
		{"bidi override", meshWith(`      context: "ab\u202ec"`+"\n", ""), []string{
			`in.yaml:16:16: spec.clusters[0].context: "ab\u202ec" holds the invisible character U+202E at character 3; only printable characters are allowed`}},
		{"newline in a value", meshWith(`      context: "a\ntouch owned"`+"\n", ""), []string{
			`in.yaml:16:16: spec.clusters[0].context: "a\ntouch owned" holds a newline (U+000A) at character 2; only printable characters are allowed`}},
		{"raw control byte after multibyte text", meshWith("      context: éé\x0bb\n", ""), []string{
			`in.yaml:16:18: input holds a vertical tab (U+000B); only printable characters are allowed`}},
		{"raw line separator", meshWith("      context: a\u2028b\n", ""), []string{
			`in.yaml:16:17: input holds a line separator (U+2028); only printable characters are allowed`}},
		{"raw escape in a comment", "# \x1b[2J\n" + meshWith("", ""), []string{
			`in.yaml:1:3: input holds an escape (U+001B); only printable characters are allowed`}},
		{"newline in a key", meshWith("", "  \"bad\\nkey\": 1\n"), []string{
			`in.yaml:16:3: spec: "bad\nkey" holds a newline (U+000A) at character 4; only printable characters are allowed`}},
		{"long unknown key", meshWith("", "  "+long+": 1\n"), []string{
			`in.yaml:16:3: spec["` + long[:64] + `"… (1000 characters)]: unknown field "` + long[:64] + `"… (1000 characters) (allowed: ca, clusters, dataPlane, gitops, installer, istio, meshID, namespaces, networks, peers, remoteSecrets, serviceResolution, services, topology, trustDomain, workloadGroups)`}},
		{"long bad value", meshWith("", "  trustDomain: "+strings.Repeat(long, 100)+"\n"), []string{
			`in.yaml:16:16: spec.trustDomain: must be a DNS-1123 subdomain, as "cluster.local" (the default), got "` + long[:64] + `"… (100000 characters)`}},
		{"too many keys", meshWith("", manyKeys.String()), []string{
			fmt.Sprintf(`in.yaml:%d:3: spec: mapping has %d keys; meshc reads at most %d (MaxKeys) in one mapping, and a Mesh needs about ten`, 16+mesh.MaxKeys-5, mesh.MaxKeys+6, mesh.MaxKeys)}},
		{"too many items", meshWith("", manyItems.String()), []string{
			fmt.Sprintf(`in.yaml:%d:7: spec.extra[%d]: list has %d items; meshc reads at most %d (MaxItems) in one list`, 17+mesh.MaxItems, mesh.MaxItems, mesh.MaxItems+1, mesh.MaxItems)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := compiler.Vet("in.yaml", []byte(c.in))
			ps, ok := err.(diag.Problems)
			if !ok {
				t.Fatalf("err = %v, want problems", err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}

	// Reports stop at MaxProblems, with a last line saying how many more.
	_, err := compiler.Vet("in.yaml", []byte(meshWith(manyBad.String(), "")))
	ps, _ := err.(diag.Problems)
	if len(ps) != mesh.MaxProblems+1 {
		t.Fatalf("%d problems, want %d", len(ps), mesh.MaxProblems+1)
	}
	want := fmt.Sprintf("in.yaml:%d:7: … and 5 more problems (meshc reports the first %d; fix these and run again)", 16+mesh.MaxProblems, mesh.MaxProblems)
	if got := ps[len(ps)-1].String(); got != want {
		t.Errorf("last problem:\n got %s\nwant %s", got, want)
	}
	for _, p := range ps {
		if strings.Contains(p.String(), "\n") {
			t.Errorf("a message spans lines: %q", p.String())
		}
	}
}

// TestPlanSizeLimit: a mesh whose plan grows past MaxRemoteSecrets is refused
// before anything quadratic is built, naming the limit.
func TestPlanSizeLimit(t *testing.T) {
	var b strings.Builder
	n := 0
	for (n+1)*n <= mesh.MaxRemoteSecrets {
		n++
	}
	n++ // n primaries need n×(n−1) > MaxRemoteSecrets remote secrets
	for i := range n {
		fmt.Fprintf(&b, "    - {name: c%d, network: network1, role: primary}\n", i)
	}
	in := strings.Replace(meshWith("", ""), "    - name: cluster1\n      network: network1\n      role: primary\n", b.String(), 1)
	_, err := compiler.Vet("in.yaml", []byte(in))
	want := fmt.Sprintf("in.yaml:12:3: spec.clusters: %d primaries each watching the other %d clusters need %d remote secrets; meshc plans at most %d (MaxRemoteSecrets): use fewer primaries (topology primary-remote) or split the mesh",
		n, n-1, n*(n-1), mesh.MaxRemoteSecrets)
	if err == nil || err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
	// One primary fewer is accepted.
	in = strings.Replace(in, fmt.Sprintf("    - {name: c%d, network: network1, role: primary}\n", n-1), "", 1)
	if _, err := compiler.Vet("in.yaml", []byte(in)); err != nil {
		t.Errorf("%d primaries: %v", n-1, err)
	}
}

// TestTotalKeysLimit: keys spread over many mappings, each under MaxKeys,
// are bounded in total too, before CUE sees them.
func TestTotalKeysLimit(t *testing.T) {
	var b strings.Builder
	perCluster := mesh.MaxKeys - 10
	for i := 0; i*perCluster <= mesh.MaxKeysTotal; i++ {
		fmt.Fprintf(&b, "    - {name: c%d, network: network1, role: primary", i)
		for k := range perCluster {
			fmt.Fprintf(&b, ", k%d: 1", k)
		}
		b.WriteString("}\n")
	}
	in := strings.Replace(meshWith("", ""), "    - name: cluster1\n      network: network1\n      role: primary\n", b.String(), 1)
	_, err := compiler.Vet("in.yaml", []byte(in))
	ps, _ := err.(diag.Problems)
	want := fmt.Sprintf("document has more than %d keys (MaxKeysTotal)", mesh.MaxKeysTotal)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, want) || ps[0].Pos.Line < 12 {
		t.Errorf("err = %v, want one positioned problem saying %q", err, want)
	}
}

// TestPEMWithCRLFLineEnds: a Mesh file saved with CRLF line ends is
// accepted: YAML reads each as one line break, so a PEM in a block scalar
// holds line feeds only. Only a carriage return written as an escape
// reaches a PEM, and is refused (testdata/invalid/text-pem-control.txtar).
func TestPEMWithCRLFLineEnds(t *testing.T) {
	data := strings.ReplaceAll(string(mustRead(t, "../examples/federation-east/mesh.yaml")), "\n", "\r\n")
	m, err := compiler.Vet("crlf.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Spec.Peers[0].TrustAnchor.PEM, "\r") {
		t.Errorf("the PEM holds a carriage return: %q", m.Spec.Peers[0].TrustAnchor.PEM)
	}
}
