package docstest

import (
	"os"
	"path/filepath"
	"strings"
)

// links checks that every relative link names an existing file and, with a
// fragment into a Markdown file, one of its headings.
func (k *checker) links(d Doc) {
	for _, l := range d.Links {
		if strings.Contains(l.Target, "://") || strings.HasPrefix(l.Target, "mailto:") {
			continue
		}
		p, frag, _ := strings.Cut(l.Target, "#")
		target := k.name
		if p != "" {
			target = filepath.ToSlash(filepath.Join(filepath.Dir(k.name), p))
		}
		data, err := os.ReadFile(k.fromRoot(target))
		if err != nil && !isDir(k.fromRoot(target)) {
			k.errorf(l.Line, "link %s: %s does not exist", l.Target, target)
			continue
		}
		if frag == "" {
			continue
		}
		if !strings.HasSuffix(target, ".md") || !Parse(string(data)).Anchors()[frag] {
			k.errorf(l.Line, "link %s: %s has no heading #%s", l.Target, target, frag)
		}
	}
}

// unreachable returns the documents no chain of links from index reaches.
func unreachable(root, index string, docs []string) []string {
	seen := map[string]bool{index: true}
	queue := []string{index}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			continue
		}
		for _, l := range Parse(string(data)).Links {
			p, _, _ := strings.Cut(l.Target, "#")
			if p == "" || strings.Contains(p, "://") {
				continue
			}
			target := filepath.ToSlash(filepath.Join(filepath.Dir(name), p))
			if isDir(filepath.Join(root, filepath.FromSlash(target))) {
				target += "/README.md" // GitHub shows a directory's README
			}
			if !seen[target] {
				seen[target] = true
				queue = append(queue, target)
			}
		}
	}
	var out []string
	for _, d := range docs {
		if !seen[d] {
			out = append(out, d)
		}
	}
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
