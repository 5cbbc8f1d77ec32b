package main

import (
	"encoding/json"
	"fmt"
)

// printJSON writes v to stdout as indented JSON, unescaped so messages read
// as they do in text output.
func (e *env) printJSON(v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(e.stderr, "meshc: encoding JSON: %v\n", err)
		return exitError
	}
	return exitOK
}
