package main

import (
	"fmt"

	"meshc.dev/meshc/schema"
)

func newSchemaCmd(e *env) *command {
	c := &command{name: "schema", summary: "print the input schema: CUE (the source of truth) or JSON Schema for editors",
		usage: "schema [--format cue|jsonschema]"}
	c.flags = newFlagSet(e, c.name, c.usage)
	format := c.flags.String("format", "cue", "`cue` prints schema/mesh.cue; jsonschema prints the JSON Schema generated from it")
	c.run = func(args []string) int {
		if len(args) != 0 {
			fmt.Fprintf(e.stderr, "meshc schema: expected no arguments, got %d\n", len(args))
			c.flags.Usage()
			return exitError
		}
		if !e.oneOf("schema", "--format", *format, []string{"cue", "jsonschema"}) {
			return exitError
		}
		switch *format {
		case "cue":
			e.stdout.Write(schema.Source)
		case "jsonschema":
			b, err := schema.JSONSchema()
			if err != nil {
				return e.fail("schema", err)
			}
			e.stdout.Write(b)
		}
		return exitOK
	}
	return c
}
