package diag

import (
	"fmt"
)

func Plural(noun string, names []string) string {
	if len(names) == 1 {
		return fmt.Sprintf("%s %s", noun, names[0])
	}
	return fmt.Sprintf("%ss %s", noun, ListNames(names))
}
