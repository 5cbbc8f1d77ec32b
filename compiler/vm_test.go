package compiler_test

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

// vmMesh is a one-primary mesh on network1 with one workload group on
// network; gateway is the primary's fields after its role, and more is
// appended to spec.
func vmMesh(t *testing.T, gateway, network, more string) *mesh.Mesh {
	t.Helper()
	networks := "    - name: network1\n"
	if network != "network1" {
		networks += "    - name: " + network + "\n"
	}
	doc := fmt.Sprintf(`apiVersion: meshc.dev/v1alpha1
kind: Mesh
metadata:
  name: t
spec:
  meshID: mesh1
  topology: multi-primary
  istio:
    version: "1.28.0"
  networks:
%s  clusters:
    - name: cluster1
      network: network1
      role: primary
%s
  workloadGroups:
    - name: web
      namespace: web-vms
      cluster: cluster1
      network: %s
%s`, networks, gateway, network, more)
	m, err := compiler.Vet("mesh.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return m
}

const vmGateway = "      eastWestGateway:\n        address: 192.0.2.10"

// TestVMPlacement checks what a primary serving VMs gets, by where the VMs
// sit and how istiod is reached: a network of VMs makes the mesh
// multi-network (and so brings the cross-network Gateway), and istiod is
// exposed on the gateway unless it has an address of its own.
func TestVMPlacement(t *testing.T) {
	for _, tt := range []struct {
		name, gateway, network          string
		multiNetwork, exposes, crossNet bool
	}{
		{"VMs on the cluster's network", vmGateway, "network1", false, true, false},
		{"VMs on a network of their own", vmGateway, "vm-network", true, true, true},
		{"istiod at an address of its own", vmGateway + "\n      istiod:\n        address: 192.0.2.50", "vm-network", true, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := vmMesh(t, tt.gateway, tt.network, "")
			p := m.Place(&m.Spec.Clusters[0])
			if got := m.MultiNetwork(); got != tt.multiNetwork {
				t.Errorf("MultiNetwork = %v, want %v", got, tt.multiNetwork)
			}
			if got := p.ExposesIstiod(); got != tt.exposes {
				t.Errorf("ExposesIstiod = %v, want %v", got, tt.exposes)
			}
			if got := p.ServesCrossNetwork(); got != tt.crossNet {
				t.Errorf("ServesCrossNetwork = %v, want %v", got, tt.crossNet)
			}
		})
	}
}

// TestVMOutput checks where a group's files go: the namespace is created
// with the group unless the mesh shares it; the VM files are in Render's
// output, each gathered by the plan, and not in RenderCluster's (the
// kustomize function emits only what the cluster applies).
func TestVMOutput(t *testing.T) {
	for _, shared := range []bool{false, true} {
		more := ""
		if shared {
			more = "  namespaces:\n    - name: web-vms\n"
		}
		m := vmMesh(t, vmGateway, "network1", more)
		out, err := render.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		wg := out.Lookup("cluster1/manifests/" + render.WorkloadGroupsFile)
		if wg == nil {
			t.Fatal("no workload-groups.yaml")
		}
		if got := strings.Contains(string(wg.Data), "kind: Namespace"); got == shared {
			t.Errorf("shared namespace %v: workload-groups.yaml creates the namespace: %v", shared, got)
		}
		var gathered []string
		for _, ph := range render.BuildPlan(m).Phases {
			if ph.ID == render.PhaseVMFiles {
				gathered = append(gathered, ph.Script())
			}
		}
		for _, f := range render.GroupFiles() {
			p := path.Join("cluster1", mesh.VMDir, "web-vms", "web", f.Name)
			if out.Lookup(p) == nil {
				t.Errorf("Render wrote no %s", p)
			}
			if !strings.Contains(strings.Join(gathered, "\n"), p+" ") {
				t.Errorf("no %s step gathers %s", render.PhaseVMFiles, p)
			}
		}
		one, err := render.RenderCluster(m, "cluster1")
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(one.Files, func(f output.File) bool { return strings.Contains(f.Path, "/"+mesh.VMDir+"/") }); i >= 0 {
			t.Errorf("RenderCluster wrote VM file %s", one.Files[i].Path)
		}
	}
}

// TestVMClusterEnvQuoting pins cluster.env's quoting to Istio's
// shellescape, whose character class lets only a backslash, the letter w
// and @%+=:,./- through unquoted: nearly every value is quoted.
func TestVMClusterEnvQuoting(t *testing.T) {
	m := vmMesh(t, vmGateway, "network1", `      serviceAccount: w
      labels:
        app: shop
        version: "2.1"
`)
	env := render.NewVMView(m.Place(&m.Spec.Clusters[0]), &m.Spec.WorkloadGroups[0]).ClusterEnv()
	for _, want := range []string{
		"SERVICE_ACCOUNT=w\n",
		"CANONICAL_SERVICE='shop'\n",
		"CANONICAL_REVISION='2.1'\n",
		`ISTIO_METAJSON_LABELS='{"app":"shop","service.istio.io/canonical-name":"shop","service.istio.io/canonical-revision":"2.1","version":"2.1"}'` + "\n",
		"ISTIO_INBOUND_PORTS='*'\n",
		"ISTIO_META_NETWORK='network1'\n",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("cluster.env lacks %q:\n%s", want, env)
		}
	}
}

// TestVMFilesStepRuns runs the plan's vm-files steps with bash in the
// rendered output, with a kubectl that prints a token: each group's
// directory under CERTS_DIR must end up with the five files the sidecar
// reads, plus install.sh, private to its owner.
func TestVMFilesStepRuns(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	m, out, err := compiler.Compile("mesh.yaml", mustRead(t, "../examples/vm/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rendered, certs, bin := t.TempDir(), t.TempDir(), t.TempDir()
	if err := output.Write(out, filepath.Join(rendered, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certs, render.VMRootCertFile), []byte("root\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// kubectl create token prints the token; this one also names its
	// arguments, so the test sees what was asked for.
	if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte("#!/bin/sh\necho \"token for $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, ph := range render.BuildPlan(m).Phases {
		if ph.ID == render.PhaseVMFiles {
			steps = append(steps, ph.Script())
		}
	}
	if len(steps) == 0 {
		t.Fatal("no vm-files phase")
	}
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", strings.Join(steps, "\n"))
	cmd.Dir = filepath.Join(rendered, "out")
	cmd.Env = append(os.Environ(), "CERTS_DIR="+certs, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vm-files steps: %v\n%s", err, b)
	}
	for _, g := range m.Spec.WorkloadGroups {
		dir := filepath.Join(certs, filepath.FromSlash(path.Join(g.Cluster, mesh.VMDir, g.Namespace, g.Name)))
		want := []string{render.VMRootCertFile, render.VMTokenFile}
		for _, f := range render.GroupFiles() {
			want = append(want, f.Name)
		}
		slices.Sort(want)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s holds %v, want %v", dir, got, want)
		}
		token, _ := os.ReadFile(filepath.Join(dir, render.VMTokenFile))
		wantToken := fmt.Sprintf("token for --context=cluster1 -n %s create token %s --audience=istio-ca --duration=1h\n", g.Namespace, g.ServiceAccount)
		if string(token) != wantToken {
			t.Errorf("%s: %q, want %q", render.VMTokenFile, token, wantToken)
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v (%v), want 0700: it holds a credential", dir, fi.Mode().Perm(), err)
		}
		if fi, err := os.Stat(filepath.Join(dir, render.VMInstallScript)); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("%s is not executable (%v)", render.VMInstallScript, err)
		}
	}
}

// TestVMDiagramDetails: the picture names up to two groups on their
// primary and counts more, so boxes stay small at any number of groups.
func TestVMDiagramDetails(t *testing.T) {
	more := ""
	for _, name := range []string{"api", "db"} {
		more += fmt.Sprintf("    - name: %s\n      namespace: web-vms\n      cluster: cluster1\n      network: network1\n", name)
	}
	for _, tt := range []struct {
		more string
		want []string
	}{
		{"", []string{"VMs web-vms/web on vm-network"}},
		{more, []string{"3 VM groups on vm-network, network1"}},
	} {
		m := vmMesh(t, vmGateway, "vm-network", tt.more)
		var got []string
		for _, d := range render.Diagram(m).Nodes[0].Details {
			if strings.Contains(d, "VM") {
				got = append(got, d)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("VM details %q, want %q", got, tt.want)
		}
	}
}

// TestVMObjectsOnce: groups that share a namespace and a service account
// get each once, or kustomize refuses the cluster's manifests/ (an object
// registered twice).
func TestVMObjectsOnce(t *testing.T) {
	m := vmMesh(t, vmGateway, "network1", "      serviceAccount: shared\n    - name: api\n      namespace: web-vms\n      serviceAccount: shared\n      cluster: cluster1\n      network: network1\n")
	out, err := render.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	f := out.Lookup("cluster1/manifests/" + render.WorkloadGroupsFile)
	seen := map[string]int{}
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	for {
		var obj struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := dec.Decode(&obj); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen[obj.Kind+" "+obj.Metadata.Namespace+"/"+obj.Metadata.Name]++
	}
	want := map[string]int{"Namespace /web-vms": 1, "ServiceAccount web-vms/shared": 1, "WorkloadGroup web-vms/web": 1, "WorkloadGroup web-vms/api": 1}
	if !maps.Equal(seen, want) {
		t.Errorf("objects %v, want %v", seen, want)
	}
}

// vmInstall is a group's directory as the plan gathers it (rendered files,
// a root certificate, a token), and stand-ins for what install.sh calls:
// curl serves a package and, for PATH.sha256, the digest
// $PUBLISHED_DIGEST; uname -m says $MACHINE (x86_64 by default);
// dpkg-query finds no package installed; mktemp,
// sha256sum, rm and dirname are the real ones; everything that would change
// the machine (dpkg, install, sed, tee, chown, systemctl) only logs.
func vmInstall(t *testing.T) (dir string, s *standIns) {
	t.Helper()
	m, out, err := compiler.Compile("mesh.yaml", mustRead(t, "../examples/vm/mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	g := m.Spec.WorkloadGroups[0]
	for _, f := range render.GroupFiles() {
		rendered := out.Lookup(path.Join(g.Dir(), f.Name))
		if err := os.WriteFile(filepath.Join(dir, f.Name), rendered.Data, cmp.Or(rendered.Mode, 0o644)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{render.VMRootCertFile, render.VMTokenFile} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	curl := `out= url=
while (($#)); do case $1 in -fsSLo) out=$2; shift ;; -*) ;; *) url=$1 ;; esac; shift; done
name=${url##*/}
case $url in
*.sha256) printf '%s %s\n' "$PUBLISHED_DIGEST" "${name%.sha256}" > "$out" ;;
*) printf 'the package\n' > "$out" ;;
esac`
	s = newStandIns(t, map[string]string{"curl": curl, "sha256sum": passThrough, "mktemp": passThrough, "dirname": passThrough,
		"dpkg": succeed, "install": succeed, "sed": succeed, "tee": succeed, "chown": succeed, "systemctl": succeed,
		"uname": `echo "${MACHINE:-x86_64}"`},
		map[string]string{"dpkg-query": "exit 1", "rm": passThrough})
	return dir, s
}

// TestVMInstallScript runs a VM's install.sh with stand-ins (vmInstall):
// it stops at whatever fails, downloads into a private directory it removes,
// and installs only a package whose SHA-256 is the one Istio publishes.
func TestVMInstallScript(t *testing.T) {
	dir, s := vmInstall(t)
	digest := fmt.Sprintf("%x", sha256.Sum256([]byte("the package\n")))
	tmp := t.TempDir()
	env := []string{"PUBLISHED_DIGEST=" + digest, "TMPDIR=" + tmp}
	script := filepath.Join(dir, render.VMInstallScript)
	const done = "install.sh: the sidecar runs"

	t.Run("stops at each failure", func(t *testing.T) {
		s.stopsAtEachFailure(t, script, dir, done, env...)
	})

	// The package goes into a directory of its own under $TMPDIR, which
	// is gone afterwards: never a fixed path another user can plant.
	t.Run("private download", func(t *testing.T) {
		calls, out, err := s.run(t, script, dir, 0, env...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var pkg string
		for _, c := range calls {
			if p, ok := strings.CutPrefix(c, "dpkg -i "); ok {
				pkg = p
			}
		}
		if filepath.Base(pkg) != "istio-sidecar.deb" || !strings.HasPrefix(filepath.Dir(pkg), tmp+"/") {
			t.Errorf("dpkg installs %q, want istio-sidecar.deb in a new directory of $TMPDIR (%s); calls:\n%s", pkg, tmp, strings.Join(calls, "\n"))
		}
		if _, err := os.Stat(filepath.Dir(pkg)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the download directory %s is still there (%v)", filepath.Dir(pkg), err)
		}
	})

	// The package of the machine's architecture: Istio publishes amd64's
	// and arm64's; on another there is nothing to install.
	t.Run("architecture", func(t *testing.T) {
		for machine, want := range map[string]string{"x86_64": "istio-sidecar.deb", "aarch64": "istio-sidecar-arm64.deb", "arm64": "istio-sidecar-arm64.deb", "s390x": ""} {
			calls, out, err := s.run(t, script, dir, 0, append(env, "MACHINE="+machine)...)
			var pkg string
			for _, c := range calls {
				if p, ok := strings.CutPrefix(c, "dpkg -i "); ok {
					pkg = filepath.Base(p)
				}
			}
			switch {
			case want == "" && (err == nil || pkg != "" || !strings.Contains(out, "not for this machine's s390x")):
				t.Errorf("%s: %v, installed %q\n%s", machine, err, pkg, out)
			case want != "" && (err != nil || pkg != want):
				t.Errorf("%s: %v, installed %q, want %s\n%s", machine, err, pkg, want, out)
			}
		}
	})

	// A package whose digest is not the one published is not installed.
	t.Run("digest differs", func(t *testing.T) {
		calls, out, err := s.run(t, script, dir, 0, "PUBLISHED_DIGEST="+strings.Repeat("0", 64), "TMPDIR="+tmp)
		if err == nil || !strings.Contains(out, "istio-sidecar.deb has SHA-256 "+digest+"; Istio publishes "+strings.Repeat("0", 64)) {
			t.Errorf("a package with another digest: %v\n%s", err, out)
		}
		for _, c := range calls {
			if strings.HasPrefix(c, "dpkg ") || strings.HasPrefix(c, "install ") {
				t.Errorf("went on to %s", c)
			}
		}
	})
}

// staticGroup is a group with one instance, and a probe when probe is set.
func staticGroup(probe bool) string {
	more := "      instances:\n        - name: web-1\n          address: 10.0.0.7\n        - name: web-2\n          address: 10.0.0.8\n"
	if probe {
		more += "      probe:\n        tcpSocket:\n          port: 8080\n"
	}
	return more
}

// TestStaticVMsHealthChecked: istiod runs a static group's probe against
// traffic only for WorkloadEntries annotated
// proxy.istio.io/health-checks-enabled, so the entries of a group with a
// probe carry it, and those of a group without one do not (nothing would
// report their health, and istiod would keep them out).
func TestStaticVMsHealthChecked(t *testing.T) {
	for _, probe := range []bool{true, false} {
		m := vmMesh(t, vmGateway, "network1", staticGroup(probe))
		out, err := render.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		entries := 0
		for _, doc := range yamlDocs(t, out.Lookup("cluster1/manifests/"+render.WorkloadGroupsFile)) {
			if doc["kind"] != "WorkloadEntry" {
				continue
			}
			entries++
			got, ok := get(doc, "metadata", "annotations", "proxy.istio.io/health-checks-enabled").(string)
			if want := map[bool]string{true: "true"}[probe]; got != want || ok != probe {
				t.Errorf("probe %v: WorkloadEntry %v: health-checks-enabled %q (set %v), want %q", probe, get(doc, "metadata", "name"), got, ok, want)
			}
		}
		if entries != 2 {
			t.Errorf("probe %v: %d WorkloadEntries, want 2", probe, entries)
		}
	}
}

// TestVMInstallNamesItsEntry runs install.sh of a health-checked group with
// stand-ins (as TestVMInstallScript does): it picks the VM's WorkloadEntry
// by the name given or by an address of the machine, writes it to the
// sidecar's settings file, refuses before changing anything when it can tell
// neither, and stops at whatever fails.
func TestVMInstallNamesItsEntry(t *testing.T) {
	m := vmMesh(t, vmGateway, "network1", staticGroup(true))
	out, err := render.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	g := m.Spec.WorkloadGroups[0]
	for _, f := range render.GroupFiles() {
		rendered := out.Lookup(path.Join(g.Dir(), f.Name))
		if err := os.WriteFile(filepath.Join(dir, f.Name), rendered.Data, cmp.Or(rendered.Mode, 0o644)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{render.VMRootCertFile, render.VMTokenFile} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The package of this release is installed; hostname prints $IPS.
	s := newStandIns(t, map[string]string{"hostname": `echo "$IPS"`, "dirname": passThrough,
		"mktemp": passThrough, "install": succeed, "sed": succeed, "tee": succeed, "chown": succeed, "systemctl": succeed},
		map[string]string{"dpkg-query": "echo " + m.Spec.Istio.Version, "rm": passThrough})
	// With a name: a script that runs install.sh with it.
	withName := func(name string) string {
		p := filepath.Join(dir, "with-"+name+".sh")
		if err := os.WriteFile(p, []byte("set -- "+name+"\nsource ./"+render.VMInstallScript+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	script := filepath.Join(dir, render.VMInstallScript)
	const done = "install.sh: the sidecar runs"
	for _, tt := range []struct {
		name, script, ips, want string
		ok                      bool
	}{
		{"address of the machine", script, "192.168.1.5 10.0.0.8", "install.sh: this VM is WorkloadEntry web-2 of group web", true},
		{"name given", withName("web-1"), "192.168.1.5", "install.sh: this VM is WorkloadEntry web-1 of group web", true},
		{"neither", script, "192.168.1.5", "install.sh: no WorkloadEntry of group web has an address of this machine; name it: sudo ./install.sh <web-1|web-2>", false},
		{"unknown name", withName("web-9"), "10.0.0.7", "name it: sudo ./install.sh <web-1|web-2>", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls, out, err := s.run(t, tt.script, dir, 0, "IPS="+tt.ips, "TMPDIR="+t.TempDir())
			if (err == nil) != tt.ok || !strings.Contains(out, tt.want) || strings.Contains(out, done) != tt.ok {
				t.Fatalf("%v\n%s\nwant success %v and output containing %q", err, out, tt.ok, tt.want)
			}
			changed := slices.ContainsFunc(calls, func(c string) bool {
				return c == "tee -a /var/lib/istio/envoy/sidecar.env"
			})
			if changed != tt.ok {
				t.Errorf("sidecar.env written: %v, want %v; calls:\n%s", changed, tt.ok, strings.Join(calls, "\n"))
			}
			if !tt.ok && slices.ContainsFunc(calls, func(c string) bool { return !strings.HasPrefix(c, "hostname") && !strings.HasPrefix(c, "dirname") }) {
				t.Errorf("refused after changing the machine; calls:\n%s", strings.Join(calls, "\n"))
			}
		})
	}
	t.Run("stops at each failure", func(t *testing.T) {
		s.stopsAtEachFailure(t, script, dir, done, "IPS=10.0.0.7", "TMPDIR="+t.TempDir())
	})
}
