package main

import (
	"fmt"
	"strings"

	"meshc.dev/meshc/compiler"
)

func newPlanCmd(e *env) *command {
	c := &command{name: "plan", summary: "print the ordered install steps for the whole mesh: markdown, shell script or JSON",
		usage: "plan [--format markdown|shell|json] [-o DIR] [--certs DIR] FILE"}
	c.flags = newFlagSet(e, c.name, c.usage)
	format := c.flags.String("format", compiler.PlanMarkdown, "output `format`: "+strings.Join(compiler.PlanFormats, ", "))
	outDir := c.flags.String("o", "out", "the rendered output `directory` the commands use (meshc render -o); the shell script changes into it")
	certsDir := c.flags.String("certs", compiler.DefaultCertsDir, "default of $CERTS_DIR: the `directory` meshc certs wrote")
	c.run = func(args []string) int {
		if len(args) != 1 {
			fmt.Fprintf(e.stderr, "meshc plan: expected one Mesh file, got %d arguments\n", len(args))
			c.flags.Usage()
			return exitError
		}
		known := false
		for _, f := range compiler.PlanFormats {
			known = known || f == *format
		}
		if !known {
			fmt.Fprintf(e.stderr, "meshc plan: --format must be one of %s, got %q\n", strings.Join(compiler.PlanFormats, ", "), *format)
			return exitError
		}
		name, data, code := e.read(args[0])
		if code != exitOK {
			return code
		}
		m, err := compiler.Vet(name, data)
		if err != nil {
			return e.fail("plan", err)
		}
		p := compiler.BuildPlan(m)
		p.SetDefault(compiler.CertsDirVar, *certsDir)
		b, err := compiler.RenderPlan(p, *format, compiler.ShellOptions{OutDir: *outDir})
		if err != nil {
			return e.fail("plan", err)
		}
		_, err = e.stdout.Write(b)
		return e.fail("plan", err)
	}
	return c
}
