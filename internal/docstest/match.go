package docstest

import "strings"

// elision is the output line that stands for any number of lines.
const elision = "..."

// matchLines reports whether got matches want, where a want line "..."
// matches any run of lines, including none.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == elision {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && got[0] == want[0] && matchLines(want[1:], got[1:])
}

func join(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// showDiff shows both texts in full, which for short excerpts reads better
// than a line diff.
func showDiff(want, got string) string {
	const max = 80
	cut := func(s string) string {
		lines := strings.SplitAfter(s, "\n")
		if len(lines) > max {
			return strings.Join(lines[:max], "") + "[...]\n"
		}
		return s
	}
	return "--- want\n" + cut(want) + "--- got\n" + cut(got)
}
