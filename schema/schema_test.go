package schema

import (
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

func TestMeshCompiles(t *testing.T) {
	def, err := Mesh(cuecontext.New())
	if err != nil {
		t.Fatal(err)
	}
	if !def.LookupPath(cue.MakePath(cue.Str("spec").Optional())).Exists() {
		t.Fatal("#Mesh has no spec")
	}
}

// TestPatternsHaveWording makes sure every constrained string type tells users
// what it expects: a bare regular expression is not an error message.
func TestPatternsHaveWording(t *testing.T) {
	root := cuecontext.New().CompileBytes(Source, cue.Filename(Filename))
	for _, name := range []string{"#Name", "#DNSSubdomain", "#Context", "#Address", "#IstioVersion"} {
		v := root.LookupPath(cue.ParsePath(name))
		if !v.Exists() {
			t.Errorf("%s is not defined", name)
			continue
		}
		if Expectation(v) == "" {
			t.Errorf("%s has no @meshc(expect=...) wording", name)
		}
	}
}
