package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/rules"
)

// Exit codes are part of meshc's interface: scripts and hooks rely on them.
const (
	exitOK      = 0 // success
	exitInvalid = 1 // the input is invalid (or, with --check, output is stale)
	// exitError: the command could not do its job for a reason other than
	// the input's content: bad flags or arguments, or an I/O failure.
	exitError = 2
)

// command is one subcommand. Each is built by a constructor that receives
// its output streams, so tests can run any command many times in one process.
type command struct {
	name    string
	summary string
	usage   string
	flags   *flag.FlagSet
	run     func(args []string) int
}

type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// Main runs meshc with args (without the program name) and returns the exit
// code. It is the only place that prints errors.
func Main(args []string, stdout, stderr io.Writer) int {
	e := &env{stdin: os.Stdin, stdout: stdout, stderr: stderr}
	cmds := []*command{
		newRenderCmd(e),
		newVetCmd(e),
		newCertsCmd(e),
		newPlanCmd(e),
		newGraphCmd(e),
		newSchemaCmd(e),
		newVersionCmd(e),
		newFnCmd(e),
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			for _, c := range cmds {
				if c.name == args[1] {
					c.flags.SetOutput(stdout)
					c.flags.Usage()
					return exitOK
				}
			}
		}
		w := stdout
		code := exitOK
		if len(args) == 0 {
			w, code = stderr, exitError
		}
		printHelp(w, cmds)
		return code
	}
	for _, c := range cmds {
		if c.name == args[0] {
			rest, err := parseInterspersed(c.flags, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			if err != nil {
				return exitError // the flag package already printed why
			}
			if err := printableArgs(c.flags, rest); err != nil {
				fmt.Fprintf(stderr, "meshc %s: %v\n", c.name, err)
				return exitError
			}
			return c.run(rest)
		}
	}
	fmt.Fprintf(stderr, "meshc: unknown command %q\n\n", args[0])
	printHelp(stderr, cmds)
	return exitError
}

func printHelp(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "meshc compiles one Mesh document into every cluster's Istio multicluster manifests.")
	fmt.Fprintln(w, "\nUsage:\n  meshc <command> [flags] [args]\n\nCommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'meshc help <command>' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 invalid input or stale output, 2 usage or I/O error.")
}

func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: meshc %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// decimal is an int flag read in base 10 only. The flag package's Int reads
// a leading 0 as octal and 0x as hex, so --days 0365 would silently mean 245.
type decimal int

func (d *decimal) String() string { return strconv.Itoa(int(*d)) }

func (d *decimal) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, strconv.IntSize)
	if err != nil {
		return errors.New("not a decimal whole number")
	}
	*d = decimal(n)
	return nil
}

// decimalFlag defines an int flag read in base 10 only (see decimal).
func decimalFlag(fs *flag.FlagSet, name string, value int, usage string) *int {
	p := new(int)
	*p = value
	fs.Var((*decimal)(p), name, usage)
	return p
}

// parseInterspersed lets flags follow arguments (`meshc render mesh.yaml -o
// out/`), which the flag package alone does not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// printableArgs refuses flag values and arguments holding a control
// character or another mesh.UnsafeRune: they end up in paths, messages
// and generated scripts, where a newline would start a new line or command.
func printableArgs(fs *flag.FlagSet, args []string) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if e := mesh.CheckText(f.Value.String()); e != nil && err == nil {
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			err = fmt.Errorf("%s%s: %w", dash, f.Name, e)
		}
	})
	for _, a := range args {
		if e := mesh.CheckText(a); e != nil && err == nil {
			err = fmt.Errorf("argument %w", e)
		}
	}
	return err
}

func newRenderCmd(e *env) *command {
	c := &command{name: "render", summary: "validate a Mesh file and write every cluster's manifests and the install plan",
		usage: "render [--check [--format text|json]] [-o DIR] FILE"}
	c.flags = newFlagSet(e, c.name, c.usage)
	outDir := c.flags.String("o", "out", "output `directory`, replaced as a whole (meshc owns it)")
	check := c.flags.Bool("check", false, "write nothing; exit 1 listing stale, missing and extra files if DIR differs from what FILE renders to")
	format := c.flags.String("format", "text", "with --check, `text`: one line per file on stderr; json: a JSON array of problems on stdout")
	c.run = func(args []string) int {
		if len(args) != 1 {
			fmt.Fprintf(e.stderr, "meshc render: expected one Mesh file, got %d arguments\n", len(args))
			c.flags.Usage()
			return exitError
		}
		if !e.oneOf("render", "--format", *format, diag.Formats) {
			return exitError
		}
		name, data, code := e.read(args[0])
		if code != exitOK {
			return code
		}
		_, out, err := compiler.Compile(name, data)
		if err != nil {
			return e.fail("render", err)
		}
		if *check {
			return e.checkOutput(name, out, *outDir, *format)
		}
		if err := output.Write(out, *outDir); err != nil {
			return e.fail("render", err)
		}
		return exitOK
	}
	return c
}

func newVetCmd(e *env) *command {
	c := &command{name: "vet", summary: "check Mesh files against the schema and the cross-cluster rules; write nothing",
		usage: "vet [--format text|json] FILE..."}
	c.flags = newFlagSet(e, c.name, c.usage)
	format := c.flags.String("format", "text", "`text`: file:line:col: path: message lines on stderr; json: a JSON array of problems on stdout")
	c.run = func(args []string) int {
		if len(args) == 0 {
			fmt.Fprintln(e.stderr, "meshc vet: expected at least one Mesh file")
			c.flags.Usage()
			return exitError
		}
		if !e.oneOf("vet", "--format", *format, diag.Formats) {
			return exitError
		}
		code := exitOK
		all := diag.Problems{}
		var meshes []*mesh.Mesh
		for _, a := range args {
			name, data, err := readFile(a)
			rc := exitOK
			if err != nil {
				fmt.Fprintf(e.stderr, "meshc: %v\n", err)
				rc = exitError
				if *format == "json" {
					// In the JSON too: an empty list would say the file is fine.
					all = append(all, diag.Problem{
						Pos:     token.Position{Filename: displayName(a), Line: 1, Column: 1},
						Message: fmt.Sprintf("cannot read the file: %v", err),
					})
				}
			}
			if rc == exitOK {
				m, err := compiler.Vet(name, data)
				if m != nil {
					meshes = append(meshes, m)
				}
				var ps diag.Problems
				if *format == "json" && errors.As(err, &ps) {
					all, rc = append(all, ps...), exitInvalid
				} else {
					rc = e.fail("vet", err)
				}
			}
			code = max(code, rc)
		}
		// Peers given together are checked against each other's files.
		if ps := rules.VetPeers(meshes); len(ps) > 0 {
			if *format == "json" {
				all = append(all, ps...)
			} else {
				e.fail("vet", ps)
			}
			code = max(code, exitInvalid)
		}
		if *format == "json" {
			return max(code, e.printJSON(all))
		}
		return code
	}
	return c
}

func newVersionCmd(e *env) *command {
	c := &command{name: "version", summary: "print meshc's version", usage: "version"}
	c.flags = newFlagSet(e, c.name, c.usage)
	c.run = func([]string) int {
		v := "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		fmt.Fprintf(e.stdout, "meshc %s\n", v)
		return exitOK
	}
	return c
}

// read loads a file and returns the name to show in messages: relative to
// the working directory, with forward slashes, so output is stable.
func (e *env) read(arg string) (string, []byte, int) {
	name, data, err := readFile(arg)
	if err != nil {
		fmt.Fprintf(e.stderr, "meshc: %v\n", err)
		return "", nil, exitError
	}
	return name, data, exitOK
}

// vet reads and vets the Mesh file arg for command cmd: the mesh, or the
// exit code after printing why not.
func (e *env) vet(cmd, arg string) (*mesh.Mesh, int) {
	name, data, code := e.read(arg)
	if code != exitOK {
		return nil, code
	}
	m, err := compiler.Vet(name, data)
	if err != nil {
		return nil, e.fail(cmd, err)
	}
	return m, exitOK
}

// readFile is read without the printing: the error says which file.
func readFile(arg string) (string, []byte, error) {
	f, err := os.Open(arg)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	name := displayName(arg)
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return "", nil, fmt.Errorf("%s is a directory; give the Mesh file (such as %s)", name, path.Join(name, "mesh.yaml"))
	}
	data, err := mesh.ReadInput(f)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	return name, data, nil
}

func displayName(p string) string {
	if filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				p = rel
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(p))
}

// fail prints err and picks the exit code: problems with the input are 1,
// anything else (I/O) is 2.
// oneOf reports whether a flag's value is one of allowed, and says on stderr
// what is allowed when it is not: every command's choice flags read the same.
func (e *env) oneOf(cmd, flag, value string, allowed []string) bool {
	if slices.Contains(allowed, value) {
		return true
	}
	fmt.Fprintf(e.stderr, "meshc %s: %s must be one of %s, got %q\n", cmd, flag, strings.Join(allowed, ", "), value)
	return false
}

func (e *env) fail(cmd string, err error) int {
	if err == nil {
		return exitOK
	}
	var ps diag.Problems
	if errors.As(err, &ps) {
		diag.Print(e.stderr, ps, "text")
		return exitInvalid
	}
	fmt.Fprintf(e.stderr, "meshc %s: %v\n", cmd, err)
	return exitError
}
