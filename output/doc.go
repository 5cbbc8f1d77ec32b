// Package output is meshc's Write step and everything that touches the
// output directory.
//
// In: an *Output, the rendered tree in memory (File: a path, its bytes and
// mode). Out: the directory, replaced as a whole and atomically (Write), or,
// for `meshc render --check`, the differences between the directory and the
// tree, file by file (Diff). Write replaces only a directory it can prove
// meshc wrote, by the ownership marker it names the mesh in (MarkerFile),
// serialises concurrent writers with a lock and cleans up what an
// interrupted write left (Leftovers).
package output
