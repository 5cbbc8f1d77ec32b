// Package e2e rehearses meshc's rendered install and change plans on real
// Kubernetes API servers, with the real kubectl, istioctl and helm, and then
// runs one real istiod (pilot-discovery) per primary from the objects the
// plan created.
//
// A Fleet is one etcd and, per cluster, a kube-apiserver (its own etcd
// prefix and its own Service range inside 127.0.0.0/8), a
// kube-controller-manager, a kube-scheduler and kwok with one simulated
// node, all on loopback, all stopped with their process groups when the
// fleet stops. A Case is a Mesh (and optionally the meshes that follow it,
// day two): the rehearsal renders it with meshc, runs plan.sh unmodified,
// then checks what istiod knows against values computed from the Mesh.
// Stand-ins replace only what a kubelet, a load balancer or the internet
// would provide; docs/e2e.md lists them and what each leaves unproven.
//
// `make e2e` runs it; build.sh builds the servers and clients once into a
// cache outside the worktree.
package e2e
