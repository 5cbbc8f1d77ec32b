package compiler_test

import (
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// FuzzPlanWriters puts arbitrary text where the plan writers put values a
// user chose (a cluster's kubeconfig context, CERTS_DIR's default from
// --certs, the shell script's output directory), bypassing Load as a library
// caller could, and demands that no value change the shape of PLAN.md or
// plan.sh: the writers either refuse it or quote it. Shape means the same
// lines as with plain values, comments still comments, no control
// character, and the Markdown code span showing exactly the value.
func FuzzPlanWriters(f *testing.F) {
	for _, seed := range [][3]string{
		{"kind-cluster1", "certs", "out"},
		{"x\ntouch owned", "certs\ntouch owned", "out\ntouch owned"},
		{"a`b`", "``x``", "$(id)"},
		{"it's", "'; touch owned; '", "a b"},
		{"c\u2028x", "\u2029", "\x00"},
		{"-", " `x` ", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, context, certsDir, outDir string) {
		renderPlan := func(context, certsDir, outDir, format string) ([]byte, error) {
			m, err := compiler.Vet("mesh.yaml", []byte(meshWith("", "")))
			if err != nil {
				t.Fatal(err)
			}
			m.Spec.Clusters[0].Context = context
			p := render.BuildPlan(m)
			p.SetDefault(render.CertsDirVar, certsDir)
			return render.RenderPlan(p, format, render.ShellOptions{OutDir: outDir})
		}
		plainOut := "o"
		if outDir == "" {
			plainOut = ""
		}
		for _, format := range []string{render.PlanMarkdown, render.PlanShell} {
			// The Markdown does not show the shell script's directory.
			safe := mesh.CheckText(context) == nil && !strings.HasPrefix(context, "-") && mesh.CheckText(certsDir) == nil &&
				(format == render.PlanMarkdown || mesh.CheckText(outDir) == nil)
			got, err := renderPlan(context, certsDir, outDir, format)
			if err != nil {
				if safe {
					t.Fatalf("%s: refused printable values: %v", format, err)
				}
				continue
			}
			if !safe {
				t.Fatalf("%s: rendered a value with a control character", format)
			}
			want, err := renderPlan("c", "d", plainOut, format)
			if err != nil {
				t.Fatal(err)
			}
			gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
			if len(gl) != len(wl) {
				t.Fatalf("%s: a value changed the number of lines from %d to %d:\n%s", format, len(wl), len(gl), got)
			}
			for i := range wl {
				if strings.HasPrefix(wl[i], "#") != strings.HasPrefix(gl[i], "#") || strings.HasPrefix(wl[i], "```") != strings.HasPrefix(gl[i], "```") {
					t.Fatalf("%s: line %d changed kind:\n%s\nwas\n%s", format, i+1, gl[i], wl[i])
				}
			}
			if format == render.PlanMarkdown {
				checkCodeSpan(t, string(got), "export "+render.CertsDirVar+"=/path/to/"+certsDir)
			}
		}
	})
}

// checkCodeSpan finds the code span holding text's first word and demands
// that, read the CommonMark way, it holds exactly text.
func checkCodeSpan(t *testing.T, doc, text string) {
	t.Helper()
	for _, line := range strings.Split(doc, "\n") {
		i := strings.Index(line, "`export ")
		j := strings.Index(line, "` export ")
		if i < 0 && j < 0 {
			continue
		}
		start := min(uint(i), uint(j)) // the earlier one found
		for start > 0 && line[start-1] == '`' {
			start--
		}
		n := 0
		for int(start)+n < len(line) && line[int(start)+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		rest := line[int(start)+n:]
		// The span ends at the first run of exactly n backticks.
		for k := 0; k < len(rest); {
			if rest[k] != '`' {
				k++
				continue
			}
			m := 0
			for k+m < len(rest) && rest[k+m] == '`' {
				m++
			}
			if m == n {
				content := rest[:k]
				if len(content) >= 2 && content[0] == ' ' && content[len(content)-1] == ' ' && strings.Trim(content, " ") != "" {
					content = content[1 : len(content)-1]
				}
				if content != text {
					t.Fatalf("code span %s…%s shows %q, want %q", fence, fence, content, text)
				}
				return
			}
			k += m
		}
		t.Fatalf("code span opened with %s never closes: %q", fence, line)
	}
	t.Fatalf("no code span with %q", text)
}
