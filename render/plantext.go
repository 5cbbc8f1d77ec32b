package render

import (
	"encoding/binary"
	"fmt"
	"strings"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// checkPlanText refuses a plan holding an UnsafeRune anywhere the shell
// script or the Markdown shows it: comments and headings included, where
// quoting does not help (a newline ends a comment and starts a command);
// and a context starting with '-', which argocd cluster add would read as
// an option.
// Load already rejects such input; this guards plans built or changed by
// hand (SetDefault, a library caller) and the output directory.
func checkPlanText(p *Plan, so ShellOptions) error {
	fields := []struct{ name, v string }{
		{"name", p.Name}, {"meshID", p.MeshID}, {"istioVersion", p.IstioVersion},
		{"remoteSecrets", p.RemoteSecrets}, {"output directory", so.OutDir},
		{"from", p.From}, {"installer", p.Installer},
	}
	if r := p.HelmRepository; r != nil {
		fields = append(fields, struct{ name, v string }{"Helm repository", r.Name + " " + r.URL})
	}
	for _, v := range p.Variables {
		fields = append(fields, struct{ name, v string }{"variable name", v.Name},
			struct{ name, v string }{v.Name + " default", v.Default},
			struct{ name, v string }{v.Name + " description", v.Description})
	}
	for _, ph := range p.Phases {
		fields = append(fields, struct{ name, v string }{"phase " + ph.ID, ph.ID + " " + ph.Title})
	}
	for _, f := range fields {
		if err := planText(f.name, f.v); err != nil {
			return err
		}
	}
	for _, ph := range p.Phases {
		for _, s := range ph.Steps {
			if strings.HasPrefix(s.Context, "-") {
				return fmt.Errorf("rendering plan: step of cluster %s: context %s starts with '-', which a tool reads as an option", diag.Quote(s.Cluster), diag.Quote(s.Context))
			}
			for _, v := range [...]string{s.Cluster, s.Context, s.Source, s.Command} {
				if !asciiPrintable(v) {
					if err := planText("step of cluster "+diag.Quote(s.Cluster), v); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// planText is CheckText, worded for a plan.
func planText(what, s string) error {
	if asciiPrintable(s) {
		return nil
	}
	if err := mesh.CheckText(s); err != nil {
		return fmt.Errorf("rendering plan: %s: %w", what, err)
	}
	return nil
}

// asciiPrintable is the fast path: a plan of 250,000 steps is tens of
// megabytes of plain ASCII, so it looks at eight bytes at a time for one
// below 0x20 or above 0x7e (the bit tricks of "Bit Twiddling Hacks",
// hasless and hasmore).
func asciiPrintable(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		if (x-ones*0x20)&^x&highs != 0 || (x+ones*(127-0x7e)|x)&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f {
			return false
		}
	}
	return true
}
