// Package schema embeds the CUE schema of meshc's input (mesh.cue), the
// single source of truth for the shape of a Mesh document.
//
// In: nothing. Out: the compiled #Mesh definition, which the compiler unifies
// with every input, and the schema text that `meshc schema` prints.
package schema
