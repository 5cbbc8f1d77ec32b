package main

import (
	"errors"
	"fmt"
	"strings"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/render"
)

func newPlanCmd(e *env) *command {
	c := &command{name: "plan", summary: "print the ordered install steps for the whole mesh: markdown, shell script or JSON",
		usage: "plan [--format markdown|shell|json] [-o DIR] [--certs DIR] FILE\n       meshc plan --from OLD [--reissued CLUSTER,...] [flags] FILE"}
	c.flags = newFlagSet(e, c.name, c.usage)
	format := c.flags.String("format", render.PlanMarkdown, "output `format`: "+strings.Join(render.PlanFormats, ", "))
	outDir := c.flags.String("o", "out", "the rendered output `directory` the commands use (meshc render -o); the shell script changes into it")
	certsDir := c.flags.String("certs", render.DefaultCertsDir, "default of $CERTS_DIR: the `directory` meshc certs wrote")
	from := c.flags.String("from", "", "print only the steps that take the mesh installed from this Mesh `file` to FILE (a change plan)")
	reissued := c.flags.String("reissued", "", "with --from: comma-separated `clusters` whose intermediate CA meshc certs --force re-issued")
	c.run = func(args []string) int {
		if len(args) != 1 {
			fmt.Fprintf(e.stderr, "meshc plan: expected one Mesh file, got %d arguments\n", len(args))
			c.flags.Usage()
			return exitError
		}
		if !e.oneOf("plan", "--format", *format, render.PlanFormats) {
			return exitError
		}
		m, code := e.vet("plan", args[0])
		if code != exitOK {
			return code
		}
		if *reissued != "" && *from == "" {
			fmt.Fprintln(e.stderr, "meshc plan: --reissued needs --from: it changes a running mesh")
			return exitError
		}
		p := render.BuildPlan(m)
		if *from != "" {
			name, data, code := e.read(*from)
			if code != exitOK {
				return code
			}
			old, warnings, err := compiler.VetInstalled(name, data)
			if err != nil {
				return e.fail("plan", err)
			}
			if len(warnings) > 0 {
				diag.Print(e.stderr, warnings, "text")
				fmt.Fprintf(e.stderr, "meshc plan: warning: the installed mesh %s breaks the rules above (added since it was installed, or fixed by this change); the plan starts from it as it is, and %s passes them\n", old.File, m.File)
			}
			var opts render.ChangeOptions
			if *reissued != "" {
				opts.Reissued = strings.Split(*reissued, ",")
			}
			if p, err = render.BuildChangePlan(old, m, opts); err != nil {
				var refused *render.RefusedChange
				if errors.As(err, &refused) {
					diag.Print(e.stderr, refused.Problems, "text")
					fmt.Fprintf(e.stderr, "meshc plan: no change plan from %s to %s\n", old.File, m.File)
					return exitInvalid
				}
				return e.fail("plan", err)
			}
		}
		p.SetDefault(render.CertsDirVar, *certsDir)
		b, err := render.RenderPlan(p, *format, render.ShellOptions{OutDir: *outDir})
		if err != nil {
			return e.fail("plan", err)
		}
		_, err = e.stdout.Write(b)
		return e.fail("plan", err)
	}
	return c
}
