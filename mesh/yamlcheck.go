package mesh

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"cuelang.org/go/cue/token"
	"go.yaml.in/yaml/v3"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/internal/yamlbound"
)

// MaxDepth bounds how deeply the input may nest. A Mesh document nests six
// levels (spec.clusters[0].eastWestGateway.address); anything much deeper is
// not a mesh, and evaluating thousands of nested levels takes seconds.
const MaxDepth = 32

// checkYAML looks at the YAML structure before CUE sees it, for what CUE's
// decoder hides: every document after the first (CUE turns several
// documents into a list), duplicate keys (CUE unifies them and complains
// only when their values differ) and runaway nesting. It uses the same YAML
// parser CUE does; syntax errors are left to the CUE step, which words them.
func checkYAML(filename string, data []byte) diag.Problems {
	at := func(n *yaml.Node) token.Position {
		return token.Position{Filename: filename, Line: max(n.Line, 1), Column: max(n.Column, 1)}
	}
	if n := yamlbound.Nodes(data); n > MaxNodes {
		return diag.Problems{{Pos: token.Position{Filename: filename, Line: 1, Column: 1},
			Message: fmt.Sprintf("input may hold up to %d YAML nodes (keys, values and list items, counted before parsing); meshc reads at most %d (MaxNodes)", n, MaxNodes)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var (
		ps     diag.Problems
		count  int
		second *yaml.Node
	)
	for {
		// Only the first document is kept: the others are counted, so a
		// file of a million "---" lines costs time, not memory.
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if p, ok := depthError(filename, err); ok {
				return append(ps, p)
			}
			if count > 0 {
				break // a later document is broken; the CUE step says how
			}
			return nil
		}
		count++
		switch count {
		case 1:
			w := &yamlWalker{at: at}
			w.walk(doc, "", 0)
			ps = append(ps, w.ps.list()...)
		case 2:
			second = doc
		}
	}
	if count == 0 {
		return diag.Problems{{Pos: token.Position{Filename: filename, Line: 1, Column: 1},
			Message: "file holds no YAML document, only comments; expected a Mesh document"}}
	}
	if count > 1 {
		ps = append(ps, diag.Problem{Pos: at(second),
			Message: fmt.Sprintf("expected exactly one Mesh document, found %d (each '---' line starts a new document)", count)})
	}
	return ps
}

var maxDepthErr = regexp.MustCompile(`^yaml: (?:line (\d+): )?exceeded max depth`)

// depthError turns the YAML parser's own nesting limit (far above
// MaxDepth) into meshc's message.
func depthError(filename string, err error) (diag.Problem, bool) {
	m := maxDepthErr.FindStringSubmatch(err.Error())
	if m == nil {
		return diag.Problem{}, false
	}
	pos := token.Position{Filename: filename, Line: 1, Column: 1}
	if n, err := strconv.Atoi(m[1]); err == nil {
		pos.Line = n
	}
	return diag.Problem{Pos: pos, Message: depthMessage}, true
}

var depthMessage = fmt.Sprintf("input nests more than %d levels deep; no Mesh document nests that deep", MaxDepth)

type yamlWalker struct {
	at    func(*yaml.Node) token.Position
	ps    problemList
	deep  bool
	keys  int
	items int
}

// walk reports duplicate keys and the first value nested deeper than
// MaxDepth. Aliases are not followed: CUE bounds their expansion itself.
func (w *yamlWalker) walk(n *yaml.Node, path string, depth int) {
	if w.deep {
		return
	}
	if depth > MaxDepth {
		w.deep = true
		w.ps.add(diag.Problem{Pos: w.at(n), Path: path, Message: depthMessage})
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		// Annotation values are carried, never written into a script or a
		// plan; kustomize's own hold newlines.
		switch {
		case strings.HasPrefix(path, "metadata.annotations.") || strings.HasPrefix(path, "metadata.annotations["):
		case isPEMPath(path):
			w.pemText(n, path)
		default:
			w.text(n, path)
		}
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.walk(c, path, depth)
		}
	case yaml.SequenceNode:
		if len(n.Content) > MaxItems {
			w.deep = true
			w.ps.add(diag.Problem{Pos: w.at(n.Content[MaxItems]), Path: fmt.Sprintf("%s[%d]", path, MaxItems),
				Message: fmt.Sprintf("list has %d items; meshc reads at most %d (MaxItems) in one list", len(n.Content), MaxItems)})
			return
		}
		if w.items += len(n.Content); w.items > MaxItemsTotal {
			w.deep = true
			w.ps.add(diag.Problem{Pos: w.at(n), Path: path,
				Message: fmt.Sprintf("document has more than %d list items (MaxItemsTotal); each list may hold %d, but not all together", MaxItemsTotal, MaxItems)})
			return
		}
		for i, c := range n.Content {
			w.walk(c, fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	case yaml.MappingNode:
		if len(n.Content)/2 > MaxKeys {
			w.deep = true
			w.ps.add(diag.Problem{Pos: w.at(n.Content[2*MaxKeys]), Path: path,
				Message: fmt.Sprintf("mapping has %d keys; meshc reads at most %d (MaxKeys) in one mapping, and a Mesh needs about ten", len(n.Content)/2, MaxKeys)})
			return
		}
		if w.keys += len(n.Content) / 2; w.keys > MaxKeysTotal {
			w.deep = true
			w.ps.add(diag.Problem{Pos: w.at(n), Path: path,
				Message: fmt.Sprintf("document has more than %d keys (MaxKeysTotal); a Mesh of %d clusters has about %d", MaxKeysTotal, MaxItems, 10*MaxItems)})
			return
		}
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := path
			if k.Kind == yaml.ScalarNode {
				w.text(k, path)
				sub = joinKey(path, k.Value)
				if prev, ok := first[k.Value]; ok {
					w.ps.add(diag.Problem{Pos: w.at(k), Path: sub, First: w.at(prev),
						Message: fmt.Sprintf("duplicate key %s; each key may appear once in a mapping", diag.Quote(k.Value))})
				} else {
					first[k.Value] = k
				}
			}
			w.walk(v, sub, depth+1)
		}
	}
}

// text reports a key or value holding an UnsafeRune: an escape such as
// "\v" or "\u2028" in a quoted scalar, which the byte check cannot see.
func (w *yamlWalker) text(n *yaml.Node, path string) {
	if err := CheckText(n.Value); err != nil {
		w.ps.add(diag.Problem{Pos: w.at(n), Path: path, Message: err.Error()})
	}
}

func joinKey(path, key string) string {
	if !plainKey(key) {
		return path + "[" + diag.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// isPEMPath reports a peer's trust anchor or the mesh's root: PEM text,
// lines by nature, which meshc writes only re-encoded (TrustAnchor.PEMBlock)
// into YAML block scalars and root-cert.pem (never a script or a plan).
func isPEMPath(path string) bool {
	return path == "spec.ca.root.pem" || path == "spec.ca.previousRoot.pem" || path == "spec.ca.certManager.issuer.vault.caBundle.pem" || strings.HasPrefix(path, "spec.peers[") && strings.HasSuffix(path, "].trustAnchor.pem")
}

// pemText checks a PEM value: printable lines, separated by line feeds and
// nothing else. A carriage return, or any other control character, is a
// line break (or worse) to a reader of the YAML meshc writes the PEM into:
// what follows it would land outside the block scalar, as keys of its own.
// The message names the line of the PEM (not as "line N", which would read
// as a line of the file), where a quoted excerpt of a certificate would
// show nothing useful.
func (w *yamlWalker) pemText(n *yaml.Node, path string) {
	for i, line := range strings.Split(n.Value, "\n") {
		col := 0
		for _, r := range line {
			col++
			if UnsafeRune(r) {
				w.ps.add(diag.Problem{Pos: w.at(n), Path: path,
					Message: fmt.Sprintf("the PEM holds %s at character %d of its %s line; a PEM holds printable lines separated by line feeds only", runeName(r), col, ordinal(i+1))})
				return
			}
		}
	}
}

// ordinal spells n as 1st, 2nd, 3rd, 4th, 11th, 21st...
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}
