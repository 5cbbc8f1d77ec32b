package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"meshc.dev/meshc/mesh"
)

// Case is one rehearsal: a mesh installed by its rendered plan.sh, then
// changed by `meshc plan --from` into each following mesh (day two). New
// features add a case (an upgrade is a following mesh with a newer
// istio.version; an external CA or ambient a mesh of its own) and, where they
// promise something new, a check.
type Case struct {
	Name string
	// Meshes are Mesh files, relative to the repository root.
	Meshes []string
	// Why says what the case proves, for the log and the docs.
	Why string
}

// Rehearsal is one case on its own fleet.
type Rehearsal struct {
	Case     Case
	Dir      string
	Root     string // the repository root
	Meshc    string // the meshc binary
	Fleet    *Fleet
	StandIns *StandIns
	Repo     *ChartRepo
	Log      io.Writer
	cancel   context.CancelFunc
}

// Start brings up the fleet for the case's first mesh and the stand-ins.
func Start(ctx context.Context, c Case, dir, root, meshc string, tools Tools, log io.Writer) (*Rehearsal, error) {
	f, err := StartFleet(dir, tools)
	if err != nil {
		return nil, err
	}
	r := &Rehearsal{Case: c, Dir: dir, Root: root, Meshc: meshc, Fleet: f, Log: log}
	m, err := r.Load(0)
	if err != nil {
		return r, err
	}
	for _, cl := range m.Spec.Clusters {
		start := time.Now()
		if _, err := f.AddCluster(ctx, cl.Name, cl.Context); err != nil {
			return r, err
		}
		fmt.Fprintf(log, "e2e: cluster %s up in %.1fs\n", cl.Name, time.Since(start).Seconds())
	}
	e := Expect(m, r.index)
	r.StandIns = NewStandIns(f, e.Primary, e.Revision(), func(cluster, ns, name string) string {
		return r.lbAddress(cluster, ns, name)
	})
	sctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.StandIns.Run(sctx)
	if m.Spec.Installer == mesh.InstallerHelm {
		// Every release the case's meshes name: a canary installs the
		// next one's charts beside the first's.
		var versions []string
		for i := range c.Meshes {
			mi, err := r.Load(i)
			if err != nil {
				return r, err
			}
			if !slices.Contains(versions, mi.Spec.Istio.Version) {
				versions = append(versions, mi.Spec.Istio.Version)
			}
		}
		if r.Repo, err = StartChartRepo(dir, tools, versions...); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Stop stops the stand-ins, the chart repository and every process.
func (r *Rehearsal) Stop() error {
	if r.cancel != nil {
		r.cancel()
	}
	if r.Repo != nil {
		r.Repo.Close()
	}
	return r.Fleet.Stop()
}

func (r *Rehearsal) index(cluster string) int {
	if c := r.Fleet.Clusters[cluster]; c != nil {
		return c.Index
	}
	return -1
}

// lbAddress is the stand-in load balancer: the Mesh's address for an
// east-west gateway that declares one (in the newest mesh that has the
// cluster), else one of the harness's.
func (r *Rehearsal) lbAddress(cluster, ns, name string) string {
	for i := len(r.Case.Meshes) - 1; i >= 0; i-- {
		m, err := r.Load(i)
		if err != nil {
			continue
		}
		for _, c := range m.Spec.Clusters {
			if c.Name == cluster && ns == "istio-system" && name == "istio-eastwestgateway" {
				return gatewayAddress(c, r.index(cluster))
			}
		}
	}
	return lbAddress(r.index(cluster), ns, name)
}

// Load reads the case's i-th Mesh.
func (r *Rehearsal) Load(i int) (*mesh.Mesh, error) {
	return mesh.LoadFile(filepath.Join(r.Root, r.Case.Meshes[i]))
}

// Expect is what the i-th mesh promises.
func (r *Rehearsal) Expect(i int) (*Expectations, error) {
	m, err := r.Load(i)
	if err != nil {
		return nil, err
	}
	return Expect(m, r.index), nil
}

// Contexts maps every kube context to its cluster.
func (r *Rehearsal) Contexts() map[string]string {
	cs := map[string]string{}
	for _, c := range r.Fleet.Clusters {
		cs[c.Context] = c.Name
	}
	return cs
}

// MeshcRun runs meshc in the rehearsal's directory.
func (r *Rehearsal) MeshcRun(args ...string) ([]byte, error) {
	cmd := exec.Command(r.Meshc, args...)
	cmd.Dir = r.Dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("meshc %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	fmt.Fprintf(r.Log, "$ meshc %s\n%s", strings.Join(args, " "), errb.String())
	return []byte(out.String()), nil
}

// Env is the environment every plan runs with: the built istioctl and helm
// first on PATH, the fleet's kubeconfig, a home of its own (helm's and
// kubectl's caches), and the chart repository's proxy on the Helm path.
func (r *Rehearsal) Env() []string {
	home := filepath.Join(r.Dir, "home")
	_ = os.MkdirAll(home, 0o700)
	env := []string{
		"PATH=" + r.Fleet.Tools["istio"] + ":" + r.Fleet.Tools["helm"] + ":" + os.Getenv("PATH"),
		"KUBECONFIG=" + r.Fleet.Kubeconfig, "HOME=" + home,
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"), "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
	}
	if r.Repo != nil {
		env = append(env, r.Repo.Env()...)
	}
	return env
}

// Render renders the first mesh with its certificates.
func (r *Rehearsal) Render() error {
	mesh := filepath.Join(r.Root, r.Case.Meshes[0])
	if _, err := r.MeshcRun("certs", "-f", mesh, "-o", "certs"); err != nil {
		return err
	}
	_, err := r.MeshcRun("render", mesh, "-o", "out0")
	return err
}

// RunInstall runs the first mesh's plan.sh, unmodified: once to install,
// and again as its header says a user may (every command idempotent).
func (r *Rehearsal) RunInstall() error {
	return RunPlan(filepath.Join(r.Dir, "out0", "plan.sh"), r.Dir, r.Env(), r.Contexts(), r.Log)
}

// Change takes the mesh from its (i-1)-th to its i-th Mesh: the clusters
// that join get servers first, then the change plan runs, unmodified.
func (r *Rehearsal) Change(ctx context.Context, i int) error {
	old, mesh := filepath.Join(r.Root, r.Case.Meshes[i-1]), filepath.Join(r.Root, r.Case.Meshes[i])
	m, err := r.Load(i)
	if err != nil {
		return err
	}
	for _, c := range m.Spec.Clusters {
		if r.Fleet.Clusters[c.Name] == nil {
			if _, err := r.Fleet.AddCluster(ctx, c.Name, c.Context); err != nil {
				return err
			}
		}
	}
	// The stand-ins follow the new mesh; a cluster that leaves keeps its
	// servers (it leaves the mesh, not the world) and its istiod stops when
	// the plan uninstalls it.
	e := Expect(m, r.index)
	r.StandIns.SetMesh(e.Primary, e.Revision())
	if _, err := r.MeshcRun("certs", "-f", mesh, "-o", "certs"); err != nil {
		return err
	}
	out := fmt.Sprintf("out%d", i)
	if _, err := r.MeshcRun("render", mesh, "-o", out); err != nil {
		return err
	}
	script, err := r.MeshcRun("plan", "--format", "shell", "--from", old, "-o", out, mesh)
	if err != nil {
		return err
	}
	if err := os.WriteFile(r.changeScript(i), script, 0o700); err != nil {
		return err
	}
	return r.RunChange(i)
}

func (r *Rehearsal) changeScript(i int) string {
	return filepath.Join(r.Dir, fmt.Sprintf("change%d.sh", i))
}

// RunChange runs the change plan to the i-th Mesh (again), unmodified, as
// a user does after fixing what stopped it.
func (r *Rehearsal) RunChange(i int) error {
	return RunPlan(r.changeScript(i), r.Dir, append(r.Env(), "MESHC_ALLOW_DESTRUCTIVE=1"), r.Contexts(), r.Log)
}
