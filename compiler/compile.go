package compiler

import (
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
	"meshc.dev/meshc/rules"
)

// Vet runs Load and Validate: everything `meshc vet` does. It returns the
// mesh only when it is valid; problems come back as Problems.
func Vet(filename string, data []byte) (*mesh.Mesh, error) {
	m, err := mesh.Load(filename, data)
	if err != nil {
		return nil, err
	}
	if ps := rules.Validate(m); len(ps) > 0 {
		return nil, ps
	}
	return m, nil
}

// VetInstalled vets the mesh a change plan starts from (meshc plan --from):
// the problems of Runtime rules, which it may break because it is what is
// installed, come back as warnings beside the mesh.
func VetInstalled(filename string, data []byte) (*mesh.Mesh, diag.Problems, error) {
	m, err := mesh.Load(filename, data)
	if err != nil {
		return nil, nil, err
	}
	ps, warnings := rules.ValidateInstalled(m)
	if len(ps) > 0 {
		return nil, nil, ps
	}
	return m, warnings, nil
}

// Compile runs the pipeline up to Write: Load, Validate and Render. Every
// front end (CLI, kustomize function, pre-commit hooks) goes through here.
func Compile(filename string, data []byte) (*mesh.Mesh, *output.Output, error) {
	m, err := Vet(filename, data)
	if err != nil {
		return nil, nil, err
	}
	out, err := render.Render(m)
	if err != nil {
		return nil, nil, err
	}
	return m, out, nil
}
