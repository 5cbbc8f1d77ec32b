// Package docstest keeps meshc's Markdown honest: every fenced block in a
// checked document carries a mark saying how it is checked, and the check
// runs it.
//
// In: Markdown files and a way to run meshc in process. Out: test failures
// naming the document and line of every block that no longer matches, every
// unmarked block and every relative link that does not resolve.
//
// A mark is an HTML comment on the line right before the opening fence:
//
//	<!-- file: PATH -->             the block is PATH's text
//	<!-- file: PATH lines A-B -->   the block is lines A to B of PATH
//	<!-- write: PATH -->            the block is written to PATH in the sandbox
//	<!-- run -->                    "$ meshc ..." lines, each followed by its output
//	<!-- commands -->               command lines a reader types, checked as below
//	<!-- tree -->                   a directory listing of the sandbox, every entry present
//	<!-- test: TestName -->         checked by the named Go test
//	<!-- illustrative -->           deliberately not checked
//
// File paths are relative to the repository root. Each document gets its
// own sandbox, a temporary directory holding copies of Config.Sandbox (for
// meshc, examples/), in which its write, run, commands and tree blocks act
// in order, so a document reads as a session typed at the root of a clone.
// A run line may end in "> FILE" to write its stdout to FILE there.
//
// In run blocks a line "..." in the output stands for any number of lines;
// a command ending in "# exit N" must exit with N, any other with 0. In
// commands blocks, meshc lines run in the sandbox (output ignored, exit as
// above), make targets must exist in the Makefile, go commands must name
// packages of this repository or other modules, and every other argument
// that looks like a relative path must exist in the sandbox or the root.
//
// With MESHC_UPDATE=1, stale file excerpts and run outputs that elide no
// lines are rewritten in the document instead of reported.
//
// A document whose first line starts with "<!-- Generated" is produced by a
// generator that keeps it fresh; its blocks are not checked here, its links
// are.
// With Config.Index set, every document must be reachable from it by links.
package docstest
