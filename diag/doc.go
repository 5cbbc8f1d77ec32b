// Package diag is meshc's one diagnostic: a Problem is one thing wrong with
// the input, anchored at the value at fault (file, line, column and field
// path), with the ID of the rule that failed and a message.
//
// In: what a step found. Out: Problems, an error that keeps every problem
// of one run, sorted in input order, printed as compilers do
// (file:line:col: path: message [MC003]) or as JSON whose field names are
// part of meshc's interface. Quote, ListNames and Suggest word the values,
// lists and near misses messages hold, the same way everywhere.
package diag
