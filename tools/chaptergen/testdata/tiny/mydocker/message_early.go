//chapter:hello..hello
//go:build ignore

package main

// message is chapter 1's greeting, which knows no names yet.
func message(string) string {
	return "hello, world"
}
