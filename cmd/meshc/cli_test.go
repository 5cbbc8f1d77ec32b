package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

const testMesh = `apiVersion: meshc.dev/v1alpha1
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
`

// TestControlCharactersInArgs: a flag value or argument with a newline or
// another control character is a usage error, in one line, before anything
// is read or written; a script line could not hold it.
func TestControlCharactersInArgs(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("mesh.yaml", []byte(testMesh), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "--format", "shell", "--certs", "x\ntouch owned", "mesh.yaml"},
			`meshc plan: --certs: "x\ntouch owned" holds a newline (U+000A) at character 2; only printable characters are allowed`},
		{[]string{"plan", "--format", "shell", "-o", "out\u2028x", "mesh.yaml"},
			`meshc plan: -o: "out\u2028x" holds a line separator (U+2028) at character 4; only printable characters are allowed`},
		{[]string{"render", "-o", "out\vx", "mesh.yaml"},
			`meshc render: -o: "out\vx" holds a vertical tab (U+000B) at character 4; only printable characters are allowed`},
		{[]string{"certs", "-f", "mesh.yaml", "-o", "c\x00"},
			`meshc certs: -o: "c\x00" holds NUL (U+0000) at character 2; only printable characters are allowed`},
		{[]string{"vet", "mesh.yaml\r"},
			`meshc vet: argument "mesh.yaml\r" holds a carriage return (U+000D) at character 10; only printable characters are allowed`},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(c.args, &stdout, &stderr); code != exitError {
			t.Errorf("%q: exit %d, want %d", c.args, code, exitError)
		}
		if got := strings.TrimSuffix(stderr.String(), "\n"); got != c.want {
			t.Errorf("%q: stderr\n%s\nwant\n%s", c.args, got, c.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("%q: printed %q", c.args, stdout.String())
		}
	}
	entries, _ := os.ReadDir(".")
	if len(entries) != 1 {
		t.Errorf("something was written: %v", entries)
	}
}
