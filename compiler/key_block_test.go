package compiler_test

import (
	"bytes"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
)

// TestVaultCABundleRefusesKeyBlock is mc068-vault-ca-bundle with a private
// key block instead of the case's public one. The block is built at run
// time: no key block is committed, not even a stub.
func TestVaultCABundleRefusesKeyBlock(t *testing.T) {
	for _, c := range invalidCases(t) {
		if c.Name != "mc068-vault-ca-bundle.yaml" {
			continue
		}
		in := bytes.ReplaceAll(c.Input, []byte("PUBLIC KEY-----"), []byte("PRIVATE "+"KEY-----"))
		_, err := compiler.Vet(c.Name, in)
		if err == nil || !strings.Contains(err.Error(), "holds a PRIVATE KEY block") || !strings.Contains(err.Error(), "[MC068]") {
			t.Fatalf("Vet = %v, want MC068 naming the PRIVATE KEY block", err)
		}
		return
	}
	t.Fatal("no case mc068-vault-ca-bundle.yaml")
}
